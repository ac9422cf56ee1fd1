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

    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(4);

    private sealed record Event(int Partition, long Id, string Host, string Ip, int Score, DateTime Time)
    {
        public long Ms => (long)(Time - DateTime.UnixEpoch).TotalMilliseconds;

        public bool IsClosing => Id >= ClosingId;
    }

    /// <summary>
    /// One keyed operator as a job: its sink table's columns, its query, how PostgreSQL shows a row (one text per row),
    /// the rows expected from the events, and whether the table is updated by key (then it equals the oracle only once
    /// every change has arrived). <see cref="Open"/> tells a row whose fate depends on the closing events (still held by
    /// the workers, flushed by the end of a bounded run).
    /// </summary>
    private sealed record Case(string Name, string Columns, string Query, string RowText, Func<List<Event>, List<string>> Oracle, bool Upsert, Func<string, bool> Open);

    private static string Ms(string column) => $"(extract(epoch from {column}) * 1000)::bigint";

    private static string Text(params object[] parts) => string.Join('|', parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture)));

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
        Upsert: false, Open: row => ClosingRowAt(row, 0));

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
        Upsert: false, Open: row => ClosingRowAt(row, 0));

    private static readonly Case TopN = new("topn", "host VARCHAR, rn BIGINT, id BIGINT, score INT, PRIMARY KEY (host, rn) NOT ENFORCED",
        """
        SELECT host, rn, id, score FROM (
            SELECT host, id, score, ROW_NUMBER() OVER (PARTITION BY host ORDER BY score DESC) AS rn FROM events)
        WHERE rn <= 3
        """,
        "host || '|' || rn || '|' || id || '|' || score",
        events => [.. events.GroupBy(e => e.Host).SelectMany(g => g.OrderByDescending(e => e.Score).Take(3).Select((e, i) => Text(e.Host, i + 1, e.Id, e.Score)))],
        Upsert: true, Open: _ => false);

    private static readonly Case DedupFirst = new("dedup_first", "ip VARCHAR, id BIGINT, ts TIMESTAMP(3), PRIMARY KEY (ip) NOT ENFORCED",
        """
        SELECT ip, id, ts FROM (
            SELECT ip, id, ts, ROW_NUMBER() OVER (PARTITION BY ip ORDER BY ts ASC) AS rn FROM events)
        WHERE rn = 1
        """,
        $"ip || '|' || id || '|' || {Ms("ts")}",
        events => [.. events.GroupBy(e => e.Ip).Select(g => g.MinBy(e => e.Time)!).Select(e => Text(e.Ip, e.Id, e.Ms))],
        Upsert: true, Open: _ => false);

    private static readonly Case DedupLast = new("dedup_last", "ip VARCHAR, id BIGINT, ts TIMESTAMP(3), PRIMARY KEY (ip) NOT ENFORCED",
        """
        SELECT ip, id, ts FROM (
            SELECT ip, id, ts, ROW_NUMBER() OVER (PARTITION BY ip ORDER BY ts DESC) AS rn FROM events)
        WHERE rn = 1
        """,
        $"ip || '|' || id || '|' || {Ms("ts")}",
        events => [.. events.GroupBy(e => e.Ip).Select(g => g.MaxBy(e => e.Time)!).Select(e => Text(e.Ip, e.Id, e.Ms))],
        Upsert: true, Open: _ => false);

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
        Upsert: false, Open: row => ClosingRowAt(row, 1) || ClosingRowAt(row, 2));

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
        var tables = cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name));
        string[] repartition = RepartitionTopics(name, cases, tables);
        using var harness = new RecoveryHarness(log, Partitions, [Topic, .. repartition]);
        var clock = Stopwatch.StartNew();
        string sql = WriteJob(harness, name, cases, tables, bounded: false);
        string home = Path.Combine(harness.WorkDir, "home");
        var workers = new List<WorkerProcess>();
        var events = new List<Event>();
        var times = new HashSet<long>();
        string[] prefixes = [.. cases.SelectMany(c => new[] { $"job '{name}-{c.Name}'", $"job '{name}-{c.Name}' stage 1" })];
        try
        {
            events.AddRange(Produce(harness, chunk: 0, times));
            workers.AddRange(new[] { "a", "b" }.Select(n => new WorkerProcess(n, sql, home, clock)));
            WaitFor(() => workers.All(w => prefixes.All(p => w.Said($"{p}: assigned partitions") is not null)) && tables.Values.All(t => Count(t) > 0),
                "both workers own partitions of every stage and every table has rows", workers);

            // Mid-run: the second chunk is on its way while worker b dies without a checkpoint or a goodbye.
            Exception? produceFailure = null;
            var producing = new Thread(() =>
            {
                try
                {
                    var chunk = Produce(harness, chunk: 1, times);
                    lock (events) events.AddRange(chunk);
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
            Assert.Contains(orphans.Values, o => o.Count > 0);
            producing.Join();
            if (produceFailure is not null) throw produceFailure;
            WaitFor(() => orphans.All(o => o.Value.All(p => workers[0].Said($"{o.Key}: partition {p}: started ", killedAt) is not null)),
                "worker a takes over every partition of b in every stage", workers);

            // b comes back and gets a share of every stage again; the last chunk and the closing events follow.
            workers[1].Dispose();
            workers[1] = new WorkerProcess("b", sql, home, clock);
            WaitFor(() => prefixes.All(p => workers[1].Said($"{p}: assigned partitions") is not null), "the restarted worker b owns partitions of every stage", workers);
            events.AddRange(Produce(harness, chunk: 2, times));
            events.AddRange(ProduceClosing(harness));

            // The rows every table ends with: what the closing events still hold back stays out.
            var expected = cases.ToDictionary(c => c, c => Counts(c.Oracle(events).Where(r => !c.Open(r))));
            WaitFor(() => cases.All(c => c.Upsert ? Differences(expected[c], Rows(c, tables[c])).Count == 0 : Count(tables[c]) >= expected[c].Values.Sum()),
                "every table has its rows: " + string.Join(", ", cases.Select(c => $"{c.Name} {expected[c].Values.Sum()}")), workers);
            foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            var distributed = cases.ToDictionary(c => c, c => Rows(c, tables[c]));
            foreach (var c in cases)
            {
                Assert.True(expected[c].Count > 0, $"{c.Name}: the oracle has no rows");
                Compare($"{c.Name} ({tables[c]}) against the oracle", expected[c], distributed[c], workers);
            }

            // The same from one process: eddy run over the same topic, to its end (which flushes the closing events too).
            var single = cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name + "_single"));
            var run = harness.Run(WriteJob(harness, name + "_single", cases, single, bounded: true), KillPlan.None, TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, run.Output);
            foreach (var c in cases)
            {
                var rows = Rows(c, single[c]);
                var settled = c.Upsert ? rows : rows.Where(r => !c.Open(r.Key)).ToDictionary();
                Compare($"{c.Name}: eddy run ({single[c]}) against the workers", distributed[c], settled, workers);
            }
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
    }

    /// <summary>The job's repartition topics as <c>eddy explain --distributed</c> names them (the dev broker creates them at its start).</summary>
    private static string[] RepartitionTopics(string name, Case[] cases, Dictionary<Case, string> tables)
    {
        string dir = Directory.CreateTempSubdirectory("eddy-explain-").FullName;
        try
        {
            string file = Path.Combine(dir, name + ".sql");
            File.WriteAllText(file, JobText(name, "127.0.0.1:1", cases, tables, bounded: false));
            using var p = EddyProcess.Start("explain", file, "--distributed");
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2))) throw new TimeoutException("eddy explain did not finish in 2 minutes");
            Assert.True(p.ExitCode == 0, stderr + stdout.Result);
            var topics = Regex.Matches(stdout.Result, @"writes (\S+-repartition) \(").Select(m => m.Groups[1].Value).Distinct().ToArray();
            Assert.True(topics.Length == cases.Length, $"{cases.Length} repartition topics expected (one per job):\n" + stdout.Result);
            return topics;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string WriteJob(RecoveryHarness harness, string name, Case[] cases, Dictionary<Case, string> tables, bool bounded)
    {
        string file = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(file, JobText(name, harness.Bootstrap, cases, tables, bounded));
        return file;
    }

    /// <summary>A job per case (<c>&lt;name&gt;-&lt;case&gt;</c>), each keyed operator reading its own repartition topic.</summary>
    private static string JobText(string name, string bootstrap, Case[] cases, Dictionary<Case, string> tables, bool bounded)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        var sb = new StringBuilder();
        sb.AppendLine("SET 'execution.checkpointing.interval' = '1 s';");
        sb.AppendLine($$"""
            CREATE TABLE events (
                id BIGINT, host VARCHAR, ip VARCHAR, score INT, event_time VARCHAR,
                ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
            ) WITH (
                'connector' = 'kafka', 'topic' = '{{Topic}}', 'properties.bootstrap.servers' = '{{bootstrap}}',
                'properties.group.id' = '{{name}}-source', 'properties.session.timeout.ms' = '6000', 'properties.heartbeat.interval.ms' = '1000',
                'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = '{{(bounded ? "latest-offset" : "unbounded")}}', 'format' = 'json'
            );
            """);
        foreach (var c in cases)
        {
            sb.AppendLine($"""
                CREATE TABLE {c.Name}_sink ({c.Columns}) WITH (
                    'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{tables[c]}', 'sink.create-table' = 'true'
                );
                """);
        }
        foreach (var c in cases)
        {
            sb.AppendLine($"SET 'pipeline.name' = '{name}-{c.Name}';");
            sb.AppendLine($"INSERT INTO {c.Name}_sink {c.Query};");
        }
        return sb.ToString();
    }

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

    private static void Send(RecoveryHarness harness, List<Event> events)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = harness.Bootstrap, LingerMs = 5 }).Build();
        foreach (var e in events)
        {
            string json = $$"""{"id":{{e.Id}},"host":"{{e.Host}}","ip":"{{e.Ip}}","score":{{e.Score}},"event_time":"{{e.Time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}"}""";
            producer.Produce(new TopicPartition(Topic, e.Partition), new Message<Null, byte[]> { Value = Encoding.UTF8.GetBytes(json) });
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException("events were not delivered");
    }

    internal static Dictionary<string, long> Counts(IEnumerable<string> rows) => rows.GroupBy(r => r).ToDictionary(g => g.Key, g => (long)g.Count());

    /// <summary>The table's rows as text, each with how often it is there.</summary>
    private static Dictionary<string, long> Rows(Case c, string table)
    {
        try
        {
            return Counts(PgServer.Query($"SELECT {c.RowText} FROM {table}").Select(r => (string)r[0]!));
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01")
        {
            return []; // not created yet
        }
    }

    internal static List<string> Differences(Dictionary<string, long> expected, Dictionary<string, long> actual) =>
    [
        .. expected.Where(e => actual.GetValueOrDefault(e.Key) != e.Value).Select(e => $"{e.Key}: {e.Value} expected, {actual.GetValueOrDefault(e.Key)} found"),
        .. actual.Where(a => !expected.ContainsKey(a.Key)).Select(a => $"{a.Key}: {a.Value} not expected"),
    ];

    internal static void Compare(string what, Dictionary<string, long> expected, Dictionary<string, long> actual, List<WorkerProcess> workers)
    {
        var differences = Differences(expected, actual);
        Assert.True(differences.Count == 0,
            $"{what}: {differences.Count} rows differ ({actual.Values.Sum()} rows for {expected.Values.Sum()})\n"
            + string.Join("\n", differences.Take(20)) + "\n" + string.Join("\n", workers.Select(w => w.Describe(40))));
    }

    /// <summary>The partitions a worker owned at <paramref name="at"/> in the stage its log lines start with <paramref name="prefix"/>.</summary>
    internal static SortedSet<int> OwnedAt(WorkerProcess worker, string prefix, TimeSpan at)
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
            Thread.Sleep(500);
        }
        log.WriteLine($"{what}: after {waited.Elapsed.TotalSeconds:F1} s");
    }
}
