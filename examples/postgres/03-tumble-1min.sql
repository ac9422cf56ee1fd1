-- The zoomcamp's aggregation: hits per host in 1-minute tumbling windows (5-second watermark) into a table with a
-- primary key, so the JDBC sink upserts (a window re-fired by a late event replaces its row).
-- Run: POSTGRES_URL=jdbc:postgresql://127.0.0.1:5432/postgres ./eddy run examples/postgres/03-tumble-1min.sql
SET 'pipeline.name' = 'lab-aggregation-1min';
SET 'execution.checkpointing.interval' = '10s';
SET 'table.exec.source.idle-timeout' = '30s';

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

CREATE TABLE processed_events_aggregated_1min (
    event_hour TIMESTAMP(3),
    host VARCHAR,
    num_hits BIGINT,
    PRIMARY KEY (event_hour, host) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${POSTGRES_URL:-jdbc:postgresql://localhost:5432/postgres}',
    'table-name' = 'processed_events_aggregated_1min',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'sink.create-table' = 'true'
);

INSERT INTO processed_events_aggregated_1min
SELECT window_start AS event_hour, host, COUNT(*) AS num_hits
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_watermark), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, host;
