-- The taxi homework's answer: which pickup and drop-off locations have the longest unbroken streak of trips
-- (the most trips in one 5-minute-gap session on the drop-off time), over the whole data set in batch mode.
-- The watermark is the homework's 5 seconds, but in batch mode it does not drop anything: as in Flink, batch mode
-- ignores watermarks and every session closes at the end of the input, so trips that arrive in pickup order (drop-offs
-- out of order by up to a trip's length) all count. taxi-sessions.sql is the homework's streaming job, which drops
-- trips more than 5 s behind the latest drop-off.
-- Run: EDDY_TAXI=trips.jsonl ./eddy run examples/homework/taxi-longest-streak.sql
SET 'execution.runtime-mode' = 'batch';

CREATE TABLE green_trips (
    lpep_pickup_datetime VARCHAR,
    lpep_dropoff_datetime VARCHAR,
    PULocationID INT,
    DOLocationID INT,
    dropoff_timestamp AS TO_TIMESTAMP(lpep_dropoff_datetime, 'yyyy-MM-dd HH:mm:ss'),
    WATERMARK FOR dropoff_timestamp AS dropoff_timestamp - INTERVAL '5' SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = '${EDDY_TAXI:-trips.jsonl}',
    'format' = 'json'
);

CREATE VIEW streaks AS
SELECT PULocationID, DOLocationID, window_start, window_end, COUNT(*) AS num_trips
FROM TABLE(SESSION(TABLE green_trips PARTITION BY PULocationID, DOLocationID, DESCRIPTOR(dropoff_timestamp), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end, PULocationID, DOLocationID;

SELECT PULocationID, DOLocationID, window_start, window_end, num_trips
FROM streaks
ORDER BY num_trips DESC, PULocationID, DOLocationID, window_start
LIMIT 5;
