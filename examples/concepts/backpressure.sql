-- Backpressure: a sink that takes 200 rows per second (Eddy's 'sink.rows-per-second' on blackhole and print stands
-- for a slow database) behind a source that offers 2,000 (EDDY_SOURCE_RATE; the generator's rate limit keeps its
-- batches small, as a live topic's are, so the waiting shows smoothly). The sink's input channel fills, and the operators
-- feeding it wait for room: on the dashboard the Source and Calc vertices turn red (backpressured, in Flink's
-- colours) and the sink shows ~100 % busy; GET /jobs/<id> gives each vertex's metrics.backPressuredTimeMsPerSecond.
-- Operator chaining is off so that each operator is its own task, as Flink's docs advise for finding a bottleneck:
-- chained, the whole chain would just be busy (the lab's Day 1 "100 % busy with a slow PostgreSQL").
--   ./eddy run examples/concepts/backpressure.sql --ui      (runs until Ctrl-C; EDDY_SINK_RATE=N changes the rate)
SET 'pipeline.operator-chaining' = 'false';

CREATE TABLE events (
    url VARCHAR,
    referrer VARCHAR,
    user_agent VARCHAR,
    host VARCHAR,
    ip VARCHAR,
    headers VARCHAR,
    event_time VARCHAR,
    event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')
) WITH (
    'connector' = 'web-traffic',
    'seed' = '9',
    'rows-per-second' = '${EDDY_SOURCE_RATE:-2000}'
);

CREATE TABLE slow_sink (
    ip VARCHAR,
    event_timestamp TIMESTAMP(3),
    host VARCHAR,
    url VARCHAR
) WITH (
    'connector' = 'blackhole',
    'sink.rows-per-second' = '${EDDY_SINK_RATE:-200}'
);

INSERT INTO slow_sink
SELECT ip, event_timestamp, host, url FROM events WHERE host IS NOT NULL;
