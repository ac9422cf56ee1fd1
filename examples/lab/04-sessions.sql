-- The homework: sessionize by ip and host with a 5-minute gap (session windows), one row per session.
-- Run: ./eddy run examples/lab/04-sessions.sql
CREATE TABLE events (
    host VARCHAR,
    ip VARCHAR,
    event_time VARCHAR,
    event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
    WATERMARK FOR event_timestamp AS event_timestamp - INTERVAL '15' SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = '${EDDY_EVENTS:-examples/data/web-events.jsonl}',
    'format' = 'json'
);

CREATE TABLE sessions (
    ip VARCHAR,
    host VARCHAR,
    session_start TIMESTAMP(3),
    session_end TIMESTAMP(3),
    num_events BIGINT
) WITH (
    'connector' = 'print'
);

INSERT INTO sessions
SELECT ip, host, window_start, window_end, COUNT(*) AS num_events
FROM TABLE(SESSION(TABLE events PARTITION BY ip, host, DESCRIPTOR(event_timestamp), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end, ip, host;
