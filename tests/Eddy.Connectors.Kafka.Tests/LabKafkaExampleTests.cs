using System.Globalization;
using System.Text.Json;
using Confluent.Kafka;
using Eddy.Sql;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary>
/// examples/kafka's jobs against the dev broker (the mock cluster <c>eddy kafka</c> runs), fed by <c>eddy produce</c>
/// run as a process with a seed, read bounded to the topic's end, and compared with an oracle computed with LINQ from
/// the messages in the topic. The producer's events are at most 5 s out of order and none is late (late share 0), so
/// every event counts; they start 2 s before a 5-minute boundary so that two windows fire.
/// </summary>
public class LabKafkaExampleTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Eddy.slnx"))) d = d.Parent;
        return d?.FullName ?? throw new DirectoryNotFoundException("repository root (Eddy.slnx) not found");
    }

    private static async Task<List<(string Url, string? Referrer, string Host, string Ip, DateTime Time)>> Produce(KafkaFixture kafka, int count)
    {
        using var eddy = EddyProcess.Start("produce", "--bootstrap", kafka.Cluster.Bootstrap, "--topic", kafka.Topic, "--events", "web-traffic",
            "--count", count.ToString(CultureInfo.InvariantCulture), "--seed", "11", "--late-share", "0", "--start", "2024-01-01T10:04:58Z");
        var stderr = eddy.StandardError.ReadToEndAsync();
        await eddy.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.True(eddy.ExitCode == 0, await stderr);

        var events = new List<(string, string?, string, string, DateTime)>();
        foreach (var r in kafka.ReadAll(kafka.Topic, 3, count))
        {
            using var doc = JsonDocument.Parse(r.Message.Value);
            var e = doc.RootElement;
            events.Add((e.GetProperty("url").GetString()!, e.GetProperty("referrer").GetString(), e.GetProperty("host").GetString()!,
                e.GetProperty("ip").GetString()!, DateTime.ParseExact(e.GetProperty("event_time").GetString()!, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)));
        }
        Assert.Equal(count, events.Count);
        return events;
    }

    private static List<string> RunExample(KafkaFixture kafka, string name)
    {
        var variables = new Dictionary<string, string>
        {
            ["EDDY_BOOTSTRAP"] = kafka.Cluster.Bootstrap, ["EDDY_TOPIC"] = kafka.Topic, ["EDDY_BOUNDED"] = "latest-offset", ["EDDY_GROUP"] = "lab-test",
        };
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, v => variables.GetValueOrDefault(v));
        foreach (var job in session.Execute(File.ReadAllText(Path.Combine(Root, "examples", "kafka", name))))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];
    }

    private static string Ts(DateTime t) => EventTime.FormatSql(t);

    private static DateTime Floor(DateTime t, int minutes) => new(t.Ticks - t.Ticks % (TimeSpan.TicksPerMinute * minutes));

    private static List<string> Strip(IEnumerable<string> lines, string? prefix = null) => lines
        .Where(l => prefix is null || l.StartsWith(prefix, StringComparison.Ordinal))
        .Select(l => l[(l.IndexOf("+I[", StringComparison.Ordinal) + 3)..^1]).Order(StringComparer.Ordinal).ToList();

    [Fact]
    public async Task Five_minute_counts_per_host_and_per_referrer_from_produced_events()
    {
        using var kafka = new KafkaFixture(partitions: 3, topic: "web-traffic");
        var data = await Produce(kafka, 3000);
        Assert.Equal(2, data.Select(e => Floor(e.Time, 5)).Distinct().Count());
        var lines = RunExample(kafka, "02-aggregation.sql");
        var perHost = data.GroupBy(e => (Floor(e.Time, 5), e.Host)).Select(g => $"{Ts(g.Key.Item1)}, {g.Key.Host}, {g.Count()}");
        var perReferrer = data.GroupBy(e => (Floor(e.Time, 5), e.Host, e.Referrer))
            .Select(g => $"{Ts(g.Key.Item1)}, {g.Key.Host}, {g.Key.Referrer ?? "null"}, {g.Count()}");
        Assert.Equal(perHost.Order(StringComparer.Ordinal), Strip(lines, "per_host"));
        Assert.Equal(perReferrer.Order(StringComparer.Ordinal), Strip(lines, "per_referrer"));
    }

    [Fact]
    public async Task Pass_through_and_one_minute_upsert_counts_from_produced_events()
    {
        using var kafka = new KafkaFixture(partitions: 3, topic: "web-traffic");
        var data = await Produce(kafka, 1500);
        var passThrough = data.Select(e => $"{e.Ip}, {Ts(e.Time)}, {e.Referrer ?? "null"}, {e.Host}, {e.Url}").Order(StringComparer.Ordinal).ToList();
        Assert.Equal(passThrough, Strip(RunExample(kafka, "01-pass-through.sql")));
        var perMinute = data.GroupBy(e => (Floor(e.Time, 1), e.Host)).Select(g => $"{Ts(g.Key.Item1)}, {g.Key.Host}, {g.Count()}");
        Assert.Equal(perMinute.Order(StringComparer.Ordinal), Strip(RunExample(kafka, "03-tumble-upsert.sql")));
    }
}
