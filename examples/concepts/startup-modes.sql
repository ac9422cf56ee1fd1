-- Where a Kafka source starts: earliest-offset (everything the topic holds), latest-offset (only what arrives after
-- the job starts; the lab's choice), or timestamp (the first message at or after an epoch-millisecond time).
-- Run, with the lab's broker and producer up (scripts/lab.sh), and compare the first rows and the offsets on the
-- dashboard's source vertex:
--   EDDY_STARTUP_MODE=earliest-offset ./eddy run examples/concepts/startup-modes.sql
--   EDDY_STARTUP_MODE=latest-offset   ./eddy run examples/concepts/startup-modes.sql
--   EDDY_STARTUP_MODE=timestamp EDDY_STARTUP_TIMESTAMP=$(( ($(date +%s) - 60) * 1000 )) ./eddy run examples/concepts/startup-modes.sql
CREATE TABLE events (
    url VARCHAR,
    referrer VARCHAR,
    user_agent VARCHAR,
    host VARCHAR,
    ip VARCHAR,
    headers VARCHAR,
    event_time VARCHAR,
    event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
    `partition` INT METADATA VIRTUAL,
    `offset` BIGINT METADATA VIRTUAL
) WITH (
    'connector' = 'kafka',
    'topic' = '${EDDY_TOPIC:-web-traffic}',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'properties.group.id' = 'concept-startup-modes',
    'scan.startup.mode' = '${EDDY_STARTUP_MODE:-earliest-offset}',
    'scan.startup.timestamp-millis' = '${EDDY_STARTUP_TIMESTAMP:-0}',
    'format' = 'json'
);

CREATE TABLE seen (p INT, o BIGINT, event_timestamp TIMESTAMP(3), host VARCHAR) WITH ('connector' = 'print');

INSERT INTO seen SELECT `partition`, `offset`, event_timestamp, host FROM events;
