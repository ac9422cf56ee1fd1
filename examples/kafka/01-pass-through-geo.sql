-- Day 1 of the lab as the lab runs it: every event from the topic, timestamp parsed, geolocated by get_location(ip)
-- (the offline database: scripts/fetch-geo-db.sh), printed. examples/postgres/01-pass-through-geo.sql writes the
-- same rows into PostgreSQL's processed_events.
-- Run: ./eddy run examples/kafka/01-pass-through-geo.sql   (EDDY_BOUNDED=latest-offset ends the job at the topic's end)
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
    'properties.group.id' = '${EDDY_GROUP:-lab}-pass-through',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = '${EDDY_BOUNDED:-unbounded}',
    'format' = 'json'
);

CREATE TABLE processed_events (
    ip VARCHAR,
    event_timestamp TIMESTAMP(3),
    referrer VARCHAR,
    host VARCHAR,
    url VARCHAR,
    geodata VARCHAR
) WITH (
    'connector' = 'print',
    'print-identifier' = 'processed_events'
);

INSERT INTO processed_events
SELECT ip, event_timestamp, referrer, host, url, get_location(ip) AS geodata
FROM events;
