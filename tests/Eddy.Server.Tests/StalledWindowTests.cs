using System.Text;
using Confluent.Kafka;
using Eddy.Connectors.Kafka;

namespace Eddy.Server.Tests;

/// <summary>
/// The lab's "window never fires" trap, live: a topic with two partitions, events only in partition 0, parallelism 2.
/// Source subtask 2 reads the empty partition and holds the watermark, and the diagnosis says so.
/// </summary>
public sealed class StalledWindowFixture : IDisposable
{
    public StalledWindowFixture()
    {
        KafkaTableConnector.Register();
        Cluster.CreateTopic("clicks", 2);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = Cluster.Bootstrap, LingerMs = 2 }).Build();
        var start = DateTimeOffset.Parse("2024-01-01T10:00:00Z");
        for (int i = 0; i < 40; i++)
        {
            var t = start.AddSeconds(i * 5);
            producer.Produce(new TopicPartition("clicks", 0), new Message<byte[]?, byte[]>
            {
                Value = Encoding.UTF8.GetBytes($$"""{"host":"h{{i % 3}}","event_time":"{{t:yyyy-MM-ddTHH:mm:ss.fff}}Z"}"""),
            });
        }
        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("records were not delivered");
    }

    public MockKafkaCluster Cluster { get; } = new();

    public string Script(string name, string? idleTimeout = null) => $"""
        SET 'pipeline.name' = '{name}';
        SET 'parallelism.default' = '2';
        {(idleTimeout is null ? "" : $"SET 'table.exec.source.idle-timeout' = '{idleTimeout}';")}
        CREATE TABLE clicks (
          host STRING, event_time STRING,
          ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
          WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
        ) WITH (
          'connector' = 'kafka', 'topic' = 'clicks', 'properties.bootstrap.servers' = '{Cluster.Bootstrap}',
          'properties.group.id' = '{name}', 'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
        CREATE TABLE per_minute (w TIMESTAMP(3), host STRING, n BIGINT) WITH ('connector' = 'print');
        INSERT INTO per_minute SELECT window_start, host, COUNT(*)
        FROM TABLE(TUMBLE(TABLE clicks, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY window_start, window_end, host;
        """;

    public void Dispose() => Cluster.Dispose();
}

public class StalledWindowTests(StalledWindowFixture kafka) : IClassFixture<StalledWindowFixture>
{
    [Fact]
    public async Task The_diagnosis_names_the_source_subtask_that_holds_the_watermark()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var id = Assert.Single(await s.Submit(kafka.Script("stalled")));

        var job = await s.WaitFor($"jobs/{id}", j => j["diagnosis"]!.AsArray().Any(f => f!["kind"]!.GetValue<string>() == "watermark-held"),
            "the watermark-held finding");
        var finding = job["diagnosis"]!.AsArray().Single(f => f!["kind"]!.GetValue<string>() == "watermark-held")!["message"]!.GetValue<string>();
        Assert.StartsWith("windows close when the watermark passes 2024-01-01 10:00:59; the watermark is not set yet because source subtask 2 of 2", finding);
        Assert.Contains("has had no data since the job started", finding);
        Assert.Contains("set 'table.exec.source.idle-timeout'", finding);
        Assert.Empty(job["output"]!.AsArray());

        // The same text through the dedicated endpoint, and the window's next end in the subtask metrics.
        var diagnosis = await s.Get($"jobs/{id}/diagnosis");
        Assert.Contains(diagnosis["findings"]!.AsArray(), f => f!["message"]!.GetValue<string>() == finding);
        var window = job["vertices"]!.AsArray().First(v => v!["name"]!.GetValue<string>().Contains("Window", StringComparison.Ordinal))!;
        var subtasks = await s.Get($"jobs/{id}/vertices/{window["id"]}/subtasks/metrics");
        Assert.Contains(subtasks["subtasks"]!.AsArray(), x => x!["next-window-end"]?.GetValue<long>() == DateTimeOffset.Parse("2024-01-01T10:01:00Z").ToUnixTimeMilliseconds());
    }

    [Fact]
    public async Task With_the_idle_timeout_the_windows_fire_and_the_diagnosis_clears()
    {
        await using var s = await RunningServer.Start(slots: 2);
        var id = Assert.Single(await s.Submit(kafka.Script("unstalled", idleTimeout: "500 ms")));

        var job = await s.WaitFor($"jobs/{id}", j => j["output"]!.AsArray().Count > 0, "window results");
        Assert.Contains(job["output"]!.AsArray(), l => l!.GetValue<string>().Contains("+I[2024-01-01 10:00:00.000, h0, 4]", StringComparison.Ordinal));
        await s.WaitFor($"jobs/{id}", j => !j["diagnosis"]!.AsArray().Any(f => f!["kind"]!.GetValue<string>() == "watermark-held"), "no stall finding");
    }
}
