using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Late rows in SQL window aggregations: 'table.exec.emit.allow-lateness' re-fires a window as -U/+U, a late-data
/// table receives the rows later than that, batch mode counts every row. The rows come one per read (see
/// <see cref="OneRowPerReadConnector"/>), so which of them are late follows from their order alone.
/// </summary>
public class LatenessTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-late-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>
    /// 10-second windows, watermark = max - 1 s. Row 3 (12 s) closes [0, 10) with 2 rows; row 4 (3 s) is late for it
    /// but within a 10 s lateness (state kept until 19.999 s); row 5 (25 s) closes [10, 20) and ends [0, 10)'s
    /// lateness; row 6 (4 s) is then too late; row 7 (15 s) is late for [10, 20) but within its lateness.
    /// </summary>
    private string Events()
    {
        string path = Path.Combine(dir, "events.jsonl");
        File.WriteAllLines(path, new[] { "00:00:01", "00:00:05", "00:00:12", "00:00:03", "00:00:25", "00:00:04", "00:00:15" }
            .Select((t, i) => $$"""{"host":"a","n":{{i + 1}},"event_time":"2024-01-01 {{t}}"}"""));
        return $"""
            CREATE TABLE events (
              host STRING, n INT, event_time STRING,
              ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd HH:mm:ss'),
              WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
            ) WITH ('connector' = 'one-row-per-read', 'path' = '{path}');

            """;
    }

    private const string TumbleTvf = """
        SELECT window_start, host, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
        GROUP BY window_start, window_end, host
        """;

    private const string TumbleGroupWindow = """
        SELECT TUMBLE_START(ts, INTERVAL '10' SECOND), host, COUNT(*) FROM events
        GROUP BY TUMBLE(ts, INTERVAL '10' SECOND), host
        """;

    private static List<string> Run(string sql) => SessionTests.Run(sql);

    [Fact]
    public void Without_lateness_late_rows_are_dropped()
    {
        var lines = Run(Events() + "CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print');\n"
            + "INSERT INTO hits " + TumbleTvf + ";");
        Assert.Equal(["+I[2024-01-01 00:00:00.000, a, 2]", "+I[2024-01-01 00:00:10.000, a, 1]", "+I[2024-01-01 00:00:20.000, a, 1]"], lines);
    }

    [Theory]
    [InlineData(TumbleTvf)]
    [InlineData(TumbleGroupWindow)]
    public void A_late_row_within_the_lateness_refires_its_window_as_an_update(string query)
    {
        var lines = Run(Events() + """
            SET 'table.exec.emit.allow-lateness' = '10 s';
            CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO hits
            """ + "\n" + query + ";");
        Assert.Equal([
            "+I[2024-01-01 00:00:00.000, a, 2]",
            "-U[2024-01-01 00:00:00.000, a, 2]", "+U[2024-01-01 00:00:00.000, a, 3]",
            "+I[2024-01-01 00:00:10.000, a, 1]",
            "-U[2024-01-01 00:00:10.000, a, 1]", "+U[2024-01-01 00:00:10.000, a, 2]",
            "+I[2024-01-01 00:00:20.000, a, 1]",
        ], lines);
    }

    [Fact]
    public void A_late_row_within_the_lateness_extends_its_session()
    {
        // Sessions with a 5 s gap: 1 s and 5 s form [1, 10), closed by 12 s (watermark 11 s); 3 s arrives late, within
        // the lateness, and joins it; 4 s arrives after 25 s closed [12, 17) and the lateness of [1, 10) (ends 19.999 s).
        var lines = Run(Events() + """
            SET 'table.exec.emit.allow-lateness' = '10 s';
            CREATE TABLE s (ws TIMESTAMP(3), we TIMESTAMP(3), n BIGINT) WITH ('connector' = 'print');
            INSERT INTO s SELECT window_start, window_end, COUNT(*)
            FROM TABLE(SESSION(TABLE events PARTITION BY host, DESCRIPTOR(ts), INTERVAL '5' SECOND))
            GROUP BY window_start, window_end, host;
            """);
        Assert.Equal([
            "+I[2024-01-01 00:00:01.000, 2024-01-01 00:00:10.000, 2]",
            "-U[2024-01-01 00:00:01.000, 2024-01-01 00:00:10.000, 2]", "+U[2024-01-01 00:00:01.000, 2024-01-01 00:00:10.000, 3]",
            "+I[2024-01-01 00:00:12.000, 2024-01-01 00:00:17.000, 1]",
            "-U[2024-01-01 00:00:12.000, 2024-01-01 00:00:17.000, 1]", "+U[2024-01-01 00:00:12.000, 2024-01-01 00:00:20.000, 2]",
            "+I[2024-01-01 00:00:25.000, 2024-01-01 00:00:30.000, 1]",
        ], lines);
    }

    [Fact]
    public void Flinks_late_fire_options_with_a_delay_of_zero_are_the_same_and_false_turns_lateness_off()
    {
        var sink = "CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print');\nINSERT INTO hits " + TumbleGroupWindow + ";";
        var flink = Run(Events() + """
            SET 'table.exec.emit.allow-lateness' = '10 s';
            SET 'table.exec.emit.late-fire.enabled' = 'true';
            SET 'table.exec.emit.late-fire.delay' = '0 s';
            """ + sink);
        Assert.Equal(7, flink.Count);
        Assert.Contains("+U[2024-01-01 00:00:00.000, a, 3]", flink);
        var off = Run(Events() + """
            SET 'table.exec.emit.allow-lateness' = '10 s';
            SET 'table.exec.emit.late-fire.enabled' = 'false';
            """ + sink);
        Assert.Equal(3, off.Count);
        Assert.All(off, l => Assert.StartsWith("+I", l));
    }

    [Theory]
    [InlineData("SET 'table.exec.emit.late-fire.delay' = '1 min';", "delayed late firing is not supported")]
    [InlineData("SET 'table.exec.emit.early-fire.enabled' = 'true';", "early firing")]
    [InlineData("SET 'table.exec.emit.allow-lateness' = 'soon';", "takes a duration")]
    public void Unsupported_emit_options_are_refused_where_they_are_set(string set, string reason)
    {
        var e = Assert.Throws<SqlParseException>(() => Run("CREATE TABLE t (a INT) WITH ('connector' = 'print');\n" + set));
        Assert.Contains("line 2", e.Message);
        Assert.Contains(reason, e.Message);
    }

    [Fact]
    public void An_append_only_sink_refuses_a_late_firing_window_with_the_fix()
    {
        var e = Assert.Throws<SqlParseException>(() => Run(Events() + $"""
            SET 'table.exec.emit.allow-lateness' = '1 min';
            CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'filesystem', 'path' = '{dir}/out', 'format' = 'json');
            INSERT INTO hits {TumbleTvf};
            """));
        Assert.Contains("line 8", e.Message);
        Assert.Contains("append-only", e.Message);
        Assert.Contains("'table.exec.emit.allow-lateness' = '60000 ms'", e.Message);
        Assert.Contains("PRIMARY KEY", e.Message);
    }

    [Fact]
    public void An_upsert_sink_takes_a_late_firing_window()
    {
        // A primary key makes the sink an upsert sink: planning accepts the updating window result. Whether Flink puts a
        // SinkUpsertMaterializer before it depends on upsert keys of a late-firing window aggregation, which Eddy does
        // not derive (it refuses under AUTO): the test names NONE, the changes written as they are.
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var jobs = session.Execute(Events() + $"""
            SET 'table.exec.emit.allow-lateness' = '1 min';
            SET 'table.exec.sink.upsert-materialize' = 'NONE';
            CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT, PRIMARY KEY (w, host) NOT ENFORCED)
            WITH ('connector' = 'blackhole');
            INSERT INTO hits {TumbleTvf};
            """);
        Assert.Contains("allowedLateness=[60000 ms]", SqlSession.Describe(Assert.Single(jobs)));
    }

    [Theory]
    [InlineData("", new[] { 4, 6, 7 })]
    [InlineData("SET 'table.exec.emit.allow-lateness' = '10 s';", new[] { 6 })]
    public void Rows_too_late_for_their_window_go_to_the_late_data_table(string lateness, int[] expectedLate)
    {
        var lines = Run(Events() + lateness + """
            SET 'table.exec.late-data.table' = 'late_events';
            CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print', 'print-identifier' = 'hits');
            CREATE TABLE late_events (n INT, event_time STRING, ts TIMESTAMP(3)) WITH ('connector' = 'print', 'print-identifier' = 'late');
            INSERT INTO hits
            """ + "\n" + TumbleTvf + ";");
        var late = lines.Where(l => l.StartsWith("late>", StringComparison.Ordinal)).ToList();
        Assert.Equal(expectedLate.Select(n => $"late> +I[{n}, "), late.Select(l => l[..(l.IndexOf(',') + 2)]));
        Assert.Contains("late> +I[6, 2024-01-01 00:00:04, 2024-01-01 00:00:04.000]", late);
        // The windows' results are unchanged by the side table.
        Assert.Equal(lateness == "" ? 3 : 7, lines.Count(l => l.StartsWith("hits>", StringComparison.Ordinal)));
    }

    [Fact]
    public void The_late_data_table_is_checked_when_the_window_is_planned()
    {
        var unknown = Assert.Throws<SqlParseException>(() => Run(Events() + """
            SET 'table.exec.late-data.table' = 'late_evnts';
            CREATE TABLE late_events (n INT) WITH ('connector' = 'print');
            CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO hits
            """ + "\n" + TumbleTvf + ";"));
        Assert.Contains("'late_evnts', which is not a declared table", unknown.Message);
        Assert.Contains("late_events", unknown.Message);
        var column = Assert.Throws<SqlParseException>(() => Run(Events() + """
            SET 'table.exec.late-data.table' = 'late_events';
            CREATE TABLE late_events (n INT, referrer STRING) WITH ('connector' = 'print');
            CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO hits
            """ + "\n" + TumbleTvf + ";"));
        Assert.Contains("'referrer'", column.Message);
        Assert.Contains("host STRING", column.Message);
        Assert.Contains("line 10", column.Message);
    }

    [Fact]
    public void Batch_mode_ignores_watermarks_and_counts_every_row()
    {
        var lines = Run("SET 'execution.runtime-mode' = 'batch';\n" + Events()
            + "CREATE TABLE hits (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print');\n"
            + "INSERT INTO hits " + TumbleTvf + ";");
        Assert.Equal(["+I[2024-01-01 00:00:00.000, a, 4]", "+I[2024-01-01 00:00:10.000, a, 2]", "+I[2024-01-01 00:00:20.000, a, 1]"],
            lines.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Batch_mode_sessions_take_rows_behind_the_watermark()
    {
        var lines = Run("SET 'execution.runtime-mode' = 'batch';\n" + Events()
            + "CREATE TABLE s (host STRING, n BIGINT) WITH ('connector' = 'print');\n"
            + "INSERT INTO s SELECT host, COUNT(*) FROM TABLE(SESSION(TABLE events PARTITION BY host, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) "
            + "GROUP BY window_start, window_end, host;");
        Assert.Equal(["+I[a, 7]"], lines);
    }
}
