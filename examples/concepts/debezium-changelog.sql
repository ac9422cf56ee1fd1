-- A database's change stream as a table: Debezium's events (snapshot reads, inserts, updates, deletes) read with
-- 'format' = 'debezium-json' are a changelog (+I, -U/+U, -D) that a GROUP BY retracts and an upsert sink applies.
-- Run, with a one-partition topic on the dev broker (an update's events must stay in order):
--   ./eddy kafka --partitions 1 --topic products_binlog        (in one terminal)
--   ./eddy produce --bootstrap localhost:9092 --topic products_binlog --events file:examples/data/products-debezium.jsonl
--   ./eddy run examples/concepts/debezium-changelog.sql
-- The printed changelog ends with tools 1 row, parts 1 row (the hammer moved there; the battery was deleted),
-- vehicles 1 row at 5.18: the products table's final state per category. Into PostgreSQL, a table with
-- PRIMARY KEY (category) NOT ENFORCED ('connector' = 'jdbc') holds exactly those rows at the end.
CREATE TABLE products (
    id BIGINT,
    name STRING,
    category STRING,
    weight DECIMAL(10, 2),
    changed_at TIMESTAMP_LTZ(3) METADATA FROM 'value.source.timestamp' VIRTUAL,
    origin_table STRING METADATA FROM 'value.source.table' VIRTUAL
) WITH (
    'connector' = 'kafka',
    'topic' = '${EDDY_TOPIC:-products_binlog}',
    'properties.bootstrap.servers' = '${EDDY_BOOTSTRAP:-localhost:9092}',
    'scan.startup.mode' = 'earliest-offset',
    'scan.bounded.mode' = 'latest-offset',
    'format' = 'debezium-json'
);

CREATE TABLE per_category (category STRING, products BIGINT, total_weight DECIMAL(38, 2), last_change TIMESTAMP_LTZ(3))
WITH ('connector' = 'print');

INSERT INTO per_category
SELECT category, COUNT(*), SUM(weight), MAX(changed_at) FROM products GROUP BY category;
