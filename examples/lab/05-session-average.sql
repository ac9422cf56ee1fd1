-- The homework's question: the average number of web events of a session, per host (batch over the file).
-- Run: ./eddy run examples/lab/05-session-average.sql
SET 'execution.runtime-mode' = 'batch';

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

CREATE VIEW sessions AS
SELECT ip, host, window_start, COUNT(*) AS num_events
FROM TABLE(SESSION(TABLE events PARTITION BY ip, host, DESCRIPTOR(event_timestamp), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end, ip, host;

SELECT host, AVG(CAST(num_events AS DOUBLE)) AS avg_events_per_session, COUNT(*) AS num_sessions
FROM sessions
WHERE host IN ('zachwilson.techcreator.io', 'zachwilson.tech', 'lulu.techcreator.io')
GROUP BY host
ORDER BY host;
