-- Allowed lateness: a late event still updates its window's row in PostgreSQL. 1-minute windows with the lab's
-- 15-second watermark fire as usual; with 'table.exec.emit.allow-lateness' = '1 min' each window's state is kept one
-- more minute of event time, and an event that arrives in that minute re-fires its window as a -U/+U pair: the JDBC
-- sink (a PRIMARY KEY, so it upserts) updates the row's num_hits. Events later than that are dropped and counted
-- (dashboard: "late records" on the window vertex; late-events-side-table.sql keeps them). An append-only sink
-- (no PRIMARY KEY, a file) is refused at planning time: the result now has updates.
-- Self-contained: Eddy's web-traffic generator, 5 % of the events late by up to 2 minutes past the bound, event time
-- running 10x faster than the clock (6,000 events, 30 s). Run with the lab's PostgreSQL (scripts/lab.sh --postgres):
--   POSTGRES_URL=jdbc:postgresql://127.0.0.1:PORT/postgres ./eddy run examples/concepts/allowed-lateness.sql --ui
--   psql postgresql://postgres@127.0.0.1:PORT/postgres \
--     -c "SELECT n_tup_ins, n_tup_upd FROM pg_stat_user_tables WHERE relname = 'hits_per_minute_late'"
-- n_tup_upd counts the rows that late events updated. Flink accepts the same SET for legacy GROUP BY TUMBLE(...)
-- windows only, and only with 'table.exec.emit.late-fire.enabled' = 'true' (Eddy's default; 'false' turns it off).
SET 'table.exec.emit.allow-lateness' = '1 min';

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

CREATE TABLE hits_per_minute_late (
    event_minute TIMESTAMP(3),
    host VARCHAR,
    num_hits BIGINT,
    PRIMARY KEY (event_minute, host) NOT ENFORCED
) WITH (
    'connector' = 'jdbc',
    'url' = '${POSTGRES_URL:-jdbc:postgresql://localhost:5432/postgres}',
    'table-name' = 'hits_per_minute_late',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'sink.buffer-flush.interval' = '500ms',
    'sink.create-table' = 'true'
);

INSERT INTO hits_per_minute_late
SELECT window_start AS event_minute, host, COUNT(*) AS num_hits
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_timestamp), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, host;
