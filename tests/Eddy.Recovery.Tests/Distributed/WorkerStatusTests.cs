using System.Globalization;
using System.Text.Json.Nodes;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy status JOB --bootstrap-servers ...</c> over two real <c>eddy worker</c> processes: it finds both through the
/// job's directory topic, and its view of the whole job agrees with what the workers did (their own log lines say which
/// partitions each owns) and with the broker (each partition's end offset is the topic's high watermark, read here with
/// a bare consumer). After a SIGKILL the dead worker is shown unreachable and, once the group moved them, its
/// partitions under the survivor; after a graceful stop the worker is gone from the directory.
/// </summary>
public sealed class WorkerStatusTests(ITestOutputHelper log)
{
    [Fact]
    public void Status_shows_the_workers_partitions_lag_checkpoints_and_rebalances_of_the_whole_job()
    {
        using var harness = new RecoveryHarness(log, WorkerTests.Partitions, WorkerTests.Topic);
        string table = PgServer.UniqueName("lab_pass_through_status");
        const string Job = "worker_status";
        using var cluster = new WorkerCluster(log, harness, WorkerTests.WriteJob(harness, Job, table));
        var workers = cluster.Processes;
        WorkerTests.ProduceChunk(harness, seed: 11, "2024-01-01T10:00:00Z");
        cluster.StartAll("a", "b");
        cluster.WaitFor(() => workers.All(w => w.Said("assigned partitions") is not null) && Count(table) >= WorkerTests.Chunk,
            "both workers own partitions and every row arrived");

        // Every partition caught up in its last checkpoint: lag 0 against the broker's end offset.
        var marks = harness.Watermarks(WorkerTests.Topic);
        JsonNode view = null!;
        cluster.WaitFor(() =>
        {
            // A worker announces itself once the directory topic exists; on the dev broker (no CreateTopics) that can
            // take the broker's timeout, so "none announced yet" is a state to wait through, not a failure.
            if (TryStatus(harness, Job) is not { } current) return false;
            view = current;
            var parts = view["partitions"]!.AsArray();
            return parts.Count == WorkerTests.Partitions && parts.All(p => p!["lag"]?.GetValue<long>() == 0 && p["last-checkpoint"] is not null);
        }, "eddy status shows all 12 partitions checkpointed with lag 0");
        var now = cluster.Clock.Elapsed;
        var byPid = workers.ToDictionary(w => w.Id);
        var listed = view["workers"]!.AsArray();
        Assert.Equal(2, listed.Count);
        Assert.All(listed, w => Assert.True(w!["reachable"]!.GetValue<bool>(), $"worker {w["worker"]} unreachable: {w["error"]}"));
        Assert.Equal(workers.Select(w => w.Id).Order(), listed.Select(w => w!["pid"]!.GetValue<int>()).Order());
        var workerPid = listed.ToDictionary(w => w!["worker"]!.GetValue<string>(), w => w!["pid"]!.GetValue<int>());
        var partitions = view["partitions"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, WorkerTests.Partitions), partitions.Select(p => p!["partition"]!.GetValue<int>()).Order());
        foreach (var p in partitions)
        {
            int partition = p!["partition"]!.GetValue<int>();
            var owner = byPid[workerPid[p["worker"]!.GetValue<string>()]];
            Assert.True(owner.OwnedAt(now).Contains(partition), $"status puts partition {partition} on worker {owner.Name}, whose log says it owns {string.Join(",", owner.OwnedAt(now))}");
            Assert.Equal(0, p["stage"]!.GetValue<int>());
            Assert.Equal(marks[partition].High, p["end-offset"]!.GetValue<long>());
            Assert.Equal(marks[partition].High, p["checkpointed-offset"]!.GetValue<long>());
        }
        Assert.Empty(view["unowned"]!.AsArray());
        foreach (var w in workers)
        {
            string id = workerPid.Single(kv => kv.Value == w.Id).Key;
            var seen = view["rebalances"]!.AsArray().Where(r => r!["worker"]!.GetValue<string>() == id).ToList();
            Assert.True(seen.Any(r => r!["kind"]!.GetValue<string>() == "assigned" && r["duration-ms"]!.GetValue<long>() >= 0),
                $"no assignment among worker {w.Name}'s rebalances: {string.Join("; ", seen.Select(r => r!.ToJsonString()))}");
        }
        // The text form names each worker and partition too.
        string text = StatusText(harness, Job);
        Assert.Contains("2 worker(s) in 'worker_status-workers'", text);
        Assert.Contains("LAST CHECKPOINT", text);

        // b dies: shown unreachable; once the group moved its partitions, a owns all twelve.
        var killedAt = cluster.Clock.Elapsed;
        var orphans = workers[1].OwnedAt(killedAt);
        workers[1].KillHard();
        cluster.WaitFor(() => orphans.All(p => workers[0].Said($"partition {p}: started ", killedAt) is not null), "worker a takes over b's partitions");
        view = Status(harness, Job);
        string bId = workerPid.Single(kv => kv.Value == workers[1].Id).Key;
        var b = view["workers"]!.AsArray().Single(w => w!["worker"]!.GetValue<string>() == bId)!;
        Assert.False(b["reachable"]!.GetValue<bool>());
        Assert.Equal(Enumerable.Range(0, WorkerTests.Partitions), view["partitions"]!.AsArray().Select(p => p!["partition"]!.GetValue<int>()).Order());
        Assert.All(view["partitions"]!.AsArray(), p => Assert.Equal(workers[0].Id, workerPid[p!["worker"]!.GetValue<string>()]));

        // a stops gracefully: it leaves the directory (b's entry stays, unreachable: a SIGKILL leaves no goodbye).
        cluster.Stop(workers[0]);
        view = Status(harness, Job);
        Assert.Equal([bId], view["workers"]!.AsArray().Select(w => w!["worker"]!.GetValue<string>()));
        Assert.Equal(Enumerable.Range(0, WorkerTests.Partitions), view["unowned"]!.AsArray().Select(u => u!["partition"]!.GetValue<int>()).Order());
    }

    private static JsonNode Status(RecoveryHarness harness, string job) => JsonNode.Parse(Run(harness, job, "--json"))!;

    private static JsonNode? TryStatus(RecoveryHarness harness, string job)
    {
        var (exit, stdout, stderr) = Exec(harness, job, "--json");
        if (exit != 0 && stderr.Contains("is announced", StringComparison.Ordinal)) return null;
        Assert.True(exit == 0, $"eddy status failed ({exit.ToString(CultureInfo.InvariantCulture)}): {stderr}");
        return JsonNode.Parse(stdout)!;
    }

    private static string StatusText(RecoveryHarness harness, string job) => Run(harness, job);

    private static string Run(RecoveryHarness harness, string job, params string[] extra)
    {
        var (exit, stdout, stderr) = Exec(harness, job, extra);
        Assert.True(exit == 0, $"eddy status failed ({exit.ToString(CultureInfo.InvariantCulture)}): {stderr}");
        return stdout;
    }

    private static (int Exit, string Stdout, string Stderr) Exec(RecoveryHarness harness, string job, params string[] extra)
    {
        using var p = EddyProcess.Start(["status", job, "--bootstrap-servers", harness.Bootstrap, .. extra]);
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(1))) throw new TimeoutException("eddy status did not finish in a minute");
        return (p.ExitCode, stdout.Result, stderr);
    }
}
