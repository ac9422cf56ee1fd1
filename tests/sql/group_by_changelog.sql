-- ordered
SELECT `user`, COUNT(*) AS n, SUM(amount) AS total FROM clicks WHERE `user` IN ('alice', 'bob') GROUP BY `user` HAVING COUNT(*) >= 2;
