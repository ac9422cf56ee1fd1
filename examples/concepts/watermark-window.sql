-- A window waits for the watermark: 1-minute windows on event time with the lab's 15-second bound fire only when an
-- event 15 s past the window's end has arrived. On the dashboard: the job's Watermarks tab (the low watermark
-- creeping up) and the diagnosis line "next window ends at ... ; watermark is ... behind" until the first row.
-- Self-contained (Eddy's web-traffic generator at 20 events/s in real time, no broker):
--   ./eddy run examples/concepts/watermark-window.sql --ui
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
    'events-per-second' = '20',
    'rows-per-second' = '20'
);

CREATE TABLE hits_per_minute (window_start TIMESTAMP(3), window_end TIMESTAMP(3), host VARCHAR, num_hits BIGINT)
WITH ('connector' = 'print');

INSERT INTO hits_per_minute
SELECT window_start, window_end, host, COUNT(*)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_timestamp), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, host;
