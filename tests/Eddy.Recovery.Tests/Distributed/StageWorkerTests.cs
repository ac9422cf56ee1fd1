using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;

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

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    private sealed record Event(int Partition, string Host, string Ip, string Url, DateTime Time);

    [Fact]
    public void Three_workers_with_one_killed_and_restarted_aggregate_and_pass_through_every_event_once()
    {
        const string name = "stage_kill";
        string passTable = PgServer.UniqueName("lab_pass"), aggTable = PgServer.UniqueName("lab_agg");
        string[] repartition = RepartitionTopics(name, passTable, aggTable, pass: true);
        using var harness = new RecoveryHarness(log, Partitions, [Topic, .. repartition]);
        var clock = Stopwatch.StartNew();
        string sql = WriteJob(harness, name, passTable, aggTable, pass: true);
        string home = Path.Combine(harness.WorkDir, "home");
        var workers = new List<WorkerProcess>();
        var events = new List<Event>();
        try
        {
            events.AddRange(Produce(harness, chunk: 0));
            workers.AddRange(new[] { "a", "b", "c" }.Select(n => new WorkerProcess(n, sql, home, clock)));
            string[] prefixes = [$"job '{name}-pass'", $"job '{name}-agg'", $"job '{name}-agg' stage 1"];
            WaitFor(() => workers.All(w => prefixes.All(p => w.Said($"{p}: assigned partitions") is not null)) && Count(passTable) > 0 && Count(aggTable) > 0,
                "all three workers own partitions of every stage, rows and windows arrive", workers);

            // Mid-run: the second chunk is on its way while worker b dies without a checkpoint or a goodbye.
            Exception? produceFailure = null;
            var producing = new Thread(() =>
            {
                try
                {
                    lock (events) events.AddRange(Produce(harness, chunk: 1));
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or KafkaException)
                {
                    produceFailure = e;
                }
            });
            producing.Start();
            var killedAt = clock.Elapsed;
            workers[1].KillHard();
            var orphans = prefixes.ToDictionary(p => p, p => OwnedAt(workers[1], p, killedAt));
            log.WriteLine($"[{killedAt.TotalSeconds:F2} s] worker b killed (SIGKILL) owning " + string.Join("; ", orphans.Select(o => $"{o.Key}: {string.Join(",", o.Value)}")));
            Assert.All(orphans.Values, Assert.NotEmpty);
            producing.Join();
            if (produceFailure is not null) throw produceFailure;
            TimeSpan? Resumed(string prefix, int p) => workers.Where(w => w.Name != "b")
                .Select(w => w.Said($"{prefix}: partition {p}: started ", killedAt)).Where(t => t is not null).Min();
            WaitFor(() => orphans.All(o => o.Value.All(p => Resumed(o.Key, p) is not null)), "the surviving workers take over every partition of b in every stage", workers);
            var takenOver = orphans.SelectMany(o => o.Value.Select(p => Resumed(o.Key, p)!.Value)).Max();
            log.WriteLine($"failover: {(takenOver - killedAt).TotalSeconds:F2} s from SIGKILL to the last of b's partitions (all stages) running again on a survivor "
                + "(session.timeout.ms = 6000)");

            // b comes back later and gets a share of every stage again.
            workers[1].Dispose();
            workers[1] = new WorkerProcess("b", sql, home, clock);
            WaitFor(() => prefixes.All(p => workers[1].Said($"{p}: assigned partitions") is not null), "the restarted worker b owns partitions of every stage", workers);
            events.AddRange(Produce(harness, chunk: 2));
            events.AddRange(ProduceClosing(harness));

            var windows = WindowOracle(events);
            WaitFor(() => Count(passTable) >= events.Count && Count(aggTable) >= windows.Count, $"{events.Count} rows in {passTable}, {windows.Count} windows in {aggTable}", workers);
            foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            Compare(passTable, PassThroughOracle(events), PassThroughRows(passTable), workers);
            var distributed = WindowRows(aggTable);
            Compare(aggTable, windows, distributed, workers);

            // The same windows from one process: eddy run over the same topic, to its end.
            string single = PgServer.UniqueName("lab_agg_single");
            string singleSql = WriteJob(harness, name + "_single", passTable, single, pass: false, bounded: true);
            var run = harness.Run(singleSql, KillPlan.None, TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, run.Output);
            // Its end of input fires the closing events' window too, which the workers (unbounded) keep open.
            var singleRows = WindowRows(single).Where(r => !r.Key.StartsWith(Key(Closing, ""), StringComparison.Ordinal)).ToDictionary();
            Compare(single + " (eddy run) against the workers", distributed, singleRows, workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(80));
        }
    }

    [Fact]
    public void Rescaling_the_aggregation_from_one_to_three_to_two_workers_gives_every_window_once()
    {
        const string name = "stage_rescale";
        string aggTable = PgServer.UniqueName("lab_agg");
        string[] repartition = RepartitionTopics(name, "unused", aggTable, pass: false);
        using var harness = new RecoveryHarness(log, Partitions, [Topic, .. repartition]);
        var clock = Stopwatch.StartNew();
        string sql = WriteJob(harness, name, "unused", aggTable, pass: false);
        string home = Path.Combine(harness.WorkDir, "home");
        var workers = new List<WorkerProcess>();
        var events = new List<Event>();
        const string stage1 = $"job '{name}-agg' stage 1";
        try
        {
            events.AddRange(Produce(harness, chunk: 0));
            workers.Add(new WorkerProcess("a", sql, home, clock));
            WaitFor(() => workers[0].Said($"{stage1}: assigned partitions") is not null && Count(aggTable) > 0, "worker a alone runs both stages and windows arrive", workers);

            // 1 → 3: two workers join; a hands over only what moves, each after a final checkpoint.
            var joined = clock.Elapsed;
            workers.Add(new WorkerProcess("b", sql, home, clock));
            workers.Add(new WorkerProcess("c", sql, home, clock));
            events.AddRange(Produce(harness, chunk: 1));
            WaitFor(() => workers.Skip(1).All(w => w.Said($"{stage1}: partition") is not null && w.Said($"job '{name}-agg': partition") is not null)
                && workers[0].Said("final checkpoint", joined) is not null, "b and c own partitions of both stages, a handed them over after final checkpoints", workers);

            // 3 → 2: c stops gracefully (final checkpoints, then it leaves the groups).
            Assert.True(workers[2].Stop(TimeSpan.FromMinutes(2)) == 0, "worker c did not stop cleanly:\n" + workers[2].Describe());
            var left = workers[2].Lines[^1].At;
            events.AddRange(Produce(harness, chunk: 2));
            events.AddRange(ProduceClosing(harness));
            WaitFor(() => workers.Take(2).Any(w => w.Said($"{stage1}: partition", left) is not null), "a or b takes over c's stage-1 partitions", workers);

            var windows = WindowOracle(events);
            WaitFor(() => Count(aggTable) >= windows.Count, $"{windows.Count} windows in {aggTable}", workers);
            foreach (var w in workers.Take(2)) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            Assert.Contains(workers[0].Lines, l => l.Line.Contains($"{stage1}: revoked partitions", StringComparison.Ordinal));
            Compare(aggTable, windows, WindowRows(aggTable), workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
    }

    [Fact]
    public void A_source_partition_without_data_holds_windows_back_only_until_the_idle_timeout()
    {
        const string name = "stage_idle";
        string aggTable = PgServer.UniqueName("lab_agg");
        string[] repartition = RepartitionTopics(name, "unused", aggTable, pass: false);
        using var harness = new RecoveryHarness(log, Partitions, [Topic, .. repartition]);
        var clock = Stopwatch.StartNew();
        // Partition 11 gets nothing, ever: only its idleness lets the windows fire (the default, no idle timeout, would hold
        // them forever, as in one process).
        string sql = WriteJob(harness, name, "unused", aggTable, pass: false, idleTimeout: "2 s");
        string home = Path.Combine(harness.WorkDir, "home");
        var workers = new List<WorkerProcess>();
        try
        {
            var events = Produce(harness, chunk: 0, partitions: Partitions - 1).Concat(ProduceClosing(harness, Partitions - 1)).ToList();
            // Two processes: the empty partition's stage-0 task and most stage-1 readers are in different workers.
            workers.AddRange(new[] { "a", "b" }.Select(n => new WorkerProcess(n, sql, home, clock)));
            var windows = WindowOracle(events);
            // All data is there before the workers start: each stage-0 task reads its partition and turns idle 2 s later,
            // the empty one's 2 s after it starts; a stage-1 reader that starts late reads all of it at once. The writers
            // carry each source partition's IDLE, so the windows fire as in one process, whatever the order.
            WaitFor(() => Count(aggTable) >= windows.Count, $"{windows.Count} windows in {aggTable} with partition {Partitions - 1} empty", workers);
            foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            Assert.Contains(workers, w => w.Said($"job '{name}-agg': partition {Partitions - 1}: started") is not null);
            Compare(aggTable, windows, WindowRows(aggTable), workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
    }

    /// <summary>The job's repartition topics as <c>eddy explain --distributed</c> names them (the dev broker creates them at its start).</summary>
    private static string[] RepartitionTopics(string name, string passTable, string aggTable, bool pass)
    {
        string dir = Directory.CreateTempSubdirectory("eddy-explain-").FullName;
        try
        {
            string file = Path.Combine(dir, name + ".sql");
            File.WriteAllText(file, JobText(name, "127.0.0.1:1", passTable, aggTable, pass, bounded: false, idleTimeout: null));
            using var p = EddyProcess.Start("explain", file, "--distributed");
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2))) throw new TimeoutException("eddy explain did not finish in 2 minutes");
            Assert.True(p.ExitCode == 0, stderr + stdout.Result);
            var topics = Regex.Matches(stdout.Result, @"writes (\S+-repartition) \(").Select(m => m.Groups[1].Value).Distinct().ToArray();
            Assert.True(topics.Length == 1, "one repartition topic expected:\n" + stdout.Result);
            return topics;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string WriteJob(RecoveryHarness harness, string name, string passTable, string aggTable, bool pass, bool bounded = false, string? idleTimeout = null)
    {
        string file = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(file, JobText(name, harness.Bootstrap, passTable, aggTable, pass, bounded, idleTimeout));
        return file;
    }

    /// <summary>The lab's Day 1 pass-through (without the geolocation) and Day 2 aggregation (examples/postgres/02-aggregation.sql) as two jobs.</summary>
    private static string JobText(string name, string bootstrap, string passTable, string aggTable, bool pass, bool bounded, string? idleTimeout)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        var sb = new StringBuilder();
        sb.AppendLine("SET 'execution.checkpointing.interval' = '1 s';");
        if (idleTimeout is not null) sb.AppendLine($"SET 'table.exec.source.idle-timeout' = '{idleTimeout}';");
        sb.AppendLine($$"""
            CREATE TABLE events (
                url VARCHAR, referrer VARCHAR, user_agent VARCHAR, host VARCHAR, ip VARCHAR, headers VARCHAR, event_time VARCHAR,
                window_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                WATERMARK FOR window_timestamp AS window_timestamp - INTERVAL '15' SECOND
            ) WITH (
                'connector' = 'kafka', 'topic' = '{{Topic}}', 'properties.bootstrap.servers' = '{{bootstrap}}',
                'properties.group.id' = '{{name}}-source', 'properties.session.timeout.ms' = '6000', 'properties.heartbeat.interval.ms' = '1000',
                'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = '{{(bounded ? "latest-offset" : "unbounded")}}', 'format' = 'json'
            );
            CREATE TABLE processed_events_aggregated (event_hour TIMESTAMP(3), host VARCHAR, num_hits BIGINT) WITH (
                'connector' = 'jdbc', 'url' = '{{url}}', 'username' = '{{user}}', 'table-name' = '{{aggTable}}', 'sink.create-table' = 'true'
            );
            """);
        if (pass)
        {
            sb.AppendLine($$"""
                CREATE TABLE processed_events (ip VARCHAR, event_timestamp TIMESTAMP(3), referrer VARCHAR, host VARCHAR, url VARCHAR) WITH (
                    'connector' = 'jdbc', 'url' = '{{url}}', 'username' = '{{user}}', 'table-name' = '{{passTable}}', 'sink.create-table' = 'true'
                );
                SET 'pipeline.name' = '{{name}}-pass';
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

    private static void Send(RecoveryHarness harness, List<Event> events)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = harness.Bootstrap, LingerMs = 5 }).Build();
        foreach (var e in events)
        {
            string json = $$"""{"url":"{{e.Url}}","referrer":null,"user_agent":"x","host":"{{e.Host}}","ip":"{{e.Ip}}","headers":"{}","event_time":"{{e.Time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}"}""";
            producer.Produce(new TopicPartition(Topic, e.Partition), new Message<Null, byte[]> { Value = Encoding.UTF8.GetBytes(json) });
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException("events were not delivered");
    }

    private static string Key(DateTime window, string host) => window.Ticks.ToString(CultureInfo.InvariantCulture) + "|" + host;

    /// <summary>Hits per host per 5-minute window, for every window before the closing events' (which stays open).</summary>
    private static Dictionary<string, long> WindowOracle(IEnumerable<Event> events) => events
        .Where(e => e.Time < Closing)
        .GroupBy(e => Key(new DateTime(e.Time.Ticks - e.Time.Ticks % TimeSpan.FromMinutes(5).Ticks), e.Host))
        .ToDictionary(g => g.Key, g => (long)g.Count());

    /// <summary>The table's windows; a window written twice (doubled) keeps a count of −1, which no oracle has.</summary>
    private static Dictionary<string, long> WindowRows(string table)
    {
        var rows = new Dictionary<string, long>();
        foreach (var r in PgServer.Query($"SELECT event_hour, host, num_hits FROM {table}"))
        {
            string key = Key((DateTime)r[0]!, (string)r[1]!);
            rows[key] = rows.ContainsKey(key) ? -1 : (long)r[2]!;
        }
        return rows;
    }

    private static Dictionary<string, long> PassThroughOracle(IEnumerable<Event> events) => events
        .GroupBy(e => string.Join('|', e.Ip, e.Time.Ticks, e.Host, e.Url)).ToDictionary(g => g.Key, g => (long)g.Count());

    private static Dictionary<string, long> PassThroughRows(string table)
    {
        var rows = new Dictionary<string, long>();
        foreach (var r in PgServer.Query($"SELECT ip, event_timestamp, host, url FROM {table}"))
        {
            string key = string.Join('|', (string)r[0]!, ((DateTime)r[1]!).Ticks, (string)r[2]!, (string)r[3]!);
            rows[key] = rows.GetValueOrDefault(key) + 1;
        }
        return rows;
    }

    private static void Compare(string what, Dictionary<string, long> expected, Dictionary<string, long> actual, List<WorkerProcess> workers)
    {
        var missing = expected.Where(e => actual.GetValueOrDefault(e.Key) != e.Value).Select(e => $"{e.Key}: {e.Value} expected, {actual.GetValueOrDefault(e.Key)} found").ToList();
        var extra = actual.Where(a => !expected.ContainsKey(a.Key)).Select(a => $"{a.Key}: {a.Value} not expected").ToList();
        Assert.True(missing.Count == 0 && extra.Count == 0,
            $"{what}: {missing.Count} keys differ, {extra.Count} unexpected ({actual.Values.Sum()} for {expected.Values.Sum()})\n"
            + string.Join("\n", missing.Concat(extra).Take(20)) + "\n" + string.Join("\n", workers.Select(w => w.Describe(40))));
    }

    /// <summary>The partitions a worker owned at <paramref name="at"/> in the stage its log lines start with <paramref name="prefix"/>.</summary>
    private static SortedSet<int> OwnedAt(WorkerProcess worker, string prefix, TimeSpan at)
    {
        var owned = new SortedSet<int>();
        foreach (var (_, line) in worker.Lines.Where(l => l.At <= at))
        {
            var m = Regex.Match(line, "eddy worker: " + Regex.Escape(prefix) + @": (assigned|revoked|lost) partitions ([0-9,]+)");
            if (!m.Success) continue;
            var numbers = m.Groups[2].Value.Split(',').Select(int.Parse);
            if (m.Groups[1].Value == "assigned") owned.UnionWith(numbers);
            else owned.ExceptWith(numbers);
        }
        return owned;
    }

    private static long Count(string table)
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

    private void WaitFor(Func<bool> condition, string what, List<WorkerProcess> workers)
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
