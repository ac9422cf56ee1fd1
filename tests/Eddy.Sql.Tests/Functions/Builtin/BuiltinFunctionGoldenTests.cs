namespace Eddy.Sql.Tests.Functions.Builtin;

/// <summary>
/// The examples of Flink's function list (docs/data/sql_functions.yml: "E.g., X returns Y") with Flink's values, and a
/// NULL input for every function of the registry. Values not given by Flink's documentation are computed independently
/// (noted at the case: Python's hashlib, plain arithmetic).
/// </summary>
public class BuiltinFunctionGoldenTests
{
    /// <summary>Runs <c>SELECT expr</c> over one row and returns the printed row without its <c>+I[...]</c>.</summary>
    private static async Task<string> Eval(string expression)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        foreach (var job in session.Execute($"SELECT {expression} FROM (VALUES (1)) AS t(one)", "test.sql"))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            if (result.Failure is not null) throw result.Failure;
        }
        var line = Assert.Single(output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        line = System.Text.RegularExpressions.Regex.Replace(line, @"^\d+> ", "");
        Assert.StartsWith("+I[", line);
        return line[3..^1];
    }

    [Theory]
    // comparison: "1 IS DISTINCT FROM NULL returns TRUE; NULL IS DISTINCT FROM NULL returns FALSE" and the NOT forms
    [InlineData("1 IS DISTINCT FROM NULL", "true")]
    [InlineData("NULL IS DISTINCT FROM NULL", "false")]
    [InlineData("1 IS NOT DISTINCT FROM NULL", "false")]
    [InlineData("NULL IS NOT DISTINCT FROM NULL", "true")]
    [InlineData("one IS DISTINCT FROM 1", "false")]
    // arithmetic
    [InlineData("POWER(2, 10)", "1024.0")]
    [InlineData("SQRT(4)", "2.0")]
    [InlineData("LN(1)", "0.0")]
    [InlineData("LOG10(100)", "2.0")]
    [InlineData("LOG2(8)", "3.0")]
    [InlineData("LOG(1)", "0.0")]
    [InlineData("LOG(2, 8)", "3.0")]
    [InlineData("EXP(0)", "1.0")]
    [InlineData("ABS(-5)", "5")]
    [InlineData("ABS(-1.50)", "1.50")]
    [InlineData("CEIL(1.5)", "2")]
    [InlineData("CEILING(-1.5)", "-1")]
    [InlineData("FLOOR(-1.5)", "-2")]
    [InlineData("FLOOR(7)", "7")]
    [InlineData("CEIL(CAST(1.25 AS DOUBLE))", "2.0")]
    [InlineData("SIN(0)", "0.0")]
    [InlineData("COS(0)", "1.0")]
    [InlineData("TAN(0)", "0.0")]
    [InlineData("SINH(0)", "0.0")]
    [InlineData("COSH(0)", "1.0")]
    [InlineData("TANH(0)", "0.0")]
    [InlineData("ASIN(0)", "0.0")]
    [InlineData("ACOS(1)", "0.0")]
    [InlineData("ATAN(0)", "0.0")]
    [InlineData("ATAN2(0, 1)", "0.0")]
    [InlineData("DEGREES(PI())", "180.0")]
    [InlineData("RADIANS(180)", "3.141592653589793")]
    [InlineData("SIGN(-5)", "-1")]
    [InlineData("SIGN(2.5)", "1.0")]
    [InlineData("SIGN(CAST(-2.5 AS DOUBLE))", "-1.0")]
    [InlineData("PI()", "3.141592653589793")]
    [InlineData("E()", "2.718281828459045")]
    [InlineData("RAND() >= 0 AND RAND() < 1", "true")]
    [InlineData("RAND_INTEGER(10) BETWEEN 0 AND 9", "true")]
    [InlineData("CHAR_LENGTH(UUID())", "36")]
    [InlineData("SUBSTRING(UUID(), 15, 1)", "4")]
    // "4.bin() returns "100" and 12.bin() returns "1100""
    [InlineData("BIN(4)", "100")]
    [InlineData("BIN(12)", "1100")]
    // "a numeric 20 leads to "14", a numeric 100 leads to "64", a string "hello,world" leads to "68656C6C6F2C776F726C64""
    [InlineData("HEX(20)", "14")]
    [InlineData("HEX(100)", "64")]
    [InlineData("HEX('hello,world')", "68656C6C6F2C776F726C64")]
    // "42.324.truncate(2) to 42.32. and 42.324.truncate() to 42.0" (a DECIMAL literal keeps no scale at 0 digits)
    [InlineData("TRUNCATE(42.324, 2)", "42.32")]
    [InlineData("TRUNCATE(42.324)", "42")]
    [InlineData("TRUNCATE(CAST(42.324 AS DOUBLE), 2)", "42.32")]
    [InlineData("TRUNCATE(CAST(42.324 AS DOUBLE))", "42.0")]
    [InlineData("TRUNCATE(1234, -2)", "1200")]
    public async Task Arithmetic_and_comparison(string expression, string expected) => Assert.Equal(expected, await Eval(expression));

    [Theory]
    // "REPEAT('This is a test String.', 2) returns "This is a test String.This is a test String.""
    [InlineData("REPEAT('This is a test String.', 2)", "This is a test String.This is a test String.")]
    [InlineData("REPEAT('a', -1)", "")]
    // "'foobar'.regexpReplace('oo|ar', '') returns "fb""
    [InlineData("REGEXP_REPLACE('foobar', 'oo|ar', '')", "fb")]
    // "'xxxxxtest'.overlay('xxxx', 6) returns "xxxxxxxxx"; 'xxxxxtest'.overlay('xxxx', 6, 2) returns "xxxxxxxxxst""
    [InlineData("OVERLAY('xxxxxtest' PLACING 'xxxx' FROM 6)", "xxxxxxxxx")]
    [InlineData("OVERLAY('xxxxxtest' PLACING 'xxxx' FROM 6 FOR 2)", "xxxxxxxxxst")]
    // "'hello world'.replace('world', 'flink') returns 'hello flink'; 'ababab'.replace('abab', 'z') returns 'zab'"
    [InlineData("REPLACE('hello world', 'world', 'flink')", "hello flink")]
    [InlineData("REPLACE('ababab', 'abab', 'z')", "zab")]
    // "REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 2)" returns "bar""
    [InlineData("REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 2)", "bar")]
    [InlineData("CONCAT('AA', 'BB', 'CC')", "AABBCC")]
    // "concat_ws('~', 'AA', Null(STRING), 'BB', '', 'CC') returns "AA~BB~~CC""
    [InlineData("CONCAT_WS('~', 'AA', CAST(NULL AS STRING), 'BB', '', 'CC')", "AA~BB~~CC")]
    // "LPAD('hi', 4, '??') returns "??hi"; LPAD('hi', 1, '??') returns "h"", the same for RPAD
    [InlineData("LPAD('hi', 4, '??')", "??hi")]
    [InlineData("LPAD('hi', 1, '??')", "h")]
    [InlineData("RPAD('hi', 4, '??')", "hi??")]
    [InlineData("RPAD('hi', 1, '??')", "h")]
    [InlineData("FROM_BASE64('aGVsbG8gd29ybGQ=')", "hello world")]
    [InlineData("TO_BASE64('hello world')", "aGVsbG8gd29ybGQ=")]
    // "ascii('abc') returns 97"; "chr(97) returns a, chr(353) returns a"
    [InlineData("ASCII('abc')", "97")]
    [InlineData("CHR(97)", "a")]
    [InlineData("CHR(353)", "a")]
    // "' This is a test String.'.ltrim() returns "This is a test String.""
    [InlineData("LTRIM(' This is a test String.')", "This is a test String.")]
    [InlineData("RTRIM('This is a test String. ')", "This is a test String.")]
    [InlineData("BTRIM('  x  ')", "x")]
    [InlineData("LTRIM('xxaxx', 'x')", "axx")]
    [InlineData("BTRIM('xyaxy', 'yx')", "a")]
    // "parse_url('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'HOST'), returns 'facebook.com'", QUERY k1 'v1'
    [InlineData("PARSE_URL('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'HOST')", "facebook.com")]
    [InlineData("PARSE_URL('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'QUERY', 'k1')", "v1")]
    [InlineData("PARSE_URL('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'QUERY')", "k1=v1&k2=v2")]
    [InlineData("PARSE_URL('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'PATH')", "/path1/p.php")]
    [InlineData("PARSE_URL('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'REF')", "Ref1")]
    [InlineData("PARSE_URL('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'PROTOCOL')", "http")]
    [InlineData("PARSE_URL('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'FILE')", "/path1/p.php?k1=v1&k2=v2")]
    [InlineData("STARTSWITH('Flink', 'Fl')", "true")]
    [InlineData("STARTSWITH('Flink', '')", "true")]
    [InlineData("ENDSWITH('Flink', 'nk')", "true")]
    [InlineData("REGEXP_COUNT('ababab', 'ab')", "3")]
    [InlineData("REGEXP_INSTR('abcabc', 'c')", "3")]
    [InlineData("REGEXP_INSTR('abc', 'x')", "0")]
    [InlineData("REGEXP_SUBSTR('abc123def', '[0-9]+')", "123")]
    [InlineData("REGEXP_EXTRACT_ALL('a1b22c333', '[a-z]([0-9]+)')[2]", "22")]
    [InlineData("CARDINALITY(REGEXP_EXTRACT_ALL('a1b22c333', '[a-z]([0-9]+)'))", "3")]
    [InlineData("TRANSLATE('abcabc', 'ab', 'x')", "xcxc")]
    [InlineData("INITCAP('hello wORLD-foo')", "Hello World-Foo")]
    [InlineData("INSTR('abcabc', 'ca')", "3")]
    [InlineData("LEFT('abc', 2)", "ab")]
    [InlineData("LEFT('abc', -1)", "")]
    [InlineData("RIGHT('abc', 2)", "bc")]
    [InlineData("RIGHT('abc', 5)", "abc")]
    [InlineData("LOCATE('b', 'abcb')", "2")]
    [InlineData("LOCATE('b', 'abcb', 3)", "4")]
    [InlineData("LOCATE('x', 'abcb')", "0")]
    // java.net.URLEncoder (Python's urllib.parse.quote_plus agrees on these characters)
    [InlineData("URL_ENCODE('a b&c=d/é')", "a+b%26c%3Dd%2F%C3%A9")]
    [InlineData("URL_DECODE('a+b%26c%3Dd%2F%C3%A9')", "a b&c=d/é")]
    [InlineData("URL_DECODE('%zz')", "null")]
    [InlineData("REVERSE('abc')", "cba")]
    [InlineData("STR_TO_MAP('a=1,b=2')['b']", "2")]
    [InlineData("STR_TO_MAP('a:1;b:2', ';', ':')['a']", "1")]
    [InlineData("JSON_QUOTE('a\"b/c')", "\"a\\\"b\\/c\"")]
    [InlineData("JSON_UNQUOTE('\"a\\tb\"')", "a\tb")]
    [InlineData("JSON_UNQUOTE('abc')", "abc")]
    [InlineData("ELT(2, 'a', 'b')", "b")]
    [InlineData("ELT(3, 'a', 'b')", "null")]
    public async Task Strings(string expression, string expected) => Assert.Equal(expected, await Eval(expression));

    [Theory]
    // "YEAR(DATE '1994-09-27') returns 1994" ... "SECOND(TIMESTAMP '1994-09-27 13:14:15') returns 15"
    [InlineData("YEAR(DATE '1994-09-27')", "1994")]
    [InlineData("QUARTER(DATE '1994-09-27')", "3")]
    [InlineData("MONTH(DATE '1994-09-27')", "9")]
    [InlineData("WEEK(DATE '1994-09-27')", "39")]
    [InlineData("DAYOFYEAR(DATE '1994-09-27')", "270")]
    [InlineData("DAYOFMONTH(DATE '1994-09-27')", "27")]
    [InlineData("DAYOFWEEK(DATE '1994-09-27')", "3")]
    [InlineData("HOUR(TIMESTAMP '1994-09-27 13:14:15')", "13")]
    [InlineData("MINUTE(TIMESTAMP '1994-09-27 13:14:15')", "14")]
    [InlineData("SECOND(TIMESTAMP '1994-09-27 13:14:15')", "15")]
    [InlineData("EXTRACT(DAY FROM DATE '2006-06-05')", "5")]
    // "CONVERT_TZ('1970-01-01 00:00:00', 'UTC', 'America/Los_Angeles') returns '1969-12-31 16:00:00'"
    [InlineData("CONVERT_TZ('1970-01-01 00:00:00', 'UTC', 'America/Los_Angeles')", "1969-12-31 16:00:00")]
    // "FROM_UNIXTIME(44) returns '1970-01-01 00:00:44' if in UTC time zone"
    [InlineData("FROM_UNIXTIME(44)", "1970-01-01 00:00:44")]
    // Flink's example gives 25201 in Europe/Berlin (UTC+1); in UTC it is one hour more: 8 * 3600 + 1
    [InlineData("UNIX_TIMESTAMP('1970-01-01 08:00:01.001', 'yyyy-MM-dd HH:mm:ss.SSS')", "28801")]
    [InlineData("UNIX_TIMESTAMP('1970-01-01 00:00:44')", "44")]
    [InlineData("UNIX_TIMESTAMP('not a time')", "-9223372036854775808")]
    [InlineData("UNIX_TIMESTAMP() > 1600000000", "true")]
    [InlineData("TO_DATE('2020-01-02')", "2020-01-02")]
    [InlineData("TO_DATE('02/01/2020', 'dd/MM/yyyy')", "2020-01-02")]
    [InlineData("CURRENT_DATE > DATE '2020-01-01'", "true")]
    [InlineData("TIMESTAMPADD(HOUR, 2, TIMESTAMP '2020-01-01 12:00:00') = TIMESTAMP '2020-01-01 14:00:00'", "true")]
    [InlineData("TIMESTAMPADD(MONTH, 1, TIMESTAMP '2020-01-31 00:00:00') = TIMESTAMP '2020-02-29 00:00:00'", "true")]
    [InlineData("FLOOR(DATE '2020-05-17' TO MONTH)", "2020-05-01")]
    [InlineData("CEIL(DATE '2020-05-17' TO MONTH)", "2020-06-01")]
    public async Task Temporal(string expression, string expected) => Assert.Equal(expected, await Eval(expression));

    [Theory]
    // "NULLIF(5, 5) returns NULL; NULLIF(5, 0) returns 5"; "IF(5 > 3, 5, 3) returns 5"; "COALESCE(NULL, 'default')"
    [InlineData("NULLIF(5, 5)", "null")]
    [InlineData("NULLIF(5, 0)", "5")]
    [InlineData("IF(5 > 3, 5, 3)", "5")]
    [InlineData("COALESCE(NULL, 'default')", "default")]
    [InlineData("IS_ALPHA('abc')", "true")]
    [InlineData("IS_ALPHA('ab1')", "false")]
    [InlineData("IS_ALPHA('')", "false")]
    [InlineData("IS_DIGIT('123')", "true")]
    [InlineData("IS_DIGIT('12a')", "false")]
    [InlineData("GREATEST(1, 3, 2)", "3")]
    [InlineData("LEAST(1, 3, 2)", "1")]
    [InlineData("GREATEST('b', 'a', 'B')", "b")]
    [InlineData("LEAST(1, 2.5)", "1.0")]
    // "CAST('42' AS INT) returns 42"; "TRY_CAST('non-number' AS INT) returns NULL"; "COALESCE(TRY_CAST(...), 0) returns 0"
    [InlineData("CAST('42' AS INT)", "42")]
    [InlineData("TRY_CAST('non-number' AS INT)", "null")]
    [InlineData("COALESCE(TRY_CAST('non-number' AS INT), 0)", "0")]
    public async Task Conditional_and_conversion(string expression, string expected) => Assert.Equal(expected, await Eval(expression));

    [Theory]
    [InlineData("CARDINALITY(ARRAY[1, 2, 3])", "3")]
    [InlineData("ARRAY[1, 2, 3][2]", "2")]
    [InlineData("ELEMENT(ARRAY['x'])", "x")]
    [InlineData("CARDINALITY(MAP['a', 1, 'b', 2])", "2")]
    [InlineData("MAP['a', 1, 'b', 2]['b']", "2")]
    [InlineData("ARRAY_APPEND(ARRAY[1, 2], 3)[3]", "3")]
    [InlineData("ARRAY_PREPEND(ARRAY[1, 2], 0)[1]", "0")]
    [InlineData("ARRAY_CONTAINS(ARRAY[1, 2], 2)", "true")]
    [InlineData("ARRAY_CONTAINS(ARRAY[1, CAST(NULL AS INT)], CAST(NULL AS INT))", "true")]
    [InlineData("ARRAY_CONTAINS(ARRAY[1, 2], 3)", "false")]
    [InlineData("CARDINALITY(ARRAY_DISTINCT(ARRAY[1, 2, 1, 2]))", "2")]
    [InlineData("ARRAY_POSITION(ARRAY[5, 6, 6], 6)", "2")]
    [InlineData("ARRAY_POSITION(ARRAY[5, 6], 7)", "0")]
    [InlineData("CARDINALITY(ARRAY_REMOVE(ARRAY[1, 2, 1], 1))", "1")]
    [InlineData("ARRAY_REVERSE(ARRAY[1, 2, 3])[1]", "3")]
    [InlineData("ARRAY_SLICE(ARRAY[1, 2, 3, 4], 2, 3)[2]", "3")]
    [InlineData("CARDINALITY(ARRAY_SLICE(ARRAY[1, 2, 3, 4], -2))", "2")]
    [InlineData("CARDINALITY(ARRAY_SLICE(ARRAY[1, 2, 3, 4], 3, 2))", "0")]
    [InlineData("CARDINALITY(ARRAY_UNION(ARRAY[1, 2], ARRAY[2, 3]))", "3")]
    [InlineData("ARRAY_CONCAT(ARRAY[1], ARRAY[2, 3])[3]", "3")]
    [InlineData("CARDINALITY(ARRAY_EXCEPT(ARRAY[1, 2, 2, 3], ARRAY[2]))", "2")]
    [InlineData("ARRAY_INTERSECT(ARRAY[1, 2, 3], ARRAY[3, 2])[1]", "2")]
    [InlineData("ARRAY_MAX(ARRAY[1, 3, 2])", "3")]
    [InlineData("ARRAY_MIN(ARRAY[1, 3, 2])", "1")]
    [InlineData("ARRAY_JOIN(ARRAY['a', CAST(NULL AS STRING), 'b'], ',')", "a,b")]
    [InlineData("ARRAY_JOIN(ARRAY['a', CAST(NULL AS STRING), 'b'], ',', 'n')", "a,n,b")]
    [InlineData("MAP_KEYS(MAP['a', 1])[1]", "a")]
    [InlineData("MAP_VALUES(MAP['a', 1])[1]", "1")]
    [InlineData("MAP_UNION(MAP['a', 1, 'b', 2], MAP['a', 3])['a']", "3")]
    [InlineData("MAP_FROM_ARRAYS(ARRAY['a', 'b'], ARRAY[1, 2])['b']", "2")]
    [InlineData("CARDINALITY(SPLIT('a,b,,c', ','))", "4")]
    [InlineData("SPLIT('abc', '')[2]", "b")]
    public async Task Collections(string expression, string expected) => Assert.Equal(expected, await Eval(expression));

    [Theory]
    // Flink's IS JSON examples, all twelve
    [InlineData("'1' IS JSON", "true")]
    [InlineData("'[]' IS JSON", "true")]
    [InlineData("'{}' IS JSON", "true")]
    [InlineData("'\"abc\"' IS JSON", "true")]
    [InlineData("'abc' IS JSON", "false")]
    [InlineData("NULL IS JSON", "false")]
    [InlineData("'1' IS JSON SCALAR", "true")]
    [InlineData("'1' IS JSON ARRAY", "false")]
    [InlineData("'1' IS JSON OBJECT", "false")]
    [InlineData("'{}' IS JSON SCALAR", "false")]
    [InlineData("'{}' IS JSON ARRAY", "false")]
    [InlineData("'{}' IS JSON OBJECT", "true")]
    [InlineData("'abc' IS NOT JSON", "true")]
    // digests of "a" computed with Python's hashlib
    [InlineData("MD5('a')", "0cc175b9c0f1b6a831c399e269772661")]
    [InlineData("SHA1('a')", "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8")]
    [InlineData("SHA256('a')", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")]
    [InlineData("SHA2('a', 256)", "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb")]
    [InlineData("SHA384('a')", "54a59b9f22b0b80880d8427e548b7c23abd873486e1f035dce9cd697e85175033caa88e6d57bc35efae0b5afd3145f31")]
    [InlineData("SHA512('a')", "1f40fc92da241694750979ee6cf582f2d5d7d28e18335de05abc54d0560e0f5302860c652bf08d560252aa5e74210546f369fbbbce8c12cfc7957b2652fe9a75")]
    public async Task Json_and_hashes(string expression, string expected) => Assert.Equal(expected, await Eval(expression));

    /// <summary>A NULL argument gives NULL for every function of the registry (IS_ALPHA and IS_DIGIT give FALSE, as Flink's).</summary>
    [Theory]
    [InlineData("POWER(CAST(NULL AS DOUBLE), 2)")] [InlineData("ABS(CAST(NULL AS INT))")] [InlineData("SQRT(CAST(NULL AS DOUBLE))")]
    [InlineData("LN(CAST(NULL AS DOUBLE))")] [InlineData("LOG10(CAST(NULL AS INT))")] [InlineData("LOG2(CAST(NULL AS INT))")]
    [InlineData("LOG(CAST(NULL AS INT))")] [InlineData("LOG(2, CAST(NULL AS INT))")] [InlineData("EXP(CAST(NULL AS INT))")]
    [InlineData("CEIL(CAST(NULL AS DECIMAL(5, 2)))")] [InlineData("CEILING(CAST(NULL AS DOUBLE))")] [InlineData("FLOOR(CAST(NULL AS INT))")]
    [InlineData("SIN(CAST(NULL AS DOUBLE))")] [InlineData("SINH(CAST(NULL AS DOUBLE))")] [InlineData("COS(CAST(NULL AS DOUBLE))")]
    [InlineData("TAN(CAST(NULL AS DOUBLE))")] [InlineData("TANH(CAST(NULL AS DOUBLE))")] [InlineData("COT(CAST(NULL AS DOUBLE))")]
    [InlineData("ASIN(CAST(NULL AS DOUBLE))")] [InlineData("ACOS(CAST(NULL AS DOUBLE))")] [InlineData("ATAN(CAST(NULL AS DOUBLE))")]
    [InlineData("ATAN2(CAST(NULL AS DOUBLE), 1)")] [InlineData("COSH(CAST(NULL AS DOUBLE))")] [InlineData("DEGREES(CAST(NULL AS DOUBLE))")]
    [InlineData("RADIANS(CAST(NULL AS DOUBLE))")] [InlineData("SIGN(CAST(NULL AS INT))")] [InlineData("ROUND(CAST(NULL AS INT), 1)")]
    [InlineData("RAND_INTEGER(CAST(NULL AS INT))")] [InlineData("BIN(CAST(NULL AS INT))")] [InlineData("HEX(CAST(NULL AS BIGINT))")]
    [InlineData("HEX(CAST(NULL AS STRING))")] [InlineData("TRUNCATE(CAST(NULL AS DOUBLE), 1)")] [InlineData("TRUNCATE(1.5, CAST(NULL AS INT))")]
    [InlineData("CHAR_LENGTH(CAST(NULL AS STRING))")] [InlineData("UPPER(CAST(NULL AS STRING))")] [InlineData("LOWER(CAST(NULL AS STRING))")]
    [InlineData("LTRIM(CAST(NULL AS STRING))")] [InlineData("RTRIM('a', CAST(NULL AS STRING))")] [InlineData("BTRIM(CAST(NULL AS STRING))")]
    [InlineData("REPEAT(CAST(NULL AS STRING), 2)")] [InlineData("REGEXP_REPLACE('a', CAST(NULL AS STRING), 'b')")]
    [InlineData("OVERLAY(CAST(NULL AS STRING) PLACING 'x' FROM 1)")] [InlineData("STARTSWITH(CAST(NULL AS STRING), 'a')")]
    [InlineData("ENDSWITH('a', CAST(NULL AS STRING))")] [InlineData("REGEXP_COUNT(CAST(NULL AS STRING), 'a')")]
    [InlineData("REGEXP_EXTRACT_ALL(CAST(NULL AS STRING), 'a')")] [InlineData("REGEXP_INSTR(CAST(NULL AS STRING), 'a')")]
    [InlineData("REGEXP_SUBSTR(CAST(NULL AS STRING), 'a')")] [InlineData("TRANSLATE(CAST(NULL AS STRING), 'a', 'b')")]
    [InlineData("INITCAP(CAST(NULL AS STRING))")] [InlineData("LPAD(CAST(NULL AS STRING), 2, 'x')")] [InlineData("RPAD('a', CAST(NULL AS INT), 'x')")]
    [InlineData("FROM_BASE64(CAST(NULL AS STRING))")] [InlineData("TO_BASE64(CAST(NULL AS STRING))")] [InlineData("ASCII(CAST(NULL AS VARCHAR))")]
    [InlineData("CHR(CAST(NULL AS INT))")] [InlineData("INSTR(CAST(NULL AS STRING), 'a')")] [InlineData("LEFT(CAST(NULL AS STRING), 1)")]
    [InlineData("RIGHT('a', CAST(NULL AS INT))")] [InlineData("LOCATE('a', CAST(NULL AS STRING))")] [InlineData("URL_DECODE(CAST(NULL AS STRING))")]
    [InlineData("URL_ENCODE(CAST(NULL AS STRING))")] [InlineData("PARSE_URL(CAST(NULL AS STRING), 'HOST')")] [InlineData("REVERSE(CAST(NULL AS STRING))")]
    [InlineData("STR_TO_MAP(CAST(NULL AS STRING))")] [InlineData("JSON_QUOTE(CAST(NULL AS STRING))")] [InlineData("JSON_UNQUOTE(CAST(NULL AS STRING))")]
    [InlineData("ELT(CAST(NULL AS INT), 'a')")] [InlineData("CONCAT('a', CAST(NULL AS STRING))")] [InlineData("SUBSTRING(CAST(NULL AS STRING), 1)")]
    [InlineData("REPLACE(CAST(NULL AS STRING), 'a', 'b')")] [InlineData("REGEXP_EXTRACT(CAST(NULL AS STRING), 'a')")]
    [InlineData("REGEXP(CAST(NULL AS STRING), 'a')")] [InlineData("SPLIT_INDEX(CAST(NULL AS STRING), ',', 0)")]
    [InlineData("YEAR(CAST(NULL AS DATE))")] [InlineData("QUARTER(CAST(NULL AS DATE))")] [InlineData("MONTH(CAST(NULL AS DATE))")]
    [InlineData("WEEK(CAST(NULL AS DATE))")] [InlineData("DAYOFYEAR(CAST(NULL AS DATE))")] [InlineData("DAYOFMONTH(CAST(NULL AS DATE))")]
    [InlineData("DAYOFWEEK(CAST(NULL AS DATE))")] [InlineData("HOUR(CAST(NULL AS TIMESTAMP(3)))")] [InlineData("MINUTE(CAST(NULL AS TIMESTAMP(3)))")]
    [InlineData("SECOND(CAST(NULL AS TIMESTAMP(3)))")] [InlineData("CONVERT_TZ(CAST(NULL AS STRING), 'UTC', 'UTC')")]
    [InlineData("FROM_UNIXTIME(CAST(NULL AS BIGINT))")] [InlineData("UNIX_TIMESTAMP(CAST(NULL AS STRING))")] [InlineData("TO_DATE(CAST(NULL AS STRING))")]
    [InlineData("TIMESTAMPADD(DAY, CAST(NULL AS INT), TIMESTAMP '2020-01-01 00:00:00')")]
    [InlineData("GREATEST(1, CAST(NULL AS INT))")] [InlineData("LEAST(CAST(NULL AS INT), 1)")]
    [InlineData("ELEMENT(CAST(NULL AS ARRAY<INT>))")] [InlineData("CARDINALITY(CAST(NULL AS MAP<STRING, INT>))")]
    [InlineData("ARRAY_APPEND(CAST(NULL AS ARRAY<INT>), 1)")] [InlineData("ARRAY_PREPEND(CAST(NULL AS ARRAY<INT>), 1)")]
    [InlineData("ARRAY_CONTAINS(CAST(NULL AS ARRAY<INT>), 1)")] [InlineData("ARRAY_POSITION(ARRAY[1], CAST(NULL AS INT))")]
    [InlineData("ARRAY_REMOVE(CAST(NULL AS ARRAY<INT>), 1)")] [InlineData("ARRAY_DISTINCT(CAST(NULL AS ARRAY<INT>))")]
    [InlineData("ARRAY_REVERSE(CAST(NULL AS ARRAY<INT>))")] [InlineData("ARRAY_SLICE(ARRAY[1], CAST(NULL AS INT))")]
    [InlineData("ARRAY_UNION(ARRAY[1], CAST(NULL AS ARRAY<INT>))")] [InlineData("ARRAY_CONCAT(ARRAY[1], CAST(NULL AS ARRAY<INT>))")]
    [InlineData("ARRAY_EXCEPT(CAST(NULL AS ARRAY<INT>), ARRAY[1])")] [InlineData("ARRAY_INTERSECT(ARRAY[1], CAST(NULL AS ARRAY<INT>))")]
    [InlineData("ARRAY_MAX(CAST(NULL AS ARRAY<INT>))")] [InlineData("ARRAY_MIN(CAST(NULL AS ARRAY<INT>))")]
    [InlineData("ARRAY_JOIN(ARRAY['a'], CAST(NULL AS STRING))")] [InlineData("MAP_KEYS(CAST(NULL AS MAP<STRING, INT>))")]
    [InlineData("MAP_VALUES(CAST(NULL AS MAP<STRING, INT>))")] [InlineData("MAP_UNION(MAP['a', 1], CAST(NULL AS MAP<STRING, INT>))")]
    [InlineData("MAP_FROM_ARRAYS(CAST(NULL AS ARRAY<STRING>), ARRAY[1])")] [InlineData("SPLIT(CAST(NULL AS STRING), ',')")]
    [InlineData("MD5(CAST(NULL AS STRING))")] [InlineData("SHA1(CAST(NULL AS STRING))")] [InlineData("SHA256(CAST(NULL AS STRING))")]
    [InlineData("SHA384(CAST(NULL AS STRING))")] [InlineData("SHA512(CAST(NULL AS STRING))")] [InlineData("SHA2(CAST(NULL AS STRING), 512)")]
    [InlineData("SHA2('a', CAST(NULL AS INT))")]
    public async Task A_null_argument_gives_null(string expression) => Assert.Equal("null", await Eval(expression));

    [Theory]
    [InlineData("IS_ALPHA(CAST(NULL AS STRING))")]
    [InlineData("IS_DIGIT(CAST(NULL AS STRING))")]
    public async Task Flinks_character_class_tests_are_false_for_null(string expression) => Assert.Equal("false", await Eval(expression));
}
