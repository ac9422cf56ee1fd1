-- The taxi homework's answer: which pickup and drop-off locations have the longest unbroken streak of trips
-- (the most trips in one 5-minute-gap session on the drop-off time), over the whole data set in batch mode.
-- The watermark bound is a day, not the homework's 5 seconds: trips arrive in pickup order, so drop-offs are out of
-- order by up to a trip's length, and Eddy's batch mode still drops rows behind the watermark (Flink's batch mode
-- ignores watermarks; docs/STATUS.md, issue 9). taxi-sessions.sql is the homework's streaming job with 5 seconds.
-- Run: EDDY_TAXI=trips.jsonl ./eddy run examples/homework/taxi-longest-streak.sql
SET 'execution.runtime-mode' = 'batch';

CREATE TABLE green_trips (
    lpep_pickup_datetime VARCHAR,
    lpep_dropoff_datetime VARCHAR,
    PULocationID INT,
    DOLocationID INT,
    dropoff_timestamp AS TO_TIMESTAMP(lpep_dropoff_datetime, 'yyyy-MM-dd HH:mm:ss'),
    WATERMARK FOR dropoff_timestamp AS dropoff_timestamp - INTERVAL '1' DAY
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
