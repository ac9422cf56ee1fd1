SELECT u, n FROM (SELECT `user` AS u, amount AS n FROM clicks WHERE amount > 20) AS big
UNION ALL
SELECT 'total', 0 FROM clicks WHERE `user` = 'dave';
