SELECT window_start, window_end, COUNT(*) AS n, COUNT(amount) AS with_amount, COUNT(DISTINCT `user`) AS users,
       SUM(amount), AVG(amount), MIN(amount), MAX(url), FIRST_VALUE(`user`), LAST_VALUE(`user`), LISTAGG(`user`, '|')
FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end;
