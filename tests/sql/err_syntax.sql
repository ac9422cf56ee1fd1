--fail=line 2, column 1: expected
SELEC url FROM clicks;
