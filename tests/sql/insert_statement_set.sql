CREATE TABLE sink_a (u STRING, n BIGINT) WITH ('connector' = 'print', 'print-identifier' = 'a');
CREATE TABLE sink_b (u STRING, url STRING) WITH ('connector' = 'print', 'print-identifier' = 'b');
EXECUTE STATEMENT SET BEGIN
  INSERT INTO sink_a SELECT `user`, COUNT(*) FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '10' MINUTE)) GROUP BY window_start, window_end, `user`;
  INSERT INTO sink_b SELECT `user`, url FROM clicks WHERE url = '/pay';
END;
