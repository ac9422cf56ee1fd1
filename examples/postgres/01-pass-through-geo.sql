-- Day 1 of the lab as the lab runs it: every event from the topic, timestamp parsed and geolocated (offline
-- database, `get_location`), appended to PostgreSQL's processed_events (no primary key, as in the lab).
-- Run: POSTGRES_URL=jdbc:postgresql://127.0.0.1:5432/postgres ./eddy run examples/postgres/01-pass-through-geo.sql
-- Checkpoints every 10 s as the lab's job does; the sink is exactly-once with checkpoints, so killing `eddy run` and
-- running it again resumes from the last checkpoint without a duplicate row.
SET 'pipeline.name' = 'lab-pass-through';
SET 'execution.checkpointing.interval' = '10s';

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
    'connector' = 'jdbc',
    'url' = '${POSTGRES_URL:-jdbc:postgresql://localhost:5432/postgres}',
    'table-name' = 'processed_events',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'driver' = 'org.postgresql.Driver',
    'sink.create-table' = 'true'
);

INSERT INTO processed_events
SELECT ip, event_timestamp, referrer, host, url, get_location(ip) AS geodata
FROM events;
