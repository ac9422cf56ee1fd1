CREATE TABLE out_t (a STRING, b BIGINT, c DOUBLE) WITH ('connector' = 'print');
INSERT INTO out_t (c, a) SELECT amount, `user` FROM clicks WHERE `user` = 'dave';
