-- Day 2 of the lab: hits per host, and per host and referrer, in 5-minute tumbling windows, as one job that reads
-- the events once (a statement set). The lab names the window's start event_hour.
-- Kafka variant: the events come from a topic, fed by `eddy produce` (see examples/kafka/README.md).
-- Run: ./eddy run examples/kafka/02-aggregation.sql   (EDDY_BOUNDED=latest-offset ends the job at the topic's end)
SET 'parallelism.default' = '3';

CREATE TABLE events (
    url VARCHAR,
    referrer VARCHAR,
    user_agent VARCHAR,
    host VARCHAR,
    ip VARCHAR,
    headers VARCHAR,
    event_time VARCHAR,
    window_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
    WATERMARK FOR window_timestamp AS window_timestamp - INTERVAL '15' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = '${EDDY_TOPIC:-web-traffic}',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'properties.group.id' = '${EDDY_GROUP:-lab}-aggregation-5min',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = '${EDDY_BOUNDED:-unbounded}',
    'format' = 'json'
);

CREATE TABLE processed_events_aggregated (
    event_hour TIMESTAMP(3),
    host VARCHAR,
    num_hits BIGINT
) WITH (
    'connector' = 'print',
    'print-identifier' = 'per_host'
);

CREATE TABLE processed_events_aggregated_source (
    event_hour TIMESTAMP(3),
    host VARCHAR,
    referrer VARCHAR,
    num_hits BIGINT
) WITH (
    'connector' = 'print',
    'print-identifier' = 'per_referrer'
);

EXECUTE STATEMENT SET BEGIN
    INSERT INTO processed_events_aggregated
    SELECT window_start AS event_hour, host, COUNT(*) AS num_hits
    FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(window_timestamp), INTERVAL '5' MINUTE))
    GROUP BY window_start, window_end, host;

    INSERT INTO processed_events_aggregated_source
    SELECT window_start AS event_hour, host, referrer, COUNT(*) AS num_hits
    FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(window_timestamp), INTERVAL '5' MINUTE))
    GROUP BY window_start, window_end, host, referrer;
END;
