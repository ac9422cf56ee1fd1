--fail=the query gives 1 column(s) but 'two' takes 2
CREATE TABLE two (a STRING, b STRING) WITH ('connector' = 'print');
INSERT INTO two SELECT url FROM clicks;
