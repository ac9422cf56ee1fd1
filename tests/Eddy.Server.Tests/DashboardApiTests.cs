using System.Text.Json.Nodes;
using Eddy.Runtime;

namespace Eddy.Server.Tests;

/// <summary>The server side of the dashboard's tabs: the log tail, the metric history ring, exchanges per edge.</summary>
public class DashboardApiTests
{
    private static JobReading Reading(double inRate, long watermark)
    {
        var vertex = new VertexInfo(1, "Source: s", 1, true, false, ["Source: s"], []);
        // From the runtime's own counters, so the test does not depend on the sample's shape.
        var sample = new SubtaskMetrics("Source: s", 0) { InputWatermark = watermark, OutputWatermark = watermark }.Snapshot();
        var rates = new MetricsRates(300, 600, 100, inRate, inRate);
        return new JobReading(DateTimeOffset.UtcNow, [new VertexReading(vertex, [new SubtaskReading(0, sample, rates, null, 0, false, long.MaxValue)])], []);
    }

    [Fact]
    public void The_history_keeps_one_point_a_second_from_the_first_sampling_on()
    {
        var history = new MetricsHistory();
        history.Record(Reading(10, 400), 1_000);
        history.Record(Reading(20, 400), 1_500);
        history.Record(Reading(30, 400), 2_000);
        var points = history.Since(0, 600_000);
        Assert.Equal([1_000L, 2_000L], points.Select(p => p.Time));
        Assert.Equal(30, points[1].Vertices[0].RecordsInPerSecond);
        Assert.Equal(100, points[1].Vertices[0].BackPressuredTimeMsPerSecond);
        Assert.Equal(2_000 - 400, points[1].Vertices[0].WatermarkLagMs);
        Assert.Equal([2_000L], history.Since(1_000, 600_000).Select(p => p.Time));
    }

    [Fact]
    public void The_history_is_a_ring_of_ten_minutes()
    {
        var history = new MetricsHistory();
        for (int i = 0; i < MetricsHistory.Capacity + 100; i++) history.Record(Reading(i, EventTime.MinWatermark), 1_000L * (i + 1));
        var points = history.Since(0, long.MaxValue / 2);
        Assert.Equal(MetricsHistory.Capacity, points.Count);
        Assert.Equal(101_000L, points[0].Time);
        Assert.True(points.Zip(points.Skip(1)).All(p => p.Second.Time > p.First.Time));
        Assert.Null(points[0].Vertices[0].WatermarkLagMs);
        Assert.Equal(60, history.Since(0, 59_000).Count);
    }

    [Fact]
    public void The_log_tail_is_bounded_and_masks_secrets()
    {
        var log = new ServerLog(capacity: 5);
        for (int i = 0; i < 8; i++) log.Add($"line {i}: 'password' = 'hunter{i}' token=abc{i}");
        log.Add(new string('x', 100_000));
        var (lines, total) = log.Tail(100);
        Assert.Equal(9, total);
        Assert.Equal(5, lines.Count);
        Assert.StartsWith("line 4:", lines[0]);
        Assert.DoesNotContain(lines, l => l.Contains("hunter", StringComparison.Ordinal) || l.Contains("abc", StringComparison.Ordinal));
        Assert.Contains("'password' = '******'", lines[0]);
        Assert.True(lines[^1].Length < ServerLog.MaxLineLength + 100, $"{lines[^1].Length} characters kept");
        Assert.Equal(2, log.Tail(2).Lines.Count);
    }

    [Fact]
    public async Task The_log_endpoint_shows_submissions_and_refuses_a_bad_count()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var id = Assert.Single(await s.Submit(Scripts.Unbounded($"log-{Guid.NewGuid():N}", parallelism: 1, rate: 10)));
        var log = await s.Get("server/log?lines=10");
        var lines = log["lines"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        Assert.Contains(lines, l => l.Contains($"({id}) submitted", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("server started", StringComparison.Ordinal));
        Assert.Equal(ServerLog.DefaultCapacity, log["capacity"]!.GetValue<int>());
        Assert.Single((await s.Get("server/log?lines=1"))["lines"]!.AsArray());
        var cancel = await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null);
        Assert.Equal(System.Net.HttpStatusCode.Accepted, cancel.StatusCode);
        await s.WaitFor("server/log", l => l["lines"]!.AsArray().Any(x => x!.GetValue<string>().EndsWith($"({id}) CANCELED", StringComparison.Ordinal)),
            "the job's end in the log");
        var bad = await s.Client.GetAsync("server/log?lines=x");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("lines=x", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task History_and_exchanges_of_a_running_job()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var id = Assert.Single(await s.Submit(Scripts.Windowed($"history-{Guid.NewGuid():N}", parallelism: 2, rate: 500)));
        var history = await s.WaitFor($"jobs/{id}/metrics/history", h => h["times"]!.AsArray().Count >= 3, "three points of history");
        var times = history["times"]!.AsArray().Select(t => t!.GetValue<long>()).ToList();
        Assert.True(times.Zip(times.Skip(1)).All(p => p.Second - p.First >= 950), string.Join(", ", times));
        var vertices = history["vertices"]!.AsArray();
        Assert.Equal(2, vertices.Count);
        Assert.All(vertices, v => Assert.Equal(times.Count, v!["records-in-per-second"]!.AsArray().Count));
        var newer = await s.Get($"jobs/{id}/metrics/history?since={times[^1]}");
        Assert.All(newer["times"]!.AsArray(), t => Assert.True(t!.GetValue<long>() > times[^1]));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, (await s.Client.GetAsync($"jobs/{id}/metrics/history?since=soon")).StatusCode);

        // GROUP BY host: the window aggregate reads its input by key, Flink's HASH exchange; the source has no input.
        var job = await s.Get($"jobs/{id}");
        Assert.Empty(job["vertices"]![0]!["input-edges"]!.AsArray());
        var edge = Assert.Single(job["vertices"]![1]!["input-edges"]!.AsArray())!;
        Assert.Equal("1", edge["id"]!.GetValue<string>());
        Assert.Equal("HASH", edge["ship-strategy"]!.GetValue<string>());
        JsonNode plan = await s.Get($"jobs/{id}/plan");
        Assert.Equal("HASH", plan["vertices"]![1]!["input-edges"]![0]!["ship-strategy"]!.GetValue<string>());
    }
}
