CREATE TABLE IF NOT EXISTS clicks (x INT) WITH ('connector' = 'datagen');
CREATE TABLE t (x INT) WITH ('connector' = 'datagen');
DROP TABLE t;
CREATE OR REPLACE TABLE t (x INT, y AS x + 1) WITH ('connector' = 'datagen', 'number-of-rows' = '3', 'fields.x.kind' = 'sequence', 'fields.x.start' = '1', 'fields.x.end' = '3');
SELECT x, y FROM t;
