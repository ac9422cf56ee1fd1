-- ordered
-- Top-N over a GROUP BY (Flink's RetractStrategy): the two users with the fewest clicks so far, worked by hand through
-- Flink's RetractableTopNFunction from the aggregation's changelog.
SET 'parallelism.default' = '1';
SELECT `user`, n FROM (
  SELECT `user`, n, ROW_NUMBER() OVER (ORDER BY n ASC) AS rn
  FROM (SELECT `user`, COUNT(*) AS n FROM clicks GROUP BY `user`)
) WHERE rn <= 2;
