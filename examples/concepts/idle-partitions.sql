-- The lab's "window never fires" trap: the job reads two topics, the busy web-traffic and 'quiet-topic', which nobody
-- writes to (the dev broker creates it empty on first use). Each source subtask has partitions of both; an empty
-- partition has no watermark to give, so it holds its subtask's watermark, and with it the job's: no window closes.
-- On the dashboard the job's diagnosis says which source subtask holds the watermark and for how long it has had no
-- data, and names the fix:
--   ./eddy run examples/concepts/idle-partitions.sql --ui                                            (waits forever)
--   ./eddy run examples/concepts/idle-partitions.sql --ui --set table.exec.source.idle-timeout=10s   (windows fire)
SET 'parallelism.default' = '3';

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
    'connector' = 'kafka',
    'topic' = '${EDDY_TOPIC:-web-traffic};quiet-topic',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'properties.group.id' = 'concept-idle-partitions',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'json'
);

CREATE TABLE hits_per_minute (event_hour TIMESTAMP(3), host VARCHAR, num_hits BIGINT) WITH ('connector' = 'print');

INSERT INTO hits_per_minute
SELECT window_start, host, COUNT(*)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_timestamp), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, host;
