-- Day 2 of the lab: hits per host, and per host and referrer, in 5-minute tumbling windows on event time (15-second
-- watermark), parallelism 3, into PostgreSQL's processed_events_aggregated and processed_events_aggregated_source.
-- Run: POSTGRES_URL=jdbc:postgresql://127.0.0.1:5432/postgres ./eddy run examples/postgres/02-aggregation.sql
-- The lab's tables have no primary key (appends); the sink is exactly-once with checkpoints.
SET 'pipeline.name' = 'lab-aggregation-5min';
SET 'parallelism.default' = '3';
SET 'execution.checkpointing.interval' = '10s';
SET 'table.exec.source.idle-timeout' = '30s';

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
    'connector' = 'jdbc',
    'url' = '${POSTGRES_URL:-jdbc:postgresql://localhost:5432/postgres}',
    'table-name' = 'processed_events_aggregated',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'sink.create-table' = 'true'
);

CREATE TABLE processed_events_aggregated_source (
    event_hour TIMESTAMP(3),
    host VARCHAR,
    referrer VARCHAR,
    num_hits BIGINT
) WITH (
    'connector' = 'jdbc',
    'url' = '${POSTGRES_URL:-jdbc:postgresql://localhost:5432/postgres}',
    'table-name' = 'processed_events_aggregated_source',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'sink.create-table' = 'true'
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
