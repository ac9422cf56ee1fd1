using System.Globalization;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;

namespace Eddy.Recovery.Tests;

/// <summary>
/// The stateful SQL operators (regular LEFT join, interval join, OVER with ROWS and RANGE frames, Top-N, rowtime
/// deduplication, GROUP BY over a changelog, Top-N over a GROUP BY, window deduplication, semi and anti joins, window
/// join, temporal sort, MATCH_RECOGNIZE, event-time temporal join, UpdateFast Top-N over a GROUP BY) in one job: Kafka (dev broker) → each operator → an exactly-once
/// PostgreSQL sink (append for append-only results, upsert by PRIMARY KEY for updating ones), run by <c>eddy run</c>,
/// killed with SIGKILL during checkpoints and sink commits and at random moments, restarted from its checkpoint, and
/// compared with the result computed by LINQ from the generated input: nothing lost, nothing doubled. The seed is
/// printed so that a failure can be replayed (EDDY_RECOVERY_SEED).
/// </summary>
public sealed class StatefulSqlRecoveryTests(ITestOutputHelper log)
{
    private const int Partitions = 8;
    private const int Keys = 1_000;
    private const long DimWindowMs = 2_000;
    private static readonly DateTime Base = new(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static int EventCount =>
        int.TryParse(Environment.GetEnvironmentVariable("EDDY_RECOVERY_SQL_EVENTS"), out int n) && n > 0 ? n : 150_000;

    /// <summary>One event: its time is its id in ms (unique, so frames and first rows are well defined); v is unique.</summary>
    private readonly record struct Event(long Id, int K, long V, long Time);

    private readonly record struct Dim(int K, string Name, long Time);

    [Fact]
    public void Stateful_sql_operators_survive_repeated_kills()
    {
        long seed = long.TryParse(Environment.GetEnvironmentVariable("EDDY_RECOVERY_SEED"), out long s) ? s : Random.Shared.NextInt64(1, 1_000_000);
        int count = EventCount;
        log.WriteLine($"{count} events, seed {seed} (replay with EDDY_RECOVERY_SEED={seed})");
        var rng = new Random((int)(seed % int.MaxValue));

        using var harness = new RecoveryHarness(log, Partitions, "events", "dims");
        var events = GenerateEvents(count, rng);
        var dims = GenerateDims(count, rng);
        // Sent out of time order by up to 2 s (the watermarks allow 5 s), so no row is late for any operator.
        harness.Produce("events", Shuffled(events, e => e.Time, rng).Select(e =>
            $"{{\"id\":{e.Id},\"k\":{e.K},\"v\":{e.V},\"event_time\":\"{TimeText(e.Time)}\"}}"));
        harness.Produce("dims", Shuffled(dims, d => d.Time, rng).Select(d =>
            $"{{\"k\":{d.K},\"name\":\"{d.Name}\",\"dim_time\":\"{TimeText(d.Time)}\"}}"));
        foreach (var (topic, expected) in new[] { ("events", events.Count), ("dims", dims.Count) })
        {
            var marks = harness.Watermarks(topic);
            long inTopic = marks.Values.Sum(m => m.High - m.Low);
            Assert.True(inTopic == expected && marks.Values.All(m => m.Low == 0), $"{topic} holds {inTopic} of {expected} records after eddy produce");
        }

        var tables = new Tables(
            PgServer.UniqueName("enriched"), PgServer.UniqueName("near"), PgServer.UniqueName("rows3"), PgServer.UniqueName("range5"),
            PgServer.UniqueName("top3"), PgServer.UniqueName("firsts"), PgServer.UniqueName("buckets"), PgServer.UniqueName("rarest"),
            PgServer.UniqueName("lasts"), PgServer.UniqueName("known"), PgServer.UniqueName("unknown"), PgServer.UniqueName("samewin"),
            PgServer.UniqueName("sorted"), PgServer.UniqueName("rises"), PgServer.UniqueName("asof"), PgServer.UniqueName("busiest"));
        string name = $"recovery_sql_{seed}";
        string sqlFile = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(sqlFile, JobSql(name, harness.Bootstrap, tables));

        // Kills during a checkpoint (acknowledged, not yet stored; stored, sinks not told), during a sink commit, and
        // at random moments after the start; each run is cut within its first few seconds (its first checkpoints are
        // taken while the sources still connect) so that the input outlasts the schedule.
        var plans = new List<KillPlan>
        {
            KillPlan.AtFaultPoint("checkpoint-acknowledged:" + rng.Next(1, 3)),
            KillPlan.TimedAfterStart(TimeSpan.FromMilliseconds(rng.Next(1000, 3000))),
            KillPlan.AtFaultPoint("sink-commit:" + rng.Next(1, 3)),
            KillPlan.AtFaultPoint("checkpoint-stored:" + rng.Next(1, 3)),
            KillPlan.TimedAfterStart(TimeSpan.FromMilliseconds(rng.Next(1000, 3000))),
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
        var last = outcomes[^1];
        if (last.Killed || last.ExitCode != 0)
        {
            last = harness.Run(sqlFile, KillPlan.None, TimeSpan.FromMinutes(6));
            outcomes.Add(last);
        }
        string runs = $"seed {seed}; runs:\n" + RunOutcome.Describe(outcomes);
        log.WriteLine(runs);
        Assert.True(last.ExitCode == 0, "the final run did not finish:\n" + RunOutcome.Describe(outcomes, 40));
        Assert.True(kills >= 2, $"only {kills} runs were killed before the job finished: the input is too small for the schedule\n{runs}");
        Assert.True(outcomes.Any(o => o.FirstLine.Contains("resumes from checkpoint", StringComparison.Ordinal)), $"no run resumed from a checkpoint\n{runs}");

        var dimOf = dims.ToDictionary(d => d.K);
        // LEFT join: every event once, with its key's name once that arrived (an event before its dim was padded, then retracted).
        AssertSameRows(tables.Enriched, "SELECT id, k, name FROM {0}",
            events.Select(e => Row(e.Id, e.K, dimOf.TryGetValue(e.K, out var d) ? d.Name : null)), runs);
        // Interval join: each pair of an event and its key's dim at most 2 s apart, once.
        AssertSameRows(tables.Near, "SELECT id, k, dim_time FROM {0}",
            events.Where(e => dimOf.TryGetValue(e.K, out var d) && Math.Abs(e.Time - d.Time) <= DimWindowMs)
                .Select(e => Row(e.Id, e.K, Base.AddMilliseconds(dimOf[e.K].Time))), runs);
        var byKey = events.GroupBy(e => e.K).ToDictionary(g => g.Key, g => g.OrderBy(e => e.Time).ToList());
        // OVER ROWS BETWEEN 2 PRECEDING AND CURRENT ROW: the row and the two before it in time order, per key.
        AssertSameRows(tables.Rows3, "SELECT id, s3 FROM {0}",
            byKey.Values.SelectMany(list => list.Select((e, i) => Row(e.Id, list.Skip(Math.Max(0, i - 2)).Take(Math.Min(i, 2) + 1).Sum(x => x.V)))), runs);
        // OVER RANGE BETWEEN INTERVAL '5' SECOND PRECEDING AND CURRENT ROW: rows of the key within 5 s before, bound included.
        AssertSameRows(tables.Range5, "SELECT id, c5, m5 FROM {0}",
            byKey.Values.SelectMany(list => list.Select(e =>
            {
                var frame = list.Where(x => x.Time >= e.Time - 5_000 && x.Time <= e.Time).ToList();
                return Row(e.Id, (long)frame.Count, frame.Max(x => x.V));
            })), runs);
        // Top-3 by v per key, as the upsert table (k, rn) ends.
        AssertSameRows(tables.Top3, "SELECT k, rn, id, v FROM {0}",
            byKey.SelectMany(g => g.Value.OrderByDescending(e => e.V).Take(3).Select((e, i) => Row(g.Key, (long)(i + 1), e.Id, e.V))), runs);
        // Deduplication on rowtime ASC: the earliest event of each key.
        AssertSameRows(tables.Firsts, "SELECT k, id, v FROM {0}",
            byKey.Select(g => Row(g.Key, g.Value[0].Id, g.Value[0].V)), runs);
        // GROUP BY over the changelog of a GROUP BY: per bucket of each key's sum, the keys, their total and largest sum.
        var sums = events.GroupBy(e => e.K).Select(g => g.Sum(e => e.V % 7)).ToList();
        AssertSameRows(tables.Buckets, "SELECT bucket, keys, total, biggest FROM {0}",
            sums.GroupBy(x => x % 10).Select(g => Row(g.Key, (long)g.Count(), g.Sum(), g.Max())), runs);
        // Top-N over the GROUP BY's changelog (RetractStrategy): the three keys with the fewest events, by key among equal counts.
        AssertSameRows(tables.Rarest, "SELECT rn, k, n FROM {0}",
            byKey.Select(g => (K: g.Key, N: (long)g.Value.Count)).OrderBy(x => x.N).ThenBy(x => x.K).Take(3)
                .Select((x, i) => Row((long)(i + 1), x.K, x.N)), runs);
        // Window deduplication: each key's last event of each 10-second window, once.
        AssertSameRows(tables.Lasts, "SELECT k, id FROM {0}",
            events.GroupBy(e => (e.K, Window: e.Time / 10_000)).Select(g => Row(g.Key.K, g.MaxBy(e => e.Time).Id)), runs);
        // Semi join (IN): the events whose key has a dim; anti join (NOT EXISTS): those whose key has none.
        AssertSameRows(tables.Known, "SELECT id, k FROM {0}", events.Where(e => dimOf.ContainsKey(e.K)).Select(e => Row(e.Id, e.K)), runs);
        AssertSameRows(tables.Unknown, "SELECT id, k FROM {0}", events.Where(e => !dimOf.ContainsKey(e.K)).Select(e => Row(e.Id, e.K)), runs);
        // Window join: each event with its key's dim when both fall in the same 10-second window.
        AssertSameRows(tables.SameWindow, "SELECT id, name FROM {0}",
            events.Where(e => dimOf.TryGetValue(e.K, out var d) && d.Time / 10_000 == e.Time / 10_000).Select(e => Row(e.Id, dimOf[e.K].Name)), runs);
        // Temporal sort (ORDER BY the rowtime): every event once.
        AssertSameRows(tables.Sorted, "SELECT id FROM {0}", events.Select(e => Row(e.Id)), runs);
        // MATCH_RECOGNIZE PATTERN (A B) DEFINE B AS B.v > A.v, skip past last row: per key in time order, a row and the
        // next when the next is larger; the scan goes on after the pair, else from the next row.
        AssertSameRows(tables.Rises, "SELECT k, aid, bid FROM {0}", byKey.SelectMany(g => Rises(g.Value).Select(p => Row(g.Key, p.A, p.B))), runs);
        // Event-time temporal join against the versioned view of dims (the last row per key on its rowtime): an event
        // joins its key's dim when the dim's version is valid at the event's time (dim time <= event time).
        AssertSameRows(tables.AsOf, "SELECT id, name FROM {0}",
            events.Where(e => dimOf.TryGetValue(e.K, out var d) && d.Time <= e.Time).Select(e => Row(e.Id, dimOf[e.K].Name)), runs);
        // Top-N over the GROUP BY's changelog by a descending COUNT (Flink's UpdateFastStrategy): the three keys with the
        // most events, by key among equal counts.
        AssertSameRows(tables.Busiest, "SELECT rn, k, n FROM {0}",
            byKey.Select(g => (K: g.Key, N: (long)g.Value.Count)).OrderByDescending(x => x.N).ThenBy(x => x.K).Take(3)
                .Select((x, i) => Row((long)(i + 1), x.K, x.N)), runs);
    }

    private static IEnumerable<(long A, long B)> Rises(List<Event> inTimeOrder)
    {
        for (int i = 0; i + 1 < inTimeOrder.Count;)
        {
            if (inTimeOrder[i + 1].V > inTimeOrder[i].V)
            {
                yield return (inTimeOrder[i].Id, inTimeOrder[i + 1].Id);
                i += 2;
            }
            else i++;
        }
    }

    private sealed record Tables(string Enriched, string Near, string Rows3, string Range5, string Top3, string Firsts, string Buckets,
        string Rarest, string Lasts, string Known, string Unknown, string SameWindow, string Sorted, string Rises, string AsOf, string Busiest);

    private static string TimeText(long ms) => Base.AddMilliseconds(ms).ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static List<Event> GenerateEvents(int count, Random rng)
    {
        // v: a permutation of 0..count-1, so that Top-N has no ties.
        var values = Enumerable.Range(0, count).Select(i => (long)i).ToArray();
        rng.Shuffle(values);
        return Enumerable.Range(0, count).Select(i => new Event(i, rng.Next(Keys), values[i], i)).ToList();
    }

    /// <summary>One dim row for nine keys in ten (the tenth stays padded), at a random time within the events' span.</summary>
    private static List<Dim> GenerateDims(int count, Random rng) =>
        Enumerable.Range(0, Keys).Where(k => k % 10 != 3).Select(k => new Dim(k, "n" + k, rng.Next(count))).ToList();

    /// <summary>The items in time order, each moved back by up to 2 s.</summary>
    private static IEnumerable<T> Shuffled<T>(List<T> items, Func<T, long> time, Random rng) =>
        items.Select(x => (x, At: time(x) + rng.Next(0, 2000))).OrderBy(p => p.At).Select(p => p.x).ToList();

    private static string Row(params object?[] values) => string.Join("|", values.Select(Format));

    private static string Format(object? v) => v switch
    {
        null => "null",
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture),
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture),
        short s => s.ToString(CultureInfo.InvariantCulture),
        decimal d => d.ToString(CultureInfo.InvariantCulture),
        _ => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "",
    };

    /// <summary>The table holds exactly the expected rows, as a multiset: a missing row is a loss, an extra copy a duplicate.</summary>
    private static void AssertSameRows(string table, string query, IEnumerable<string> expectedRows, string runs)
    {
        var expected = expectedRows.GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        var actual = PgServer.Query(string.Format(CultureInfo.InvariantCulture, query, table))
            .Select(r => Row(r)).GroupBy(r => r).ToDictionary(g => g.Key, g => g.Count());
        var missing = expected.Where(e => actual.GetValueOrDefault(e.Key) < e.Value).Select(e => $"{e.Key} (×{e.Value - actual.GetValueOrDefault(e.Key)})").ToList();
        var extra = actual.Where(a => expected.GetValueOrDefault(a.Key) < a.Value).Select(a => $"{a.Key} (×{a.Value - expected.GetValueOrDefault(a.Key)})").ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{table}: {expected.Values.Sum()} rows expected, {actual.Values.Sum()} found; {missing.Count} missing, e.g. "
            + $"{string.Join(", ", missing.Take(5))}; {extra.Count} extra or doubled, e.g. {string.Join(", ", extra.Take(5))}\n{runs}");
    }

    private static string JobSql(string name, string bootstrap, Tables t)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        string Sink(string table, string columns, string? key = null) => $"""
            CREATE TABLE {table} ({columns}{(key is null ? "" : $", PRIMARY KEY ({key}) NOT ENFORCED")}) WITH (
                'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{table}',
                'sink.create-table' = 'true', 'sink.delivery-guarantee' = 'exactly-once'
            );
            """;
        string Source(string table, string columns, string timeColumn) => $"""
            CREATE TABLE {table} (
                {columns},
                ts AS TO_TIMESTAMP({timeColumn}, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                WATERMARK FOR ts AS ts - INTERVAL '5' SECOND
            ) WITH (
                'connector' = 'kafka',
                'topic' = '{table}',
                'properties.bootstrap.servers' = '{bootstrap}',
                'properties.group.id' = '{name}',
                'scan.startup.mode' = 'earliest-offset',
                'scan.bounded.mode' = 'latest-offset',
                'format' = 'json'
            );
            """;
        return $"""
            SET 'pipeline.name' = '{name}';
            SET 'execution.checkpointing.interval' = '500 ms';
            SET 'parallelism.default' = '2';

            {Source("events", "id BIGINT, k INT, v BIGINT, event_time VARCHAR", "event_time")}
            {Source("dims", "k INT, name VARCHAR, dim_time VARCHAR", "dim_time")}

            {Sink(t.Enriched, "id BIGINT, k INT, name VARCHAR", "id")}
            {Sink(t.Near, "id BIGINT, k INT, dim_time TIMESTAMP(3)")}
            {Sink(t.Rows3, "id BIGINT, s3 BIGINT")}
            {Sink(t.Range5, "id BIGINT, c5 BIGINT, m5 BIGINT")}
            {Sink(t.Top3, "k INT, rn BIGINT, id BIGINT, v BIGINT", "k, rn")}
            {Sink(t.Firsts, "k INT, id BIGINT, v BIGINT", "k")}
            {Sink(t.Buckets, "bucket BIGINT, keys BIGINT, total BIGINT, biggest BIGINT", "bucket")}
            {Sink(t.Rarest, "rn BIGINT, k INT, n BIGINT", "rn")}
            {Sink(t.Lasts, "k INT, id BIGINT")}
            {Sink(t.Known, "id BIGINT, k INT")}
            {Sink(t.Unknown, "id BIGINT, k INT", "id")}
            {Sink(t.SameWindow, "id BIGINT, name VARCHAR")}
            {Sink(t.Sorted, "id BIGINT, ts TIMESTAMP(3)")}
            {Sink(t.Rises, "k INT, aid BIGINT, bid BIGINT")}
            {Sink(t.AsOf, "id BIGINT, name VARCHAR")}
            {Sink(t.Busiest, "rn BIGINT, k INT, n BIGINT", "rn")}

            CREATE VIEW dim_versions AS SELECT k, name, ts FROM (
                SELECT *, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts DESC) AS rn FROM dims) WHERE rn = 1;

            EXECUTE STATEMENT SET BEGIN
                INSERT INTO {t.Enriched} SELECT e.id, e.k, d.name FROM events AS e LEFT JOIN dims AS d ON e.k = d.k;
                INSERT INTO {t.Near} SELECT e.id, e.k, d.ts FROM events AS e JOIN dims AS d
                    ON e.k = d.k AND e.ts BETWEEN d.ts - INTERVAL '{DimWindowMs / 1000}' SECOND AND d.ts + INTERVAL '{DimWindowMs / 1000}' SECOND;
                INSERT INTO {t.Rows3} SELECT id, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM events;
                INSERT INTO {t.Range5} SELECT id, COUNT(*) OVER w, MAX(v) OVER w FROM events
                    WINDOW w AS (PARTITION BY k ORDER BY ts RANGE BETWEEN INTERVAL '5' SECOND PRECEDING AND CURRENT ROW);
                INSERT INTO {t.Top3} SELECT k, rn, id, v FROM (
                    SELECT id, k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn FROM events) WHERE rn <= 3;
                INSERT INTO {t.Firsts} SELECT k, id, v FROM (
                    SELECT id, k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts ASC) AS rn FROM events) WHERE rn = 1;
                INSERT INTO {t.Buckets} SELECT s % 10, COUNT(*), SUM(s), MAX(s) FROM (
                    SELECT k, SUM(v % 7) AS s FROM events GROUP BY k) GROUP BY s % 10;
                INSERT INTO {t.Rarest} SELECT rn, k, n FROM (
                    SELECT k, n, ROW_NUMBER() OVER (ORDER BY n ASC, k ASC) AS rn FROM (SELECT k, COUNT(*) AS n FROM events GROUP BY k)) WHERE rn <= 3;
                INSERT INTO {t.Lasts} SELECT k, id FROM (
                    SELECT k, id, ROW_NUMBER() OVER (PARTITION BY window_start, window_end, k ORDER BY ts DESC) AS rn
                    FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))) WHERE rn = 1;
                INSERT INTO {t.Known} SELECT id, k FROM events WHERE k IN (SELECT k FROM dims);
                INSERT INTO {t.Unknown} SELECT id, k FROM events AS e WHERE NOT EXISTS (SELECT 1 FROM dims AS d WHERE d.k = e.k);
                INSERT INTO {t.SameWindow} SELECT e.id, d.name
                    FROM (SELECT * FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))) AS e
                    JOIN (SELECT * FROM TABLE(TUMBLE(TABLE dims, DESCRIPTOR(ts), INTERVAL '10' SECOND))) AS d
                    ON e.k = d.k AND e.window_start = d.window_start AND e.window_end = d.window_end;
                INSERT INTO {t.Sorted} SELECT id, ts FROM events ORDER BY ts;
                INSERT INTO {t.Rises} SELECT k, aid, bid FROM events MATCH_RECOGNIZE (
                    PARTITION BY k ORDER BY ts MEASURES A.id AS aid, B.id AS bid
                    AFTER MATCH SKIP PAST LAST ROW PATTERN (A B) DEFINE B AS B.v > A.v);
                INSERT INTO {t.AsOf} SELECT e.id, d.name FROM events AS e JOIN dim_versions FOR SYSTEM_TIME AS OF e.ts AS d ON e.k = d.k;
                INSERT INTO {t.Busiest} SELECT rn, k, n FROM (
                    SELECT k, n, ROW_NUMBER() OVER (ORDER BY n DESC, k ASC) AS rn FROM (SELECT k, COUNT(*) AS n FROM events GROUP BY k)) WHERE rn <= 3;
            END;
            """;
    }
}
