-- Day 1 of the lab: every event, with its timestamp parsed, into processed_events.
-- Kafka variant: the events come from a topic, fed by `eddy produce` (see examples/kafka/README.md).
-- Run: ./eddy run examples/kafka/01-pass-through.sql   (EDDY_BOUNDED=latest-offset ends the job at the topic's end)
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
    'connector' = 'kafka',
    'topic' = '${EDDY_TOPIC:-web-traffic}',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'properties.group.id' = '${EDDY_GROUP:-lab}',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = '${EDDY_BOUNDED:-unbounded}',
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
