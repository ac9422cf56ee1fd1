using System.Globalization;
using Eddy.Connectors;
using Eddy.Runtime;

namespace Eddy.Sql.Tests;

/// <summary>
/// The lab's jobs in examples/lab, run on generated events and compared with an oracle computed here with LINQ from
/// the same file. The events are out of order by at most 5 s and none is late for the 15 s (or 5 s) watermarks, so
/// every event counts.
/// </summary>
public class LabExampleTests : IDisposable
{
    /// <summary>The repository root (where Eddy.slnx is): examples and golden files are read from there.</summary>
    internal static readonly string Root = FindRoot();
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-lab-").FullName;
    private readonly string events;
    private readonly List<(string Url, string? Referrer, string Host, string Ip, DateTime Time)> data;

    public LabExampleTests()
    {
        events = Path.Combine(dir, "events.jsonl");
        var env = StreamEnvironment.Create();
        var options = new WebTrafficOptions { Count = 3000, Seed = 11, Users = 150, EventsPerSecond = 2, LateShare = 0 };
        env.FromSource(new WebTrafficSource(options).AsRows())
            .SinkTo(FileSink.ToFile(new FileConnectorOptions(events, FileFormat.JsonLines), WebTrafficEvent.Schema));
        env.Execute();
        data = new List<(string, string?, string, string, DateTime)>();
        foreach (var line in File.ReadLines(events))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var r = doc.RootElement;
            data.Add((r.GetProperty("url").GetString()!, r.GetProperty("referrer").GetString(), r.GetProperty("host").GetString()!,
                r.GetProperty("ip").GetString()!, DateTime.ParseExact(r.GetProperty("event_time").GetString()!, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));
        }
    }

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Eddy.slnx"))) d = d.Parent;
        return d?.FullName ?? throw new DirectoryNotFoundException("repository root (Eddy.slnx) not found");
    }

    private List<string> RunExample(string name) =>
        SessionTests.Run(File.ReadAllText(Path.Combine(Root, "examples", "lab", name)), new() { ["EDDY_EVENTS"] = events });

    private static string Ts(DateTime t) => EventTime.FormatSql(t);

    private static DateTime Floor(DateTime t, int minutes) => new(t.Ticks - t.Ticks % (TimeSpan.TicksPerMinute * minutes));

    private static List<string> Strip(IEnumerable<string> lines, string? prefix = null) => lines
        .Where(l => prefix is null || l.StartsWith(prefix, StringComparison.Ordinal))
        .Select(l => l[(l.IndexOf("+I[", StringComparison.Ordinal) + 3)..^1]).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Pass_through_parses_every_event()
    {
        var expected = data.Select(e => $"{e.Ip}, {Ts(e.Time)}, {e.Referrer ?? "null"}, {e.Host}, {e.Url}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, Strip(RunExample("01-pass-through.sql")));
    }

    [Fact]
    public void Five_minute_counts_per_host_and_per_referrer_in_one_job()
    {
        var lines = RunExample("02-aggregation.sql");
        var perHost = data.GroupBy(e => (Floor(e.Time, 5), e.Host)).Select(g => $"{Ts(g.Key.Item1)}, {g.Key.Host}, {g.Count()}");
        var perReferrer = data.GroupBy(e => (Floor(e.Time, 5), e.Host, e.Referrer))
            .Select(g => $"{Ts(g.Key.Item1)}, {g.Key.Host}, {g.Key.Referrer ?? "null"}, {g.Count()}");
        Assert.Equal(perHost.Order(StringComparer.Ordinal), Strip(lines, "per_host"));
        Assert.Equal(perReferrer.Order(StringComparer.Ordinal), Strip(lines, "per_referrer"));
    }

    [Fact]
    public void One_minute_tumble_into_an_upsert_table()
    {
        var expected = data.GroupBy(e => (Floor(e.Time, 1), e.Host)).Select(g => $"{Ts(g.Key.Item1)}, {g.Key.Host}, {g.Count()}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), Strip(RunExample("03-tumble-upsert.sql")));
    }

    private List<(string Ip, string Host, DateTime Start, DateTime End, int Count)> Sessions()
    {
        var gap = TimeSpan.FromMinutes(5);
        var sessions = new List<(string, string, DateTime, DateTime, int)>();
        foreach (var g in data.GroupBy(e => (e.Ip, e.Host)))
        {
            var times = g.Select(e => e.Time).Order().ToList();
            DateTime start = times[0], last = times[0];
            int n = 1;
            foreach (var t in times.Skip(1))
            {
                // Session windows [t, t + gap) merge when they overlap or touch.
                if (t - last > gap)
                {
                    sessions.Add((g.Key.Ip, g.Key.Host, start, last + gap, n));
                    start = t;
                    n = 0;
                }
                last = t;
                n++;
            }
            sessions.Add((g.Key.Ip, g.Key.Host, start, last + gap, n));
        }
        return sessions;
    }

    [Fact]
    public void Sessions_by_ip_and_host_with_a_five_minute_gap()
    {
        var expected = Sessions().Select(s => $"{s.Ip}, {s.Host}, {Ts(s.Start)}, {Ts(s.End)}, {s.Count}");
        Assert.Equal(expected.Order(StringComparer.Ordinal), Strip(RunExample("04-sessions.sql")));
    }

    [Fact]
    public void Average_events_per_session_per_host()
    {
        string[] hosts = ["zachwilson.techcreator.io", "zachwilson.tech", "lulu.techcreator.io"];
        var expected = Sessions().Where(s => hosts.Contains(s.Host)).GroupBy(s => s.Host).OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, Avg: g.Average(s => (double)s.Count), N: g.Count())).ToList();
        var lines = RunExample("05-session-average.sql").Select(l => l[3..^1].Split(", ")).ToList();
        Assert.Equal(expected.Select(e => e.Key), lines.Select(l => l[0]));
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].Avg, double.Parse(lines[i][1], CultureInfo.InvariantCulture), 9);
            Assert.Equal(expected[i].N, int.Parse(lines[i][2], CultureInfo.InvariantCulture));
        }
    }
}

public class TableApiTests
{
    [Fact]
    public async Task The_lab_aggregation_written_with_the_table_api_matches_its_sql()
    {
        var dir = Directory.CreateTempSubdirectory("eddy-tapi-").FullName;
        try
        {
            var file = Path.Combine(dir, "events.jsonl");
            var gen = StreamEnvironment.Create();
            gen.FromSource(new WebTrafficSource(new WebTrafficOptions { Count = 2000, Seed = 5, EventsPerSecond = 2, LateShare = 0 }).AsRows())
                .SinkTo(FileSink.ToFile(new FileConnectorOptions(file, FileFormat.JsonLines), WebTrafficEvent.Schema));
            await gen.ExecuteAsync();

            var output = new StringWriter();
            var tEnv = Eddy.Sql.TableApi.TableEnvironment.Create(TestConnectors.Registry, output);
            await tEnv.ExecuteSqlAsync($$"""
                CREATE TABLE events (host STRING, event_time STRING,
                  window_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                  WATERMARK FOR window_timestamp AS window_timestamp - INTERVAL '15' SECOND)
                WITH ('connector' = 'filesystem', 'path' = '{{file}}', 'format' = 'json');
                CREATE TABLE processed_events_aggregated (event_hour TIMESTAMP(3), host STRING, num_hits BIGINT) WITH ('connector' = 'print');
                """);
            var table = tEnv.FromPath("events")
                .Window(Eddy.Sql.TableApi.Tumble.Over(TimeSpan.FromMinutes(5)).On("window_timestamp").As("w"))
                .GroupBy("w", "host")
                .Select("w.start AS event_hour", "host", "host.count AS num_hits");
            var result = await table.ExecuteInsertAsync("processed_events_aggregated");
            Assert.Equal(JobStatus.Finished, result.Status);
            var fromApi = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList();

            var sql = SessionTests.Run($$"""
                CREATE TABLE events (host STRING, event_time STRING,
                  ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''), WATERMARK FOR ts AS ts - INTERVAL '15' SECOND)
                WITH ('connector' = 'filesystem', 'path' = '{{file}}', 'format' = 'json');
                CREATE TABLE out_t (event_hour TIMESTAMP(3), host STRING, num_hits BIGINT) WITH ('connector' = 'print');
                INSERT INTO out_t SELECT window_start, host, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
                GROUP BY window_start, window_end, host;
                """).Order(StringComparer.Ordinal).ToList();
            Assert.NotEmpty(fromApi);
            Assert.Equal(sql, fromApi);
            Assert.Contains("GROUP BY TUMBLE(window_timestamp, INTERVAL '300' SECOND), host", table.ToSql());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
