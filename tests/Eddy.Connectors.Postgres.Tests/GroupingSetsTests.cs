using System.Globalization;
using Eddy.Sql;

namespace Eddy.Connectors.Postgres.Tests;

/// <summary>
/// GROUPING SETS, ROLLUP and CUBE against PostgreSQL, which implements them as the SQL standard (and Flink) define
/// them: the same rows go into a PostgreSQL table and, as VALUES, into an Eddy job; the materialized changelog Eddy
/// prints must equal PostgreSQL's result, row for row.
/// </summary>
public class GroupingSetsTests
{
    private sealed record Item(int K, string? A, int? B, int? V);

    // Deterministic rows with NULLs in every grouped column and negative values.
    private static readonly List<Item> Items = MakeItems();

    private static List<Item> MakeItems()
    {
        var random = new Random(20261206);
        string?[] names = ["x", "y", "z", null];
        return Enumerable.Range(0, 240).Select(i => new Item(
            random.Next(0, 40),
            names[random.Next(names.Length)],
            random.Next(6) is var b && b == 5 ? null : b,
            random.Next(10) == 0 ? null : random.Next(-50, 51))).ToList();
    }

    private static string Sql(object? v) => v switch
    {
        null => "NULL",
        string s => $"'{s}'",
        _ => Convert.ToString(v, CultureInfo.InvariantCulture)!,
    };

    private static string ValuesTable(string alias) =>
        "(VALUES " + string.Join(", ", Items.Select(i => $"({i.K}, {Sql(i.A)}, {Sql(i.B)}, {Sql(i.V)})")) + $") AS {alias}(k, a, b, v)";

    private static string LoadIntoPostgres()
    {
        string table = PgServer.UniqueName("items");
        PgServer.Execute($"CREATE TABLE {table} (k int, a varchar, b int, v int)");
        PgServer.Execute($"INSERT INTO {table} VALUES " + string.Join(", ", Items.Select(i => $"({i.K}, {Sql(i.A)}, {Sql(i.B)}, {Sql(i.V)})")));
        return table;
    }

    /// <summary>The query's rows in Eddy (materialized changelog) and in PostgreSQL, both as printed rows, sorted.</summary>
    private static (List<string> Eddy, List<string> Postgres) Both(string eddyQuery, string pgQuery, string sinkColumns)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        foreach (var job in session.Execute($"""
            SET 'parallelism.default' = '2';
            CREATE TABLE out_t ({sinkColumns}) WITH ('connector' = 'print');
            INSERT INTO out_t {eddyQuery};
            """))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        var table = new List<string>();
        foreach (var line in output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            // print with parallelism > 1 prefixes the subtask ("1> +I[...]").
            var change = line.TrimEnd('\r');
            int gt = change.IndexOf("> ", StringComparison.Ordinal);
            if (gt >= 0 && gt < 4) change = change[(gt + 2)..];
            string kind = change[..2], row = change[2..];
            if (kind is "+I" or "+U") table.Add(row);
            else Assert.True(table.Remove(row), $"{change} retracts a row that is not in the result");
        }
        var pg = PgServer.Query(pgQuery)
            .Select(r => "[" + string.Join(", ", r.Select(v => v is null ? "null" : Convert.ToString(v, CultureInfo.InvariantCulture))) + "]")
            .Order(StringComparer.Ordinal).ToList();
        return (table.Order(StringComparer.Ordinal).ToList(), pg);
    }

    [Fact]
    public void Cube_with_grouping_and_every_aggregate_matches_postgres()
    {
        string table = LoadIntoPostgres();
        var (eddy, pg) = Both(
            $"SELECT a, b, COUNT(*), COUNT(v), SUM(v), MIN(v), MAX(v), GROUPING(a), GROUPING(b), GROUPING_ID(a, b) FROM {ValuesTable("t")} GROUP BY CUBE (a, b)",
            $"SELECT a, b, COUNT(*), COUNT(v), SUM(v), MIN(v), MAX(v), GROUPING(a), GROUPING(b), GROUPING(a, b) FROM {table} GROUP BY CUBE (a, b)",
            "a STRING, b INT, n BIGINT, nv BIGINT, s INT, mn INT, mx INT, ga BIGINT, gb BIGINT, gab BIGINT");
        Assert.Equal(pg, eddy);
        Assert.True(pg.Count > 20);
    }

    [Fact]
    public void A_key_and_a_rollup_with_having_and_distinct_match_postgres()
    {
        string table = LoadIntoPostgres();
        var (eddy, pg) = Both(
            $"SELECT a, b, k, COUNT(DISTINCT v), SUM(v) FILTER (WHERE v > 0), GROUPING_ID(a, b, k) FROM {ValuesTable("t")} "
                + "GROUP BY a, ROLLUP (b, k) HAVING COUNT(*) > 1",
            $"SELECT a, b, k, COUNT(DISTINCT v), SUM(v) FILTER (WHERE v > 0), GROUPING(a, b, k) FROM {table} "
                + "GROUP BY a, ROLLUP (b, k) HAVING COUNT(*) > 1",
            "a STRING, b INT, k INT, nd BIGINT, sp INT, g BIGINT");
        Assert.Equal(pg, eddy);
        Assert.True(pg.Count > 10);
    }

    [Fact]
    public void Nested_grouping_sets_with_expressions_and_the_empty_set_match_postgres()
    {
        string table = LoadIntoPostgres();
        var (eddy, pg) = Both(
            $"SELECT MOD(k, 3), a, COUNT(*), AVG(v) FROM {ValuesTable("t")} GROUP BY GROUPING SETS ((MOD(k, 3), a), ROLLUP (a), (), MOD(k, 3))",
            $"SELECT MOD(k, 3), a, COUNT(*), CAST(TRUNC(AVG(v)) AS int) FROM {table} GROUP BY GROUPING SETS ((MOD(k, 3), a), ROLLUP (a), (), MOD(k, 3))",
            "m INT, a STRING, n BIGINT, av INT");
        Assert.Equal(pg, eddy);
    }

    [Fact]
    public void Grouping_sets_over_an_updating_input_retract_through_every_set()
    {
        // The inner GROUP BY's changelog (-U/+U as each key's maximum grows) feeds the grouping sets.
        string table = LoadIntoPostgres();
        var (eddy, pg) = Both(
            $"SELECT a, b, COUNT(*), SUM(m), MAX(m), GROUPING(a, b) FROM (SELECT k, a, b, MAX(v) AS m FROM {ValuesTable("t")} GROUP BY k, a, b) "
                + "GROUP BY GROUPING SETS ((a, b), (a), (b), ())",
            $"SELECT a, b, COUNT(*), SUM(m), MAX(m), GROUPING(a, b) FROM (SELECT k, a, b, MAX(v) AS m FROM {table} GROUP BY k, a, b) s "
                + "GROUP BY GROUPING SETS ((a, b), (a), (b), ())",
            "a STRING, b INT, n BIGINT, s INT, mx INT, g BIGINT");
        Assert.Equal(pg, eddy);
    }
}
