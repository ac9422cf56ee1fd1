SELECT window_start, window_end, `user`, COUNT(*) AS n
FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '2' MINUTE))
WHERE `user` = 'alice'
GROUP BY window_start, window_end, `user`;
