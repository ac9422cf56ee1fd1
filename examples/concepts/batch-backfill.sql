-- Batch backfill of a time range: read the topic from the first message at EDDY_FROM_MS up to the last one before
-- EDDY_TO_MS (epoch milliseconds of the Kafka message timestamps), aggregate in batch mode (no watermark waits:
-- every window is final at the end of input), and end. Re-run it for any range, e.g. the last 10 minutes:
--   EDDY_FROM_MS=$(( ($(date +%s) - 600) * 1000 )) EDDY_TO_MS=$(( $(date +%s) * 1000 )) ./eddy run examples/concepts/batch-backfill.sql
SET 'execution.runtime-mode' = 'batch';

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
    'topic' = '${EDDY_TOPIC:-web-traffic}',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'properties.group.id' = 'concept-backfill',
    'scan.startup.mode' = 'timestamp',
    'scan.startup.timestamp-millis' = '${EDDY_FROM_MS:-0}',
    'scan.bounded.mode' = 'timestamp',
    'scan.bounded.timestamp-millis' = '${EDDY_TO_MS:-9999999999999}',
    'format' = 'json'
);

SELECT window_start AS event_hour, host, COUNT(*) AS num_hits
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_timestamp), INTERVAL '5' MINUTE))
GROUP BY window_start, window_end, host
ORDER BY event_hour, host;
