using System.Globalization;
using Eddy.Connectors.Postgres.Tests;
using Eddy.Runtime;
using Eddy.Tests.Checkpoints;
using Xunit.Abstractions;

namespace Eddy.Recovery.Tests;

/// <summary>
/// A single-process job checkpointing into an S3-compatible store (the s3rver stand-in): Kafka (dev broker) → a
/// windowed count per bucket and a copy → PostgreSQL exactly-once, run by <c>eddy run</c> with
/// <c>execution.checkpointing.dir = 's3://…'</c>, killed with SIGKILL (after a checkpoint was stored, during a sink
/// commit, at a random moment), restarted from the checkpoint it reads back from the store, and compared with the
/// windows and rows LINQ computes from the generated input. Nothing of the job's checkpoints is on the local disk.
/// </summary>
public sealed class S3CheckpointRecoveryTests(ITestOutputHelper log)
{
    private const int Partitions = 16;
    private const int Buckets = 5;
    private const long WindowMs = 10_000;
    private static readonly DateTime Base = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static int EventCount =>
        int.TryParse(Environment.GetEnvironmentVariable("EDDY_RECOVERY_S3_EVENTS"), out int n) && n > 0 ? n : 400_000;

    private readonly record struct Event(long Id, int Bucket, long Time);

    [Fact]
    public void A_windowed_exactly_once_job_restores_from_s3_after_kills()
    {
        long seed = long.TryParse(Environment.GetEnvironmentVariable("EDDY_RECOVERY_SEED"), out long s) ? s : Random.Shared.NextInt64(1, 1_000_000);
        int count = EventCount;
        log.WriteLine($"{count} events, seed {seed} (replay with EDDY_RECOVERY_SEED={seed})");
        var rng = new Random((int)(seed % int.MaxValue));
        var store = S3StandIn.Instance;

        using var harness = new RecoveryHarness(log, Partitions, "events");
        var events = new List<Event>(count);
        for (int i = 0; i < count; i++) events.Add(new Event(i, rng.Next(Buckets), Math.Max(0, i - rng.Next(0, 2000))));
        harness.Produce("events", events.Select(e => $"{{\"id\":{e.Id},\"bucket\":{e.Bucket},\"event_time\":\"{TimeText(e.Time)}\"}}"));
        var marks = harness.Watermarks("events");
        long inTopic = marks.Values.Sum(m => m.High - m.Low);
        Assert.True(inTopic == count && marks.Values.All(m => m.Low == 0), $"the input topic holds {inTopic} of {count} records after eddy produce");

        string name = $"recovery_s3_{seed}";
        string location = S3StandIn.NewLocation(name);
        string copied = PgServer.UniqueName("s3copied"), counts = PgServer.UniqueName("s3counts");
        string sqlFile = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(sqlFile, JobSql(name, harness.Bootstrap, store, location, copied, counts));

        var plans = new List<KillPlan>
        {
            // Early in each run (its first checkpoints), so that the input outlasts the schedule on an idle machine.
            KillPlan.AtFaultPoint("checkpoint-stored:1"),
            KillPlan.AtFaultPoint("sink-commit:1"),
            KillPlan.TimedAfterStart(TimeSpan.FromMilliseconds(rng.Next(500, 1500))),
            KillPlan.AtFaultPoint("checkpoint-acknowledged:" + rng.Next(1, 3)),
            // Reached only by a run that gets to the end of its input: the rest must wait for the final checkpoint.
            KillPlan.AtFaultPoint("sink-end-of-input:1"),
        };
        int kills = 0;
        var outcomes = new List<RunOutcome>();
        foreach (var plan in plans)
        {
            var outcome = harness.Run(sqlFile, plan, TimeSpan.FromMinutes(4));
            outcomes.Add(outcome);
            if (outcome.Killed) kills++;
            else if (outcome.ExitCode == 0) break;
            else Assert.Fail($"the job failed instead of being killed ({plan.Description}):\n{RunOutcome.Describe(outcomes, 40)}");
        }
        if (outcomes[^1].Killed || outcomes[^1].ExitCode != 0) outcomes.Add(harness.Run(sqlFile, KillPlan.None, TimeSpan.FromMinutes(6)));
        string runs = $"seed {seed}; runs:\n" + RunOutcome.Describe(outcomes);
        log.WriteLine(runs);
        Assert.True(outcomes[^1].ExitCode == 0, "the final run did not finish:\n" + RunOutcome.Describe(outcomes, 40));
        Assert.True(kills >= 2, $"only {kills} runs were killed before the job finished: the input is too small for the schedule\n{runs}");
        // Resumed from the store, and said so with the checkpoint's s3:// location.
        Assert.True(outcomes.Any(o => o.FirstLine.Contains("resumes from checkpoint", StringComparison.Ordinal)
            && o.FirstLine.Contains(location + "/chk-", StringComparison.Ordinal)), $"no run resumed from a checkpoint in {location}\n{runs}");

        // Every window once with its count, every event once: computed from the generated events.
        var expected = events.GroupBy(e => (Start: e.Time - e.Time % WindowMs, e.Bucket)).ToDictionary(g => g.Key, g => (long)g.Count());
        var windows = PgServer.Query($"SELECT window_start, bucket, hits FROM {counts}")
            .Select(r => (Key: ((long)((DateTime)r[0]! - Base).TotalMilliseconds, (int)r[1]!), Hits: (long)r[2]!)).ToList();
        var doubled = windows.GroupBy(w => w.Key).Where(g => g.Count() > 1).Select(g => g.Key).Take(3).ToList();
        Assert.True(doubled.Count == 0, $"{counts}: windows written more than once, e.g. {string.Join(", ", doubled)}\n{runs}");
        var got = windows.ToDictionary(w => w.Key, w => w.Hits);
        var missing = expected.Keys.Where(k => !got.ContainsKey(k)).Take(3).ToList();
        Assert.True(missing.Count == 0, $"{counts}: {expected.Count - got.Count} windows missing, e.g. {string.Join(", ", missing)}\n{runs}");
        var wrong = expected.Where(kv => got[kv.Key] != kv.Value).Take(3).Select(kv => $"{kv.Key}: {got[kv.Key]}, expected {kv.Value}").ToList();
        Assert.True(wrong.Count == 0, $"{counts}: wrong counts, e.g. {string.Join("; ", wrong)}\n{runs}");
        Assert.True(got.Count == expected.Count, $"{counts}: {got.Count} windows, expected {expected.Count}\n{runs}");
        var ids = PgServer.Query($"SELECT id, bucket FROM {copied}").Select(r => ((long)r[0]!, (int)r[1]!)).ToList();
        Assert.True(ids.Count == count && ids.Distinct().Count() == count && ids.All(x => x.Item1 < count && events[(int)x.Item1].Bucket == x.Item2),
            $"{copied}: {ids.Count} rows, {ids.Select(x => x.Item1).Distinct().Count()} distinct ids, for {count} events\n{runs}");

        // The checkpoints are in the store (the newest ones retained), none on the local disk. Old checkpoints are
        // removed after a new one is stored, so a kill between the two leaves one more until the next checkpoint
        // completes (as Flink subsumes old checkpoints only when a new one completes); the last run may finish
        // without completing one.
        var stored = CheckpointStorages.Open(location, store.Settings).List();
        Assert.True(stored.Count is >= 1 and <= 3, $"{location} holds checkpoints [{string.Join(", ", stored)}], expected at most num-retained (2) + 1\n{runs}");
        string localCheckpoints = Path.Combine(harness.WorkDir, "home", "jobs", name, "checkpoints");
        Assert.False(Directory.Exists(localCheckpoints), $"{localCheckpoints} exists: checkpoints went to the local disk");
    }

    private static string TimeText(long ms) => Base.AddMilliseconds(ms).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static string JobSql(string name, string bootstrap, S3StandIn store, string location, string copied, string counts)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        return $"""
            SET 'pipeline.name' = '{name}';
            SET 'execution.checkpointing.interval' = '500 ms';
            SET 'execution.checkpointing.dir' = '{location}';
            SET 'state.checkpoints.num-retained' = '2';
            SET 'parallelism.default' = '2';
            {store.SetStatements()}
            CREATE TABLE events (
                id BIGINT,
                bucket INT,
                event_time VARCHAR,
                ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
            ) WITH (
                'connector' = 'kafka',
                'topic' = 'events',
                'properties.bootstrap.servers' = '{bootstrap}',
                'properties.group.id' = '{name}',
                'scan.startup.mode' = 'earliest-offset',
                'scan.bounded.mode' = 'latest-offset',
                'format' = 'json'
            );

            CREATE TABLE copied (id BIGINT, bucket INT) WITH (
                'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{copied}',
                'sink.create-table' = 'true', 'sink.delivery-guarantee' = 'exactly-once'
            );

            CREATE TABLE counts (window_start TIMESTAMP(3), bucket INT, hits BIGINT) WITH (
                'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{counts}',
                'sink.create-table' = 'true', 'sink.delivery-guarantee' = 'exactly-once'
            );

            EXECUTE STATEMENT SET BEGIN
                INSERT INTO copied SELECT id, bucket FROM events;
                INSERT INTO counts
                SELECT window_start, bucket, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '{WindowMs / 1000}' SECOND))
                GROUP BY window_start, window_end, bucket;
            END;
            """;
    }
}
