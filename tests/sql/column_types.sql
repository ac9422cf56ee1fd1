-- Every column type of the DDL, read from JSON and printed as Flink prints it (NULLs in the second row).
CREATE TABLE typed (
  s STRING, c CHAR(2), b BOOLEAN, ti TINYINT, si SMALLINT, i INT, bi BIGINT, f FLOAT, d DOUBLE, `dec` DECIMAL(10, 3),
  dt DATE, tm TIME, ts TIMESTAMP(3), ltz TIMESTAMP_LTZ(3), arr ARRAY<INT>, m MAP<STRING, STRING>, r ROW<x INT, y STRING>
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/types.jsonl', 'format' = 'json');
SELECT s, c, b, ti, si, i, bi, f, d, `dec`, dt, tm, ts, ltz, i + 1, bi * 2, d / 2, CAST(`dec` AS DOUBLE) FROM typed;
