-- ordered
SET 'execution.runtime-mode' = 'batch';
SELECT `user`, SUM(amount) AS total FROM clicks GROUP BY `user` ORDER BY total DESC LIMIT 3;
