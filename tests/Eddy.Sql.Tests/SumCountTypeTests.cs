using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// SUM's result type is its argument's (Flink's deriveSumType): TINYINT and SMALLINT sums wrap as Java's byte and
/// short arithmetic does, FLOAT sums in FLOAT. COUNT of several expressions is refused, as Flink's
/// AggFunctionFactory refuses it.
/// Expected values are computed here in C# with the same arithmetic (unchecked narrowing, float addition).
/// </summary>
public class SumCountTypeTests
{
    private static List<string> Run(string sql) => SessionTests.Run("SET 'parallelism.default' = '1';\n" + sql);

    private static string Last(List<string> lines) => RetractingAggregateTests.Materialize(lines).Single();

    [Fact]
    public void Sum_of_tinyint_and_smallint_keeps_the_type_and_wraps()
    {
        int[] values = [100, 100, 27];
        var lines = Run($"""
            CREATE TABLE out_t (t TINYINT, s SMALLINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT SUM(CAST(v AS TINYINT)), SUM(CAST(v * 150 AS SMALLINT))
            FROM (VALUES {string.Join(", ", values.Select(v => $"({v})"))}) AS r(v);
            """);
        sbyte tiny = 0;
        short small = 0;
        foreach (var v in values)
        {
            tiny = unchecked((sbyte)(tiny + v));
            small = unchecked((short)(small + v * 150));
        }
        Assert.Equal($"[{tiny.ToString(CultureInfo.InvariantCulture)}, {small.ToString(CultureInfo.InvariantCulture)}]", Last(lines));
        Assert.True(tiny < 0 && small < 0, "the data must overflow both types");
    }

    [Fact]
    public void Sum_of_tinyint_over_a_changelog_retracts_in_the_wrapped_type()
    {
        // The inner maxima per id: 100, 100, then id 1 changes 100 -> 120; the outer TINYINT sum wraps at every step.
        var lines = Run("""
            CREATE TABLE out_t (t TINYINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT SUM(m) FROM (
              SELECT id, MAX(CAST(v AS TINYINT)) AS m FROM (VALUES (1, 100), (2, 100), (1, 120)) AS r(id, v) GROUP BY id);
            """);
        Assert.Equal($"[{unchecked((sbyte)(120 + 100)).ToString(CultureInfo.InvariantCulture)}]", Last(lines));
    }

    [Fact]
    public void Sum_of_float_adds_in_float()
    {
        // 2^24 + 1 + 1: FLOAT addition rounds each step back to 2^24, a DOUBLE sum would not.
        string[] values = ["16777216", "1", "1"];
        var lines = Run($"""
            CREATE TABLE out_t (f FLOAT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT SUM(CAST(v AS FLOAT)) FROM (VALUES {string.Join(", ", values.Select(v => $"('{v}')"))}) AS r(v);
            """);
        float sum = 0;
        foreach (var v in values) sum += float.Parse(v, CultureInfo.InvariantCulture);
        float printed = float.Parse(Last(lines).Trim('[', ']'), CultureInfo.InvariantCulture);
        Assert.Equal(sum, printed);
        Assert.NotEqual((float)values.Sum(v => double.Parse(v, CultureInfo.InvariantCulture)), sum);
    }

    [Theory]
    [InlineData("SELECT COUNT(DISTINCT a, b) FROM t", "COUNT(DISTINCT a, b, ...) over several expressions is not supported", 26)]
    [InlineData("SELECT COUNT(a, b) FROM t", "We now only support the count of one field.", 17)]
    [InlineData("SELECT SUM(a, b) FROM t", "SUM takes one argument", 15)]
    [InlineData("SELECT MAX(a, b) FROM t", "MAX takes one argument", 15)]
    public void Forms_eddy_cannot_do_exactly_are_refused_where_written(string query, string message, int column)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("CREATE TABLE t (a INT, b INT) WITH ('connector' = 'datagen', 'number-of-rows' = '1');");
        var e = Assert.Throws<SqlParseException>(() => session.Execute(query));
        Assert.Contains(message, e.Message);
        Assert.Contains($"line 1, column {column}", e.Message);
    }
}
