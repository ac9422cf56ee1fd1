-- Late events to a side table (Eddy; Flink SQL drops them): 'table.exec.late-data.table' names a declared table that
-- receives every row too late for its window, past the allowed lateness, instead of dropping it. Its columns are
-- taken by name from the window's input rows (here the events' ip, host, url, event_time and event_timestamp).
-- The windows are allowed-lateness.sql's: so for every minute and host, num_hits plus the late events kept aside is
-- every event of that minute; the walkthrough test checks exactly that against a batch run over the same events.
-- On the dashboard: the window vertex's "late records" count the rows sent aside, and the job graph has a second sink.
--   POSTGRES_URL=jdbc:postgresql://127.0.0.1:PORT/postgres ./eddy run examples/concepts/late-events-side-table.sql --ui
--   psql postgresql://postgres@127.0.0.1:PORT/postgres -c 'SELECT * FROM late_events ORDER BY event_timestamp LIMIT 10'
-- (late_events is appended to: TRUNCATE it before running the job again.)
SET 'table.exec.emit.allow-lateness' = '1 min';
SET 'table.exec.late-data.table' = 'late_events';

CREATE TABLE events (
    url VARCHAR,
    referrer VARCHAR,
    user_agent VARCHAR,
    host VARCHAR,
    ip VARCHAR,
    headers VARCHAR,
    event_time VARCHAR,
    event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
    WATERMARK FOR event_timestamp AS event_timestamp - INTERVAL '15' SECOND
) WITH (
    'connector' = 'web-traffic',
    'seed' = '${EDDY_SEED:-21}',
    'start' = '2024-01-01T00:00:00Z',
    'events-per-second' = '20',
    'rows-per-second' = '${EDDY_RATE:-200}',
    'number-of-rows' = '${EDDY_ROWS:-6000}',
    'late-share' = '0.05',
    'max-lateness' = '2 min'
);

CREATE TABLE hits_per_minute_kept (
    event_minute TIMESTAMP(3),
    host VARCHAR,
    num_hits BIGINT,
    PRIMARY KEY (event_minute, host) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${POSTGRES_URL:-jdbc:postgresql://localhost:5432/postgres}',
    'table-name' = 'hits_per_minute_kept',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'sink.buffer-flush.interval' = '500ms',
    'sink.create-table' = 'true'
);

CREATE TABLE late_events (
    ip VARCHAR,
    host VARCHAR,
    url VARCHAR,
    event_time VARCHAR,
    event_timestamp TIMESTAMP(3)
) WITH (
    'connector' = 'jdbc',
    'url' = '${POSTGRES_URL:-jdbc:postgresql://localhost:5432/postgres}',
    'table-name' = 'late_events',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'sink.create-table' = 'true'
);

INSERT INTO hits_per_minute_kept
SELECT window_start AS event_minute, host, COUNT(*) AS num_hits
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_timestamp), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, host;
