-- NOT NULL columns compile to plain values; a view's filter merges with the query's and runs in the scan's loop;
-- NULLs of the nullable column keep three-valued logic; a window count groups by a NOT NULL key.
CREATE TABLE strict_clicks (
  `user` STRING NOT NULL,
  url STRING NOT NULL,
  amount INT,
  ts_text STRING NOT NULL,
  ts AS TO_TIMESTAMP(ts_text),
  WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = '${DATA}/clicks.csv', 'format' = 'csv');
CREATE TEMPORARY VIEW not_cart AS
  SELECT `user`, url, amount, amount > 8 OR url = '/pay' AS flag FROM strict_clicks WHERE url <> '/cart';
SELECT `user`, amount + 1 AS next_amount, flag FROM not_cart WHERE flag IS NOT FALSE AND `user` <> 'dave';
SELECT `user`, window_start, COUNT(*) AS n
FROM TABLE(TUMBLE(TABLE strict_clicks, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end, `user`;
