-- Avro with a schema registry: the job writes the datagen'd page views to a topic in Confluent's wire format
-- ('format' = 'avro-confluent'), registering the schema Flink derives from the columns under the subject
-- '<topic>-value' on the first record; a second table reads the topic back with any schema registered there (each
-- message carries its writer schema's id; Avro's resolution maps it onto the table's columns).
-- Run against the Redpanda registry of docker-compose.yml (from the host: http://localhost:18081):
--   docker compose up -d redpanda
--   EDDY_BOOTSTRAP=localhost:9092 EDDY_SCHEMA_REGISTRY=http://localhost:18081 ./eddy run examples/concepts/avro-registry.sql
--   curl http://localhost:18081/subjects/page-views-avro-value/versions/latest      (the registered schema)
-- Then read it back: `./eddy sql`, paste the page_views_avro table below and SELECT * FROM page_views_avro.
CREATE TABLE views (user_id BIGINT, url STRING, duration_ms INT, viewed_at TIMESTAMP(3))
WITH ('connector' = 'datagen', 'number-of-rows' = '1000', 'fields.user_id.min' = '1', 'fields.user_id.max' = '50',
      'fields.url.length' = '12', 'fields.duration_ms.min' = '10', 'fields.duration_ms.max' = '60000');

CREATE TABLE page_views_avro (user_id BIGINT, url STRING, duration_ms INT, viewed_at TIMESTAMP(3)) WITH (
    'connector' = 'kafka',
    'topic' = 'page-views-avro',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'scan.startup.mode' = 'earliest-offset',
    'format' = 'avro-confluent',
    'avro-confluent.url' = '${EDDY_SCHEMA_REGISTRY:-http://localhost:18081}'
);

INSERT INTO page_views_avro SELECT * FROM views;
