--fail=column 'url' is neither grouped (GROUP BY) nor inside an aggregate function
SELECT `user`, url, COUNT(*) FROM clicks GROUP BY `user`;
