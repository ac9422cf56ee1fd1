SELECT CONCAT(`user`, ':', url), CONCAT_WS('-', `user`, CAST(NULL AS STRING), url), SUBSTRING(url FROM 2 FOR 3), REPLACE(url, '/', '#'),
       REGEXP_EXTRACT(url, '/(\w)(\w+)', 2), SPLIT_INDEX('a,b,c', ',', 1), CHAR_LENGTH(url), TRIM(BOTH ' ' FROM '  x  '), LOWER('AB'),
       JSON_VALUE('{"a":{"b":7}}', '$.a.b'), JSON_QUERY('{"a":{"b":7}}', '$.a'), IF(amount > 5, 'y', 'n')
FROM clicks WHERE `user` = 'dave';
