-- Day 1 of the lab: every event, with its timestamp parsed, into processed_events.
-- Run: ./eddy run examples/lab/01-pass-through.sql
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
    'connector' = 'filesystem',
    'path' = '${EDDY_EVENTS:-examples/data/web-events.jsonl}',
    'format' = 'json'
);

CREATE TABLE processed_events (
    ip VARCHAR,
    event_timestamp TIMESTAMP(3),
    referrer VARCHAR,
    host VARCHAR,
    url VARCHAR
) WITH (
    'connector' = 'print'
);

INSERT INTO processed_events
SELECT ip, event_timestamp, referrer, host, url
FROM events;
