--fail=datagen option 'rows-per-secnd': unknown option
CREATE TABLE g (x INT) WITH ('connector' = 'datagen', 'rows-per-secnd' = '5');
SELECT x FROM g;
