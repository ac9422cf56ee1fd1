--fail=ORDER BY and LIMIT need a bounded input
SELECT url FROM clicks ORDER BY url LIMIT 2;
