using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// IN / EXISTS / NOT IN / NOT EXISTS subqueries (semi and anti joins) and scalar-aggregate comparisons end to end: the
/// changelog a job prints, applied to a multiset, must equal the same query computed here with LINQ under SQL's
/// three-valued logic (NOT IN: a NULL in a non-empty subquery, or a NULL probe, makes the predicate unknown).
/// </summary>
public partial class SubqueryTests() : LeftRightTables("eddy-subquery-")
{
    private string Tables(string parallelism = "2") => LeftAndRight(parallelism) + "CREATE TABLE o (k INT, v STRING, n INT, PRIMARY KEY (v) NOT ENFORCED) WITH ('connector' = 'print');\n";

    private static string Row(L l) => $"{l.K?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "null"}, {l.V}, {l.N}";

    private static List<string> Expected(Func<L, bool> keep) =>
        LeftRows.Where(keep).Select(Row).Order(StringComparer.Ordinal).ToList();

    private List<string> Where(string condition, string parallelism = "2") =>
        Materialize(SessionTests.Run(Tables(parallelism) + $"INSERT INTO o SELECT k, v, n FROM l WHERE {condition};"));

    private static bool Eq(int? a, int? b) => a is not null && b is not null && a == b;

    /// <summary>SQL's <c>x NOT IN (values)</c> in a WHERE: true only for a non-NULL x matching no value when no value is NULL, or for an empty list.</summary>
    private static bool NotIn(int? x, IReadOnlyCollection<int?> values) =>
        values.Count == 0 || (x is not null && values.All(v => v is not null && v != x));

    [Theory]
    [InlineData("1")]
    [InlineData("2")]
    public void In_keeps_the_rows_whose_value_the_subquery_gives(string parallelism)
    {
        Assert.Equal(Expected(l => RightRows.Any(r => Eq(l.K, r.K))), Where("k IN (SELECT k FROM r)", parallelism));
    }

    [Fact]
    public void A_state_ttl_applies_to_semi_and_anti_joins_and_an_unexpired_state_gives_the_same_rows()
    {
        // Flink's semi/anti join keeps both sides' state under table.exec.state.ttl; within the TTL nothing changes.
        string ttl = "SET 'table.exec.state.ttl' = '1 h';\n";
        Assert.Equal(Expected(l => RightRows.Any(r => Eq(l.K, r.K))),
            Materialize(SessionTests.Run(ttl + Tables() + "INSERT INTO o SELECT k, v, n FROM l WHERE k IN (SELECT k FROM r);")));
        var values = RightRows.Select(r => (int?)r.W).ToList();
        Assert.Equal(Expected(l => NotIn(l.N, values)),
            Materialize(SessionTests.Run(ttl + Tables() + "INSERT INTO o SELECT k, v, n FROM l WHERE n NOT IN (SELECT w FROM r);")));
    }

    [Fact]
    public void In_with_a_filtered_subquery_and_other_terms()
    {
        Assert.Equal(Expected(l => l.N > 1 && RightRows.Any(r => r.W > 5 && Eq(l.K, r.K))),
            Where("n > 1 AND k IN (SELECT k FROM r WHERE w > 5)"));
    }

    [Fact]
    public void Not_in_is_unknown_for_every_row_when_the_subquery_gives_a_null()
    {
        var values = RightRows.Select(r => r.K).ToList();
        var expected = Expected(l => NotIn(l.K, values));
        Assert.Empty(expected);
        Assert.Equal(expected, Where("k NOT IN (SELECT k FROM r)"));
    }

    [Fact]
    public void Not_in_drops_a_null_probe_when_the_subquery_is_not_empty()
    {
        var values = RightRows.Where(r => r.K is not null).Select(r => r.K).ToList();
        Assert.Equal(Expected(l => NotIn(l.K, values)), Where("k NOT IN (SELECT k FROM r WHERE k IS NOT NULL)"));
        Assert.Equal(Expected(l => NotIn(l.K, values)), Where("NOT (k IN (SELECT k FROM r WHERE k IS NOT NULL))"));
    }

    [Fact]
    public void Not_in_an_empty_subquery_keeps_every_row_null_probes_too()
    {
        Assert.Equal(Expected(_ => true), Where("k NOT IN (SELECT k FROM r WHERE w > 1000)"));
    }

    [Fact]
    public void Not_in_of_not_null_values_is_a_keyed_anti_join()
    {
        var values = RightRows.Select(r => (int?)r.W).ToList();
        Assert.Equal(Expected(l => NotIn(l.N, values)), Where("n NOT IN (SELECT w FROM r)"));
    }

    [Fact]
    public void Correlated_exists_with_an_equality_and_a_non_equi_condition()
    {
        Assert.Equal(Expected(l => RightRows.Any(r => Eq(r.K, l.K) && r.W > l.N)),
            Where("EXISTS (SELECT * FROM r WHERE r.k = l.k AND r.w > l.n)"));
    }

    [Fact]
    public void Correlated_not_exists_keeps_rows_without_a_match_null_keys_included()
    {
        Assert.Equal(Expected(l => !RightRows.Any(r => Eq(r.K, l.K) && r.W >= 10)),
            Where("NOT EXISTS (SELECT 1 FROM r WHERE l.k = r.k AND r.w >= 10)"));
    }

    [Fact]
    public void Uncorrelated_exists_depends_on_the_subquery_only()
    {
        Assert.Equal(Expected(_ => true), Where("EXISTS (SELECT 1 FROM r WHERE w = 40)"));
        Assert.Empty(Where("EXISTS (SELECT 1 FROM r WHERE w = 41)"));
        Assert.Empty(Where("NOT EXISTS (SELECT 1 FROM r WHERE w = 40)"));
    }

    [Fact]
    public void Correlated_in_and_correlated_not_in()
    {
        Assert.Equal(Expected(l => RightRows.Any(r => Eq(r.K, l.K) && r.W == l.N)),
            Where("n IN (SELECT w FROM r WHERE r.k = l.k)"));
        Assert.Equal(Expected(l => NotIn(l.N + 8, RightRows.Where(r => Eq(r.K, l.K)).Select(r => (int?)r.W).ToList())),
            Where("n + 8 NOT IN (SELECT w FROM r WHERE r.k = l.k)"));
    }

    [Fact]
    public void An_updating_subquery_retracts_and_re_adds_rows_as_its_rows_come_and_go()
    {
        // Keys with at least two right rows: the count of a key passes from 1 to 2 (-U/+U) while the input is read.
        var twice = RightRows.GroupBy(r => r.K).Where(g => g.Count() >= 2).Select(g => g.Key).ToList();
        Assert.Equal(Expected(l => twice.Any(k => Eq(k, l.K))),
            Where("k IN (SELECT k FROM (SELECT k, COUNT(*) AS c FROM r GROUP BY k) AS g WHERE c >= 2)"));
        Assert.Equal(Expected(l => !twice.Any(k => Eq(k, l.K))),
            Where("NOT EXISTS (SELECT 1 FROM (SELECT k, COUNT(*) AS c FROM r GROUP BY k) AS g WHERE c >= 2 AND g.k = l.k)"));
    }

    [Fact]
    public void An_updating_outer_input_passes_its_changelog_through_the_semi_join()
    {
        var lines = SessionTests.Run(Tables() + """
            CREATE TABLE c (k INT, cnt BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO c SELECT k, cnt FROM (SELECT k, COUNT(*) AS cnt FROM l GROUP BY k) AS g WHERE k IN (SELECT k FROM r);
            """);
        var expected = LeftRows.Where(l => RightRows.Any(r => Eq(r.K, l.K))).GroupBy(l => l.K)
            .Select(g => $"{g.Key}, {g.Count()}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, Materialize(lines));
    }

    [Fact]
    public void Comparison_with_a_scalar_aggregate_subquery()
    {
        // AVG of INT is an INT in Flink (integer division).
        int avg = RightRows.Sum(r => r.W) / RightRows.Length;
        Assert.Equal(Expected(l => l.N * 5 > avg), Where("n * 5 > (SELECT AVG(w) FROM r)"));
        int min = RightRows.Where(r => r.W > 1).Min(r => r.W);
        Assert.Equal(Expected(l => min < l.N), Where("(SELECT MIN(w) FROM r WHERE w > 1) < n"));
        // The subquery reads the outer query's own table (one scan feeding both sides).
        int ownAvg = LeftRows.Sum(l => l.N) / LeftRows.Length;
        Assert.Equal(Expected(l => l.N > ownAvg), Where("n > (SELECT AVG(n) FROM l)"));
        Assert.Equal(Expected(l => LeftRows.Any(o => o.N == l.N + 1)), Where("n + 1 IN (SELECT n FROM l)"));
    }

    [Fact]
    public void Explain_shows_semi_and_anti_joins()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        session.Execute(Tables() + "EXPLAIN SELECT k FROM l WHERE k IN (SELECT k FROM r) AND NOT EXISTS (SELECT 1 FROM r WHERE r.w = l.n);");
        var text = output.ToString();
        Assert.Contains("LeftSemiJoin", text, StringComparison.Ordinal);
        Assert.Contains("LeftAntiJoin", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("k IN (SELECT k FROM r) OR n > 3", "k IN", "only as a whole term of WHERE")]
    [InlineData("n > (SELECT w FROM r)", "(SELECT w", "single-row aggregate")]
    [InlineData("n > (SELECT MAX(w) FROM r WHERE r.k = l.k)", "l.k", "column of the enclosing query")]
    [InlineData("n + (SELECT MAX(w) FROM r) > 3", "(SELECT MAX", "compared directly")]
    [InlineData("k IN (SELECT k, w FROM r)", "SELECT k, w", "exactly one column")]
    [InlineData("k IN (SELECT k FROM r GROUP BY k HAVING COUNT(*) > l.n)", "l.n", "column of the enclosing query")]
    public void Unsupported_subqueries_are_refused_where_written(string condition, string at, string message)
    {
        string script = Tables() + $"INSERT INTO o SELECT k, v, n FROM l WHERE {condition};";
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(script));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        var lines = script.Split('\n');
        int line = Array.FindIndex(lines, x => x.Contains("INSERT INTO o", StringComparison.Ordinal)) + 1;
        int column = lines[line - 1].IndexOf(at, StringComparison.Ordinal) + 1;
        Assert.Contains($"line {line}, column {column}", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_subquery_in_the_select_list_is_refused_where_written()
    {
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + "INSERT INTO o SELECT k, v, (SELECT MAX(w) FROM r) FROM l;"));
        Assert.Contains("only as a whole term of WHERE", e.Message, StringComparison.Ordinal);
        Assert.Contains("column 28", e.Message, StringComparison.Ordinal);
    }
}
