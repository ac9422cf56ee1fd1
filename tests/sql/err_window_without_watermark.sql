--fail=is not an event-time attribute
CREATE TABLE plain (x INT, t TIMESTAMP(3)) WITH ('connector' = 'datagen');
SELECT COUNT(*) FROM TABLE(TUMBLE(TABLE plain, DESCRIPTOR(t), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;
