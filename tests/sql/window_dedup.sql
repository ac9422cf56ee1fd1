-- Window deduplication (Flink's WindowDeduplicate): each user's last click of each minute, emitted at the window end.
SELECT window_start, `user`, url, amount FROM (
  SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, `user` ORDER BY ts DESC) AS rn
  FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
) WHERE rn = 1;
