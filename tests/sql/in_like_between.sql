SELECT `user`, url FROM clicks
WHERE `user` IN ('alice', 'dave') AND url LIKE '/h%' AND amount BETWEEN 1 AND 9 OR url NOT LIKE '/%';
