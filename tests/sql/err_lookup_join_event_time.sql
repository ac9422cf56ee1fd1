--fail=is an event-time attribute: a join AS OF event time is a temporal join
CREATE TABLE users (`user` STRING, country STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.csv', 'format' = 'csv');
SELECT c.url, u.country FROM clicks AS c JOIN users FOR SYSTEM_TIME AS OF c.ts AS u ON c.`user` = u.`user`;
