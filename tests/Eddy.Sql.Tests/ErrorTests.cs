using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class ErrorTests
{
    [Fact]
    public void Expected_and_found_with_line_column_and_caret()
    {
        var e = P.Error("SELECT a, b\nFROM t\nWHERE (a > 1 FROM");
        Assert.Equal(3, e.Line);
        Assert.Equal(14, e.Column);
        Assert.Equal("expected ')' but found 'FROM'", e.Reason);
        Assert.Equal("""
            line 3, column 14: expected ')' but found 'FROM'
            3 | WHERE (a > 1 FROM
              |              ^^^^
            """, e.Message);
        Assert.Null(e.Suggestion);
        Assert.Null(e.FileName);
    }

    [Fact]
    public void File_name_is_included()
    {
        var e = P.Error("SET 'a' = 'b';\nSELECT from FROM t", "jobs/lab.sql");
        Assert.Equal("jobs/lab.sql", e.FileName);
        Assert.StartsWith("jobs/lab.sql: line 2, column 8: expected an expression but found 'from'\n", e.Message);
    }

    [Fact]
    public void Misspelled_statement_keyword()
    {
        var e = P.Error("SELEC * FROM t");
        Assert.Equal("SELECT", e.Suggestion);
        Assert.Equal("""
            line 1, column 1: expected a statement (SELECT, INSERT, CREATE, DROP, SET, ...) but found 'SELEC' (did you mean 'SELECT'?)
            1 | SELEC * FROM t
              | ^^^^^
            """, e.Message);
    }

    [Fact]
    public void Misspelled_watermark_read_as_a_column_name()
    {
        var e = P.Error("""
            CREATE TABLE t (
              a INT,
              ts TIMESTAMP(3),
              WATERMAK FOR ts AS ts - INTERVAL '5' SECOND
            ) WITH ('connector' = 'x')
            """);
        Assert.Equal("WATERMARK", e.Suggestion);
        Assert.Equal((4, 12), (e.Line, e.Column));
        Assert.Equal("expected a data type but found 'FOR' (did you mean 'WATERMARK' instead of 'WATERMAK'?)", e.Reason);
        Assert.Equal("4 |   WATERMAK FOR ts AS ts - INTERVAL '5' SECOND\n  |            ^^^", e.Excerpt);
    }

    [Theory]
    [InlineData("SELECT a FORM t", "FROM", "expected ';' or end of input but found 't' (did you mean 'FROM' instead of 'FORM'?)")]
    [InlineData("SELECT a FROM t WHER a > 1", "WHERE", "expected ';' or end of input but found 'a' (did you mean 'WHERE' instead of 'WHER'?)")]
    [InlineData("SELECT a FROM t GRUOP BY a", "GROUP", "expected ';' or end of input but found 'BY' (did you mean 'GROUP' instead of 'GRUOP'?)")]
    [InlineData("CREATE TABLE t (a STIRNG) WITH ('connector' = 'x')", "STRING", "expected a data type but found 'STIRNG' (did you mean 'STRING'?)")]
    [InlineData("CREATE TABEL t (a INT)", "TABLE", "expected TABLE, VIEW or FUNCTION but found 'TABEL' (did you mean 'TABLE'?)")]
    [InlineData("CREATE TABLE t (a INT) WIHT ('connector' = 'x')", "WITH", "expected ';' or end of input but found 'WIHT' (did you mean 'WITH'?)")]
    [InlineData("SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' MINUT))", "MINUTE",
        "expected a time unit (SECOND, MINUTE, HOUR, DAY, ...) but found 'MINUT' (did you mean 'MINUTE'?)")]
    [InlineData("INSERT INTOO t SELECT 1", "INTO", "expected INTO or OVERWRITE but found 'INTOO' (did you mean 'INTO'?)")]
    public void Suggests_the_nearest_keyword(string sql, string suggestion, string reason)
    {
        var e = P.Error(sql);
        Assert.Equal(suggestion, e.Suggestion);
        Assert.Equal(reason, e.Reason);
    }

    [Theory]
    [InlineData("SELECT a FROM t WHERE user_name = 1 +", 1, 38, "expected an expression but found end of input")]
    [InlineData("SELECT a FROM t WHERE usr > 1 2", 1, 31, "expected ';' or end of input but found '2'")]
    [InlineData("INSERT t SELECT 1", 1, 8, "expected INTO or OVERWRITE but found 't'")]
    [InlineData("SELECT CAST(a AS) FROM t", 1, 17, "expected a data type but found ')'")]
    [InlineData("SELECT a FROM t\nGROUP BY a\nORDER a", 3, 7, "expected 'BY' but found 'a'")]
    [InlineData("SELECT a,\n  FROM t", 2, 3, "expected an expression but found 'FROM'")]
    [InlineData("SELECT * FROM t JOIN u", 1, 23, "expected ON or USING but found end of input")]
    [InlineData("SELECT COUNT(* FROM t", 1, 16, "expected ')' but found 'FROM'")]
    [InlineData("SELECT CASE WHEN a THEN 1 FROM t", 1, 27, "expected WHEN, ELSE or END but found 'FROM'")]
    [InlineData("CREATE TABLE t (a INT) WITH ('k' = 1)", 1, 36, "expected an option value string but found '1'")]
    [InlineData("CREATE TABLE t (a INT, b) WITH ('k' = 'v')", 1, 25, "expected a data type but found ')'")]
    [InlineData("CREATE TABLE t (a INT, PRIMARY KEY (a) ENFORCED)", 1, 40, "Flink does not support ENFORCED primary keys; write 'PRIMARY KEY ... NOT ENFORCED'")]
    [InlineData("CREATE TABLE t (a INT, PRIMARY KEY (a) NOT ENFORCED, PRIMARY KEY (a) NOT ENFORCED)", 1, 54, "a table can have only one PRIMARY KEY")]
    [InlineData("CREATE TABLE t (select INT)", 1, 17, "expected a column name but found 'select' ('select' is a reserved keyword; write `select` to use it as a name)")]
    [InlineData("SELECT * FROM t WHERE a = \"x\"", 1, 27, "unexpected '\"'; Flink SQL quotes identifiers with back-quotes (`name`) and strings with single quotes ('text')")]
    [InlineData("SELECT 'abc FROM t", 1, 8, "unterminated string literal; expected a closing ' before end of input")]
    [InlineData("SELECT 1 /* oops", 1, 10, "unterminated comment; expected '*/' before end of input")]
    [InlineData("SELECT a # b", 1, 10, "unexpected character '#'")]
    [InlineData("SELECT CAST(x AS TIMESTAMP(3) WITH TIME ZONE)", 1, 36, "expected LOCAL (Flink supports TIMESTAMP WITH LOCAL TIME ZONE, not WITH TIME ZONE) but found 'TIME'")]
    [InlineData("EXECUTE STATEMENT SET BEGIN SELECT 1; END", 1, 29, "expected INSERT or END but found 'SELECT'")]
    [InlineData("SELECT x FROM t WHERE a IS b", 1, 28, "expected NULL, TRUE, FALSE, UNKNOWN, JSON or DISTINCT FROM but found 'b'")]
    [InlineData("SELECT INTERVAL 5", 1, 18, "expected a time unit (SECOND, MINUTE, HOUR, DAY, ...) but found end of input")]
    public void Reports_position_and_reason(string sql, int line, int column, string reason)
    {
        var e = P.Error(sql);
        Assert.Equal(reason, e.Reason);
        Assert.Equal(line, e.Line);
        Assert.Equal(column, e.Column);
        Assert.Contains($"line {line}, column {column}: {reason}", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT a FROM t JOIN data")]
    [InlineData("SELECT COUNT(x data) FROM t")]
    [InlineData("SELECT a FROM t WHERE x = 1 2")]
    public void No_far_fetched_suggestions(string sql) => Assert.Null(P.Error(sql).Suggestion);

    [Fact]
    public void Caret_points_at_the_column_on_later_lines_with_tabs()
    {
        var e = P.Error("SELECT a\nFROM t\n\tWHERE a >");
        Assert.Equal((3, 11), (e.Line, e.Column));
        Assert.Equal("3 |  WHERE a >\n  |           ^", e.Excerpt);
    }

    [Fact]
    public void Reserved_words_are_fine_when_back_quoted()
    {
        var s = P.Select("SELECT `select`, `from` FROM `table`");
        Assert.Equal(P.Col("select"), ((SelectExpr)s.Items[0]).Expression);
    }

    [Theory]
    [InlineData("selec", "SELECT")]
    [InlineData("SLECT", "SELECT")]
    [InlineData("watermak", "WATERMARK")]
    [InlineData("PARTITONED", "PARTITIONED")]
    [InlineData("user_id", null)]
    [InlineData("cnt", null)]
    [InlineData("select", null)]
    public void Nearest_keyword(string word, string? expected) => Assert.Equal(expected, SqlParser.Nearest(word, Keywords.All));

    [Theory]
    [InlineData("kitten", "sitting", 3)]
    [InlineData("FORM", "FROM", 1)]
    [InlineData("abc", "abc", 0)]
    [InlineData("", "abc", 3)]
    [InlineData("GRUOP", "group", 1)]
    public void Edit_distance(string a, string b, int d) => Assert.Equal(d, SqlParser.EditDistance(a, b));
}
