--fail=is append-only but the query produces updates
CREATE TABLE files (u STRING, n BIGINT) WITH ('connector' = 'filesystem', 'path' = '/tmp/never', 'format' = 'csv');
INSERT INTO files SELECT `user`, COUNT(*) FROM clicks GROUP BY `user`;
