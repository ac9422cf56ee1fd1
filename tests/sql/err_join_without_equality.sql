--fail=at least one equality
CREATE TABLE users (`user` STRING, country STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/users.csv', 'format' = 'csv');
SELECT c.url, u.country FROM clicks AS c JOIN users AS u ON c.`user` <> u.`user`;
