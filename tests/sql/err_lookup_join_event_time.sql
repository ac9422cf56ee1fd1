--fail=has no primary key: a temporal join AS OF event time needs a versioned table
CREATE TABLE users (`user` STRING, country STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.csv', 'format' = 'csv');
SELECT c.url, u.country FROM clicks AS c JOIN users FOR SYSTEM_TIME AS OF c.ts AS u ON c.`user` = u.`user`;
