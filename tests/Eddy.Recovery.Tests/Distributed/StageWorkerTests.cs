using System.Text;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy worker</c> processes running a job split into stages: the lab's Day 2 aggregation (hits per host in 5-minute
/// tumbling windows, 15 s watermark bound) over a 12-partition topic keyed by nothing, so its GROUP BY reads a
/// repartition topic, beside the lab's pass-through job, both into PostgreSQL exactly-once. Workers are killed with
/// SIGKILL, started again, added and stopped. Expected rows: plain C# over the events the test produced (and, for the
/// windows, a single-process <c>eddy run</c> over the same topic).
/// </summary>
public sealed class StageWorkerTests(ITestOutputHelper log)
{
    private const int Partitions = 12;
    private const string Topic = "labevents";
    private static readonly string[] Hosts = ["www.dataexpert.io", "bootcamp.techcreator.io", "www.eczachly.com", "learn.dataexpert.io", "www.zachwilson.tech", "admin.zachwilson.tech"];
    private static readonly DateTime Start = new(2024, 1, 1, 10, 0, 0, DateTimeKind.Utc);

    /// <summary>Later than every window of the chunks: one such event per partition makes every earlier window fire.</summary>
    private static readonly DateTime Closing = Start.AddHours(3);

    private sealed record Event(int Partition, string Host, string Ip, string Url, DateTime Time);

    /// <summary>
    /// The lab's Day 1 pass-through (without the geolocation): every event once. Its table and INSERT are the lab's own,
    /// written by <see cref="JobText"/>, so the case names no columns or query.
    /// </summary>
    private static readonly SinkCase Pass = new("pass", "", "", $"ip || '|' || {Ms("event_timestamp")} || '|' || host || '|' || url", KeyedStages: 0);

    /// <summary>The lab's Day 2 aggregation: its closing window stays open in the workers (unbounded); a bounded run fires it.</summary>
    private static readonly SinkCase Agg = new("agg", "", "", $"{Ms("event_hour")} || '|' || host || '|' || num_hits", KeyedStages: 1,
        Open: row => row.StartsWith(Ms(Closing) + "|", StringComparison.Ordinal));

    private static IEnumerable<string> PassThroughOracle(IEnumerable<Event> events) => events.Select(e => Text(e.Ip, Ms(e.Time), e.Host, e.Url));

    /// <summary>Hits per host per 5-minute window.</summary>
    private static IEnumerable<string> WindowOracle(IEnumerable<Event> events) => events
        .GroupBy(e => (Start: new DateTime(e.Time.Ticks - e.Time.Ticks % TimeSpan.FromMinutes(5).Ticks, DateTimeKind.Utc), e.Host))
        .Select(g => Text(Ms(g.Key.Start), g.Key.Host, g.Count()));

    [Fact]
    public void Three_workers_with_one_killed_and_restarted_aggregate_and_pass_through_every_event_once()
    {
        var events = new List<Event>();
        new StagedJobScenario(log)
        {
            Name = "stage_kill",
            Partitions = Partitions,
            SourceTopics = [Topic],
            Cases = [Pass, Agg],
            JobText = (name, bootstrap, tables, bounded) => JobText(name, bootstrap, tables, bounded),
            Workers = ["a", "b", "c"],
            Produce = (harness, chunk) =>
            {
                var sent = Produce(harness, chunk);
                if (chunk == 2) sent.AddRange(ProduceClosing(harness));
                lock (events) events.AddRange(sent);
            },
            CheckOrphans = orphans => Assert.All(orphans.Values, Assert.NotEmpty),
            Oracle = c => c == Pass ? PassThroughOracle(events) : WindowOracle(events),
            // The same windows from one process: its end of input fires the closing events' window too.
            SingleRunCases = [Agg],
        }.Run();
    }

    [Fact]
    public void Rescaling_the_aggregation_from_one_to_three_to_two_workers_gives_every_window_once()
    {
        const string name = "stage_rescale";
        var tables = new Dictionary<SinkCase, string> { [Agg] = PgServer.UniqueName("lab_agg") };
        string aggTable = tables[Agg];
        var (repartition, _) = RepartitionTopics(name, JobText(name, NoBroker, tables, bounded: false), 1, "the aggregation's");
        using var harness = new RecoveryHarness(log, Partitions, [Topic, .. repartition]);
        using var workers = new WorkerCluster(log, harness, Write(harness, name, JobText(name, harness.Bootstrap, tables, bounded: false)));
        var events = new List<Event>();
        const string stage1 = $"job '{name}-agg' stage 1";
        events.AddRange(Produce(harness, chunk: 0));
        var a = workers.Start("a");
        workers.WaitFor(() => a.Said($"{stage1}: assigned partitions") is not null && Count(aggTable) > 0, "worker a alone runs both stages and windows arrive");

        // 1 → 3: two workers join; a hands over only what moves, each after a final checkpoint.
        var joined = workers.Clock.Elapsed;
        workers.StartAll("b", "c");
        events.AddRange(Produce(harness, chunk: 1));
        workers.WaitFor(() => workers.Processes.Skip(1).All(w => w.Said($"{stage1}: partition") is not null && w.Said($"job '{name}-agg': partition") is not null)
            && a.Said("final checkpoint", joined) is not null, "b and c own partitions of both stages, a handed them over after final checkpoints");

        // 3 → 2: c stops gracefully (final checkpoints, then it leaves the groups).
        workers.Stop(workers[2]);
        var left = workers[2].Lines[^1].At;
        events.AddRange(Produce(harness, chunk: 2));
        events.AddRange(ProduceClosing(harness));
        workers.WaitFor(() => workers.Processes.Take(2).Any(w => w.Said($"{stage1}: partition", left) is not null), "a or b takes over c's stage-1 partitions");

        var windows = Counts(WindowOracle(events).Where(r => !Agg.HeldBack(r)));
        workers.Settle(() => Count(aggTable) >= windows.Count, $"{windows.Count} windows in {aggTable}");
        workers.StopAll();
        Assert.Contains(a.Lines, l => l.Line.Contains($"{stage1}: revoked partitions", StringComparison.Ordinal));
        Compare(aggTable, windows, Rows(aggTable, Agg.RowText), workers.Processes);
    }

    [Fact]
    public void A_source_partition_without_data_holds_windows_back_only_until_the_idle_timeout()
    {
        const string name = "stage_idle";
        var tables = new Dictionary<SinkCase, string> { [Agg] = PgServer.UniqueName("lab_agg") };
        string aggTable = tables[Agg];
        var (repartition, _) = RepartitionTopics(name, JobText(name, NoBroker, tables, bounded: false), 1, "the aggregation's");
        using var harness = new RecoveryHarness(log, Partitions, [Topic, .. repartition]);
        // Partition 11 gets nothing, ever: only its idleness lets the windows fire (the default, no idle timeout, would hold
        // them forever, as in one process).
        using var workers = new WorkerCluster(log, harness, Write(harness, name, JobText(name, harness.Bootstrap, tables, bounded: false, idleTimeout: "2 s")));
        var events = Produce(harness, chunk: 0, partitions: Partitions - 1).Concat(ProduceClosing(harness, Partitions - 1)).ToList();
        // Two processes: the empty partition's stage-0 task and most stage-1 readers are in different workers.
        workers.StartAll("a", "b");
        var windows = Counts(WindowOracle(events).Where(r => !Agg.HeldBack(r)));
        // All data is there before the workers start: each stage-0 task reads its partition and turns idle 2 s later,
        // the empty one's 2 s after it starts; a stage-1 reader that starts late reads all of it at once. The writers
        // carry each source partition's IDLE, so the windows fire as in one process, whatever the order.
        workers.Settle(() => Count(aggTable) >= windows.Count, $"{windows.Count} windows in {aggTable} with partition {Partitions - 1} empty");
        workers.StopAll();
        Assert.Contains(workers.Processes, w => w.Said($"job '{name}-agg': partition {Partitions - 1}: started") is not null);
        Compare(aggTable, windows, Rows(aggTable, Agg.RowText), workers.Processes);
    }

    /// <summary>
    /// The lab's Day 2 aggregation (examples/postgres/02-aggregation.sql) as the job <c>&lt;name&gt;-agg</c>, and the
    /// Day 1 pass-through (without the geolocation) as <c>&lt;name&gt;-pass</c> when it has a table.
    /// </summary>
    private static string JobText(string name, string bootstrap, IReadOnlyDictionary<SinkCase, string> tables, bool bounded, string? idleTimeout = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine("SET 'execution.checkpointing.interval' = '1 s';");
        if (idleTimeout is not null) sb.AppendLine($"SET 'table.exec.source.idle-timeout' = '{idleTimeout}';");
        sb.AppendLine($"""
            CREATE TABLE events (
                url VARCHAR, referrer VARCHAR, user_agent VARCHAR, host VARCHAR, ip VARCHAR, headers VARCHAR, event_time VARCHAR,
                window_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                WATERMARK FOR window_timestamp AS window_timestamp - INTERVAL '15' SECOND
            ) WITH ('connector' = 'kafka', {KafkaOptions(bootstrap, Topic, $"{name}-source", bounded)}, 'format' = 'json');
            CREATE TABLE processed_events_aggregated (event_hour TIMESTAMP(3), host VARCHAR, num_hits BIGINT) WITH ({JdbcOptions(tables[Agg])});
            """);
        if (tables.TryGetValue(Pass, out var passTable))
        {
            sb.AppendLine($"""
                CREATE TABLE processed_events (ip VARCHAR, event_timestamp TIMESTAMP(3), referrer VARCHAR, host VARCHAR, url VARCHAR) WITH ({JdbcOptions(passTable)});
                SET 'pipeline.name' = '{name}-pass';
                INSERT INTO processed_events SELECT ip, window_timestamp, referrer, host, url FROM events;
                """);
        }
        sb.AppendLine($"""
            SET 'pipeline.name' = '{name}-agg';
            INSERT INTO processed_events_aggregated
            SELECT window_start AS event_hour, host, COUNT(*) AS num_hits
            FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(window_timestamp), INTERVAL '5' MINUTE))
            GROUP BY window_start, window_end, host;
            """);
        return sb.ToString();
    }

    /// <summary>
    /// Chunk <paramref name="chunk"/> of 3000 lab events, event i at 10:00 + i × 150 ms ± 4 s, to partition i mod the
    /// partitions: within each partition no event trails another by more than the 15 s watermark bound, so none is late.
    /// </summary>
    private static List<Event> Produce(RecoveryHarness harness, int chunk, int partitions = Partitions)
    {
        const int count = 3000;
        var random = new Random(17 + chunk);
        var events = new List<Event>(count);
        for (int i = chunk * count; i < (chunk + 1) * count; i++)
        {
            var t = Start.AddMilliseconds(i * 150L + random.Next(-4000, 4000));
            events.Add(new Event(i % partitions, Hosts[random.Next(Hosts.Length)], $"10.0.{random.Next(4)}.{random.Next(256)}", $"/p/{random.Next(40)}", t));
        }
        Send(harness, events);
        return events;
    }

    /// <summary>One event per partition at <see cref="Closing"/>: every window before it closes.</summary>
    private static List<Event> ProduceClosing(RecoveryHarness harness, int partitions = Partitions)
    {
        var events = Enumerable.Range(0, partitions).Select(p => new Event(p, Hosts[0], "10.9.9.9", "/closing", Closing)).ToList();
        Send(harness, events);
        return events;
    }

    private static void Send(RecoveryHarness harness, List<Event> events) => DistributedJob.Send(harness, events.Select(e => (Topic, e.Partition, (string?)null,
        (string?)$$"""{"url":"{{e.Url}}","referrer":null,"user_agent":"x","host":"{{e.Host}}","ip":"{{e.Ip}}","headers":"{}","event_time":"{{Time(e.Time)}}"}""")));
}
