-- Copies the green-trips topic (as `eddy produce --events taxi` fills it) into a JSON-lines file, ending at the
-- topic's end: the input of taxi-longest-streak.sql and of an independent check.
-- Run: EDDY_TAXI=trips.jsonl ./eddy run examples/homework/taxi-to-file.sql
CREATE TABLE green_trips (
    lpep_pickup_datetime VARCHAR,
    lpep_dropoff_datetime VARCHAR,
    PULocationID INT,
    DOLocationID INT,
    passenger_count INT,
    trip_distance DOUBLE,
    tip_amount DOUBLE
) WITH (
    'connector' = 'kafka',
    'topic' = '${EDDY_TAXI_TOPIC:-green-trips}',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'properties.group.id' = 'taxi-to-file',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'format' = 'json'
);

CREATE TABLE trips_file (
    lpep_pickup_datetime VARCHAR,
    lpep_dropoff_datetime VARCHAR,
    PULocationID INT,
    DOLocationID INT,
    passenger_count INT,
    trip_distance DOUBLE,
    tip_amount DOUBLE
) WITH (
    'connector' = 'filesystem',
    'path' = '${EDDY_TAXI:-trips.jsonl}',
    'format' = 'json'
);

INSERT INTO trips_file SELECT * FROM green_trips;
