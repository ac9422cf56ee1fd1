using System.Globalization;
using System.Text.Json;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;

namespace Eddy.Recovery.Tests;

/// <summary>
/// Kafka (dev broker) → a copying job, a windowed count and a filtered echo → PostgreSQL and Kafka sinks, run by
/// <c>eddy run</c> and killed with SIGKILL again and again (at random moments, during a checkpoint, during a sink
/// commit), then compared with an oracle computed from the input. The seed and every kill point are printed so
/// that a failure can be replayed (EDDY_RECOVERY_SEED).
/// </summary>
public sealed class ExactlyOnceTests(ITestOutputHelper log)
{
    private const int Partitions = 32;
    private const int Buckets = 7;
    private const long WindowMs = 10_000;
    private static readonly DateTime Base = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static int EventCount =>
        int.TryParse(Environment.GetEnvironmentVariable("EDDY_RECOVERY_EVENTS"), out int n) && n > 0 ? n : 1_000_000;

    [Fact]
    public void Exactly_once_survives_repeated_kills() => Scenario("exactly-once");

    [Fact]
    public void At_least_once_loses_nothing_across_kills() => Scenario("at-least-once");

    private void Scenario(string guarantee)
    {
        long seed = long.TryParse(Environment.GetEnvironmentVariable("EDDY_RECOVERY_SEED"), out long s) ? s : Random.Shared.NextInt64(1, 1_000_000);
        int count = EventCount;
        log.WriteLine($"guarantee {guarantee}, {count} events, seed {seed} (replay with EDDY_RECOVERY_SEED={seed})");
        var rng = new Random((int)(seed % int.MaxValue));

        using var harness = new RecoveryHarness(log, Partitions, "events", "echoed");
        var events = Generate(count, rng);
        harness.Produce("events", events.Select(e => $"{{\"id\":{e.Id},\"bucket\":{e.Bucket},\"event_time\":\"{TimeText(e)}\"}}"));
        // The oracle is the generated list: the topic must hold all of it, or a loss would be blamed on the job.
        var marks = harness.Watermarks("events");
        log.WriteLine("input partitions (first..end offset): " + string.Join(", ", marks.OrderBy(m => m.Key).Select(m => $"{m.Key}: {m.Value.Low}..{m.Value.High}")));
        long inTopic = marks.Values.Sum(m => m.High - m.Low);
        Assert.True(inTopic == count && marks.Values.All(m => m.Low == 0),
            $"the input topic holds {inTopic} of {count} records after eddy produce; partitions that dropped their oldest records: "
            + string.Join(", ", marks.Where(m => m.Value.Low > 0).Select(m => $"{m.Key} (starts at {m.Value.Low})")));

        string name = $"recovery_{guarantee.Replace('-', '_')}_{seed}";
        string copied = PgServer.UniqueName("copied"), counts = PgServer.UniqueName("counts");
        string sqlFile = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(sqlFile, JobSql(name, guarantee, harness.Bootstrap, copied, counts));

        // At least five kills: random moments, and the two moments the issue names. Each run is cut early (within
        // about 2 s, or at one of its first checkpoints) so that on an idle machine, where the whole input takes a
        // few seconds, the job is still unfinished at the sixth kill; a timed kill before the job started is a kill too.
        var plans = new List<KillPlan>
        {
            KillPlan.Timed(TimeSpan.FromMilliseconds(rng.Next(300, 2000))),
            KillPlan.AtFaultPoint("checkpoint-acknowledged:" + rng.Next(1, 3)),
            KillPlan.Timed(TimeSpan.FromMilliseconds(rng.Next(300, 2000))),
            // Only exactly-once sinks commit at checkpoint completion; at-least-once ones are killed at a stored checkpoint.
            KillPlan.AtFaultPoint((guarantee == "exactly-once" ? "sink-commit:" : "checkpoint-stored:") + rng.Next(1, 4)),
            KillPlan.Timed(TimeSpan.FromMilliseconds(rng.Next(300, 2000))),
            KillPlan.AtFaultPoint("checkpoint-stored:" + rng.Next(1, 3)),
            // Reached only by a run that gets to the end of its input: the rest must wait for the final checkpoint.
            KillPlan.AtFaultPoint("sink-end-of-input:1"),
        };
        int kills = 0;
        var outcomes = new List<RunOutcome>();
        foreach (var plan in plans)
        {
            log.WriteLine($"kill plan: {plan.Description}");
            var outcome = harness.Run(sqlFile, plan, TimeSpan.FromMinutes(5));
            outcomes.Add(outcome);
            if (outcome.Killed) kills++;
            else if (outcome.ExitCode == 0) break;
            else Assert.Fail($"the job failed instead of being killed ({plan.Description}):\n{RunOutcome.Describe(outcomes, 40)}");
        }
        var last = outcomes[^1];
        if (last.Killed || last.ExitCode != 0)
        {
            last = harness.Run(sqlFile, KillPlan.None, TimeSpan.FromMinutes(10));
            outcomes.Add(last);
        }
        // Every failure message carries the runs (plans, exit codes, first and last lines): a CI log alone must explain it.
        string runs = $"seed {seed}, {guarantee}; runs:\n" + RunOutcome.Describe(outcomes);
        log.WriteLine(runs);
        Assert.True(last.ExitCode == 0, "the final run did not finish:\n" + RunOutcome.Describe(outcomes, 40));
        Assert.True(kills >= 5, $"only {kills} runs were killed before the job finished: the input is too small for the schedule\n{runs}");
        bool exactlyOnce = guarantee == "exactly-once";
        CheckCopied(harness, copied, events, exactlyOnce, runs);
        CheckCounts(counts, events, exactlyOnce, runs);
        // The dev broker accepts transactions but does not isolate them: a read_committed consumer also sees records
        // of aborted transactions, so duplicates in the topic cannot be ruled out here (a real broker does). Loss can.
        var echoed = harness.ReadTopic("echoed", readCommitted: true)
            .Select(v => JsonDocument.Parse(v).RootElement.GetProperty("id").GetInt64()).ToHashSet();
        var expectedEcho = events.Where(e => e.Bucket == 0).Select(e => e.Id).ToHashSet();
        var missing = expectedEcho.Where(id => !echoed.Contains(id)).Take(5).ToList();
        Assert.True(missing.Count == 0, $"ids missing from the output topic, e.g. {string.Join(", ", missing)}\n{runs}");
        var foreign = echoed.Where(id => !expectedEcho.Contains(id)).Take(5).ToList();
        Assert.True(foreign.Count == 0, $"ids in the output topic that the filter drops, e.g. {string.Join(", ", foreign)}\n{runs}");

        // A run started after a checkpoint completed resumes from it and says so on its first line; once one has
        // resumed, every later one does (a run killed before its first checkpoint leaves nothing to resume from). A
        // run killed before it printed anything (a timed kill during start-up on a loaded machine) tells nothing.
        var spoke = outcomes.Where(o => o.FirstLine.Length > 0).ToList();
        int firstResumed = spoke.FindIndex(o => o.FirstLine.Contains("resumes from checkpoint", StringComparison.Ordinal));
        Assert.True(firstResumed >= 0, $"no run resumed from a checkpoint\n{runs}");
        var fresh = spoke.Skip(firstResumed).FirstOrDefault(o => !o.FirstLine.Contains("resumes from checkpoint", StringComparison.Ordinal));
        Assert.True(fresh is null, $"a run after one that resumed did not resume ({fresh?.Summary})\n{runs}");
    }

    private static string TimeText(Event e) => Base.AddMilliseconds(e.Time).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private readonly record struct Event(long Id, int Bucket, long Time);

    /// <summary>Events one millisecond apart on average, up to 2 s out of order (the watermark allows 5 s).</summary>
    private static List<Event> Generate(int count, Random rng)
    {
        var events = new List<Event>(count);
        for (int i = 0; i < count; i++) events.Add(new Event(i, rng.Next(Buckets), Math.Max(0, i - rng.Next(0, 2000))));
        return events;
    }

    private static string JobSql(string name, string guarantee, string bootstrap, string copied, string counts)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        return $"""
            SET 'pipeline.name' = '{name}';
            SET 'execution.checkpointing.interval' = '500 ms';
            SET 'parallelism.default' = '2';

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

            CREATE TABLE copied (id BIGINT, bucket INT, event_time VARCHAR) WITH (
                'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{copied}',
                'sink.create-table' = 'true', 'sink.delivery-guarantee' = '{guarantee}'
            );

            CREATE TABLE counts (window_start TIMESTAMP(3), bucket INT, hits BIGINT) WITH (
                'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{counts}',
                'sink.create-table' = 'true', 'sink.delivery-guarantee' = '{guarantee}'
            );

            CREATE TABLE echoed (id BIGINT) WITH (
                'connector' = 'kafka', 'topic' = 'echoed', 'properties.bootstrap.servers' = '{bootstrap}',
                'format' = 'json', 'sink.delivery-guarantee' = '{guarantee}', 'sink.transactional-id-prefix' = '{name}'
            );

            EXECUTE STATEMENT SET BEGIN
                INSERT INTO copied SELECT id, bucket, event_time FROM events;
                INSERT INTO counts
                SELECT window_start, bucket, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '{WindowMs / 1000}' SECOND))
                GROUP BY window_start, window_end, bucket;
                INSERT INTO echoed SELECT id FROM events WHERE bucket = 0;
            END;
            """;
    }

    /// <summary>
    /// Every event is in the copy with its own values; exactly-once: each once; at-least-once: repeats allowed, but no
    /// row that is not an event. Missing ids are reported with their input partition and offsets, to tell a source
    /// gap (a range of one partition) from a lost sink write (a mix of partitions).
    /// </summary>
    private static void CheckCopied(RecoveryHarness harness, string table, List<Event> events, bool exactlyOnce, string runs)
    {
        var seen = new int[events.Count];
        long total = 0;
        var foreign = new List<string>();
        using (var conn = PgServer.Open())
        using (var cmd = new Npgsql.NpgsqlCommand($"SELECT id, bucket, event_time FROM {table}", conn))
        using (var r = cmd.ExecuteReader())
        {
            while (r.Read())
            {
                total++;
                long id = r.IsDBNull(0) ? -1 : r.GetInt64(0);
                if (id < 0 || id >= events.Count || r.IsDBNull(1) || r.GetInt32(1) != events[(int)id].Bucket || r.IsDBNull(2)
                    || r.GetString(2) != TimeText(events[(int)id]))
                {
                    if (foreign.Count < 5) foreign.Add($"({(r.IsDBNull(0) ? "null" : id)}, {r.GetValue(1)}, {r.GetValue(2)})");
                    continue;
                }
                seen[id]++;
            }
        }
        Assert.True(foreign.Count == 0, $"{table}: rows that are no event of the input, e.g. {string.Join(", ", foreign)}\n{runs}");
        int missing = seen.Count(n => n == 0);
        if (missing > 0)
        {
            var positions = harness.ReadTopicRecords("events", readCommitted: false)
                .Select(rec => (rec.Partition, rec.Offset, Id: JsonDocument.Parse(rec.Value).RootElement.GetProperty("id").GetInt64()))
                .Where(rec => rec.Id < events.Count && seen[rec.Id] == 0)
                .GroupBy(rec => rec.Partition)
                .Select(g => $"partition {g.Key}: {g.Count()} ids at offsets {g.Min(x => x.Offset)}..{g.Max(x => x.Offset)}");
            Assert.Fail($"{table}: {missing} of {events.Count} events missing, e.g. ids "
                + $"{string.Join(", ", Enumerable.Range(0, events.Count).Where(i => seen[i] == 0).Take(5))}; by input position: "
                + $"{string.Join("; ", positions)}\n{runs}");
        }
        if (exactlyOnce)
        {
            int doubled = seen.Count(n => n > 1);
            Assert.True(doubled == 0, $"{table}: {doubled} events written more than once ({total} rows for {events.Count} events)\n{runs}");
        }
    }

    private static void CheckCounts(string table, List<Event> events, bool exactlyOnce, string runs)
    {
        var expected = events
            .GroupBy(e => (Start: e.Time - e.Time % WindowMs, e.Bucket))
            .ToDictionary(g => g.Key, g => (long)g.Count());
        var rows = PgServer.Query($"SELECT window_start, bucket, hits FROM {table}");
        var seen = new Dictionary<(long, int), long>();
        foreach (var r in rows)
        {
            long start = (long)((DateTime)r[0]! - Base).TotalMilliseconds;
            var key = (start, (int)r[1]!);
            long hits = (long)r[2]!;
            if (seen.TryGetValue(key, out long before))
            {
                string window = $"{table}: window {Base.AddMilliseconds(start).ToString("o", CultureInfo.InvariantCulture)} bucket {key.Item2}";
                Assert.False(exactlyOnce, $"{window} written twice\n{runs}");
                // At-least-once may write a window again after a restore, but only with the same count.
                Assert.True(before == hits, $"{window} written twice with different counts, {before} and {hits}\n{runs}");
            }
            seen[key] = hits;
        }
        var missing = expected.Keys.Where(k => !seen.ContainsKey(k)).Take(3).ToList();
        Assert.True(missing.Count == 0, $"{table}: {expected.Count - seen.Count} windows missing, e.g. {string.Join(", ", missing)}\n{runs}");
        foreach (var (key, hits) in expected) Assert.True(seen[key] == hits, $"{table}: window {key}: {seen[key]} hits, expected {hits}\n{runs}");
        var extra = seen.Keys.Where(k => !expected.ContainsKey(k)).Take(3).ToList();
        Assert.True(extra.Count == 0, $"{table}: windows that the input has no event for, e.g. {string.Join(", ", extra)}\n{runs}");
    }
}
