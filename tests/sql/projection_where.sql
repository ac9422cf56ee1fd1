SELECT `user`, amount * 2 AS double_amount, UPPER(url) FROM clicks WHERE amount > 9 AND url <> '/pay';
