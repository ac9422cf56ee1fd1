--fail=lookup joins 'JOIN t FOR SYSTEM_TIME AS OF o.proc_time ON ...'
CREATE TABLE users (`user` STRING, country STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.csv', 'format' = 'csv');
SELECT c.url, u.country FROM clicks AS c JOIN users AS u ON c.`user` = u.`user`;
