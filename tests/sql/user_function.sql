CREATE TEMPORARY FUNCTION shout AS 'Eddy.Sql.Tests.ShoutFunction';
SELECT shout(`user`) FROM clicks WHERE `user` = 'dave';
