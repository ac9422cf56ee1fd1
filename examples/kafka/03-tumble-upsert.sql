-- The zoomcamp's aggregation: a 1-minute TUMBLE count into a table with a primary key (upsert sink).
-- Late rows within the watermark never update a fired window; with a key, a re-fired window replaces its row.
-- Kafka variant: the events come from a topic, fed by `eddy produce` (see examples/kafka/README.md).
-- Run: ./eddy run examples/kafka/03-tumble-upsert.sql   (EDDY_BOUNDED=latest-offset ends the job at the topic's end)
CREATE TABLE events (
    host VARCHAR,
    event_time VARCHAR,
    event_watermark AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
    WATERMARK FOR event_watermark AS event_watermark - INTERVAL '5' SECOND
) WITH (
    'connector' = 'kafka',
    'topic' = '${EDDY_TOPIC:-web-traffic}',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'properties.group.id' = '${EDDY_GROUP:-lab}-aggregation-1min',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = '${EDDY_BOUNDED:-unbounded}',
    'format' = 'json'
);

CREATE TABLE processed_events_aggregated (
    event_hour TIMESTAMP(3),
    host VARCHAR,
    num_hits BIGINT,
    PRIMARY KEY (event_hour, host) NOT ENFORCED
) WITH (
    'connector' = 'print'
);

INSERT INTO processed_events_aggregated
SELECT window_start AS event_hour, host, COUNT(*) AS num_hits
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_watermark), INTERVAL '1' MINUTE))
GROUP BY window_start, host, window_end;
