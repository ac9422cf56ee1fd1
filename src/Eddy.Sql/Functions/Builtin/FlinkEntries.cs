using System.Text;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>How Eddy answers one entry of Flink's function list.</summary>
public enum EntrySupport
{
    /// <summary>Implemented exactly: the example plans and runs.</summary>
    Supported,
    /// <summary>Refused at planning with a located message.</summary>
    NotSupported,
}

/// <summary>
/// One entry of Flink's list, its support and an example: an expression, or a whole script when it starts with SELECT or
/// CREATE (aggregate, OVER and subquery forms). <see cref="Except"/> names the options of a working form that Eddy
/// refuses at planning.
/// </summary>
public sealed record FlinkEntry(string Group, string Entry, EntrySupport Support, string? Example, string? Except = null);

/// <summary>Every entry of Flink's function list (FlinkFunctionList.txt) with Eddy's answer; the tests plan each example.</summary>
public static class FlinkEntries
{
    private static readonly Dictionary<string, (EntrySupport Support, string? Example)> Answers = new()
    {
        ["value1 = value2"] = (EntrySupport.Supported, "1 = one"),
        ["value1 <> value2"] = (EntrySupport.Supported, "1 <> one"),
        ["value1 > value2"] = (EntrySupport.Supported, "1 > one"),
        ["value1 >= value2"] = (EntrySupport.Supported, "1 >= one"),
        ["value1 < value2"] = (EntrySupport.Supported, "1 < one"),
        ["value1 <= value2"] = (EntrySupport.Supported, "1 <= one"),
        ["value IS NULL"] = (EntrySupport.Supported, "one IS NULL"),
        ["value IS NOT NULL"] = (EntrySupport.Supported, "one IS NOT NULL"),
        ["value1 IS DISTINCT FROM value2"] = (EntrySupport.Supported, "one IS DISTINCT FROM NULL"),
        ["value1 IS NOT DISTINCT FROM value2"] = (EntrySupport.Supported, "one IS NOT DISTINCT FROM NULL"),
        ["value1 BETWEEN [ ASYMMETRIC | SYMMETRIC ] value2 AND value3"] = (EntrySupport.Supported, "12 BETWEEN SYMMETRIC 15 AND 12"),
        ["value1 NOT BETWEEN [ ASYMMETRIC | SYMMETRIC ] value2 AND value3"] = (EntrySupport.Supported, "12 NOT BETWEEN SYMMETRIC 15 AND 12"),
        ["string1 LIKE string2 [ ESCAPE char ]"] = (EntrySupport.Supported, "'a_c' LIKE 'a!_c' ESCAPE '!'"),
        ["string1 NOT LIKE string2 [ ESCAPE char ]"] = (EntrySupport.Supported, "'abc' NOT LIKE 'a%'"),
        ["string1 SIMILAR TO string2 [ ESCAPE char ]"] = (EntrySupport.Supported, "'abc' SIMILAR TO 'a(b|c)+'"),
        ["string1 NOT SIMILAR TO string2 [ ESCAPE char ]"] = (EntrySupport.Supported, "'abc' NOT SIMILAR TO 'a(b|c)+'"),
        ["value1 IN (value2 [, value3]* )"] = (EntrySupport.Supported, "4 IN (1, 2, NULL)"),
        ["value1 NOT IN (value2 [, value3]* )"] = (EntrySupport.Supported, "4 NOT IN (1, 2, NULL)"),
        ["EXISTS (sub-query)"] = (EntrySupport.Supported, "SELECT x FROM (VALUES (1), (2)) AS t(x) WHERE EXISTS (SELECT 1 FROM (VALUES (1)) AS u(y) WHERE u.y = t.x)"),
        ["value IN (sub-query)"] = (EntrySupport.Supported, "SELECT x FROM (VALUES (1), (2)) AS t(x) WHERE x IN (SELECT y FROM (VALUES (1)) AS u(y))"),
        ["value NOT IN (sub-query)"] = (EntrySupport.Supported, "SELECT x FROM (VALUES (1), (2)) AS t(x) WHERE x NOT IN (SELECT y FROM (VALUES (1)) AS u(y))"),
        ["boolean1 OR boolean2"] = (EntrySupport.Supported, "TRUE OR CAST(NULL AS BOOLEAN)"),
        ["boolean1 AND boolean2"] = (EntrySupport.Supported, "TRUE AND CAST(NULL AS BOOLEAN)"),
        ["NOT boolean"] = (EntrySupport.Supported, "NOT TRUE"),
        ["boolean IS FALSE"] = (EntrySupport.Supported, "TRUE IS FALSE"),
        ["boolean IS NOT FALSE"] = (EntrySupport.Supported, "TRUE IS NOT FALSE"),
        ["boolean IS TRUE"] = (EntrySupport.Supported, "TRUE IS TRUE"),
        ["boolean IS NOT TRUE"] = (EntrySupport.Supported, "TRUE IS NOT TRUE"),
        ["boolean IS UNKNOWN"] = (EntrySupport.Supported, "CAST(NULL AS BOOLEAN) IS UNKNOWN"),
        ["boolean IS NOT UNKNOWN"] = (EntrySupport.Supported, "TRUE IS NOT UNKNOWN"),
        ["+ numeric"] = (EntrySupport.Supported, "+one"),
        ["- numeric"] = (EntrySupport.Supported, "-one"),
        ["numeric1 + numeric2"] = (EntrySupport.Supported, "one + 1"),
        ["numeric1 - numeric2"] = (EntrySupport.Supported, "one - 1"),
        ["numeric1 * numberic2"] = (EntrySupport.Supported, "one * 2"),
        ["numeric1 / numeric2"] = (EntrySupport.Supported, "one / 2"),
        ["numeric1 % numeric2"] = (EntrySupport.Supported, "one % 2"),
        ["POWER(numeric1, numeric2)"] = (EntrySupport.Supported, "POWER(2, 10)"),
        ["ABS(numeric)"] = (EntrySupport.Supported, "ABS(-one)"),
        ["SQRT(numeric)"] = (EntrySupport.Supported, "SQRT(4)"),
        ["LN(numeric)"] = (EntrySupport.Supported, "LN(1)"),
        ["LOG10(numeric)"] = (EntrySupport.Supported, "LOG10(100)"),
        ["LOG2(numeric)"] = (EntrySupport.Supported, "LOG2(8)"),
        ["LOG(numeric2)"] = (EntrySupport.Supported, "LOG(1)"),
        ["LOG(numeric1, numeric2)"] = (EntrySupport.Supported, "LOG(2, 8)"),
        ["EXP(numeric)"] = (EntrySupport.Supported, "EXP(0)"),
        ["CEIL(numeric)"] = (EntrySupport.Supported, "CEIL(1.5)"),
        ["CEILING(numeric)"] = (EntrySupport.Supported, "CEILING(1.5)"),
        ["FLOOR(numeric)"] = (EntrySupport.Supported, "FLOOR(1.5)"),
        ["SIN(numeric)"] = (EntrySupport.Supported, "SIN(0)"),
        ["SINH(numeric)"] = (EntrySupport.Supported, "SINH(0)"),
        ["COS(numeric)"] = (EntrySupport.Supported, "COS(0)"),
        ["TAN(numeric)"] = (EntrySupport.Supported, "TAN(0)"),
        ["TANH(numeric)"] = (EntrySupport.Supported, "TANH(0)"),
        ["COT(numeric)"] = (EntrySupport.Supported, "COT(1)"),
        ["ASIN(numeric)"] = (EntrySupport.Supported, "ASIN(0)"),
        ["ACOS(numeric)"] = (EntrySupport.Supported, "ACOS(1)"),
        ["ATAN(numeric)"] = (EntrySupport.Supported, "ATAN(0)"),
        ["ATAN2(numeric1, numeric2)"] = (EntrySupport.Supported, "ATAN2(0, 1)"),
        ["COSH(numeric)"] = (EntrySupport.Supported, "COSH(0)"),
        ["DEGREES(numeric)"] = (EntrySupport.Supported, "DEGREES(0)"),
        ["RADIANS(numeric)"] = (EntrySupport.Supported, "RADIANS(0)"),
        ["SIGN(numeric)"] = (EntrySupport.Supported, "SIGN(-5)"),
        ["ROUND(NUMERIC, INT)"] = (EntrySupport.Supported, "ROUND(1234, -2)"),
        ["PI()"] = (EntrySupport.Supported, "PI()"),
        ["E()"] = (EntrySupport.Supported, "E()"),
        ["RAND()"] = (EntrySupport.Supported, "RAND()"),
        ["RAND(INT)"] = (EntrySupport.Supported, "RAND(42)"),
        ["RAND_INTEGER(INT)"] = (EntrySupport.Supported, "RAND_INTEGER(10)"),
        ["RAND_INTEGER(INT1, INT2)"] = (EntrySupport.Supported, "RAND_INTEGER(42, 10)"),
        ["UUID()"] = (EntrySupport.Supported, "UUID()"),
        ["BIN(INT)"] = (EntrySupport.Supported, "BIN(4)"),
        ["HEX(numeric)"] = (EntrySupport.Supported, "HEX(20)"),
        ["HEX(string)"] = (EntrySupport.Supported, "HEX('hello,world')"),
        ["UNHEX(expr)"] = (EntrySupport.Supported, "DECODE(UNHEX('466C696E6B'), 'UTF-8')"),
        ["TRUNCATE(numeric1, integer2)"] = (EntrySupport.Supported, "TRUNCATE(42.324, 2)"),
        ["PERCENTILE(expr, percentage[, frequency])"] = (EntrySupport.Supported, "SELECT PERCENTILE(x, 0.5) FROM (VALUES (1), (2)) AS t(x)"),
        ["string1 || string2"] = (EntrySupport.Supported, "'a' || 'b'"),
        ["CHAR_LENGTH(string)"] = (EntrySupport.Supported, "CHAR_LENGTH('abc')"),
        ["CHARACTER_LENGTH(string)"] = (EntrySupport.Supported, "CHARACTER_LENGTH('abc')"),
        ["UPPER(string)"] = (EntrySupport.Supported, "UPPER('abc')"),
        ["LOWER(string)"] = (EntrySupport.Supported, "LOWER('ABC')"),
        ["POSITION(string1 IN string2)"] = (EntrySupport.Supported, "POSITION('b' IN 'abc')"),
        ["PRINTF(format[, obj]*)"] = (EntrySupport.Supported, "PRINTF('%d', 1)"),
        ["TRIM([ BOTH | LEADING | TRAILING ] string1 FROM string2)"] = (EntrySupport.Supported, "TRIM(BOTH 'x' FROM 'xax')"),
        ["LTRIM(str[, trimStr])"] = (EntrySupport.Supported, "LTRIM(' a')"),
        ["RTRIM(str[, trimStr])"] = (EntrySupport.Supported, "RTRIM('a ')"),
        ["BTRIM(str[, trimStr])"] = (EntrySupport.Supported, "BTRIM(' a ')"),
        ["REPEAT(string, int)"] = (EntrySupport.Supported, "REPEAT('a', 2)"),
        ["REGEXP_REPLACE(string1, string2, string3)"] = (EntrySupport.Supported, "REGEXP_REPLACE('foobar', 'oo|ar', '')"),
        ["OVERLAY(string1 PLACING string2 FROM integer1 [ FOR integer2 ])"] = (EntrySupport.Supported, "OVERLAY('xxxxxtest' PLACING 'xxxx' FROM 6)"),
        ["STARTSWITH(expr, startExpr)"] = (EntrySupport.Supported, "STARTSWITH('abc', 'a')"),
        ["ENDSWITH(expr, endExpr)"] = (EntrySupport.Supported, "ENDSWITH('abc', 'c')"),
        ["SUBSTRING(string FROM integer1 [ FOR integer2 ])"] = (EntrySupport.Supported, "SUBSTRING('abc' FROM 2)"),
        ["REPLACE(string1, string2, string3)"] = (EntrySupport.Supported, "REPLACE('ababab', 'abab', 'z')"),
        ["REGEXP_COUNT(str, regex)"] = (EntrySupport.Supported, "REGEXP_COUNT('abab', 'b')"),
        ["REGEXP_EXTRACT(string1, string2[, integer])"] = (EntrySupport.Supported, "REGEXP_EXTRACT('foothebar', 'foo(.*?)(bar)', 2)"),
        ["REGEXP_EXTRACT_ALL(str, regex[, extractIndex])"] = (EntrySupport.Supported, "CARDINALITY(REGEXP_EXTRACT_ALL('a1b2', '[0-9]', 0))"),
        ["REGEXP_INSTR(str, regex)"] = (EntrySupport.Supported, "REGEXP_INSTR('abc', 'c')"),
        ["REGEXP_SUBSTR(str, regex)"] = (EntrySupport.Supported, "REGEXP_SUBSTR('abc', 'b.')"),
        ["TRANSLATE(expr, fromStr, toStr)"] = (EntrySupport.Supported, "TRANSLATE('abc', 'ab', 'x')"),
        ["INITCAP(string)"] = (EntrySupport.Supported, "INITCAP('hello world')"),
        ["CONCAT(string1, string2,...)"] = (EntrySupport.Supported, "CONCAT('AA', 'BB', 'CC')"),
        ["CONCAT_WS(string1, string2, string3,...)"] = (EntrySupport.Supported, "CONCAT_WS('~', 'AA', 'BB')"),
        ["LPAD(string1, integer, string2)"] = (EntrySupport.Supported, "LPAD('hi', 4, '??')"),
        ["RPAD(string1, integer, string2)"] = (EntrySupport.Supported, "RPAD('hi', 4, '??')"),
        ["FROM_BASE64(string)"] = (EntrySupport.Supported, "FROM_BASE64('aGVsbG8gd29ybGQ=')"),
        ["TO_BASE64(string)"] = (EntrySupport.Supported, "TO_BASE64('hello world')"),
        ["ASCII(string)"] = (EntrySupport.Supported, "ASCII('abc')"),
        ["CHR(integer)"] = (EntrySupport.Supported, "CHR(97)"),
        ["DECODE(binary, string)"] = (EntrySupport.Supported, "DECODE(NULL, 'UTF-8')"),
        ["ENCODE(string1, string2)"] = (EntrySupport.Supported, "ENCODE('a', 'UTF-8')"),
        ["INSTR(string1, string2)"] = (EntrySupport.Supported, "INSTR('abc', 'c')"),
        ["LEFT(string, integer)"] = (EntrySupport.Supported, "LEFT('abc', 2)"),
        ["RIGHT(string, integer)"] = (EntrySupport.Supported, "RIGHT('abc', 2)"),
        ["LOCATE(string1, string2[, integer])"] = (EntrySupport.Supported, "LOCATE('b', 'abcb', 3)"),
        ["URL_DECODE(string)"] = (EntrySupport.Supported, "URL_DECODE('a+b')"),
        ["URL_ENCODE(string)"] = (EntrySupport.Supported, "URL_ENCODE('a b')"),
        ["PARSE_URL(string1, string2[, string3])"] = (EntrySupport.Supported, "PARSE_URL('http://facebook.com/path1/p.php?k1=v1&k2=v2#Ref1', 'HOST')"),
        ["REGEXP(string1, string2)"] = (EntrySupport.Supported, "REGEXP('abc', 'b')"),
        ["REVERSE(string)"] = (EntrySupport.Supported, "REVERSE('abc')"),
        ["SPLIT_INDEX(string1, string2, integer1)"] = (EntrySupport.Supported, "SPLIT_INDEX('a,b', ',', 1)"),
        ["STR_TO_MAP(string1[, string2, string3])"] = (EntrySupport.Supported, "STR_TO_MAP('a=1,b=2')['b']"),
        ["SUBSTR(string, integer1[, integer2])"] = (EntrySupport.Supported, "SUBSTR('abc', 2, 1)"),
        ["JSON_QUOTE(string)"] = (EntrySupport.Supported, "JSON_QUOTE('a\"b')"),
        ["JSON_UNQUOTE(string)"] = (EntrySupport.Supported, "JSON_UNQUOTE('\"a\"')"),
        ["ELT(index, expr[, exprs]*)"] = (EntrySupport.Supported, "ELT(2, 'a', 'b')"),
        ["DATE string"] = (EntrySupport.Supported, "DATE '2020-01-01'"),
        ["TIME string"] = (EntrySupport.Supported, "TIME '12:00:00'"),
        ["TIMESTAMP string"] = (EntrySupport.Supported, "TIMESTAMP '2020-01-01 12:00:00'"),
        ["INTERVAL string range"] = (EntrySupport.Supported, "TIMESTAMP '2020-01-01 00:00:00' + INTERVAL '10 00:00:00.004' DAY TO SECOND"),
        ["LOCALTIME"] = (EntrySupport.Supported, "LOCALTIME"),
        ["LOCALTIMESTAMP"] = (EntrySupport.Supported, "LOCALTIMESTAMP"),
        ["CURRENT_TIME"] = (EntrySupport.Supported, "CURRENT_TIME"),
        ["CURRENT_DATE"] = (EntrySupport.Supported, "CURRENT_DATE"),
        ["CURRENT_TIMESTAMP"] = (EntrySupport.Supported, "CURRENT_TIMESTAMP"),
        ["NOW()"] = (EntrySupport.Supported, "NOW()"),
        ["CURRENT_ROW_TIMESTAMP()"] = (EntrySupport.Supported, "CURRENT_ROW_TIMESTAMP()"),
        ["EXTRACT(timeinteravlunit FROM temporal)"] = (EntrySupport.Supported, "EXTRACT(DAY FROM DATE '2006-06-05')"),
        ["YEAR(date)"] = (EntrySupport.Supported, "YEAR(DATE '1994-09-27')"),
        ["QUARTER(date)"] = (EntrySupport.Supported, "QUARTER(DATE '1994-09-27')"),
        ["MONTH(date)"] = (EntrySupport.Supported, "MONTH(DATE '1994-09-27')"),
        ["WEEK(date)"] = (EntrySupport.Supported, "WEEK(DATE '1994-09-27')"),
        ["DAYOFYEAR(date)"] = (EntrySupport.Supported, "DAYOFYEAR(DATE '1994-09-27')"),
        ["DAYOFMONTH(date)"] = (EntrySupport.Supported, "DAYOFMONTH(DATE '1994-09-27')"),
        ["DAYOFWEEK(date)"] = (EntrySupport.Supported, "DAYOFWEEK(DATE '1994-09-27')"),
        ["HOUR(timestamp)"] = (EntrySupport.Supported, "HOUR(TIMESTAMP '1994-09-27 13:14:15')"),
        ["MINUTE(timestamp)"] = (EntrySupport.Supported, "MINUTE(TIMESTAMP '1994-09-27 13:14:15')"),
        ["SECOND(timestamp)"] = (EntrySupport.Supported, "SECOND(TIMESTAMP '1994-09-27 13:14:15')"),
        ["FLOOR(timepoint TO timeintervalunit)"] = (EntrySupport.Supported, "FLOOR(TIMESTAMP '2020-01-01 12:44:31' TO MINUTE)"),
        ["CEIL(timepoint TO timeintervaluntit)"] = (EntrySupport.Supported, "CEIL(TIMESTAMP '2020-01-01 12:44:31' TO MINUTE)"),
        ["(timepoint1, temporal1) OVERLAPS (timepoint2, temporal2)"] = (EntrySupport.Supported, "(TIME '2:55:00', INTERVAL '1' HOUR) OVERLAPS (TIME '3:30:00', INTERVAL '2' HOUR)"),
        ["DATE_FORMAT(timestamp, string)"] = (EntrySupport.Supported, "DATE_FORMAT(TIMESTAMP '2020-01-01 12:00:00', 'yyyy/MM/dd')"),
        ["TIMESTAMPADD(timeintervalunit, interval, timepoint)"] = (EntrySupport.Supported, "TIMESTAMPADD(HOUR, 2, TIMESTAMP '2020-01-01 12:00:00')"),
        ["TIMESTAMPDIFF(timepointunit, timepoint1, timepoint2)"] = (EntrySupport.Supported, "TIMESTAMPDIFF(DAY, TIMESTAMP '2020-01-01 00:00:00', TIMESTAMP '2020-01-03 00:00:00')"),
        ["CONVERT_TZ(string1, string2, string3)"] = (EntrySupport.Supported, "CONVERT_TZ('1970-01-01 00:00:00', 'UTC', 'America/Los_Angeles')"),
        ["FROM_UNIXTIME(numeric[, string])"] = (EntrySupport.Supported, "FROM_UNIXTIME(44)"),
        ["UNIX_TIMESTAMP()"] = (EntrySupport.Supported, "UNIX_TIMESTAMP()"),
        ["UNIX_TIMESTAMP(string1[, string2])"] = (EntrySupport.Supported, "UNIX_TIMESTAMP('1970-01-01 08:00:01')"),
        ["TO_DATE(string1[, string2])"] = (EntrySupport.Supported, "TO_DATE('2020-01-02')"),
        ["TO_TIMESTAMP_LTZ(numeric, precision)"] = (EntrySupport.Supported, "TO_TIMESTAMP_LTZ(0, 3)"),
        ["TO_TIMESTAMP(string1[, string2])"] = (EntrySupport.Supported, "TO_TIMESTAMP('2020-01-01 00:00:00')"),
        ["CURRENT_WATERMARK(rowtime)"] = (EntrySupport.Supported, "CREATE TABLE e (k STRING, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '5');\nSELECT k, CURRENT_WATERMARK(ts) FROM e WHERE CURRENT_WATERMARK(ts) IS NULL OR ts > CURRENT_WATERMARK(ts)"),
        ["CASE value WHEN value1_1 [, value1_2]* THEN RESULT1 (WHEN value2_1 [, value2_2 ]* THEN result_2)* (ELSE result_z) END"] = (EntrySupport.Supported, "CASE one WHEN 1 THEN 'a' ELSE 'b' END"),
        ["CASE WHEN condition1 THEN result1 (WHEN condition2 THEN result2)* (ELSE result_z) END"] = (EntrySupport.Supported, "CASE WHEN one = 1 THEN 'a' END"),
        ["NULLIF(value1, value2)"] = (EntrySupport.Supported, "NULLIF(5, 5)"),
        ["COALESCE(value1 [, value2]*)"] = (EntrySupport.Supported, "COALESCE(NULL, 'default')"),
        ["IF(condition, true_value, false_value)"] = (EntrySupport.Supported, "IF(5 > 3, 5, 3)"),
        ["IFNULL(input, null_replacement)"] = (EntrySupport.Supported, "IFNULL(CAST(NULL AS INT), 5)"),
        ["IS_ALPHA(string)"] = (EntrySupport.Supported, "IS_ALPHA('abc')"),
        ["IS_DECIMAL(string)"] = (EntrySupport.Supported, "IS_DECIMAL('1.5')"),
        ["IS_DIGIT(string)"] = (EntrySupport.Supported, "IS_DIGIT('123')"),
        ["GREATEST(value1[, value2]*)"] = (EntrySupport.Supported, "GREATEST(1, 3, 2)"),
        ["LEAST(value1[, value2]*)"] = (EntrySupport.Supported, "LEAST(1, 3, 2)"),
        ["CAST(value AS type)"] = (EntrySupport.Supported, "CAST('42' AS INT)"),
        ["TRY_CAST(value AS type)"] = (EntrySupport.Supported, "TRY_CAST('non-number' AS INT)"),
        ["TYPEOF(input)"] = (EntrySupport.Supported, "TYPEOF(1)"),
        ["TYPEOF(input, force_serializable)"] = (EntrySupport.Supported, "TYPEOF(1, TRUE)"),
        ["CARDINALITY(array)"] = (EntrySupport.Supported, "CARDINALITY(ARRAY[1, 2])"),
        ["array '[' INT ']'"] = (EntrySupport.Supported, "ARRAY[1, 2][2]"),
        ["ELEMENT(array)"] = (EntrySupport.Supported, "ELEMENT(ARRAY[1])"),
        ["CARDINALITY(map)"] = (EntrySupport.Supported, "CARDINALITY(MAP['a', 1])"),
        ["map '[' value ']'"] = (EntrySupport.Supported, "MAP['a', 1]['a']"),
        ["ARRAY_APPEND(array, element)"] = (EntrySupport.Supported, "CARDINALITY(ARRAY_APPEND(ARRAY[1], 2))"),
        ["ARRAY_CONTAINS(haystack, needle)"] = (EntrySupport.Supported, "ARRAY_CONTAINS(ARRAY[1, 2], 2)"),
        ["ARRAY_DISTINCT(haystack)"] = (EntrySupport.Supported, "CARDINALITY(ARRAY_DISTINCT(ARRAY[1, 1]))"),
        ["ARRAY_POSITION(haystack, needle)"] = (EntrySupport.Supported, "ARRAY_POSITION(ARRAY[1, 2], 2)"),
        ["ARRAY_PREPEND(array, element)"] = (EntrySupport.Supported, "ARRAY_PREPEND(ARRAY[1], 2)[1]"),
        ["ARRAY_REMOVE(haystack, needle)"] = (EntrySupport.Supported, "CARDINALITY(ARRAY_REMOVE(ARRAY[1, 2, 1], 1))"),
        ["ARRAY_REVERSE(haystack)"] = (EntrySupport.Supported, "ARRAY_REVERSE(ARRAY[1, 2])[1]"),
        ["ARRAY_SLICE(array, start_offset[, end_offset])"] = (EntrySupport.Supported, "CARDINALITY(ARRAY_SLICE(ARRAY[1, 2, 3], 2))"),
        ["ARRAY_SORT(array[, ascending_order[, null_first]])"] = (EntrySupport.Supported, "ARRAY_SORT(ARRAY[2, 1])"),
        ["ARRAY_UNION(array1, array2)"] = (EntrySupport.Supported, "CARDINALITY(ARRAY_UNION(ARRAY[1, 2], ARRAY[2, 3]))"),
        ["ARRAY_CONCAT(array1, ...)"] = (EntrySupport.Supported, "CARDINALITY(ARRAY_CONCAT(ARRAY[1], ARRAY[2]))"),
        ["ARRAY_EXCEPT(array1, array2)"] = (EntrySupport.Supported, "CARDINALITY(ARRAY_EXCEPT(ARRAY[1, 2], ARRAY[2]))"),
        ["ARRAY_INTERSECT(array1, array2)"] = (EntrySupport.Supported, "CARDINALITY(ARRAY_INTERSECT(ARRAY[1, 2], ARRAY[2]))"),
        ["ARRAY_MAX(array)"] = (EntrySupport.Supported, "ARRAY_MAX(ARRAY[1, 3, 2])"),
        ["ARRAY_JOIN(array, delimiter[, nullReplacement])"] = (EntrySupport.Supported, "ARRAY_JOIN(ARRAY['a', 'b'], ',')"),
        ["ARRAY_MIN(array)"] = (EntrySupport.Supported, "ARRAY_MIN(ARRAY[1, 3, 2])"),
        ["MAP_KEYS(map)"] = (EntrySupport.Supported, "CARDINALITY(MAP_KEYS(MAP['a', 1]))"),
        ["MAP_UNION(map1, ...)"] = (EntrySupport.Supported, "MAP_UNION(MAP['a', 1], MAP['a', 2])['a']"),
        ["MAP_VALUES(map)"] = (EntrySupport.Supported, "MAP_VALUES(MAP['a', 1])[1]"),
        ["MAP_ENTRIES(map)"] = (EntrySupport.Supported, "MAP_ENTRIES(MAP['a', 1])"),
        ["MAP_FROM_ARRAYS(array_of_keys, array_of_values)"] = (EntrySupport.Supported, "MAP_FROM_ARRAYS(ARRAY['a'], ARRAY[1])['a']"),
        ["SPLIT(string, delimiter)"] = (EntrySupport.Supported, "CARDINALITY(SPLIT('a,b', ','))"),
        ["IS JSON [ { VALUE | SCALAR | ARRAY | OBJECT } ]"] = (EntrySupport.Supported, "'{}' IS JSON OBJECT"),
        ["JSON_EXISTS(jsonValue, path [ { TRUE | FALSE | UNKNOWN | ERROR } ON ERROR ])"] = (EntrySupport.Supported, "JSON_EXISTS('{\"a\": true}', '$.a')"),
        ["JSON_STRING(value)"] = (EntrySupport.Supported, "JSON_STRING(1)"),
        ["JSON_VALUE(jsonValue, path [RETURNING <dataType>] [ { NULL | ERROR | DEFAULT <defaultExpr> } ON EMPTY ] [ { NULL | ERROR | DEFAULT <defaultExpr> } ON ERROR ])"] = (EntrySupport.Supported, "JSON_VALUE('{\"a\": true}', '$.a')"),
        ["JSON_QUERY(jsonValue, path [RETURNING <dataType>] [ { WITHOUT | WITH CONDITIONAL | WITH UNCONDITIONAL } [ ARRAY ] WRAPPER ] [ { NULL | EMPTY ARRAY | EMPTY OBJECT | ERROR } ON EMPTY ] [ { NULL | EMPTY ARRAY | EMPTY OBJECT | ERROR } ON ERROR ])"] = (EntrySupport.Supported, "JSON_QUERY('{ \"a\": { \"b\": 1 } }', '$.a')"),
        ["JSON_OBJECT([[KEY] key VALUE value]* [ { NULL | ABSENT } ON NULL ])"] = (EntrySupport.Supported, "JSON_OBJECT('K1' VALUE 'V1')"),
        ["JSON_ARRAY([value]* [ { NULL | ABSENT } ON NULL ])"] = (EntrySupport.Supported, "JSON_ARRAY(1, '2')"),
        ["(value1 [, value2]*)"] = (EntrySupport.Supported, "(1, 'a')"),
        ["ROW(value1 [, value2]*)"] = (EntrySupport.Supported, "ROW(1, 'a')"),
        ["ARRAY '[' value1 [, value2 ]* ']'"] = (EntrySupport.Supported, "ARRAY[1, 2][1]"),
        ["MAP '[' value1, value2 [, value3, value4 ]* ']'"] = (EntrySupport.Supported, "MAP['a', 1, 'b', 2]['b']"),
        ["tableName.compositeType.field"] = (EntrySupport.Supported, "SELECT r.x FROM (SELECT MAP['a', 1]['a'] AS x) AS r"),
        ["tableName.compositeType.*"] = (EntrySupport.Supported, "SELECT t.r.* FROM (SELECT ROW(1, 'a') AS r FROM (VALUES (1)) AS v(x)) AS t"),
        ["GROUP_ID()"] = (EntrySupport.NotSupported, "SELECT x, GROUP_ID() FROM (VALUES (1), (2)) AS t(x) GROUP BY x"),
        ["GROUPING(expression1 [, expression2]* )"] = (EntrySupport.Supported, "SELECT x, GROUPING(x) FROM (VALUES (1), (2)) AS t(x) GROUP BY ROLLUP (x)"),
        ["GROUPING_ID(expression1 [, expression2]* )"] = (EntrySupport.Supported, "SELECT x, GROUPING_ID(x) FROM (VALUES (1), (2)) AS t(x) GROUP BY ROLLUP (x)"),
        ["MD5(string)"] = (EntrySupport.Supported, "MD5('a')"),
        ["SHA1(string)"] = (EntrySupport.Supported, "SHA1('a')"),
        ["SHA224(string)"] = (EntrySupport.Supported, "SHA224('a')"),
        ["SHA256(string)"] = (EntrySupport.Supported, "SHA256('a')"),
        ["SHA384(string)"] = (EntrySupport.Supported, "SHA384('a')"),
        ["SHA512(string)"] = (EntrySupport.Supported, "SHA512('a')"),
        ["SHA2(string, hashLength)"] = (EntrySupport.Supported, "SHA2('a', 256)"),
        // Aggregate and OVER functions: the example is a whole query (OVER ones over a table with a time attribute,
        // those Flink runs only in batch mode in batch mode).
        ["COUNT([ ALL ] expression | DISTINCT expression1 [, expression2]*)"] = (EntrySupport.Supported, "SELECT COUNT(DISTINCT one) FROM (VALUES (1)) AS t(one)"),
        ["COUNT(*)"] = (EntrySupport.Supported, "SELECT COUNT(*) FROM (VALUES (1)) AS t(one)"),
        ["COUNT(1)"] = (EntrySupport.Supported, "SELECT COUNT(1) FROM (VALUES (1)) AS t(one)"),
        ["AVG([ ALL | DISTINCT ] expression)"] = (EntrySupport.Supported, "SELECT AVG(DISTINCT one) FROM (VALUES (1)) AS t(one)"),
        ["SUM([ ALL | DISTINCT ] expression)"] = (EntrySupport.Supported, "SELECT SUM(ALL one) FROM (VALUES (1)) AS t(one)"),
        ["MAX([ ALL | DISTINCT ] expression)"] = (EntrySupport.Supported, "SELECT MAX(one) FROM (VALUES (1)) AS t(one)"),
        ["MIN([ ALL | DISTINCT ] expression )"] = (EntrySupport.Supported, "SELECT MIN(one) FROM (VALUES (1)) AS t(one)"),
        ["STDDEV_POP([ ALL | DISTINCT ] expression)"] = (EntrySupport.Supported, "SELECT STDDEV_POP(one) FROM (VALUES (1)) AS t(one)"),
        ["STDDEV_SAMP([ ALL | DISTINCT ] expression)"] = (EntrySupport.Supported, "SELECT STDDEV_SAMP(one) FROM (VALUES (1)) AS t(one)"),
        ["VAR_POP([ ALL | DISTINCT ] expression)"] = (EntrySupport.Supported, "SELECT VAR_POP(one) FROM (VALUES (1)) AS t(one)"),
        ["VAR_SAMP([ ALL | DISTINCT ] expression)"] = (EntrySupport.Supported, "SELECT VAR_SAMP(one) FROM (VALUES (1)) AS t(one)"),
        ["COLLECT([ ALL | DISTINCT ] expression)"] = (EntrySupport.NotSupported, "SELECT COLLECT(one) FROM (VALUES (1)) AS t(one)"),
        ["VARIANCE([ ALL | DISTINCT ] expression)"] = (EntrySupport.Supported, "SELECT VARIANCE(one) FROM (VALUES (1)) AS t(one)"),
        ["RANK()"] = (EntrySupport.Supported, TimedTable + "SELECT x, RANK() OVER (ORDER BY ts) FROM t"),
        ["DENSE_RANK()"] = (EntrySupport.Supported, TimedTable + "SELECT x, DENSE_RANK() OVER (ORDER BY ts) FROM t"),
        ["ROW_NUMBER()"] = (EntrySupport.Supported, TimedTable + "SELECT x, ROW_NUMBER() OVER (ORDER BY ts) FROM t"),
        ["LEAD(expression [, offset] [, default])"] = (EntrySupport.Supported, TimedTable + Batch + "SELECT x, LEAD(x, 1, 0) OVER (ORDER BY x) FROM t"),
        ["LAG(expression [, offset] [, default])"] = (EntrySupport.Supported, TimedTable + "SELECT x, LAG(x, 2, 0) OVER (PARTITION BY x ORDER BY ts) FROM t"),
        ["FIRST_VALUE(expression)"] = (EntrySupport.Supported, "SELECT FIRST_VALUE(one) FROM (VALUES (1)) AS t(one)"),
        ["LAST_VALUE(expression)"] = (EntrySupport.Supported, "SELECT LAST_VALUE(one) FROM (VALUES (1)) AS t(one)"),
        ["LISTAGG(expression [, separator])"] = (EntrySupport.Supported, "SELECT LISTAGG(CAST(one AS STRING), ';') FROM (VALUES (1)) AS t(one)"),
        ["CUME_DIST()"] = (EntrySupport.Supported, TimedTable + Batch + "SELECT x, CUME_DIST() OVER (ORDER BY x) FROM t"),
        ["PERCENT_RANK()"] = (EntrySupport.Supported, TimedTable + Batch + "SELECT x, PERCENT_RANK() OVER (ORDER BY x) FROM t"),
        ["NTILE(n)"] = (EntrySupport.Supported, TimedTable + Batch + "SELECT x, NTILE(3) OVER (ORDER BY x) FROM t"),
        ["ARRAY_AGG([ ALL | DISTINCT ] expression [ RESPECT NULLS | IGNORE NULLS ])"] =
            (EntrySupport.Supported, "SELECT ARRAY_AGG(DISTINCT one IGNORE NULLS) FROM (VALUES (1)) AS t(one)"),
        ["JSON_OBJECTAGG([KEY] key VALUE value [ { NULL | ABSENT } ON NULL ])"] =
            (EntrySupport.Supported, "SELECT JSON_OBJECTAGG(KEY 'k' VALUE one ABSENT ON NULL) FROM (VALUES (1)) AS t(one)"),
        ["JSON_ARRAYAGG(items [ { NULL | ABSENT } ON NULL ])"] = (EntrySupport.Supported, "SELECT JSON_ARRAYAGG(one NULL ON NULL) FROM (VALUES (1)) AS t(one)"),
        ["CURRENT_DATABASE()"] = (EntrySupport.Supported, "CURRENT_DATABASE()"),
    };

    /// <summary>The options of working forms that are refused at planning (with a located message naming them).</summary>
    private static readonly Dictionary<string, string> Exceptions = new()
    {
        ["COUNT([ ALL ] expression | DISTINCT expression1 [, expression2]*)"] = "DISTINCT over several expressions",
        ["STDDEV_POP([ ALL | DISTINCT ] expression)"] = "DISTINCT",
        ["STDDEV_SAMP([ ALL | DISTINCT ] expression)"] = "DISTINCT",
        ["VAR_POP([ ALL | DISTINCT ] expression)"] = "DISTINCT",
        ["VAR_SAMP([ ALL | DISTINCT ] expression)"] = "DISTINCT",
        ["VARIANCE([ ALL | DISTINCT ] expression)"] = "DISTINCT",
        ["JSON_VALUE(jsonValue, path [RETURNING <dataType>] [ { NULL | ERROR | DEFAULT <defaultExpr> } ON EMPTY ] [ { NULL | ERROR | DEFAULT <defaultExpr> } ON ERROR ])"] = "ERROR or DEFAULT ON EMPTY / ON ERROR",
        ["JSON_QUERY(jsonValue, path [RETURNING <dataType>] [ { WITHOUT | WITH CONDITIONAL | WITH UNCONDITIONAL } [ ARRAY ] WRAPPER ] [ { NULL | EMPTY ARRAY | EMPTY OBJECT | ERROR } ON EMPTY ] [ { NULL | EMPTY ARRAY | EMPTY OBJECT | ERROR } ON ERROR ])"] = "WITH ... WRAPPER, EMPTY ARRAY / EMPTY OBJECT / ERROR ON EMPTY or ON ERROR",
        ["TYPEOF(input)"] = "of anything but a literal",
        ["TYPEOF(input, force_serializable)"] = "of anything but a literal",
        ["PRINTF(format[, obj]*)"] = "a format that is not a literal; conversions other than %s %S %b %B %d %o %x %X %f %e %E %% %n; the flags # and (",
        ["RAND(INT)"] = "a seed that is not a literal; parallelism above 1",
        ["RAND_INTEGER(INT1, INT2)"] = "a seed that is not a literal; parallelism above 1",
        ["DECODE(binary, string)"] = "a charset that is not a literal",
        ["ENCODE(string1, string2)"] = "a charset that is not a literal",
        ["JSON_STRING(value)"] = "FLOAT, DATE and TIME values",
        ["CURRENT_WATERMARK(rowtime)"] = "in aggregations, OVER windows and joins' ON",
        ["ARRAY_AGG([ ALL | DISTINCT ] expression [ RESPECT NULLS | IGNORE NULLS ])"] = "DISTINCT of a nullable value without IGNORE NULLS; DISTINCT over a changelog",
        ["JSON_OBJECTAGG([KEY] key VALUE value [ { NULL | ABSENT } ON NULL ])"] = "values other than strings, booleans, integers, DOUBLE and DECIMAL; a JSON function's result as the value; DISTINCT",
        ["JSON_ARRAYAGG(items [ { NULL | ABSENT } ON NULL ])"] = "items other than strings, booleans, integers, DOUBLE and DECIMAL; a JSON function's result as the item; DISTINCT",
        ["PERCENTILE(expr, percentage[, frequency])"] = "a percentage that is not a literal; DISTINCT",
    };

    private const string TimedTable =
        "CREATE TABLE t (x INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1');\n";

    private const string Batch = "SET 'execution.runtime-mode' = 'batch';\n";

    /// <summary>Every entry of Flink's list with Eddy's answer; an entry without one is reported by the tests.</summary>
    public static IReadOnlyList<FlinkEntry> All { get; } = BuiltinFunctions.FlinkList
        .Select(e => Answers.TryGetValue(e.Entry, out var a) ? new FlinkEntry(e.Group, e.Entry, a.Support, a.Example, Exceptions.GetValueOrDefault(e.Entry))
            : new FlinkEntry(e.Group, e.Entry, EntrySupport.NotSupported, null))
        .ToArray();

    /// <summary>The entries of Flink's list that have no answer here (a test keeps it empty).</summary>
    public static IEnumerable<string> Unanswered =>
        BuiltinFunctions.FlinkList.Where(e => !Answers.ContainsKey(e.Entry)).Select(e => e.Entry);

    private static readonly Dictionary<string, string> GroupTitles = new()
    {
        ["comparison"] = "Comparison", ["logical"] = "Logical", ["arithmetic"] = "Arithmetic", ["string"] = "String",
        ["temporal"] = "Temporal", ["conditional"] = "Conditional", ["conversion"] = "Type conversion",
        ["collection"] = "Collection", ["json"] = "JSON", ["valueconstruction"] = "Value construction",
        ["valueaccess"] = "Value access", ["grouping"] = "Grouping", ["hashfunctions"] = "Hash", ["aggregate"] = "Aggregate",
        ["catalog"] = "Catalog",
    };

    /// <summary>The Functions section of docs/SQL.md, generated from this table (a test keeps the two equal).</summary>
    public static string Markdown()
    {
        var sb = new StringBuilder();
        int supported = All.Count(e => e.Support == EntrySupport.Supported);
        int partly = All.Count(e => e.Support == EntrySupport.Supported && e.Except is not null);
        sb.Append("Generated from the function registry (`src/Eddy.Sql/Functions/Builtin/`) against Flink's list\n")
          .Append($"(`FlinkFunctionList.txt`): {supported} of {All.Count} forms work as Flink documents them; of these, {partly} refuse some\n")
          .Append($"options where written (listed after the form, \"not: ...\"). The other {All.Count - supported} forms are refused where written.\n")
          .Append("Each working form has an example that the tests plan and run (aggregate, OVER and subquery forms as whole\n")
          .Append("queries; the Aggregate functions section says where each aggregate runs: windows, OVER, changelogs, batch\n")
          .Append("mode). Eddy has no `table.local-time-zone`: functions that read it (`CURRENT_DATE`, `LOCALTIME`, `CURRENT_TIME`,\n")
          .Append("`UNIX_TIMESTAMP`, `FROM_UNIXTIME`, `LOCALTIMESTAMP`) work in UTC.\n");
        foreach (var group in All.GroupBy(e => e.Group))
        {
            var line = new StringBuilder().Append("- **").Append(GroupTitles.GetValueOrDefault(group.Key, group.Key)).Append("**");
            Append(line, "works", group.Where(e => e.Support == EntrySupport.Supported));
            Append(line, "refused", group.Where(e => e.Support == EntrySupport.NotSupported));
            sb.Append('\n').Append(Wrap(line.ToString())).Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>Short lines: breaks after the commas between entries, continuation lines indented under the bullet.</summary>
    private static string Wrap(string text, int width = 116)
    {
        var sb = new StringBuilder();
        int lineStart = 0;
        foreach (var piece in text.Split(", `"))
        {
            string part = sb.Length == 0 ? piece : ", `" + piece;
            if (sb.Length - lineStart + part.Length > width && sb.Length > 0)
            {
                sb.Append(",\n  `");
                lineStart = sb.Length - 3;
                part = piece;
            }
            sb.Append(part);
        }
        return sb.ToString();
    }

    private static void Append(StringBuilder sb, string label, IEnumerable<FlinkEntry> entries)
    {
        var list = entries.ToList();
        if (list.Count == 0) return;
        sb.Append(" — ").Append(label).Append(": ").Append(string.Join(", ", list.Select(e => "`" + e.Entry.Replace("`", "'", StringComparison.Ordinal) + "`"
            + (e.Except is null ? "" : $" (not: {e.Except})"))));
    }
}
