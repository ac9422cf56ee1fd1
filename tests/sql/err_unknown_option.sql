--fail=option 'rows-per-secnd': unknown option for connector 'datagen'; did you mean 'rows-per-second'?
CREATE TABLE g (x INT) WITH ('connector' = 'datagen', 'rows-per-secnd' = '5');
SELECT x FROM g;
