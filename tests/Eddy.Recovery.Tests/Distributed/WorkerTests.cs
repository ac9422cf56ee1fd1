using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;

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

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    [Fact]
    public void Three_workers_with_one_killed_and_restarted_write_every_event_once()
    {
        using var harness = new RecoveryHarness(log, Partitions, Topic);
        var clock = Stopwatch.StartNew();
        string table = PgServer.UniqueName("lab_pass_through");
        string sql = WriteJob(harness, "worker_kill", table);
        string home = Path.Combine(harness.WorkDir, "home");
        var workers = new List<WorkerProcess>();
        try
        {
            ProduceChunk(harness, seed: 1, "2024-01-01T10:00:00Z");
            workers.AddRange(new[] { "a", "b", "c" }.Select(n => new WorkerProcess(n, sql, home, clock)));
            WaitFor(() => workers.All(w => w.Said("partition") is not null && w.Said("assigned partitions") is not null) && Count(table) > 0,
                "all three workers own partitions and rows arrive", workers);

            // Mid-run: a second chunk is on its way while worker b dies without a checkpoint or a goodbye.
            Exception? produceFailure = null;
            var producing = new Thread(() =>
            {
                try
                {
                    ProduceChunk(harness, seed: 2, "2024-01-01T11:00:00Z");
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException)
                {
                    produceFailure = e;
                }
            });
            producing.Start();
            var killedAt = clock.Elapsed;
            workers[1].KillHard();
            var orphans = workers[1].OwnedAt(killedAt);
            log.WriteLine($"[{killedAt.TotalSeconds:F2} s] worker b killed (SIGKILL) owning partitions {string.Join(",", orphans)}");
            Assert.NotEmpty(orphans);
            producing.Join();
            if (produceFailure is not null) throw produceFailure;
            // The survivors take b's partitions over once its session expires, from their last completed checkpoints.
            TimeSpan? Resumed(int p) => workers.Where(w => w.Name != "b").Select(w => w.Said($"partition {p}: started ", killedAt)).Where(t => t is not null).Min();
            WaitFor(() => orphans.All(p => Resumed(p) is not null), "the surviving workers take over every partition of b", workers);
            var takenOver = orphans.Max(p => Resumed(p)!.Value);
            log.WriteLine($"failover: {(takenOver - killedAt).TotalSeconds:F2} s from SIGKILL to the last of b's partitions running again on a survivor "
                + "(session.timeout.ms = 6000)");

            // b comes back later and gets a share again (cooperative: only the partitions that move are touched).
            var restartedAt = clock.Elapsed;
            workers[1].Dispose();
            workers[1] = new WorkerProcess("b", sql, home, clock);
            WaitFor(() => workers[1].Said("assigned partitions") is not null && workers[1].Said(": started ") is not null, "the restarted worker b owns partitions", workers);
            ProduceChunk(harness, seed: 3, "2024-01-01T12:00:00Z");

            var expected = Oracle(harness);
            Assert.Equal(3 * Chunk, expected.Values.Sum());
            WaitFor(() => Count(table) >= expected.Values.Sum(), $"{expected.Values.Sum()} rows in {table}", workers);
            foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            Compare(table, expected, workers);
            log.WriteLine($"restart of b at {restartedAt.TotalSeconds:F2} s; " + string.Join("; ", workers.Select(w => $"{w.Name}: {w.Lines.Count(l => l.Line.Contains(": started ", StringComparison.Ordinal))} partition starts")));
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
    }

    [Fact]
    public void Rescaling_from_one_to_three_to_two_workers_writes_every_event_once()
    {
        using var harness = new RecoveryHarness(log, Partitions, Topic);
        var clock = Stopwatch.StartNew();
        string table = PgServer.UniqueName("lab_pass_through");
        string sql = WriteJob(harness, "worker_rescale", table);
        string home = Path.Combine(harness.WorkDir, "home");
        var workers = new List<WorkerProcess>();
        try
        {
            ProduceChunk(harness, seed: 4, "2024-01-01T10:00:00Z");
            workers.Add(new WorkerProcess("a", sql, home, clock));
            WaitFor(() => workers[0].Said("assigned partitions") is not null && Count(table) > 0, "worker a alone owns every partition", workers);

            // 1 → 3: two workers join; a hands over only what moves, each after a final checkpoint.
            var joined = clock.Elapsed;
            workers.Add(new WorkerProcess("b", sql, home, clock));
            workers.Add(new WorkerProcess("c", sql, home, clock));
            ProduceChunk(harness, seed: 5, "2024-01-01T11:00:00Z");
            WaitFor(() => workers.Skip(1).All(w => w.Said(": started ") is not null) && workers[0].Said("final checkpoint", joined) is not null,
                "b and c own partitions, a handed them over after final checkpoints", workers);

            // 3 → 2: c stops gracefully (final checkpoints, then it leaves the group).
            Assert.True(workers[2].Stop(TimeSpan.FromMinutes(2)) == 0, "worker c did not stop cleanly:\n" + workers[2].Describe());
            var left = workers[2].Lines[^1].At;
            ProduceChunk(harness, seed: 6, "2024-01-01T12:00:00Z");
            WaitFor(() => workers.Take(2).Any(w => w.Said(": started ", left) is not null), "a or b takes over c's partitions", workers);

            var expected = Oracle(harness);
            Assert.Equal(3 * Chunk, expected.Values.Sum());
            WaitFor(() => Count(table) >= expected.Values.Sum(), $"{expected.Values.Sum()} rows in {table}", workers);
            foreach (var w in workers.Take(2)) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            Assert.Contains(workers[0].Lines, l => l.Line.Contains("revoked partitions", StringComparison.Ordinal));
            Compare(table, expected, workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
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
    internal static Dictionary<string, int> Oracle(RecoveryHarness harness)
    {
        var expected = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (_, _, value) in harness.ReadTopicRecords(Topic, readCommitted: false))
        {
            using var doc = JsonDocument.Parse(value);
            var e = doc.RootElement;
            var time = DateTime.ParseExact(e.GetProperty("event_time").GetString()!, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
            string key = Key(e.GetProperty("ip").GetString(), time, e.GetProperty("referrer").GetString(), e.GetProperty("host").GetString(),
                e.GetProperty("url").GetString());
            expected[key] = expected.GetValueOrDefault(key) + 1;
        }
        return expected;
    }

    private static string Key(string? ip, DateTime time, string? referrer, string? host, string? url) =>
        string.Join('\u0001', ip ?? "\u0000", time.Ticks.ToString(CultureInfo.InvariantCulture), referrer ?? "\u0000", host ?? "\u0000", url ?? "\u0000");

    internal static long Count(string table)
    {
        try
        {
            return (long)PgServer.Query($"SELECT count(*) FROM {table}")[0][0]!;
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01")
        {
            return 0; // not created yet
        }
    }

    internal static void Compare(string table, Dictionary<string, int> expected, List<WorkerProcess> workers)
    {
        var actual = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var r in PgServer.Query($"SELECT ip, event_timestamp, referrer, host, url FROM {table}"))
        {
            string key = Key((string?)r[0], (DateTime)r[1]!, (string?)r[2], (string?)r[3], (string?)r[4]);
            actual[key] = actual.GetValueOrDefault(key) + 1;
        }
        int missing = expected.Sum(e => Math.Max(0, e.Value - actual.GetValueOrDefault(e.Key)));
        int doubled = actual.Sum(a => Math.Max(0, a.Value - expected.GetValueOrDefault(a.Key)));
        string all = string.Join("\n", workers.Select(w => w.Describe(40)));
        Assert.True(missing == 0 && doubled == 0,
            $"{table}: {missing} events missing, {doubled} rows extra or doubled ({actual.Values.Sum()} rows for {expected.Values.Sum()} events)\n{all}");
    }

    private void WaitFor(Func<bool> condition, string what, List<WorkerProcess> workers) => WaitFor(log, condition, what, workers);

    internal static void WaitFor(ITestOutputHelper log, Func<bool> condition, string what, List<WorkerProcess> workers)
    {
        var waited = Stopwatch.StartNew();
        while (!condition())
        {
            var dead = workers.FirstOrDefault(w => w.HasExited && !w.Ended);
            if (dead is not null)
                Assert.Fail($"waiting for {what}: worker {dead.Name} exited on its own\n{dead.Describe(60)}");
            if (waited.Elapsed > Deadline)
                Assert.Fail($"waited {Deadline.TotalMinutes} min for {what}\n{string.Join("\n", workers.Select(w => w.Describe(40)))}");
            Thread.Sleep(250);
        }
        log.WriteLine($"{what}: after {waited.Elapsed.TotalSeconds:F1} s");
    }
}
