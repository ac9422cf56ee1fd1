-- Included before every golden test: a small click stream with event time.
CREATE TABLE clicks (
  `user` STRING,
  url STRING,
  amount INT,
  ts_text STRING,
  ts AS TO_TIMESTAMP(ts_text),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.csv', 'format' = 'csv');
