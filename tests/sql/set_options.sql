SET 'parallelism.default' = '2';
SET 'table.exec.source.idle-timeout' = '1 s';
SELECT `user`, COUNT(*) FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' MINUTE)) GROUP BY window_start, window_end, `user`;
