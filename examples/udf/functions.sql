-- The functions of MyFunctions.dll from SQL. Run from this folder after building:
--   dotnet build MyFunctions -c Release
--   eddy run --udf MyFunctions/bin/Release/net10.0/MyFunctions.dll functions.sql
-- (or without --udf: uncomment the ADD JAR below, or give each CREATE FUNCTION a USING JAR clause).

-- ADD JAR 'MyFunctions/bin/Release/net10.0/MyFunctions.dll';

CREATE TEMPORARY FUNCTION slugify AS 'MyCompany.Functions.Slugify';
CREATE TEMPORARY FUNCTION parse_amount AS 'MyCompany.Functions.ParseAmount';
CREATE TEMPORARY FUNCTION split_tags AS 'MyCompany.Functions.SplitTags';
CREATE TEMPORARY FUNCTION weighted_avg AS 'MyCompany.Functions.WeightedAverage';

CREATE TABLE orders (
  id BIGINT,
  title STRING,
  amount STRING,
  quantity BIGINT,
  tags STRING
) WITH ('connector' = 'filesystem', 'path' = 'orders.csv', 'format' = 'csv');

CREATE TABLE slugs (id BIGINT, slug STRING, amount DECIMAL(10, 2), tag STRING) WITH ('connector' = 'print');
CREATE TABLE averages (slug STRING, avg_amount DOUBLE) WITH ('connector' = 'print');

EXECUTE STATEMENT SET BEGIN
INSERT INTO slugs
SELECT id, slugify(title), CAST(parse_amount(amount) AS DECIMAL(10, 2)), tag
FROM orders, LATERAL TABLE(split_tags(tags)) AS t(tag);

INSERT INTO averages
SELECT slugify(title), weighted_avg(CAST(CAST(parse_amount(amount) AS DECIMAL(10, 2)) * 100 AS BIGINT), quantity) / 100
FROM orders
GROUP BY slugify(title);
END;
