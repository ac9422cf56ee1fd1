using System.Globalization;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy worker</c> processes running the keyed operators other than GROUP BY, each reading a repartition topic
/// keyed by its PARTITION BY: event-time OVER (ROWS and RANGE) and MATCH_RECOGNIZE, Top-N and deduplication (first and
/// last row by event time) into upsert PostgreSQL tables, each a job of its own over a 4-partition topic keyed by
/// nothing, into PostgreSQL exactly-once. One worker of two is killed with SIGKILL mid-run and started
/// again. Expected rows: plain C# over the events the test produced, and a single-process <c>eddy run</c> over the
/// same topic.
/// </summary>
public sealed class KeyedStageWorkerTests(ITestOutputHelper log)
{
    private const int Partitions = 4;
    private const string Topic = "keyedevents";
    private const int ChunkSize = 1500;
    private const int Chunks = 3;
    private const long ClosingId = 1_000_000;
    private static readonly string[] Hosts = ["www.dataexpert.io", "bootcamp.techcreator.io", "www.eczachly.com", "learn.dataexpert.io", "www.zachwilson.tech", "admin.zachwilson.tech"];
    private static readonly DateTime Start = new(2024, 1, 1, 10, 0, 0, DateTimeKind.Utc);

    /// <summary>Later than every window and OVER frame of the chunks: one such event per partition lets every earlier row through.</summary>
    private static readonly DateTime Closing = Start.AddHours(1);

    private sealed record Event(int Partition, long Id, string Host, string Ip, int Score, DateTime Time)
    {
        public long Ms => (long)(Time - DateTime.UnixEpoch).TotalMilliseconds;

        public bool IsClosing => Id >= ClosingId;
    }

    /// <summary>One keyed operator as a job, with the rows expected from the events.</summary>
    private sealed record Case(string Name, string Columns, string Query, string RowText, Func<List<Event>, List<string>> Oracle, bool UpdatedByKey, Func<string, bool>? Open = null)
        : SinkCase(Name, Columns, Query, RowText, KeyedStages: 1, UpdatedByKey, Open);

    private static bool ClosingRowAt(string row, int idColumn) => long.Parse(row.Split('|')[idColumn], CultureInfo.InvariantCulture) >= ClosingId;

    private static readonly Case OverRows = new("over_rows", "id BIGINT, host VARCHAR, ts TIMESTAMP(3), cnt BIGINT, total INT",
        """
        SELECT id, host, ts,
            COUNT(*) OVER (PARTITION BY host ORDER BY ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW),
            SUM(score) OVER (PARTITION BY host ORDER BY ts ROWS BETWEEN 4 PRECEDING AND CURRENT ROW)
        FROM events
        """,
        $"id || '|' || host || '|' || {Ms("ts")} || '|' || cnt || '|' || total",
        events => [.. Data(events).GroupBy(e => e.Host).SelectMany(g =>
        {
            var rows = g.OrderBy(e => e.Time).ToList();
            return rows.Select((e, i) =>
            {
                var frame = rows.Skip(Math.Max(0, i - 4)).Take(Math.Min(i, 4) + 1).ToList();
                return Text(e.Id, e.Host, e.Ms, frame.Count, frame.Sum(f => f.Score));
            });
        })],
        UpdatedByKey: false, Open: row => ClosingRowAt(row, 0));

    private static readonly Case OverRange = new("over_range", "id BIGINT, host VARCHAR, ts TIMESTAMP(3), cnt BIGINT, total INT",
        """
        SELECT id, host, ts,
            COUNT(*) OVER (PARTITION BY host ORDER BY ts RANGE BETWEEN INTERVAL '30' SECOND PRECEDING AND CURRENT ROW),
            SUM(score) OVER (PARTITION BY host ORDER BY ts RANGE BETWEEN INTERVAL '30' SECOND PRECEDING AND CURRENT ROW)
        FROM events
        """,
        $"id || '|' || host || '|' || {Ms("ts")} || '|' || cnt || '|' || total",
        events => [.. Data(events).Select(e =>
        {
            var frame = Data(events).Where(f => f.Host == e.Host && f.Ms >= e.Ms - 30_000 && f.Ms <= e.Ms).ToList();
            return Text(e.Id, e.Host, e.Ms, frame.Count, frame.Sum(f => f.Score));
        })],
        UpdatedByKey: false, Open: row => ClosingRowAt(row, 0));

    private static readonly Case TopN = new("topn", "host VARCHAR, rn BIGINT, id BIGINT, score INT, PRIMARY KEY (host, rn) NOT ENFORCED",
        """
        SELECT host, rn, id, score FROM (
            SELECT host, id, score, ROW_NUMBER() OVER (PARTITION BY host ORDER BY score DESC) AS rn FROM events)
        WHERE rn <= 3
        """,
        "host || '|' || rn || '|' || id || '|' || score",
        events => [.. events.GroupBy(e => e.Host).SelectMany(g => g.OrderByDescending(e => e.Score).Take(3).Select((e, i) => Text(e.Host, i + 1, e.Id, e.Score)))],
        UpdatedByKey: true);

    private static readonly Case DedupFirst = new("dedup_first", "ip VARCHAR, id BIGINT, ts TIMESTAMP(3), PRIMARY KEY (ip) NOT ENFORCED",
        """
        SELECT ip, id, ts FROM (
            SELECT ip, id, ts, ROW_NUMBER() OVER (PARTITION BY ip ORDER BY ts ASC) AS rn FROM events)
        WHERE rn = 1
        """,
        $"ip || '|' || id || '|' || {Ms("ts")}",
        events => [.. events.GroupBy(e => e.Ip).Select(g => g.MinBy(e => e.Time)!).Select(e => Text(e.Ip, e.Id, e.Ms))],
        UpdatedByKey: true);

    private static readonly Case DedupLast = new("dedup_last", "ip VARCHAR, id BIGINT, ts TIMESTAMP(3), PRIMARY KEY (ip) NOT ENFORCED",
        """
        SELECT ip, id, ts FROM (
            SELECT ip, id, ts, ROW_NUMBER() OVER (PARTITION BY ip ORDER BY ts DESC) AS rn FROM events)
        WHERE rn = 1
        """,
        $"ip || '|' || id || '|' || {Ms("ts")}",
        events => [.. events.GroupBy(e => e.Ip).Select(g => g.MaxBy(e => e.Time)!).Select(e => Text(e.Ip, e.Id, e.Ms))],
        UpdatedByKey: true);

    private static readonly Case Match = new("match", "host VARCHAR, a_id BIGINT, b_id BIGINT",
        """
        SELECT host, a_id, b_id FROM events MATCH_RECOGNIZE (
            PARTITION BY host ORDER BY ts
            MEASURES A.id AS a_id, B.id AS b_id
            ONE ROW PER MATCH AFTER MATCH SKIP PAST LAST ROW
            PATTERN (A B)
            DEFINE A AS A.score < 2000, B AS B.score >= 2000)
        """,
        "host || '|' || a_id || '|' || b_id",
        events => [.. Data(events).GroupBy(e => e.Host).SelectMany(g =>
        {
            // PATTERN (A B), strict contiguity in time order, the next match starting after the last row of a match.
            var rows = g.OrderBy(e => e.Time).ToList();
            var matches = new List<string>();
            for (int i = 0; i + 1 < rows.Count;)
            {
                if (rows[i].Score < 2000 && rows[i + 1].Score >= 2000)
                {
                    matches.Add(Text(g.Key, rows[i].Id, rows[i + 1].Id));
                    i += 2;
                }
                else i++;
            }
            return matches;
        })],
        UpdatedByKey: false, Open: row => ClosingRowAt(row, 1) || ClosingRowAt(row, 2));

    /// <summary>The events of the chunks, without the closing ones.</summary>
    private static IEnumerable<Event> Data(List<Event> events) => events.Where(e => !e.IsClosing);

    [Fact]
    public void Over_rows_over_range_and_match_recognize_on_event_time_across_two_workers_with_one_killed_and_restarted()
    {
        Run("keyed_time", [OverRows, OverRange, Match]);
    }

    [Fact]
    public void Top_n_and_deduplication_into_upsert_tables_across_two_workers_with_one_killed_and_restarted()
    {
        Run("keyed_upsert", [TopN, DedupFirst, DedupLast]);
    }

    private void Run(string name, Case[] cases)
    {
        var events = new List<Event>();
        var times = new HashSet<long>();
        new StagedJobScenario(log)
        {
            Name = name,
            Partitions = Partitions,
            SourceTopics = [Topic],
            Cases = cases,
            JobText = JobText,
            Produce = (harness, chunk) =>
            {
                var sent = Produce(harness, chunk, times);
                if (chunk == Chunks - 1) sent.AddRange(ProduceClosing(harness));
                lock (events) events.AddRange(sent);
            },
            CheckOrphans = orphans => Assert.Contains(orphans.Values, o => o.Count > 0),
            Oracle = c => ((Case)c).Oracle(events),
        }.Run();
    }

    /// <summary>A job per case (<c>&lt;name&gt;-&lt;case&gt;</c>), each keyed operator reading its own repartition topic.</summary>
    private static string JobText(string name, string bootstrap, IReadOnlyDictionary<SinkCase, string> tables, bool bounded) => $"""
        SET 'execution.checkpointing.interval' = '1 s';
        CREATE TABLE events (
            id BIGINT, host VARCHAR, ip VARCHAR, score INT, event_time VARCHAR,
            ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
            WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
        ) WITH ('connector' = 'kafka', {KafkaOptions(bootstrap, Topic, $"{name}-source", bounded)}, 'format' = 'json');
        {Inserts(name, tables.Keys, tables)}
        """;

    /// <summary>
    /// Chunk <paramref name="chunk"/> of lab-like events, event i at 10:00 + i × 200 ms ± 4 s (no two at the same
    /// millisecond, so every order by time is total), to partition i mod the partitions: within each partition no
    /// event trails another by more than the 15 s watermark bound, so none is late. Scores are distinct.
    /// </summary>
    private static List<Event> Produce(RecoveryHarness harness, int chunk, HashSet<long> times)
    {
        var random = new Random(17 + chunk);
        var scores = Enumerable.Range(0, ChunkSize * Chunks).ToArray();
        new Random(99).Shuffle(scores);
        var events = new List<Event>(ChunkSize);
        for (int i = chunk * ChunkSize; i < (chunk + 1) * ChunkSize; i++)
        {
            long ms = i * 200L + random.Next(-4000, 4000);
            lock (times)
            {
                while (!times.Add(ms)) ms++;
            }
            int r = random.Next(40);
            events.Add(new Event(i % Partitions, i, Hosts[random.Next(Hosts.Length)], $"10.0.{r % 4}.{r / 4}", scores[i], Start.AddMilliseconds(ms)));
        }
        Send(harness, events);
        return events;
    }

    /// <summary>One event per partition at <see cref="Closing"/> (each a key of its own, scores below all others): every earlier row goes through.</summary>
    private static List<Event> ProduceClosing(RecoveryHarness harness)
    {
        var events = Enumerable.Range(0, Partitions).Select(p => new Event(p, ClosingId + p, Hosts[0], $"10.9.9.{p}", -1 - p, Closing)).ToList();
        Send(harness, events);
        return events;
    }

    private static void Send(RecoveryHarness harness, List<Event> events) => DistributedJob.Send(harness, events.Select(e =>
        (Topic, e.Partition, (string?)null, (string?)$$"""{"id":{{e.Id}},"host":"{{e.Host}}","ip":"{{e.Ip}}","score":{{e.Score}},"event_time":"{{Time(e.Time)}}"}""")));
}
