-- Parallelism and key groups: the source runs as 2 subtasks, the window as 4; keys are hashed into 128 key groups
-- (pipeline.max-parallelism), and each window subtask owns a contiguous range of them, which is what lets a job
-- restored from a checkpoint run at another parallelism. `./eddy explain` shows the hash exchange; on the dashboard
-- the window vertex's subtask table shows how the hosts spread over the 4 subtasks.
--   ./eddy explain examples/concepts/parallelism-key-groups.sql
--   ./eddy run examples/concepts/parallelism-key-groups.sql --ui
SET 'parallelism.default' = '4';
SET 'pipeline.max-parallelism' = '128';

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
    'seed' = '5',
    'number-of-rows' = '${EDDY_ROWS:-200000}'
);

CREATE TABLE hits (window_start TIMESTAMP(3), host VARCHAR, num_hits BIGINT) WITH ('connector' = 'blackhole');

INSERT INTO hits
SELECT window_start, host, COUNT(*)
FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(event_timestamp), INTERVAL '1' MINUTE))
GROUP BY window_start, window_end, host;
