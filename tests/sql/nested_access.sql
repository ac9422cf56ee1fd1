CREATE TABLE typed (arr ARRAY<INT>, m MAP<STRING, STRING>, r ROW<x INT, y STRING>)
WITH ('connector' = 'filesystem', 'path' = '${DATA}/types.jsonl', 'format' = 'json');
SELECT arr[1] + arr[3], arr[9], m['k'], m['none'], r.x * 10, typed.r.y, CARDINALITY(arr) FROM typed;
