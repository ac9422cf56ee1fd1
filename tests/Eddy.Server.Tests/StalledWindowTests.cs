using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Eddy.Runtime;
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
        const string expected = "windows close when the watermark passes 2024-01-01 10:00:59; the watermark is not set yet because partition clicks-1 of source subtask 2 of 2";
        Assert.True(finding.StartsWith(expected, StringComparison.Ordinal), finding);
        Assert.Contains("has had no data since the job started", finding);
        Assert.Contains("set 'table.exec.source.idle-timeout'", finding);
        Assert.Empty(job["output"]!.AsArray());
        var watermarks = await s.Get($"jobs/{id}/watermarks");
        var split = watermarks["vertices"]![0]!["subtasks"]![1]!["splits"]![0]!;
        Assert.Equal("clicks-1", split["name"]!.GetValue<string>());
        Assert.Null(split["last-data-time"]);
        Assert.Equal("clicks-0", watermarks["vertices"]![0]!["subtasks"]![0]!["splits"]![0]!["name"]!.GetValue<string>());

        // The same text through the dedicated endpoint, and the window's next end in the subtask metrics.
        var diagnosis = await s.Get($"jobs/{id}/diagnosis");
        // The text ends with how long the partition has been silent, which may have grown by a second since.
        Assert.Contains(diagnosis["findings"]!.AsArray(), f => f!["message"]!.GetValue<string>().StartsWith(expected, StringComparison.Ordinal));
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

    [Fact]
    public async Task A_savepoint_taken_at_parallelism_2_restores_at_1_with_every_key_group()
    {
        string savepoints = Directory.CreateTempSubdirectory("eddy-sp-kafka-").FullName;
        try
        {
            await using var s = await RunningServer.Start(slots: 2);
            var id = Assert.Single(await s.Submit(kafka.Script("rescaled")));
            await s.WaitFor($"jobs/{id}", j => j["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>() == 40, "every record read");
            var response = await s.Client.PostAsJsonAsync($"jobs/{id}/stop", new Dictionary<string, object> { ["target-directory"] = savepoints });
            var stopped = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True(response.IsSuccessStatusCode, stopped.ToJsonString());
            await s.WaitForState(id, "CANCELED");
            var before = LocalCheckpointStorage.LoadFolder(stopped["location"]!.GetValue<string>());
            var window = before.Operators.Single(o => o.Subtasks.Any(x => x.KeyGroups.Count > 0));
            Assert.Equal(2, window.Parallelism);

            var body = new JsonObject
            {
                ["sql"] = kafka.Script("rescaled").Replace("'parallelism.default' = '2'", "'parallelism.default' = '1'", StringComparison.Ordinal),
                ["savepoint-path"] = stopped["location"]!.GetValue<string>(),
            };
            response = await s.Client.PostAsJsonAsync("jobs", body);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
            var again = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["jobids"]![0]!.GetValue<string>();
            await s.WaitFor($"jobs/{again}/checkpoints", c => c["latest"]!["restored"] is not null, "restored");
            Assert.Equal("RUNNING", (await s.Get($"jobs/{again}"))["state"]!.GetValue<string>());
            response = await s.Client.PostAsJsonAsync($"jobs/{again}/savepoints", new Dictionary<string, object> { ["target-directory"] = savepoints });
            var taken = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            Assert.True(response.IsSuccessStatusCode, taken.ToJsonString());
            var after = LocalCheckpointStorage.LoadFolder(taken["location"]!.GetValue<string>());
            var merged = after.Find(window.StateId)!;
            Assert.Equal(1, merged.Parallelism);
            // No record arrived since: the one subtask holds exactly the key groups both old subtasks held, byte for byte.
            var oldGroups = window.Subtasks.SelectMany(x => x.KeyGroups).ToDictionary(kv => kv.Key, kv => kv.Value);
            var newGroups = merged.Subtasks.Single().KeyGroups;
            Assert.Equal(oldGroups.Keys.Order(), newGroups.Keys.Order());
            Assert.All(oldGroups, kv => Assert.Equal(kv.Value, newGroups[kv.Key]));
            // The Kafka offsets came along: the rescaled source read nothing again.
            Assert.Equal(0, (await s.Get($"jobs/{again}"))["vertices"]![0]!["metrics"]!["read-records"]!.GetValue<long>());
            await s.Client.PatchAsync($"jobs/{again}?mode=cancel", null);
        }
        finally
        {
            Directory.Delete(savepoints, recursive: true);
        }
    }
}
