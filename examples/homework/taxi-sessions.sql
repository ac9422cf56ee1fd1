-- The zoomcamp's taxi homework (Q5), streaming: session windows with a 5-minute gap per pickup and drop-off location,
-- on the drop-off time with a 5-second watermark, read from the green-trips topic; one row per closed session.
-- Feed it: ./eddy produce --bootstrap localhost:9092 --topic green-trips --events taxi --rate 200 --count 0
-- Run:     ./eddy run examples/homework/taxi-sessions.sql
-- Trips dropped off more than 5 s behind the latest drop-off are late for this watermark and do not count here;
-- taxi-longest-streak.sql answers the question over the whole data set in batch mode.
CREATE TABLE green_trips (
    lpep_pickup_datetime VARCHAR,
    lpep_dropoff_datetime VARCHAR,
    PULocationID INT,
    DOLocationID INT,
    passenger_count INT,
    trip_distance DOUBLE,
    tip_amount DOUBLE,
    dropoff_timestamp AS TO_TIMESTAMP(lpep_dropoff_datetime, 'yyyy-MM-dd HH:mm:ss'),
    WATERMARK FOR dropoff_timestamp AS dropoff_timestamp - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = '${EDDY_TAXI_TOPIC:-green-trips}',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'properties.group.id' = 'taxi-sessions',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = '${EDDY_BOUNDED:-unbounded}',
    'format' = 'json'
);

CREATE TABLE taxi_sessions (
    PULocationID INT,
    DOLocationID INT,
    session_start TIMESTAMP(3),
    session_end TIMESTAMP(3),
    num_trips BIGINT
) WITH (
    'connector' = 'print'
);

INSERT INTO taxi_sessions
SELECT PULocationID, DOLocationID, window_start, window_end, COUNT(*) AS num_trips
FROM TABLE(SESSION(TABLE green_trips PARTITION BY PULocationID, DOLocationID, DESCRIPTOR(dropoff_timestamp), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end, PULocationID, DOLocationID;
