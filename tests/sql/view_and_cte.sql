CREATE TEMPORARY VIEW spenders AS SELECT `user`, amount FROM clicks WHERE amount >= 10;
WITH named AS (SELECT `user` AS who, amount FROM spenders) SELECT who FROM named WHERE amount < 30;
