-- An async function calling a service, and functions with a lifecycle (docs/UDF.md). Needs a rates service answering
-- GET <rates.url>?from=EUR&to=USD with a number (the test starts one); run from this folder after building:
--   eddy run --udf MyFunctions/bin/Release/net10.0/MyFunctions.dll rates.sql

SET 'rates.url' = 'http://localhost:8099/rates';
SET 'mask.words' = 'widget,hose';
SET 'table.exec.async-scalar.buffer-capacity' = '20';
SET 'table.exec.async-scalar.timeout' = '30 s';

CREATE TEMPORARY FUNCTION amount_in AS 'MyCompany.Functions.AmountIn';
CREATE TEMPORARY FUNCTION masked AS 'MyCompany.Functions.Masked';

CREATE TABLE orders (
  id BIGINT,
  title STRING,
  amount STRING,
  quantity BIGINT,
  tags STRING
) WITH ('connector' = 'filesystem', 'path' = 'orders.csv', 'format' = 'csv');

CREATE TABLE priced (id BIGINT, title STRING, usd DECIMAL(10, 2)) WITH ('connector' = 'print');

INSERT INTO priced
SELECT id, masked(title), CAST(amount_in(amount, 'USD') AS DECIMAL(10, 2))
FROM orders;
