SELECT `user`, window_start, window_end, COUNT(*) AS n
FROM TABLE(SESSION(TABLE clicks PARTITION BY `user`, DESCRIPTOR(ts), INTERVAL '2' MINUTE))
GROUP BY `user`, window_start, window_end;
