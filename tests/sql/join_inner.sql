-- A regular inner join of two append-only tables, with a residual condition: append-only output (+I only).
CREATE TABLE users (`user` STRING, country STRING) WITH ('connector' = 'filesystem', 'path' = '${DATA}/users.csv', 'format' = 'csv');
CREATE TABLE out_t (`user` STRING, url STRING, country STRING) WITH ('connector' = 'print');
INSERT INTO out_t SELECT c.`user`, c.url, u.country FROM clicks AS c JOIN users AS u ON c.`user` = u.`user` AND c.amount > 9;
