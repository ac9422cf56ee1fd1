-- Sliding (HOP) and session windows over the same events, one read of the source (a statement set):
-- 5-minute windows every minute per host, and sessions per ip and host closed by 5 minutes without events.
-- On the dashboard: one source vertex feeding two window vertices. Self-contained (generator, 10,000 events):
--   ./eddy run examples/concepts/sliding-and-session.sql
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
    'seed' = '3',
    'number-of-rows' = '${EDDY_ROWS:-10000}'
);

CREATE TABLE sliding (window_start TIMESTAMP(3), window_end TIMESTAMP(3), host VARCHAR, num_hits BIGINT)
WITH ('connector' = 'print', 'print-identifier' = 'hop');
CREATE TABLE sessions (ip VARCHAR, host VARCHAR, session_start TIMESTAMP(3), session_end TIMESTAMP(3), num_events BIGINT)
WITH ('connector' = 'print', 'print-identifier' = 'session');

EXECUTE STATEMENT SET BEGIN
    INSERT INTO sliding
    SELECT window_start, window_end, host, COUNT(*)
    FROM TABLE(HOP(TABLE events, DESCRIPTOR(event_timestamp), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE))
    GROUP BY window_start, window_end, host;

    INSERT INTO sessions
    SELECT ip, host, window_start, window_end, COUNT(*)
    FROM TABLE(SESSION(TABLE events PARTITION BY ip, host, DESCRIPTOR(event_timestamp), INTERVAL '5' MINUTE))
    GROUP BY window_start, window_end, ip, host;
END;
