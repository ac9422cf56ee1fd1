-- Day 1 of the lab exactly as the lab runs it, against the hosted topic: SASL_SSL with PLAIN credentials, starting
-- at the latest offset, geolocated, appended to PostgreSQL's processed_events. The values come from the lab's
-- flink-env.env variables (export them, or `set -a; . ./flink-env.env; set +a`):
--   KAFKA_URL, KAFKA_TOPIC, KAFKA_GROUP, KAFKA_WEB_TRAFFIC_KEY, KAFKA_WEB_TRAFFIC_SECRET, POSTGRES_URL,
--   POSTGRES_USER, POSTGRES_PASSWORD
-- Run: ./eddy run examples/hosted/01-pass-through-geo.sql      (the secret is masked in every message and view)
SET 'pipeline.name' = 'hosted-pass-through';
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
    'properties.bootstrap.servers' = '${KAFKA_URL}',
    'topic' = '${KAFKA_TOPIC}',
    'properties.group.id' = '${KAFKA_GROUP}',
    'properties.security.protocol' = 'SASL_SSL',
    'properties.sasl.mechanism' = 'PLAIN',
    'properties.sasl.jaas.config' = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="${KAFKA_WEB_TRAFFIC_KEY}" password="${KAFKA_WEB_TRAFFIC_SECRET}";',
    'scan.startup.mode' = 'latest-offset',
    'properties.auto.offset.reset' = 'latest',
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
    'url' = '${POSTGRES_URL}',
    'table-name' = 'processed_events',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'driver' = 'org.postgresql.Driver',
    'sink.create-table' = 'true'
);

INSERT INTO processed_events
SELECT ip, event_timestamp, referrer, host, url, get_location(ip) AS geodata
FROM events;
