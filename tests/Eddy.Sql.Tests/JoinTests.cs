using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// SQL regular and interval joins end to end: the changelog a job prints, applied to a multiset (+I/+U add a row,
/// -U/-D remove one), must equal the batch join of the same rows computed here with LINQ.
/// </summary>
public partial class JoinTests() : LeftRightTables("eddy-join-")
{
    private string Tables(string parallelism = "2") => LeftAndRight(parallelism);

    private static string Show(object? v) => v?.ToString() ?? "null";

    private static List<string> Sorted(IEnumerable<string> rows)
    {
        var list = rows.ToList();
        list.Sort(StringComparer.Ordinal);
        return list;
    }

    /// <summary>The batch join of the rows above: NULL never equals NULL; <paramref name="on"/> is the residual.</summary>
    private static List<string> Expected(string type, Func<L, R, bool> on)
    {
        bool Match(L l, R r) => l.K is { } a && r.K is { } b && a == b && on(l, r);
        string Row(L? l, R? r) => $"{Show(l?.K)}, {Show(l?.V)}, {Show(l?.N)}, {Show(r?.K)}, {Show(r?.W)}";
        var rows = new List<string>();
        foreach (var l in LeftRows)
        {
            var matches = RightRows.Where(r => Match(l, r)).ToList();
            rows.AddRange(matches.Select(r => Row(l, r)));
            if (matches.Count == 0 && type is "LEFT" or "FULL") rows.Add(Row(l, null));
        }
        if (type is "RIGHT" or "FULL")
            rows.AddRange(RightRows.Where(r => !LeftRows.Any(l => Match(l, r))).Select(r => Row(null, r)));
        return Sorted(rows);
    }

    private List<string> RunJoin(string type, string residual, string parallelism = "2") => SessionTests.Run(Tables(parallelism) + $"""
        CREATE TABLE o (lk INT, v STRING, n INT, rk INT, w INT, PRIMARY KEY (lk) NOT ENFORCED) WITH ('connector' = 'print');
        INSERT INTO o SELECT l.k, l.v, l.n, r.k, r.w FROM l {type} JOIN r ON l.k = r.k{residual};
        """);

    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    [InlineData("RIGHT")]
    [InlineData("FULL")]
    public void Equi_join_materializes_to_the_batch_join(string type)
    {
        Assert.Equal(Expected(type, (_, _) => true), Materialize(RunJoin(type, "")));
    }

    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    [InlineData("RIGHT")]
    [InlineData("FULL")]
    public void Residual_condition_is_part_of_the_match(string type)
    {
        Assert.Equal(Expected(type, (l, r) => l.N < r.W), Materialize(RunJoin(type, " AND l.n < r.w")));
    }

    [Fact]
    public void Outer_join_retracts_padded_rows_in_one_subtask()
    {
        var lines = RunJoin("LEFT", "", parallelism: "1");
        Assert.Equal(Expected("LEFT", (_, _) => true), Materialize(lines));
    }

    [Fact]
    public void Comma_join_with_where_equality_is_an_inner_join()
    {
        var lines = SessionTests.Run(Tables() + """
            CREATE TABLE o (lk INT, v STRING, n INT, rk INT, w INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT l.k, l.v, l.n, r.k, r.w FROM l, r WHERE l.k = r.k AND r.w > 5;
            """);
        Assert.All(lines, line => Assert.StartsWith("+I", line.Split("> ")[^1], StringComparison.Ordinal));
        Assert.Equal(Expected("INNER", (_, r) => r.W > 5), Materialize(lines));
    }

    /// <summary>A non-windowed GROUP BY (an updating result: +I, -U/+U per key, NULL keys grouped) as the left input.</summary>
    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    [InlineData("RIGHT")]
    [InlineData("FULL")]
    public void Updating_input_feeds_the_join_as_a_changelog(string type)
    {
        var lines = SessionTests.Run(Tables() + $"""
            CREATE TABLE o (k INT, cnt BIGINT, rk INT, w INT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO o SELECT c.k, c.cnt, r.k, r.w FROM (SELECT k, COUNT(*) AS cnt FROM l GROUP BY k) AS c {type} JOIN r ON c.k = r.k;
            """);
        var counts = LeftRows.GroupBy(l => l.K).Select(g => (K: g.Key, Count: g.Count())).ToList();
        bool Match(int? a, int? b) => a is not null && a == b;
        var expected = new List<string>();
        foreach (var c in counts)
        {
            var m = RightRows.Where(r => Match(c.K, r.K)).ToList();
            expected.AddRange(m.Select(r => $"{Show(c.K)}, {c.Count}, {Show(r.K)}, {r.W}"));
            if (m.Count == 0 && type is "LEFT" or "FULL") expected.Add($"{Show(c.K)}, {c.Count}, null, null");
        }
        if (type is "RIGHT" or "FULL")
            expected.AddRange(RightRows.Where(r => !counts.Any(c => Match(c.K, r.K))).Select(r => $"null, null, {Show(r.K)}, {r.W}"));
        Assert.Equal(Sorted(expected), Materialize(lines));
    }

    [Fact]
    public void Append_only_sink_after_an_outer_join_is_refused()
    {
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + $$"""
            CREATE TABLE o (lk INT, w INT) WITH ('connector' = 'filesystem', 'path' = '{{Path.Combine(Folder, "out")}}', 'format' = 'csv');
            INSERT INTO o SELECT l.k, r.w FROM l LEFT JOIN r ON l.k = r.k;
            """));
        Assert.Contains("append-only", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 5, column 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("LEFT OUTER JOIN", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Inner_join_of_append_only_inputs_is_append_only()
    {
        var lines = SessionTests.Run(Tables() + """
            CREATE TABLE o (lk INT, w INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT l.k, r.w FROM l JOIN r ON l.k = r.k;
            """);
        Assert.NotEmpty(lines);
    }

    [Fact]
    public void Join_without_equality_is_refused_with_its_place()
    {
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + """
            CREATE TABLE o (lk INT, w INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT l.k, r.w FROM l JOIN r ON l.n < r.w;
            """));
        Assert.Contains("equality", e.Message, StringComparison.Ordinal);
        Assert.Contains(":", e.Message, StringComparison.Ordinal);
        var cross = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + """
            CREATE TABLE o (lk INT, w INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT l.k, r.w FROM l, r;
            """));
        Assert.Contains("equality", cross.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Explain_shows_the_join_and_its_changelog()
    {
        var lines = SessionTests.Run(Tables() + "EXPLAIN SELECT l.k, r.w FROM l LEFT JOIN r ON l.k = r.k AND l.n < r.w;");
        Assert.Contains(lines, l => l.Contains("Join(joinType=[LeftOuterJoin], keys=[k=k], where=[", StringComparison.Ordinal)
            && l.Contains("changelogMode=[I,UB,UA,D]", StringComparison.Ordinal));
    }

    private sealed record Ev(int K, int Sec);

    private static readonly Ev[] EvLeft = [new(1, 10), new(1, 30), new(2, 40), new(3, 50), new(5, 58), new(1, 70), new(2, 90)];
    private static readonly Ev[] EvRight = [new(1, 5), new(1, 12), new(2, 44), new(2, 60), new(5, 61), new(4, 70), new(1, 75), new(2, 88)];

    private static string T(Ev e) => $"2024-01-01 00:{e.Sec / 60:00}:{e.Sec % 60:00}";

    // a.ts BETWEEN b.ts - 5 s AND b.ts + 3 s
    private static bool IntervalMatch(Ev a, Ev b) => a.K == b.K && a.Sec >= b.Sec - 5 && a.Sec <= b.Sec + 3;

    private string EventTables()
    {
        string Write(string name, Ev[] rows)
        {
            string path = Path.Combine(Folder, name + ".jsonl");
            File.WriteAllLines(path, rows.Select(x => $$"""{"k":{{x.K}},"t":"{{T(x)}}"}"""));
            return path;
        }
        // A watermark an hour behind: no row is late, so the streaming result is the batch result.
        string Table(string name, Ev[] rows) => $"""
            CREATE TABLE {name} (k INT, t STRING, ts AS TO_TIMESTAMP(t), WATERMARK FOR ts AS ts - INTERVAL '1' HOUR)
            WITH ('connector' = 'filesystem', 'path' = '{Write(name, rows)}', 'format' = 'json');

            """;
        return "SET 'parallelism.default' = '2';\n" + Table("a", EvLeft) + Table("b", EvRight);
    }

    [Theory]
    [InlineData("INNER")]
    [InlineData("LEFT")]
    [InlineData("RIGHT")]
    [InlineData("FULL")]
    public void Interval_join_in_event_time_matches_the_batch_join(string type)
    {
        var lines = SessionTests.Run(EventTables() + $"""
            CREATE TABLE o (ak INT, at STRING, bk INT, bt STRING) WITH ('connector' = 'print');
            INSERT INTO o SELECT a.k, a.t, b.k, b.t FROM a {type} JOIN b
              ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '5' SECOND AND b.ts + INTERVAL '3' SECOND;
            """);
        Assert.All(lines, line => Assert.StartsWith("+I", line.Split("> ")[^1], StringComparison.Ordinal));
        var expected = new List<string>();
        foreach (var a in EvLeft)
        {
            var m = EvRight.Where(b => IntervalMatch(a, b)).ToList();
            expected.AddRange(m.Select(b => $"{a.K}, {T(a)}, {b.K}, {T(b)}"));
            if (m.Count == 0 && type is "LEFT" or "FULL") expected.Add($"{a.K}, {T(a)}, null, null");
        }
        if (type is "RIGHT" or "FULL") expected.AddRange(EvRight.Where(b => !EvLeft.Any(a => IntervalMatch(a, b))).Select(b => $"null, null, {b.K}, {T(b)}"));
        Assert.Equal(Sorted(expected), Materialize(lines));
    }

    /// <summary>The pair (58 s, 61 s) counts in [30, 60) by the left time, not in [60, 90) by the joined row's later time.</summary>
    [Fact]
    public void Window_over_an_interval_join_uses_the_kept_rowtime()
    {
        var lines = SessionTests.Run(EventTables() + """
            CREATE TABLE o (w STRING, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO o SELECT CAST(window_start AS STRING), COUNT(*) FROM TABLE(TUMBLE(TABLE (
                SELECT a.k, a.ts, b.ts AS bts FROM a JOIN b ON a.k = b.k AND a.ts BETWEEN b.ts - INTERVAL '5' SECOND AND b.ts + INTERVAL '3' SECOND
              ), DESCRIPTOR(ts), INTERVAL '30' SECOND))
            GROUP BY window_start, window_end;
            """);
        var expected = EvLeft.SelectMany(a => EvRight.Where(b => IntervalMatch(a, b)).Select(_ => a.Sec / 30 * 30))
            .GroupBy(s => s).Select(g => $"+I[{T(new Ev(0, g.Key))}.000, {g.Count()}]");
        Assert.Equal(Sorted(expected), Sorted(lines.Select(l => l.Split("> ")[^1])));
    }

    [Fact]
    public void Interval_join_with_strict_bounds_and_explain()
    {
        var lines = SessionTests.Run("""
            CREATE TABLE a (k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            CREATE TABLE b (k INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            EXPLAIN SELECT a.k FROM a, b WHERE a.k = b.k AND a.ts > b.ts - INTERVAL '10' SECOND AND b.ts + INTERVAL '2' SECOND > a.ts;
            """);
        Assert.Contains(lines, l => l.Contains("IntervalJoin(joinType=[InnerJoin], windowBounds=[rowtime, leftTime=ts, rightTime=ts0, leftLowerBound=-9999, leftUpperBound=1999]", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("INSERT INTO o SELECT k, COUNT(DISTINCT n) FROM l GROUP BY k;", "DISTINCT aggregate", "SELECT k, COUNT")]
    public void State_ttl_on_an_operator_that_cannot_expire_its_state_is_refused_where_it_is_written(string insert, string what, string at)
    {
        // Flink would drop the idle keys' state after the TTL and answer differently; Eddy keeps it, so it refuses.
        string script = Tables() + "SET 'table.exec.state.ttl' = '1 h';\nCREATE TABLE o (k INT, c BIGINT) WITH ('connector' = 'print');\n" + insert;
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(script));
        Assert.Contains("'table.exec.state.ttl'", e.Message, StringComparison.Ordinal);
        Assert.Contains(what, e.Message, StringComparison.Ordinal);
        string line = script.Split('\n')[e.Line - 1];
        Assert.Contains(at, line[(e.Column - 1)..], StringComparison.Ordinal);
    }

    [Fact]
    public void State_ttl_option_and_hint_set_each_sides_ttl()
    {
        var lines = SessionTests.Run(Tables() + """
            SET 'table.exec.state.ttl' = '2 h';
            EXPLAIN SELECT /*+ STATE_TTL('x' = '1 min') */ x.k, r.w FROM l AS x JOIN r ON x.k = r.k;
            """);
        Assert.Contains(lines, l => l.Contains("stateTtl=[left=60000 ms, right=7200000 ms]", StringComparison.Ordinal));
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + """
            EXPLAIN SELECT /*+ STATE_TTL('nope' = '1 min') */ l.k, r.w FROM l JOIN r ON l.k = r.k;
            """));
        Assert.Contains("'nope'", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 4, column 30", e.Message, StringComparison.Ordinal);
    }

    private const string TimeTables = """
        CREATE TABLE a (k INT, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
        CREATE TABLE b (k INT, ts TIMESTAMP(3), pt AS PROCTIME(), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen', 'number-of-rows' = '1');

        """;

    [Fact]
    public void Processing_time_bounds_make_a_proctime_interval_join()
    {
        var lines = SessionTests.Run(TimeTables + """
            EXPLAIN SELECT a.k FROM a JOIN b ON a.k = b.k AND a.pt BETWEEN b.pt - INTERVAL '1' MINUTE AND b.pt;
            """);
        Assert.Contains(lines, l => l.Contains("IntervalJoin(joinType=[InnerJoin], windowBounds=[proctime, leftTime=pt, rightTime=pt0, leftLowerBound=-60000, leftUpperBound=0]", StringComparison.Ordinal));
    }

    [Fact]
    public void Interval_bounds_mixing_event_and_processing_time_are_refused()
    {
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(TimeTables + """
            EXPLAIN SELECT a.k FROM a JOIN b ON a.k = b.k AND a.ts BETWEEN b.pt - INTERVAL '1' MINUTE AND b.pt;
            """));
        Assert.Contains("same kind", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void One_bound_only_is_a_regular_join_with_a_residual()
    {
        var lines = SessionTests.Run(TimeTables + """
            EXPLAIN SELECT a.k FROM a JOIN b ON a.k = b.k AND a.ts >= b.ts;
            """);
        Assert.Contains(lines, l => l.Contains("Join(joinType=[InnerJoin], keys=[k=k], where=[", StringComparison.Ordinal) && !l.Contains("IntervalJoin", StringComparison.Ordinal));
    }

    [Fact]
    public void Three_tables_in_a_comma_list_join_left_deep()
    {
        var lines = SessionTests.Run(Tables() + """
            CREATE TABLE o (lk INT, w INT, w2 INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT l.k, r.w, r2.w FROM l, r, r AS r2 WHERE l.k = r.k AND r2.k = l.k AND r2.w > r.w;
            """);
        var expected = from l in LeftRows
                       from r in RightRows
                       from r2 in RightRows
                       where l.K is not null && l.K == r.K && r2.K == l.K && r2.W > r.W
                       select $"{l.K}, {r.W}, {r2.W}";
        Assert.Equal(Sorted(expected), Materialize(lines));
    }

    /// <summary>WHERE over a LEFT join: its left-only conjunct runs below the join, the other stays above (NULL-padded rows see it).</summary>
    [Fact]
    public void Where_over_a_left_join_filters_as_after_the_join()
    {
        var lines = SessionTests.Run(Tables() + """
            CREATE TABLE o (lk INT, v STRING, n INT, rk INT, w INT, PRIMARY KEY (lk) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO o SELECT l.k, l.v, l.n, r.k, r.w FROM l LEFT JOIN r ON l.k = r.k WHERE l.n > 2 AND (r.w IS NULL OR r.w > 2);
            """);
        var expected = Expected("LEFT", (_, _) => true).Where(row =>
        {
            var f = row.Split(", ");
            return int.Parse(f[2], System.Globalization.CultureInfo.InvariantCulture) > 2
                && (f[4] == "null" || int.Parse(f[4], System.Globalization.CultureInfo.InvariantCulture) > 2);
        });
        Assert.Equal(Sorted(expected), Materialize(lines));
    }

    [Fact]
    public void Batch_mode_runs_inner_joins_and_refuses_outer_ones()
    {
        var lines = SessionTests.Run(Tables() + """
            SET 'execution.runtime-mode' = 'batch';
            CREATE TABLE o (lk INT, v STRING, n INT, rk INT, w INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT l.k, l.v, l.n, r.k, r.w FROM l JOIN r ON l.k = r.k;
            """);
        Assert.Equal(Expected("INNER", (_, _) => true), Materialize(lines));
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + """
            SET 'execution.runtime-mode' = 'batch';
            CREATE TABLE o (lk INT, w INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT l.k, r.w FROM l LEFT JOIN r ON l.k = r.k;
            """));
        Assert.Contains("batch mode", e.Message, StringComparison.Ordinal);
    }
}
