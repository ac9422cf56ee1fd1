using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Window TVFs as relations and window joins end to end: the rows a job prints against the same windows and joins
/// computed here with LINQ over the input rows.
/// </summary>
public class WindowJoinTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-window-join-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private sealed record Ev(int K, int Sec);

    // Keys present on one side only (3 left, 4 right), several rows of a key per window, rows on window edges (10, 20, 30).
    private static readonly Ev[] LeftRows = [new(1, 1), new(1, 9), new(2, 10), new(1, 12), new(3, 15), new(2, 19), new(1, 20), new(2, 27), new(1, 33), new(5, 41)];
    private static readonly Ev[] RightRows = [new(1, 4), new(2, 5), new(1, 11), new(1, 18), new(2, 20), new(4, 22), new(2, 29), new(1, 30), new(5, 45), new(5, 49)];

    private static string T(int sec) => new DateTime(2024, 1, 1).AddSeconds(sec).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Ts(long sec) => T((int)sec) + ".000";

    private string Tables()
    {
        string Write(string name, Ev[] rows)
        {
            string path = Path.Combine(dir, name + ".jsonl");
            File.WriteAllLines(path, rows.Select(x => $$"""{"k":{{x.K}},"t":"{{T(x.Sec)}}"}"""));
            return path;
        }
        // A watermark an hour behind: no row is late, so every window holds all of its rows.
        string Table(string name, Ev[] rows) => $"""
            CREATE TABLE {name} (k INT, t STRING, ts AS TO_TIMESTAMP(t), WATERMARK FOR ts AS ts - INTERVAL '1' HOUR)
            WITH ('connector' = 'filesystem', 'path' = '{Write(name, rows)}', 'format' = 'json');

            """;
        return "SET 'parallelism.default' = '2';\n" + Table("a", LeftRows) + Table("b", RightRows);
    }

    /// <summary>The windows (start, end) in seconds a row at <paramref name="sec"/> belongs to, computed from the TVF's definition.</summary>
    private static IEnumerable<(long Start, long End)> Windows(string tvf, int sec) => tvf switch
    {
        "TUMBLE" => [(sec / 10 * 10, sec / 10 * 10 + 10)],
        // HOP: slide 5 s, size 15 s: every start that is a multiple of 5 in (sec - 15, sec].
        "HOP" => Enumerable.Range(-3, 100).Select(i => i * 5L).Where(s => s <= sec && sec < s + 15).Select(s => (s, s + 15)),
        // CUMULATE: step 5 s, max 20 s: the windows [s, s + 5k) of sec's 20 s window that contain sec.
        _ => Enumerable.Range(1, 4).Select(k => (Start: sec / 20 * 20L, End: sec / 20 * 20L + 5 * k)).Where(w => sec < w.End),
    };

    private static string Call(string tvf, string table) => tvf switch
    {
        "TUMBLE" => $"TUMBLE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '10' SECOND)",
        "HOP" => $"HOP(TABLE {table}, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)",
        _ => $"CUMULATE(TABLE {table}, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '20' SECOND)",
    };

    private static List<string> Rows(IEnumerable<string> lines) => lines.Select(l =>
    {
        string row = l.Split("> ")[^1];
        Assert.StartsWith("+I[", row, StringComparison.Ordinal);
        return row[3..^1];
    }).Order(StringComparer.Ordinal).ToList();

    private static List<string> Sorted(IEnumerable<string> rows) => rows.Order(StringComparer.Ordinal).ToList();

    [Theory]
    [InlineData("TUMBLE")]
    [InlineData("HOP")]
    [InlineData("CUMULATE")]
    public void Window_tvf_selected_directly_gives_each_row_once_per_window(string tvf)
    {
        var lines = SessionTests.Run(Tables() + $"""
            CREATE TABLE o (k INT, t STRING, ws STRING, we STRING, wt STRING) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, t, CAST(window_start AS STRING), CAST(window_end AS STRING), CAST(window_time AS STRING)
            FROM TABLE({Call(tvf, "a")}) WHERE k <> 5;
            """);
        var expected = LeftRows.Where(e => e.K != 5).SelectMany(e => Windows(tvf, e.Sec).Select(w =>
            $"{e.K}, {T(e.Sec)}, {Ts(w.Start)}, {Ts(w.End)}, {T((int)w.End - 1)}.999"));
        Assert.Equal(Sorted(expected), Rows(lines));
    }

    [Theory]
    [InlineData("INNER", "TUMBLE")]
    [InlineData("LEFT", "TUMBLE")]
    [InlineData("RIGHT", "TUMBLE")]
    [InlineData("FULL", "TUMBLE")]
    [InlineData("INNER", "HOP")]
    [InlineData("FULL", "HOP")]
    [InlineData("LEFT", "CUMULATE")]
    [InlineData("RIGHT", "CUMULATE")]
    public void Window_join_matches_the_join_per_window(string type, string tvf)
    {
        var lines = SessionTests.Run(Tables() + $"""
            CREATE TABLE o (ak INT, at STRING, bk INT, bt STRING, ws STRING, we STRING) WITH ('connector' = 'print');
            INSERT INTO o
            SELECT L.k, L.t, R.k, R.t, CAST(COALESCE(L.window_start, R.window_start) AS STRING), CAST(COALESCE(L.window_end, R.window_end) AS STRING)
            FROM (SELECT * FROM TABLE({Call(tvf, "a")})) L
            {type} JOIN (SELECT * FROM TABLE({Call(tvf, "b")})) R
            ON L.k = R.k AND L.window_start = R.window_start AND L.window_end = R.window_end AND L.ts <> R.ts + INTERVAL '1' SECOND;
            """);
        var left = LeftRows.SelectMany(e => Windows(tvf, e.Sec).Select(w => (e, w))).ToList();
        var right = RightRows.SelectMany(e => Windows(tvf, e.Sec).Select(w => (e, w))).ToList();
        bool On((Ev e, (long, long) w) l, (Ev e, (long, long) w) r) => l.e.K == r.e.K && l.w == r.w && l.e.Sec != r.e.Sec + 1;
        var expected = new List<string>();
        foreach (var l in left)
        {
            var m = right.Where(r => On(l, r)).ToList();
            expected.AddRange(m.Select(r => $"{l.e.K}, {T(l.e.Sec)}, {r.e.K}, {T(r.e.Sec)}, {Ts(l.w.Item1)}, {Ts(l.w.Item2)}"));
            if (m.Count == 0 && type is "LEFT" or "FULL") expected.Add($"{l.e.K}, {T(l.e.Sec)}, null, null, {Ts(l.w.Item1)}, {Ts(l.w.Item2)}");
        }
        if (type is "RIGHT" or "FULL")
        {
            expected.AddRange(right.Where(r => !left.Any(l => On(l, r)))
                .Select(r => $"null, null, {r.e.K}, {T(r.e.Sec)}, {Ts(r.w.Item1)}, {Ts(r.w.Item2)}"));
        }
        Assert.Equal(Sorted(expected), Rows(lines));
    }

    [Fact]
    public void Window_join_of_tvfs_written_directly_in_from_and_explain()
    {
        string query = """
            SELECT L.k, R.t FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '10' SECOND)) AS L
            JOIN TABLE(TUMBLE(TABLE b, DESCRIPTOR(ts), INTERVAL '10' SECOND)) AS R
            ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.k = R.k
            """;
        var plan = SessionTests.Run(Tables() + "EXPLAIN " + query + ";");
        Assert.Contains(plan, l => l.Contains("WindowJoin(joinType=[InnerJoin], window=[TUMBLE(size=[10000 ms])]", StringComparison.Ordinal)
            && l.Contains("changelogMode=[I]", StringComparison.Ordinal));
        Assert.Contains(plan, l => l.Contains("WindowTableFunction(window=[TUMBLE(size=[10000 ms])], time=[ts]", StringComparison.Ordinal));
        var lines = SessionTests.Run(Tables() + "CREATE TABLE o (k INT, t STRING) WITH ('connector' = 'print');\nINSERT INTO o " + query + ";");
        var expected = from l in LeftRows from r in RightRows where l.K == r.K && l.Sec / 10 == r.Sec / 10 select $"{l.K}, {T(r.Sec)}";
        Assert.Equal(Sorted(expected), Rows(lines));
    }

    [Fact]
    public void Window_join_of_window_aggregations_joins_their_rows_per_window()
    {
        var lines = SessionTests.Run(Tables() + """
            CREATE TABLE o (k INT, ws STRING, na BIGINT, nb BIGINT) WITH ('connector' = 'print');
            INSERT INTO o SELECT A.k, CAST(A.window_start AS STRING), A.n, B.n FROM
              (SELECT k, window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY k, window_start, window_end) A
              LEFT JOIN
              (SELECT k, window_start, window_end, COUNT(*) AS n FROM TABLE(TUMBLE(TABLE b, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY k, window_start, window_end) B
              ON A.k = B.k AND A.window_start = B.window_start AND A.window_end = B.window_end;
            """);
        var a = LeftRows.GroupBy(e => (e.K, W: e.Sec / 10 * 10)).ToList();
        var b = RightRows.GroupBy(e => (e.K, W: e.Sec / 10 * 10)).ToDictionary(g => g.Key, g => g.Count());
        var expected = a.Select(g => $"{g.Key.K}, {Ts(g.Key.W)}, {g.Count()}, {(b.TryGetValue(g.Key, out int n) ? n.ToString(CultureInfo.InvariantCulture) : "null")}");
        Assert.Equal(Sorted(expected), Rows(lines));
    }

    [Fact]
    public void Window_top_n_directly_on_a_window_tvf_keeps_the_top_rows_of_each_window()
    {
        var lines = SessionTests.Run(Tables() + """
            CREATE TABLE o (ws STRING, k INT, t STRING, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO o SELECT CAST(window_start AS STRING), k, t, rn FROM (
              SELECT *, ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY k DESC, t ASC) AS rn
              FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '10' SECOND))
            ) WHERE rn <= 2;
            """);
        var expected = LeftRows.GroupBy(e => e.Sec / 10 * 10).SelectMany(g => g.OrderByDescending(e => e.K).ThenBy(e => e.Sec).Take(2)
            .Select((e, i) => $"{Ts(g.Key)}, {e.K}, {T(e.Sec)}, {i + 1}"));
        Assert.Equal(Sorted(expected), Rows(lines));
    }

    [Theory]
    [InlineData("EXISTS (SELECT 1 FROM {R} WHERE R.k = L.k AND {W})", false)]
    [InlineData("NOT EXISTS (SELECT 1 FROM {R} WHERE R.k = L.k AND {W})", true)]
    [InlineData("L.k IN (SELECT R.k FROM {R} WHERE {W})", false)]
    [InlineData("L.k NOT IN (SELECT R.k FROM {R} WHERE {W})", true)]
    public void Subqueries_correlated_on_the_window_are_window_semi_and_anti_joins(string term, bool anti)
    {
        string where = term.Replace("{R}", "(SELECT * FROM TABLE(TUMBLE(TABLE b, DESCRIPTOR(ts), INTERVAL '10' SECOND))) R", StringComparison.Ordinal)
            .Replace("{W}", "L.window_start = R.window_start AND L.window_end = R.window_end", StringComparison.Ordinal);
        string query = $"SELECT L.k, L.t FROM (SELECT * FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '10' SECOND))) L WHERE {where}";
        var plan = SessionTests.Run(Tables() + "EXPLAIN " + query + ";");
        Assert.Contains(plan, l => l.Contains($"WindowJoin(joinType=[{(anti ? "LeftAntiJoin" : "LeftSemiJoin")}], window=[TUMBLE(size=[10000 ms])]", StringComparison.Ordinal));
        var lines = SessionTests.Run(Tables() + "CREATE TABLE o (k INT, t STRING) WITH ('connector' = 'print');\nINSERT INTO o " + query + ";");
        // k is never NULL here, so NOT IN is NOT EXISTS.
        var expected = LeftRows.Where(l => RightRows.Any(r => r.K == l.K && r.Sec / 10 == l.Sec / 10) != anti).Select(l => $"{l.K}, {T(l.Sec)}");
        Assert.Equal(Sorted(expected), Rows(lines));
    }

    [Theory]
    [InlineData("L.window_start = R.window_start AND L.k = R.k", "both window_start and window_end")]
    [InlineData("L.window_end = R.window_end AND L.k = R.k", "both window_start and window_end")]
    public void Window_join_without_both_window_equalities_is_refused_with_its_place(string on, string message)
    {
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + $"""
            CREATE TABLE o (k INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT L.k FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '10' SECOND)) AS L
            JOIN TABLE(TUMBLE(TABLE b, DESCRIPTOR(ts), INTERVAL '10' SECOND)) AS R ON {on};
            """));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Contains("line ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("TUMBLE(TABLE b, DESCRIPTOR(ts), INTERVAL '20' SECOND)")]
    [InlineData("HOP(TABLE b, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)")]
    [InlineData("CUMULATE(TABLE b, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)")]
    public void Window_join_of_different_windows_is_refused_with_its_place(string right)
    {
        var e = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + $"""
            CREATE TABLE o (k INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT L.k FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '10' SECOND)) AS L
            JOIN TABLE({right}) AS R ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.k = R.k;
            """));
        Assert.Contains("same windows on both sides", e.Message, StringComparison.Ordinal);
        Assert.Contains("line ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Window_forms_eddy_does_not_run_are_refused_with_their_place()
    {
        var session = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + """
            SELECT * FROM TABLE(SESSION(TABLE a PARTITION BY k, DESCRIPTOR(ts), INTERVAL '5' SECOND));
            """));
        Assert.Contains("SESSION window table function", session.Message, StringComparison.Ordinal);
        // No time attribute survives a window join: a window on its output names a plain column.
        var window = Assert.Throws<SqlParseException>(() => SessionTests.Run(Tables() + """
            SELECT window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE (
              SELECT L.k, L.window_time AS wt FROM TABLE(TUMBLE(TABLE a, DESCRIPTOR(ts), INTERVAL '10' SECOND)) AS L
              JOIN TABLE(TUMBLE(TABLE b, DESCRIPTOR(ts), INTERVAL '10' SECOND)) AS R
              ON L.window_start = R.window_start AND L.window_end = R.window_end AND L.k = R.k
            ), DESCRIPTOR(wt), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end;
            """));
        Assert.Contains("not an event-time attribute", window.Message, StringComparison.Ordinal);
    }
}
