using Eddy.Connectors.Postgres.Tests;
using Eddy.Runtime;
using Eddy.Tests.Checkpoints;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// Two <c>eddy worker</c> processes whose shared checkpoint storage is an S3-compatible store (the s3rver stand-in,
/// <c>--checkpoint-dir s3://…</c>): one is killed with SIGKILL mid-run and the other resumes its partitions from the
/// checkpoints it reads back from the store. The PostgreSQL table must equal the oracle computed from the events in the
/// topic (every event once), and no checkpoint of the job may land on the local disk.
/// </summary>
public sealed class S3WorkerTests(ITestOutputHelper log)
{
    [Fact]
    public void A_killed_workers_partitions_resume_from_s3_on_the_other_worker_exactly_once()
    {
        var store = S3StandIn.Instance;
        using var harness = new RecoveryHarness(log, WorkerTests.Partitions, WorkerTests.Topic);
        string table = PgServer.UniqueName("lab_pass_through_s3");
        string location = S3StandIn.NewLocation("workers");
        // The store's endpoint and keys as SQL SETs; the location on the command line, as the deployment gives it.
        using var workers = new WorkerCluster(log, harness, WorkerTests.WriteJob(harness, "worker_s3", table, store.SetStatements()));
        WorkerTests.ProduceChunk(harness, seed: 7, "2024-01-01T10:00:00Z");
        workers.Start("a", "--checkpoint-dir", location);
        workers.Start("b", "--checkpoint-dir", location);
        // b has completed checkpoints in the store before it dies, so that its successor restores rather than starts afresh.
        workers.WaitFor(() => workers.Processes.All(w => w.Said("assigned partitions") is not null) && Count(table) > 0
            && workers[1].OwnedAt(workers.Clock.Elapsed).Any(p => StoredCheckpoints(location, p).Count > 0),
            "both workers own partitions, rows arrive, and b's partitions have checkpoints in the store");

        var killedAt = workers.Clock.Elapsed;
        var orphans = workers[1].OwnedAt(killedAt);
        workers[1].KillHard();
        log.WriteLine($"[{killedAt.TotalSeconds:F2} s] worker b killed (SIGKILL) owning partitions {string.Join(",", orphans)}");
        Assert.NotEmpty(orphans);
        WorkerTests.ProduceChunk(harness, seed: 8, "2024-01-01T11:00:00Z");

        TimeSpan? Resumed(int p) => workers[0].Said($"partition {p}: started ", killedAt);
        workers.WaitFor(() => orphans.All(p => Resumed(p) is not null), "worker a takes over every partition of b");
        // At least one of b's partitions came back from a checkpoint read from the store (named by its s3:// location).
        var fromStore = orphans.Where(p => workers[0].Lines.Any(l => l.At >= killedAt
            && l.Line.Contains($"partition {p}: started from checkpoint ", StringComparison.Ordinal)
            && l.Line.Contains($"({location}/worker_s3/stage-0/partition-{p}/chk-", StringComparison.Ordinal))).ToList();
        Assert.True(fromStore.Count > 0, $"none of b's partitions {string.Join(",", orphans)} resumed from a checkpoint in {location}\n{workers[0].Describe(60)}");

        var expected = WorkerTests.Oracle(harness);
        Assert.Equal(2 * WorkerTests.Chunk, expected.Values.Sum());
        workers.WaitFor(() => Count(table) >= expected.Values.Sum(), $"{expected.Values.Sum()} rows in {table}");
        workers.Stop(workers[0]);
        Compare(table, expected, WorkerTests.Rows(table), workers.Processes);

        // Every partition's checkpoints are in the store (a's final ones on SIGTERM), none on the local disk.
        var without = Enumerable.Range(0, WorkerTests.Partitions).Where(p => StoredCheckpoints(location, p).Count == 0).ToList();
        Assert.True(without.Count == 0, $"partitions {string.Join(",", without)} have no checkpoint under {location}");
        var local = Directory.Exists(workers.Home) ? Directory.GetDirectories(workers.Home, "chk-*", SearchOption.AllDirectories) : [];
        Assert.True(local.Length == 0, $"checkpoints on the local disk: {string.Join(", ", local.Take(3))}");
    }

    /// <summary>The completed checkpoints of partition <paramref name="partition"/>'s task in the store.</summary>
    private static IReadOnlyList<long> StoredCheckpoints(string location, int partition) =>
        CheckpointStorages.Open(CheckpointStorages.Combine(location, "worker_s3", "stage-0", $"partition-{partition}"), S3StandIn.Instance.Settings).List();
}
