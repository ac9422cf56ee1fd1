using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// An <c>eddy server</c> process hosting a distributed job (<c>eddy submit --distributed</c>) beside an <c>eddy worker</c>
/// process on the lab's pass-through job (a 12-partition topic → PostgreSQL, exactly-once): the two share the
/// partitions through the job's consumer group; the server's REST view of the whole job lists both workers with the
/// partitions their own logs say they own; <c>eddy status --worker</c> asks the worker alone; cancelling the server's
/// job hands its partitions to the worker (final checkpoints first). The table equals the oracle computed from the
/// topic: every event once.
/// </summary>
public sealed class ServerWorkerTests(ITestOutputHelper log)
{
    [Fact]
    public void A_server_hosted_worker_and_an_eddy_worker_share_the_job_and_cancel_hands_the_partitions_over()
    {
        using var harness = new RecoveryHarness(log, WorkerTests.Partitions, WorkerTests.Topic);
        string table = PgServer.UniqueName("lab_pass_through_hosted");
        const string Job = "server_worker";
        string sql = WorkerTests.WriteJob(harness, Job, table);
        using var cluster = new WorkerCluster(log, harness, sql);
        var clock = cluster.Clock;
        WorkerTests.ProduceChunk(harness, seed: 21, "2024-01-01T10:00:00Z");
        var server = cluster.Add("server", ["server", "--port", "0", "--slots", "2"]);
        cluster.WaitFor(() => server.Said("dashboard and REST API on ") is not null, "the server listens");
        var address = new Uri(Regex.Match(server.Lines.First(l => l.Line.Contains("REST API on ", StringComparison.Ordinal)).Line, @"http://[0-9.:]+").Value);
        using var http = new HttpClient { BaseAddress = address };

        var (exit, stdout, stderr) = Eddy("submit", "--distributed", sql, "--server", address.ToString(), "--detach");
        Assert.True(exit == 0, $"eddy submit --distributed failed ({exit}): {stderr}\n{server.Describe()}");
        Assert.Contains($"submitted job '{Job}'", stdout);
        Assert.Contains("distributed", stdout);

        // The worker announces an address of its own choosing (--advertise): the port is picked here.
        int port = FreePort();
        string advertised = $"http://localhost:{port}";
        var worker = cluster.Add("worker", ["worker", sql, "--port", port.ToString(CultureInfo.InvariantCulture), "--advertise", advertised]);
        cluster.WaitFor(() => cluster.Processes.All(p => p.OwnedAt(clock.Elapsed).Count > 0) && Count(table) >= WorkerTests.Chunk,
            "the server's worker and the eddy worker both own partitions, and the first chunk arrived");
        WorkerTests.ProduceChunk(harness, seed: 22, "2024-01-01T11:00:00Z");

        // The server's view of the whole job: both workers, every partition checkpointed and caught up, each on the
        // worker whose log says it owns it.
        var marks = harness.Watermarks(WorkerTests.Topic);
        JsonNode view = null!;
        cluster.WaitFor(() =>
        {
            view = Get(http, $"distributed-jobs/{Job}/status", allowUnavailable: true) ?? new JsonObject();
            var parts = view["partitions"]?.AsArray();
            return view["workers"]?.AsArray().Count == 2 && parts?.Count == WorkerTests.Partitions
                && parts.All(p => p!["lag"]?.GetValue<long>() == 0 && p["checkpointed-offset"]?.GetValue<long>() == marks[p["partition"]!.GetValue<int>()].High);
        }, "the server's whole-job view shows two workers and all 12 partitions checkpointed at the topic's end");
        var now = clock.Elapsed;
        var workers = view["workers"]!.AsArray();
        Assert.All(workers, w => Assert.True(w!["reachable"]!.GetValue<bool>(), $"worker {w["worker"]} unreachable: {w["error"]}"));
        Assert.Equal(new[] { server.Id, worker.Id }.Order(), workers.Select(w => w!["pid"]!.GetValue<int>()).Order());
        Assert.Equal(advertised, workers.Single(w => w!["pid"]!.GetValue<int>() == worker.Id)!["address"]!.GetValue<string>());
        var byWorker = workers.ToDictionary(w => w!["worker"]!.GetValue<string>(), w => cluster.Processes.Single(p => p.Id == w!["pid"]!.GetValue<int>()));
        foreach (var p in view["partitions"]!.AsArray())
        {
            int partition = p!["partition"]!.GetValue<int>();
            var owner = byWorker[p["worker"]!.GetValue<string>()];
            Assert.True(owner.OwnedAt(now).Contains(partition), $"the view puts partition {partition} on {owner.Name}, whose log says {string.Join(",", owner.OwnedAt(now))}");
        }
        Assert.Empty(view["unowned"]!.AsArray());
        Assert.Contains(view["rebalances"]!.AsArray(), r => byWorker[r!["worker"]!.GetValue<string>()] == server && r["kind"]!.GetValue<string>() == "assigned");

        // The server's own part, and its listing.
        var detail = Get(http, $"distributed-jobs/{Job}")!;
        Assert.Equal("RUNNING", detail["job"]!["state"]!.GetValue<string>());
        var here = detail["worker"]!["stages"]![0]!["tasks"]!.AsArray().Select(t => t!["partition"]!.GetValue<int>()).Order().ToList();
        Assert.Equal(server.OwnedAt(clock.Elapsed).ToList(), here);
        Assert.Contains(Get(http, "distributed-jobs")!["jobs"]!.AsArray(), j => j!["name"]!.GetValue<string>() == Job);
        Assert.Contains(Get(http, "worker")!["jobs"]!.AsArray(), j => j!["job"]!.GetValue<string>() == Job);

        // One worker asked directly, no broker: its partitions only, as its log has them.
        (exit, stdout, stderr) = Eddy("status", Job, "--worker", advertised, "--json");
        Assert.True(exit == 0, $"eddy status --worker failed ({exit}): {stderr}");
        var alone = JsonNode.Parse(stdout)!;
        Assert.Equal(worker.OwnedAt(clock.Elapsed).ToList(), alone["partitions"]!.AsArray().Select(p => p!["partition"]!.GetValue<int>()).Order().ToList());
        Assert.Single(alone["workers"]!.AsArray());

        // The server's own status command shows a distributed job whole too.
        (exit, stdout, stderr) = Eddy("status", Job, "--server", address.ToString());
        Assert.True(exit == 0, $"eddy status --server failed ({exit}): {stderr}");
        Assert.Contains($"job '{Job}'", stdout);
        Assert.Contains("distributed: this server runs one worker of it", stdout);
        Assert.Contains("2 worker(s) in 'server_worker-workers'", stdout);
        (exit, stdout, stderr) = Eddy("list", "--server", address.ToString());
        Assert.True(exit == 0, $"eddy list failed ({exit}): {stderr}");
        Assert.Contains(stdout.Split('\n'), l => l.Contains(Job, StringComparison.Ordinal) && l.Contains("RUNNING", StringComparison.Ordinal)
            && l.Contains("partitions on this worker", StringComparison.Ordinal));

        // Cancel the server's job: final checkpoints, it leaves the group, and the worker takes every partition.
        var cancelledAt = clock.Elapsed;
        var handed = server.OwnedAt(cancelledAt);
        (exit, stdout, stderr) = Eddy("cancel", Job, "--server", address.ToString());
        Assert.True(exit == 0, $"eddy cancel failed ({exit}): {stderr}");
        Assert.Contains("CANCELED", stdout);
        Assert.All(handed, p => Assert.True(server.Said($"partition {p}: final checkpoint ", cancelledAt) is not null,
            $"the server's worker stopped partition {p} without a final checkpoint:\n{server.Describe()}"));
        cluster.WaitFor(() => worker.OwnedAt(clock.Elapsed).Count == WorkerTests.Partitions && handed.All(p => worker.Said($"partition {p}: started ", cancelledAt) is not null),
            "the eddy worker runs all 12 partitions after the cancel");
        var ended = Get(http, $"jobs/{Job}")!;
        Assert.Equal("CANCELED", ended["state"]!.GetValue<string>());
        Assert.Equal(0, ended["partitions-owned"]!.GetValue<int>());

        WorkerTests.ProduceChunk(harness, seed: 23, "2024-01-01T12:00:00Z");
        var expected = WorkerTests.Oracle(harness);
        Assert.Equal(3 * WorkerTests.Chunk, expected.Values.Sum());
        cluster.WaitFor(() => Count(table) >= expected.Values.Sum(), $"{expected.Values.Sum()} rows in {table}");
        cluster.Stop(worker);
        Compare(table, expected, WorkerTests.Rows(table), cluster.Processes);
    }

    private static JsonNode? Get(HttpClient http, string path, bool allowUnavailable = false)
    {
        using var response = http.GetAsync(path).GetAwaiter().GetResult();
        string body = response.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        // The whole-job view is unavailable until a worker has announced itself (the directory topic may take the dev broker's timeout).
        if (allowUnavailable && response.StatusCode == HttpStatusCode.ServiceUnavailable) return null;
        Assert.True(response.IsSuccessStatusCode, $"GET /{path}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body);
    }

    private static (int Exit, string Stdout, string Stderr) Eddy(params string[] args)
    {
        using var p = EddyProcess.Start(args);
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) throw new TimeoutException($"eddy {args[0]} did not finish in 3 minutes");
        return (p.ExitCode, stdout.Result, stderr);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
