-- Checkpoints and restarting without duplicates, beside the running lab: the lab's Day 1 job (every event,
-- geolocated) under a job name of its own, so that its checkpoints (~/.local/share/eddy/jobs/checkpoint-demo/),
-- its consumer group and its PostgreSQL table are its own, not those of the lab's 'lab-pass-through' job that the
-- server runs. (A job name is owned by one live run at a time: a second run of a running name is refused.)
-- Run:  POSTGRES_URL=jdbc:postgresql://127.0.0.1:PORT/postgres ./eddy run --fresh examples/concepts/checkpoint-restart.sql
--       kill -9 it mid-stream, run it again without --fresh: it resumes from its latest checkpoint, and
--       SELECT count(*), count(DISTINCT (ip, event_timestamp, url)) FROM checkpoint_demo_events  stays equal.
-- The sink is exactly-once with checkpoints (each checkpoint's rows are committed once, its epoch in eddy_sink_progress).
SET 'pipeline.name' = 'checkpoint-demo';
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
    'properties.group.id' = 'checkpoint-demo',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'json'
);

CREATE TABLE checkpoint_demo_events (
    ip VARCHAR,
    event_timestamp TIMESTAMP(3),
    referrer VARCHAR,
    host VARCHAR,
    url VARCHAR,
    geodata VARCHAR
) WITH (
    'connector' = 'jdbc',
    'url' = '${POSTGRES_URL:-jdbc:postgresql://localhost:5432/postgres}',
    'table-name' = 'checkpoint_demo_events',
    'username' = '${POSTGRES_USER:-postgres}',
    'password' = '${POSTGRES_PASSWORD:-postgres}',
    'driver' = 'org.postgresql.Driver',
    'sink.create-table' = 'true'
);

INSERT INTO checkpoint_demo_events
SELECT ip, event_timestamp, referrer, host, url, get_location(ip) AS geodata
FROM events;
