--fail=LEFT OUTER JOIN retracts its NULL-padded rows
CREATE TABLE users (`user` STRING, country STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/users.csv', 'format' = 'csv');
CREATE TABLE out_t (url STRING, country STRING) WITH ('connector' = 'filesystem', 'path' = '/tmp/eddy-never-written', 'format' = 'csv');
INSERT INTO out_t SELECT c.url, u.country FROM clicks AS c LEFT JOIN users AS u ON c.`user` = u.`user`;
