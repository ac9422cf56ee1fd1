--fail=unknown connector 'kafak'
CREATE TABLE k (x INT) WITH ('connector' = 'kafak');
