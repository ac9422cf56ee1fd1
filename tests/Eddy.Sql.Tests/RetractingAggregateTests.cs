using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Non-windowed GROUP BY over a changelog (here the result of another GROUP BY), with retraction through every
/// aggregate, as Flink's GroupAggFunction with its *WithRetract aggregate functions. Exact changelogs are worked by
/// hand from Flink's rules (+I for a new key, -U/+U for a change, -D when a key's rows are all retracted); larger
/// cases compare the materialized changelog with the same aggregation computed independently by LINQ.
/// </summary>
public class RetractingAggregateTests
{
    private static List<string> Run(string query, string sinkColumns) => SessionTests.Run($"""
        SET 'parallelism.default' = '1';
        CREATE TABLE out_t ({sinkColumns}) WITH ('connector' = 'print');
        INSERT INTO out_t {query};
        """);

    [Fact]
    public void An_average_over_a_maximum_per_key_follows_the_inner_changelog()
    {
        // Inner: +I(1,x,10) +I(2,x,20) -U(1,x,10) +U(1,x,30); AVG over INT keeps INT (Flink).
        var lines = Run("""
            SELECT category, AVG(final) FROM (
              SELECT id, category, MAX(price) AS final FROM (VALUES (1, 'x', 10), (2, 'x', 20), (1, 'x', 30)) AS t(id, category, price)
              GROUP BY id, category)
            GROUP BY category
            """, "category STRING, a INT");
        Assert.Equal(["+I[x, 10]", "-U[x, 10]", "+U[x, 15]", "-U[x, 15]", "+U[x, 20]", "-U[x, 20]", "+U[x, 25]"], lines);
    }

    [Fact]
    public void Retracting_the_current_maximum_falls_back_to_the_next_value()
    {
        // Inner minimums: +I(1,5) +I(2,3) -U(1,5) +U(1,1). Retracting 5 removes the maximum: it becomes 3.
        var lines = Run("""
            SELECT MAX(s), MIN(s), COUNT(*) FROM (
              SELECT id, MIN(v) AS s FROM (VALUES (1, 5), (2, 3), (1, 1)) AS t(id, v) GROUP BY id)
            """, "mx INT, mn INT, n BIGINT");
        Assert.Equal([
            "+I[5, 5, 1]",
            "-U[5, 5, 1]", "+U[5, 3, 2]",
            "-U[5, 3, 2]", "+U[3, 3, 1]",
            "-U[3, 3, 1]", "+U[3, 1, 2]",
        ], lines);
    }

    [Fact]
    public void Listagg_over_a_changelog_takes_out_the_retracted_value()
    {
        // Inner minimums: +I(1,5) +I(2,3) -U(1,5) +U(1,1); Flink's ListAggWithRetract keeps arrival order and removes
        // the first equal value on retraction.
        var lines = Run("""
            SELECT LISTAGG(CAST(s AS STRING), ';') FROM (
              SELECT id, MIN(v) AS s FROM (VALUES (1, 5), (2, 3), (1, 1)) AS t(id, v) GROUP BY id)
            """, "l STRING");
        Assert.Equal(["+I[5]", "-U[5]", "+U[5;3]", "-U[5;3]", "+U[3]", "-U[3]", "+U[3;1]"], lines);
    }

    [Fact]
    public void A_group_whose_rows_are_all_retracted_is_deleted()
    {
        // Inner: +I(1,5) -U(1,5) +U(1,6): group 5 loses its only row (-D), group 6 appears (+I).
        var lines = Run("""
            SELECT s, COUNT(*) FROM (
              SELECT id, SUM(v) AS s FROM (VALUES (1, 5), (1, 1)) AS t(id, v) GROUP BY id)
            GROUP BY s
            """, "s INT, n BIGINT");
        Assert.Equal(["+I[5, 1]", "-D[5, 1]", "+I[6, 1]"], lines);
    }

    [Fact]
    public void Distinct_over_a_changelog_deletes_a_value_that_is_gone()
    {
        var lines = Run("""
            SELECT DISTINCT s FROM (
              SELECT id, SUM(v) AS s FROM (VALUES (1, 5), (1, 1)) AS t(id, v) GROUP BY id)
            """, "s INT");
        Assert.Equal(["+I[5]", "-D[5]", "+I[6]"], lines);
    }

    [Fact]
    public void Sum_of_retracted_values_is_null_again_while_count_star_still_counts_the_rows()
    {
        // Inner: +I(1,a,7) +I(2,a,NULL) -U(1,a,7) +U(1,a,9): retracting 7 takes the last non-NULL value, SUM/MAX are NULL
        // (Flink's SumWithRetract keeps the count of its values), COUNT(m) is 0, COUNT(*) still counts 2 rows.
        var lines = Run("""
            SELECT g, SUM(m), MAX(m), COUNT(m), COUNT(*) FROM (
              SELECT id, g, MAX(v) AS m FROM (VALUES (1, 'a', 7), (2, 'a', CAST(NULL AS INT)), (1, 'a', 9)) AS t(id, g, v) GROUP BY id, g)
            GROUP BY g
            """, "g STRING, s INT, mx INT, c BIGINT, n BIGINT");
        Assert.Equal(["+I[a, 7, 7, 1, 1]", "-U[a, 7, 7, 1, 1]", "+U[a, 7, 7, 1, 2]", "-U[a, 7, 7, 1, 2]", "+U[a, null, null, 0, 1]",
            "-U[a, null, null, 0, 1]", "+U[a, 9, 9, 1, 2]"], lines);
    }

    /// <summary>Random rows (with NULLs), an inner aggregate per id, and an outer one per group over its changelog.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Materialized_changelog_equals_the_batch_result(int seed)
    {
        var random = new Random(seed);
        var rows = Enumerable.Range(0, 120).Select(_ => (Id: random.Next(12), V: random.Next(5) == 0 ? (int?)null : random.Next(0, 9))).ToList();
        string values = string.Join(", ", rows.Select(r => $"({r.Id}, {(r.V is null ? "CAST(NULL AS INT)" : r.V.ToString())})"));
        var lines = SessionTests.Run($"""
            CREATE TABLE out_t (g INT, n BIGINT, c BIGINT, cd BIGINT, s INT, sd INT, mn INT, mx INT, f BIGINT, fd BIGINT, sf INT) WITH ('connector' = 'print');
            INSERT INTO out_t
            SELECT g, COUNT(*), COUNT(m), COUNT(DISTINCT m), SUM(m), SUM(DISTINCT m), MIN(m), MAX(m),
                   COUNT(*) FILTER (WHERE m > 2), COUNT(DISTINCT m) FILTER (WHERE m < 6), SUM(m) FILTER (WHERE id > 4)
            FROM (SELECT id, MOD(id, 3) AS g, MAX(v) AS m FROM (VALUES {values}) AS t(id, v) GROUP BY id)
            GROUP BY g;
            """);
        var inner = rows.GroupBy(r => r.Id).Select(grp => (Id: grp.Key, G: grp.Key % 3, M: grp.Max(r => r.V))).ToList();
        string F(long? v) => v?.ToString() ?? "null";
        var expected = inner.GroupBy(r => r.G).Select(grp =>
        {
            var ms = grp.Where(r => r.M is not null).Select(r => r.M!.Value).ToList();
            long? Sum(IEnumerable<int> xs) => xs.Any() ? xs.Sum() : null;
            return $"[{grp.Key}, {grp.Count()}, {ms.Count}, {ms.Distinct().Count()}, {F(Sum(ms))}, {F(Sum(ms.Distinct()))}, "
                + $"{F(ms.Count > 0 ? ms.Min() : null)}, {F(ms.Count > 0 ? ms.Max() : null)}, {ms.Count(m => m > 2)}, "
                + $"{ms.Where(m => m < 6).Distinct().Count()}, {F(Sum(grp.Where(r => r.Id > 4 && r.M is not null).Select(r => r.M!.Value)))}]";
        }).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, Materialize(lines));
    }

    /// <summary>Applies a printed changelog: +I/+U add a row, -U/-D remove one (which must be there).</summary>
    internal static List<string> Materialize(IEnumerable<string> lines)
    {
        var table = new List<string>();
        foreach (var line in lines)
        {
            string kind = line[..2], row = line[2..];
            if (kind is "+I" or "+U") table.Add(row);
            else Assert.True(table.Remove(row), $"{line} retracts a row that is not in the result");
        }
        return table.Order(StringComparer.Ordinal).ToList();
    }

    [Fact]
    public void An_aggregate_that_cannot_retract_is_refused_over_a_changelog_naming_it()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var e = Assert.Throws<SqlParseException>(() => session.Execute("""
            SELECT g,
              FIRST_VALUE(s) FROM (SELECT id, MOD(id, 2) AS g, SUM(v) AS s FROM (VALUES (1, 2)) AS t(id, v) GROUP BY id)
            GROUP BY g
            """));
        Assert.Contains("FIRST_VALUE(s) over an updating stream", e.Message);
        Assert.Contains("line 2, column 3", e.Message);
    }
}
