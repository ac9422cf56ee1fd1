using Eddy.Sql.Functions;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class SqlFunctionsTests
{
    [Fact]
    public void To_timestamp_follows_the_lab_pattern_and_gives_null_on_bad_text()
    {
        Assert.Equal(new DateTime(2024, 3, 5, 14, 7, 9, 123),
            SqlFunctions.ToTimestamp("2024-03-05T14:07:09.123Z", "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'"));
        Assert.Null(SqlFunctions.ToTimestamp("yesterday", "yyyy-MM-dd"));
        Assert.Null(SqlFunctions.ToTimestamp(null, "yyyy-MM-dd"));
        Assert.Equal(new DateTime(2019, 10, 1, 0, 26, 2), SqlFunctions.ToTimestamp("2019-10-01 00:26:02"));
        Assert.Equal(new DateTime(2019, 10, 1, 0, 26, 2, 500), SqlFunctions.ToTimestamp("2019-10-01 00:26:02.5"));
    }

    [Fact]
    public void To_timestamp_ltz_reads_seconds_or_milliseconds()
    {
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), SqlFunctions.ToTimestampLtz(1_700_000_000_123L, 3));
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), SqlFunctions.ToTimestampLtz(1_700_000_000L, 0));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), SqlFunctions.ToTimestampLtz(1_700_000_000_123.9, 3));
    }

    [Fact]
    public void String_functions_have_flink_null_semantics()
    {
        Assert.Equal("ab", SqlFunctions.Concat("a", "b"));
        Assert.Null(SqlFunctions.Concat("a", null));
        Assert.Equal("a-c", SqlFunctions.ConcatWs("-", "a", null, "c"));
        Assert.Null(SqlFunctions.ConcatWs(null, "a"));
        Assert.Equal("xx", SqlFunctions.Trim("  xx "));
        Assert.Equal("xx ", SqlFunctions.Trim("..xx ", trailing: false, characters: "."));
        Assert.Equal("bc", SqlFunctions.Substring("abcd", 2, 2));
        Assert.Equal("a", SqlFunctions.Substring("abcd", 0, 2));
        Assert.Equal("bcd", SqlFunctions.Substring("abcd", 2));
        Assert.Equal("", SqlFunctions.Substring("abcd", 9, 2));
        Assert.Equal("a.b", SqlFunctions.Replace("a-b", "-", "."));
        Assert.Equal("2024", SqlFunctions.RegexpExtract("year 2024", @"(\d+)"));
        Assert.Equal("techcreator", SqlFunctions.RegexpExtract("zachwilson.techcreator.io", @"(\w+)\.(\w+)\.io", 2));
        Assert.Null(SqlFunctions.RegexpExtract("none", @"(\d+)"));
        Assert.Equal("techcreator", SqlFunctions.SplitIndex("zachwilson.techcreator.io", ".", 1));
        Assert.Null(SqlFunctions.SplitIndex("a.b", ".", 5));
        // Parts as string.Split(separator) gives them: empty parts kept, the last part to the end, whole separators.
        Assert.Equal(["https:", "", "www.nexmark.com", "a_b", "", null], Enumerable.Range(0, 6).Select(i => SqlFunctions.SplitIndex("https://www.nexmark.com/a_b/", "/", i)));
        Assert.Equal("c", SqlFunctions.SplitIndex("a::b::c", "::", 2));
        Assert.Equal("a::b::c", SqlFunctions.SplitIndex("a::b::c", "", 0));
        Assert.Null(SqlFunctions.SplitIndex("a::b::c", "", 1));
        Assert.Equal(4, SqlFunctions.CharLength("abcd"));
    }

    [Fact]
    public void Json_functions_navigate_paths()
    {
        const string json = """{"country":"GB","geo":{"lat":51.5,"city":"London"},"tags":["a","b"]}""";
        Assert.Equal("GB", SqlFunctions.JsonValue(json, "$.country"));
        Assert.Equal("51.5", SqlFunctions.JsonValue(json, "$.geo.lat"));
        Assert.Equal("b", SqlFunctions.JsonValue(json, "$.tags[1]"));
        Assert.Equal("London", SqlFunctions.JsonValue(json, "$['geo']['city']"));
        Assert.Null(SqlFunctions.JsonValue(json, "$.geo"));
        Assert.Null(SqlFunctions.JsonValue(json, "$.missing"));
        Assert.Null(SqlFunctions.JsonValue("not json", "$.a"));
        Assert.Equal("""{"lat":51.5,"city":"London"}""", SqlFunctions.JsonQuery(json, "$.geo"));
        Assert.Null(SqlFunctions.JsonQuery(json, "$.country"));
    }

    [Fact]
    public void Time_functions_round_diff_and_extract()
    {
        var t = new DateTime(2024, 5, 15, 13, 47, 12, 345);
        Assert.Equal(new DateTime(2024, 5, 15, 13, 0, 0), SqlFunctions.Floor(t, TimeUnit.Hour));
        Assert.Equal(new DateTime(2024, 5, 15, 14, 0, 0), SqlFunctions.Ceil(t, TimeUnit.Hour));
        Assert.Equal(new DateTime(2024, 4, 1), SqlFunctions.Floor(t, TimeUnit.Quarter));
        Assert.Equal(new DateTime(2024, 5, 13), SqlFunctions.Floor(t, TimeUnit.Week));
        Assert.Equal(90, SqlFunctions.TimestampDiff(TimeUnit.Minute, t, t.AddMinutes(90).AddSeconds(59)));
        Assert.Equal(-1, SqlFunctions.TimestampDiff(TimeUnit.Hour, t, t.AddMinutes(-61)));
        Assert.Equal(0, SqlFunctions.TimestampDiff(TimeUnit.Month, new DateTime(2024, 1, 31), new DateTime(2024, 2, 29)));
        Assert.Equal(1, SqlFunctions.TimestampDiff(TimeUnit.Month, new DateTime(2024, 1, 15), new DateTime(2024, 2, 15)));
        Assert.Equal(2024, SqlFunctions.Extract(TimeUnit.Year, t));
        Assert.Equal(2, SqlFunctions.Extract(TimeUnit.Quarter, t));
        Assert.Equal(47, SqlFunctions.Extract(TimeUnit.Minute, t));
        Assert.Equal(4, SqlFunctions.Extract(TimeUnit.DayOfWeek, t));
        Assert.Equal("2024-05-15 13:47", SqlFunctions.DateFormat(t, "yyyy-MM-dd HH:mm"));
    }
}
