-- An event-time interval join (a self-join: a click followed within a minute by a click on another page).
CREATE TABLE out_t (`user` STRING, first_url STRING, next_url STRING) WITH ('connector' = 'print');
INSERT INTO out_t SELECT a.`user`, a.url, b.url FROM clicks AS a, clicks AS b
WHERE a.`user` = b.`user` AND a.ts BETWEEN b.ts - INTERVAL '1' MINUTE AND b.ts AND a.url <> b.url;
