SELECT `user`, CASE WHEN amount IS NULL THEN 'none' WHEN amount >= 10 THEN 'big' ELSE 'small' END AS size,
       CAST(amount AS STRING), TRY_CAST(url AS INT), COALESCE(amount, -1)
FROM clicks WHERE `user` = 'bob';
