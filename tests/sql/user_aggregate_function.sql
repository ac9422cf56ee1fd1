CREATE TEMPORARY FUNCTION weighted_avg AS 'Eddy.Sql.Tests.WeightedAvg';
CREATE TABLE per_user (u STRING, w BIGINT) WITH ('connector' = 'print', 'print-identifier' = 'group');
CREATE TABLE per_window (ws TIMESTAMP(3), w BIGINT) WITH ('connector' = 'print', 'print-identifier' = 'hop');
EXECUTE STATEMENT SET BEGIN
INSERT INTO per_user SELECT `user`, weighted_avg(amount, 2) FROM clicks WHERE `user` = 'alice' GROUP BY `user`;
INSERT INTO per_window SELECT window_start, weighted_avg(amount, CHAR_LENGTH(url))
  FROM TABLE(HOP(TABLE clicks, DESCRIPTOR(ts), INTERVAL '5' MINUTE, INTERVAL '10' MINUTE)) GROUP BY window_start, window_end;
END;
