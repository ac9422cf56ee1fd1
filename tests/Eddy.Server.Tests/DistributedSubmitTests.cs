using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Eddy.Connectors.Kafka;

namespace Eddy.Server.Tests;

/// <summary>
/// Distributed submissions to the server (<c>"distributed": true</c>, <c>eddy submit --distributed</c>, or the script's
/// <c>SET 'execution.distributed' = 'true'</c>): refused with the worker's located messages where <c>eddy worker</c>
/// refuses; hosted as one member of the job's group otherwise, listed by <c>GET /worker</c> and
/// <c>/distributed-jobs</c>, with the whole-job view asking the server itself (bearer token included), and cancelled
/// through the ordinary <c>PATCH /jobs/{id}</c>. The dev broker runs in this process.
/// </summary>
public sealed class DistributedSubmitTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-distributed-submit-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private string Job(string bootstrap, string name, string extra = "") => $"""
        SET 'pipeline.name' = '{name}';
        SET 'execution.checkpointing.interval' = '1 s';
        SET 'execution.checkpointing.dir' = '{dir}';
        {extra}
        CREATE TABLE events (host STRING, url STRING) WITH (
          'connector' = 'kafka', 'topic' = 'events', 'properties.bootstrap.servers' = '{bootstrap}',
          'properties.group.id' = '{name}-source', 'scan.startup.mode' = 'earliest-offset', 'format' = 'json');
        CREATE TABLE sink_t (host STRING) WITH ('connector' = 'blackhole');
        INSERT INTO sink_t SELECT host FROM events;
        """;

    private static async Task<(HttpStatusCode Status, string Body)> Post(RunningServer s, JsonObject body)
    {
        var response = await s.Client.PostAsJsonAsync("jobs", body);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task What_eddy_worker_refuses_is_refused_with_its_located_message()
    {
        await using var s = await RunningServer.Start();
        // A datagen source has no partitions a group can divide: refused at its connector option, as eddy worker refuses it.
        var (status, body) = await Post(s, new JsonObject
        {
            ["sql"] = Scripts.Unbounded("gen", parallelism: 1).Replace("SET 'parallelism.default'", "SET 'execution.checkpointing.interval' = '1 s';\nSET 'parallelism.default'"),
            ["file-name"] = "gen.sql",
            ["distributed"] = true,
        });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("gen.sql:", body);
        Assert.Contains("datagen", body);
        Assert.Empty((await s.Get("distributed-jobs"))["jobs"]!.AsArray());
    }

    [Fact]
    public async Task A_script_mixing_distributed_and_single_process_jobs_is_refused_at_the_set()
    {
        await using var s = await RunningServer.Start();
        string sql = Job("127.0.0.1:1", "mixed", "SET 'execution.distributed' = 'true';") + """

            SET 'execution.distributed' = 'false';
            SET 'pipeline.name' = 'mixed-2';
            INSERT INTO sink_t SELECT url FROM events;
            """;
        var (status, body) = await Post(s, new JsonObject { ["sql"] = sql, ["file-name"] = "mixed.sql" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("job 'mixed' runs distributed and job 'mixed-2' of the same script does not", body);
        Assert.Contains("mixed.sql: line 4, column 1:", body); // the SET that asked for it
        Assert.Empty((await s.Get("jobs"))["jobs"]!.AsArray());
    }

    [Fact]
    public async Task A_job_setting_execution_distributed_is_hosted_as_a_worker_shown_whole_and_cancelled_gracefully()
    {
        using var broker = new MockKafkaCluster();
        broker.CreateTopic("events", partitions: 4);
        const string Token = "a-long-random-test-token-1234";
        await using var s = await RunningServer.Start(token: Token);
        var (status, body) = await Post(s, new JsonObject
        {
            ["sql"] = Job(broker.Bootstrap, "hosted", "SET 'execution.distributed' = 'true';"),
            ["file-name"] = "hosted.sql",
        });
        Assert.True(status == HttpStatusCode.Accepted, $"POST /jobs: {(int)status} {body}");
        var submitted = JsonNode.Parse(body)!;
        Assert.Empty(submitted["jobs"]!.AsArray());
        var hosted = Assert.Single(submitted["distributed-jobs"]!.AsArray())!;
        string id = hosted["jid"]!.GetValue<string>();
        Assert.Equal([id], submitted["jobids"]!.AsArray().Select(i => i!.GetValue<string>()));

        // Alone in its group, the server's worker runs all four partitions.
        await s.WaitFor($"distributed-jobs/{id}", d => d["job"]!["partitions-owned"]!.GetValue<int>() == 4, "the hosted worker owns all 4 partitions");
        var worker = await s.Get("worker");
        var listed = Assert.Single(worker["jobs"]!.AsArray())!;
        Assert.Equal("hosted", listed["job"]!.GetValue<string>());
        Assert.Equal([0, 1, 2, 3], listed["partitions"]!.AsArray().Select(p => p!["partition"]!.GetValue<int>()));
        Assert.Equal(Environment.ProcessId, worker["pid"]!.GetValue<int>());

        // The whole job through the directory topic: this server, reached at its own address with its token.
        var whole = await s.WaitFor($"distributed-jobs/{id}/status", v => v["workers"]?.AsArray().Count == 1 && v["partitions"]!.AsArray().Count == 4,
            "the whole-job view lists this server's worker");
        var me = whole["workers"]![0]!;
        Assert.True(me["reachable"]!.GetValue<bool>(), $"the server's worker is unreachable: {me["error"]}");
        Assert.Equal(s.Server.Address.ToString().TrimEnd('/'), me["address"]!.GetValue<string>());
        Assert.Empty(whole["unowned"]!.AsArray());
        Assert.Equal("RUNNING", (await s.Get($"jobs/{id}"))["state"]!.GetValue<string>());

        // Cancel through the ordinary route: final checkpoints of the four partitions, then the worker leaves.
        var cancel = await s.Client.PatchAsync($"jobs/hosted?mode=cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);
        var ended = await s.WaitFor($"jobs/{id}", j => j["state"]!.GetValue<string>() == "CANCELED", "the distributed job is cancelled");
        Assert.Equal(0, ended["partitions-owned"]!.GetValue<int>());
        var log = (await s.Get($"distributed-jobs/{id}"))["log"]!.AsArray().Select(l => l!.GetValue<string>()).ToList();
        foreach (int p in Enumerable.Range(0, 4))
            Assert.Contains(log, l => l.Contains($"partition {p}: final checkpoint ", StringComparison.Ordinal));
        Assert.Contains(log, l => l.Contains("left the groups", StringComparison.Ordinal));
        Assert.Empty((await s.Get("worker"))["jobs"]!.AsArray());
        Assert.Equal(HttpStatusCode.Conflict, (await s.Client.PatchAsync($"jobs/{id}?mode=cancel", null)).StatusCode);
    }
}
