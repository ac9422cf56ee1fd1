CREATE TEMPORARY FUNCTION split_path AS 'Eddy.Sql.Tests.SplitPath';
CREATE TEMPORARY FUNCTION path_parts AS 'Eddy.Sql.Tests.PathParts';
SELECT `user`, part FROM clicks, LATERAL TABLE(split_path(url)) AS T(part) WHERE `user` = 'dave';
SELECT `user`, p, n FROM clicks LEFT JOIN LATERAL TABLE(path_parts(url, 2)) AS T(p, n) ON TRUE WHERE `user` IN ('dave', 'bob') AND url <> '/cart';
