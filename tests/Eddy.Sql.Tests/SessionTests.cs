using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class SessionTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-sql-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    internal static List<string> Run(string sql, Dictionary<string, string>? env = null)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, name => env is not null && env.TryGetValue(name, out var v) ? v : null);
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }

    [Fact]
    public void Values_grouped_without_a_window_give_a_changelog()
    {
        var lines = Run("""
            CREATE TABLE out_t (k STRING, n BIGINT, s INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, COUNT(*), SUM(v) FROM (VALUES ('a', 1), ('b', 2), ('a', 3)) AS t(k, v) GROUP BY k;
            """);
        Assert.Equal(["+I[a, 1, 1]", "+I[b, 1, 2]", "-U[a, 1, 1]", "+U[a, 2, 4]"], lines);
    }

    [Fact]
    public void Tumbling_window_counts_per_host_from_json_files()
    {
        File.WriteAllLines(Path.Combine(dir, "events.jsonl"),
        [
            """{"host":"a","event_time":"2024-01-01T10:00:01.000Z"}""",
            """{"host":"b","event_time":"2024-01-01T10:00:30.000Z"}""",
            """{"host":"a","event_time":"2024-01-01T10:00:59.999Z"}""",
            """{"host":"a","event_time":"2024-01-01T10:01:00.000Z"}""",
        ]);
        var lines = Run($$"""
            CREATE TABLE events (
              host STRING,
              event_time STRING,
              ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
              WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
            ) WITH ('connector' = 'filesystem', 'path' = '{{dir}}', 'format' = 'json');
            CREATE TABLE hits (event_minute TIMESTAMP(3), host STRING, num_hits BIGINT) WITH ('connector' = 'print');
            INSERT INTO hits
            SELECT window_start AS event_minute, host, COUNT(*) AS num_hits
            FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end, host;
            """);
        Assert.Equal(["+I[2024-01-01 10:00:00.000, a, 2]", "+I[2024-01-01 10:00:00.000, b, 1]", "+I[2024-01-01 10:01:00.000, a, 1]"],
            lines.Order().ToList());
    }

    [Fact]
    public void A_window_on_a_column_without_watermark_is_a_located_error()
    {
        var e = Assert.Throws<SqlParseException>(() => Run("""
            CREATE TABLE events (host STRING, ts TIMESTAMP(3)) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            CREATE TABLE hits (host STRING, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO hits SELECT host, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end, host;
            """));
        Assert.Equal(3, e.Line);
        Assert.Contains("not an event-time attribute", e.Message);
    }

    [Fact]
    public void Unknown_columns_suggest_the_nearest()
    {
        var e = Assert.Throws<SqlParseException>(() => Run("""
            CREATE TABLE t (host STRING) WITH ('connector' = 'datagen', 'number-of-rows' = '1');
            CREATE TABLE p (host STRING) WITH ('connector' = 'print');
            INSERT INTO p SELECT hots FROM t;
            """));
        Assert.Contains("line 3, column 22: unknown column 'hots'; did you mean 'host'?", e.Message);
    }
}

public class ProcessingTimeWindowTests
{
    [Fact]
    public async Task A_tumbling_window_on_proctime_fires_as_the_clock_moves()
    {
        var clock = new Eddy.Testing.ManualClock(DateTimeOffset.Parse("2024-01-01T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds());
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Synchronized(output), TextWriter.Null) { Clock = clock };
        var jobs = session.Execute("""
            CREATE TABLE ticks (n INT, pt AS PROCTIME()) WITH ('connector' = 'datagen', 'rows-per-second' = '10', 'seed' = '1');
            CREATE TABLE out_t (ws TIMESTAMP(3), we TIMESTAMP(3), c BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT window_start, window_end, COUNT(*) FROM TABLE(TUMBLE(TABLE ticks, DESCRIPTOR(pt), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end;
            """);
        Assert.Contains("processing-time TUMBLE", SqlSession.Describe(jobs[0]));
        var job = jobs[0].Environment.Start(jobs[0].Name);
        try
        {
            // Move processing time on by 5 s steps until two windows have closed.
            for (int i = 0; i < 6000 && output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Length < 2; i++)
            {
                clock.Advance(TimeSpan.FromSeconds(1));
                await Task.Delay(2);
            }
        }
        finally
        {
            job.Cancel();
            await job.Completion;
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 2, $"windows fired: {lines.Length}");
        // Rows fall into the window of the processing time at which they reach the window operator, which depends on
        // thread timing here; each result is a whole minute of processing time with a positive count.
        Assert.All(lines, l =>
        {
            var m = System.Text.RegularExpressions.Regex.Match(l, @"^\+I\[2024-01-01 00:(\d\d):00\.000, 2024-01-01 00:(\d\d):00\.000, (\d+)\]$");
            Assert.True(m.Success, l);
            Assert.Equal(int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + 1,
                int.Parse(m.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
            Assert.True(long.Parse(m.Groups[3].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, l);
        });
    }
}
