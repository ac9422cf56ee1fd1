using System.Globalization;
using System.Text.Json;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy worker</c> processes sharing the lab's pass-through job (a 12-partition topic of lab events → PostgreSQL,
/// exactly-once) through one consumer group, while workers are killed with SIGKILL, started again, added and stopped.
/// The table must equal the oracle computed from the events in the topic: every event once, none missing, none doubled.
/// </summary>
public sealed class WorkerTests(ITestOutputHelper log)
{
    internal const int Partitions = 12;
    internal const string Topic = "labevents";

    /// <summary>Three chunks of lab events (about 300 bytes each): well under the dev broker's 5 MB per partition.</summary>
    internal const int Chunk = 8_000;

    [Fact]
    public void Three_workers_with_one_killed_and_restarted_write_every_event_once()
    {
        using var harness = new RecoveryHarness(log, Partitions, Topic);
        string table = PgServer.UniqueName("lab_pass_through");
        using var workers = new WorkerCluster(log, harness, WriteJob(harness, "worker_kill", table));
        ProduceChunk(harness, seed: 1, "2024-01-01T10:00:00Z");
        workers.StartAll("a", "b", "c");
        workers.WaitFor(() => workers.Processes.All(w => w.Said("partition") is not null && w.Said("assigned partitions") is not null) && Count(table) > 0,
            "all three workers own partitions and rows arrive");

        // Mid-run: a second chunk is on its way while worker b dies without a checkpoint or a goodbye; the survivors take
        // its partitions over once its session expires, from their last completed checkpoints.
        var kill = workers.KillWhileProducing(1, stages: null, () => ProduceChunk(harness, seed: 2, "2024-01-01T11:00:00Z"));
        Assert.NotEmpty(kill.Orphans.Single().Value);
        workers.WaitTakenOver(kill);

        // b comes back later and gets a share again (cooperative: only the partitions that move are touched).
        var restartedAt = workers.Clock.Elapsed;
        var b = workers.Restart(kill.Victim);
        workers.WaitFor(() => b.Said("assigned partitions") is not null && b.Said(": started ") is not null, "the restarted worker b owns partitions");
        ProduceChunk(harness, seed: 3, "2024-01-01T12:00:00Z");

        var expected = Oracle(harness);
        Assert.Equal(3 * Chunk, expected.Values.Sum());
        workers.Settle(() => Count(table) >= expected.Values.Sum(), $"{expected.Values.Sum()} rows in {table}");
        workers.StopAll();
        Compare(table, expected, Rows(table), workers.Processes);
        log.WriteLine($"restart of b at {restartedAt.TotalSeconds:F2} s; "
            + string.Join("; ", workers.Processes.Select(w => $"{w.Name}: {w.Lines.Count(l => l.Line.Contains(": started ", StringComparison.Ordinal))} partition starts")));
    }

    [Fact]
    public void Rescaling_from_one_to_three_to_two_workers_writes_every_event_once()
    {
        using var harness = new RecoveryHarness(log, Partitions, Topic);
        string table = PgServer.UniqueName("lab_pass_through");
        using var workers = new WorkerCluster(log, harness, WriteJob(harness, "worker_rescale", table));
        ProduceChunk(harness, seed: 4, "2024-01-01T10:00:00Z");
        var a = workers.Start("a");
        workers.WaitFor(() => a.Said("assigned partitions") is not null && Count(table) > 0, "worker a alone owns every partition");

        // 1 → 3: two workers join; a hands over only what moves, each after a final checkpoint.
        var joined = workers.Clock.Elapsed;
        workers.StartAll("b", "c");
        ProduceChunk(harness, seed: 5, "2024-01-01T11:00:00Z");
        workers.WaitFor(() => workers.Processes.Skip(1).All(w => w.Said(": started ") is not null) && a.Said("final checkpoint", joined) is not null,
            "b and c own partitions, a handed them over after final checkpoints");

        // 3 → 2: c stops gracefully (final checkpoints, then it leaves the group).
        workers.Stop(workers[2]);
        var left = workers[2].Lines[^1].At;
        ProduceChunk(harness, seed: 6, "2024-01-01T12:00:00Z");
        workers.WaitFor(() => workers.Processes.Take(2).Any(w => w.Said(": started ", left) is not null), "a or b takes over c's partitions");

        var expected = Oracle(harness);
        Assert.Equal(3 * Chunk, expected.Values.Sum());
        workers.Settle(() => Count(table) >= expected.Values.Sum(), $"{expected.Values.Sum()} rows in {table}");
        workers.StopAll();
        Assert.Contains(a.Lines, l => l.Line.Contains("revoked partitions", StringComparison.Ordinal));
        Compare(table, expected, Rows(table), workers.Processes);
    }

    /// <summary>The lab's Day 1 job (examples/postgres/01-pass-through-geo.sql without the geolocation) over the test topic.</summary>
    internal static string WriteJob(RecoveryHarness harness, string name, string table, string extraStatements = "")
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        string file = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(file, $"""
            SET 'pipeline.name' = '{name}';
            SET 'execution.checkpointing.interval' = '1 s';
            {extraStatements}
            CREATE TABLE events (
                url VARCHAR,
                referrer VARCHAR,
                user_agent VARCHAR,
                host VARCHAR,
                ip VARCHAR,
                headers VARCHAR,
                event_time VARCHAR,
                event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')
            ) WITH (
                'connector' = 'kafka',
                'topic' = '{Topic}',
                'properties.bootstrap.servers' = '{harness.Bootstrap}',
                'properties.group.id' = '{name}-source',
                'properties.session.timeout.ms' = '6000',
                'properties.heartbeat.interval.ms' = '1000',
                'scan.startup.mode' = 'earliest-offset',
                'format' = 'json'
            );

            CREATE TABLE processed_events (
                ip VARCHAR,
                event_timestamp TIMESTAMP(3),
                referrer VARCHAR,
                host VARCHAR,
                url VARCHAR
            ) WITH (
                'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{table}', 'sink.create-table' = 'true'
            );

            INSERT INTO processed_events
            SELECT ip, event_timestamp, referrer, host, url
            FROM events;
            """);
        return file;
    }

    internal static void ProduceChunk(RecoveryHarness harness, int seed, string start)
    {
        using var p = EddyProcess.Start("produce", "--bootstrap", harness.Bootstrap, "--topic", Topic, "--events", "web-traffic",
            "--count", Chunk.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture), "--start", start);
        var stdout = p.StandardOutput.ReadToEndAsync();
        string stderr = p.StandardError.ReadToEnd();
        if (!p.WaitForExit(TimeSpan.FromMinutes(3))) throw new TimeoutException("eddy produce did not finish in 3 minutes");
        if (p.ExitCode != 0) throw new InvalidOperationException($"eddy produce failed ({p.ExitCode}): {stderr}{stdout.Result}");
    }

    /// <summary>Each row the job must write, with how often: computed from the events in the topic (read back with a bare consumer).</summary>
    internal static Dictionary<string, long> Oracle(RecoveryHarness harness) => Counts(harness.ReadTopicRecords(Topic, readCommitted: false).Select(r =>
    {
        using var doc = JsonDocument.Parse(r.Value);
        var e = doc.RootElement;
        var time = DateTime.ParseExact(e.GetProperty("event_time").GetString()!, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        return Key(e.GetProperty("ip").GetString(), time, e.GetProperty("referrer").GetString(), e.GetProperty("host").GetString(), e.GetProperty("url").GetString());
    }));

    /// <summary>The rows the job wrote, keyed as <see cref="Oracle"/> keys the events.</summary>
    internal static Dictionary<string, long> Rows(string table) => Counts(PgServer.Query($"SELECT ip, event_timestamp, referrer, host, url FROM {table}")
        .Select(r => Key((string?)r[0], (DateTime)r[1]!, (string?)r[2], (string?)r[3], (string?)r[4])));

    private static string Key(string? ip, DateTime time, string? referrer, string? host, string? url) =>
        string.Join('\u0001', ip ?? "\u0000", time.Ticks.ToString(CultureInfo.InvariantCulture), referrer ?? "\u0000", host ?? "\u0000", url ?? "\u0000");
}
