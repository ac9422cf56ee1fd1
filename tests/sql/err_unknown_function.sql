--fail=unknown function 'UPPPER'; did you mean 'UPPER'?
SELECT UPPPER(url) FROM clicks;
