--fail=line 2, column 15: unknown table 'clcks'; did you mean 'clicks'?
SELECT * FROM clcks;
