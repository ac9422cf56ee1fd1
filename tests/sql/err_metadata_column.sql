--fail=connector 'filesystem' has no metadata columns (column 'event_ts' asks for 'timestamp')
CREATE TABLE m (x STRING, event_ts TIMESTAMP_LTZ(3) METADATA FROM 'timestamp' VIRTUAL) WITH ('connector' = 'filesystem', 'path' = '/tmp/x', 'format' = 'json');
