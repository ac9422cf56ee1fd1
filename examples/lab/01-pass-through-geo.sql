-- Day 1 of the lab as the lab runs it: every event, with its timestamp parsed and its IP geolocated, into
-- processed_events. get_location is built in (no UDF to register); it answers as the lab's Python UDF does:
-- '{"country": "..", "state": "..", "city": ".."}', or '{}' when nothing is known.
-- Offline by default: needs a city database (scripts/fetch-geo-db.sh fetches one; or SET 'geo.database').
-- For the lab's web API instead: SET 'geo.provider' = 'ip2location'; with the key in IP_CODING_KEY.
-- Run: ./eddy run examples/lab/01-pass-through-geo.sql
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
    url VARCHAR,
    geodata VARCHAR
) WITH (
    'connector' = 'print'
);

INSERT INTO processed_events
SELECT ip, event_timestamp, referrer, host, url, get_location(ip) AS geodata
FROM events;
