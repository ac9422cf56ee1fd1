-- Nexmark q13 as published by the Nexmark project (nexmark-flink/src/main/resources/queries/q13.sql); run by 'eddy bench nexmark'
-- after ddl_gen.sql and ddl_views.sql of this folder. Unchanged unless a line below says 'Eddy:'.

-- -------------------------------------------------------------------------------------------------
-- Query 13: Bounded Side Input Join (Not in original suite)
-- -------------------------------------------------------------------------------------------------
-- Joins a stream to a bounded side input, modeling basic stream enrichment.
-- -------------------------------------------------------------------------------------------------

-- TODO: use the new "filesystem" connector once FLINK-17397 is done
-- Eddy: the legacy 'connector.type' options are gone from Flink; the side input is the filesystem connector with its
-- current option names, used as a lookup table that is read whole (FULL cache), as Flink's filesystem lookup does.
-- The file holds the lines 'i,i' for i in [0, 10000) (written by the runner).
CREATE TABLE side_input (
  key BIGINT,
  `value` VARCHAR
) WITH (
  'connector' = 'filesystem',
  'path' = '${FLINK_HOME}/data/side_input.txt',
  'format' = 'csv'
);

CREATE TABLE nexmark_q13 (
  auction  BIGINT,
  bidder  BIGINT,
  price  BIGINT,
  `dateTime`  TIMESTAMP(3),
  `value`  VARCHAR
) WITH (
  'connector' = 'blackhole'
);

INSERT INTO nexmark_q13
SELECT
    B.auction,
    B.bidder,
    B.price,
    B.`dateTime`,
    S.`value`
FROM (SELECT *, PROCTIME() as p_time FROM bid) B
JOIN side_input FOR SYSTEM_TIME AS OF B.p_time AS S
ON mod(B.auction, 10000) = S.key;
