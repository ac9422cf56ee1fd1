--fail=table 'users' (connector 'datagen') cannot be a lookup table
CREATE TABLE orders (`user` STRING, amount INT, proc_time AS PROCTIME()) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.csv', 'format' = 'csv');
CREATE TABLE users (`user` STRING, country STRING) WITH ('connector' = 'datagen');
SELECT o.amount, u.country FROM orders AS o JOIN users FOR SYSTEM_TIME AS OF o.proc_time AS u ON o.`user` = u.`user`;
