using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Connectors.Postgres.Tests;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.KeyedStageWorkerTests;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy worker</c> processes running event-time temporal joins (<c>FOR SYSTEM_TIME AS OF o.ts</c>): orders (an
/// append-only topic, partitioned by order id) joined with the rate of their currency valid at their time, from a
/// versioned table read as an upsert topic (<c>'connector' = 'upsert-kafka'</c>) and, the same changes, as a Debezium
/// topic (<c>'format' = 'debezium-json'</c>), each partitioned by currency. Three jobs — inner and LEFT against the
/// upsert table, LEFT with a residual condition against the Debezium table —, each with both sides through their own
/// repartition topic keyed by the currency (co-partitioned), into append-only PostgreSQL tables, exactly-once, so a
/// probe row joined twice would show. One worker of two is killed with SIGKILL mid-run and started again. Expected
/// rows: plain C# applying Flink's semantics (each order joins the version of its currency with the latest time at or
/// before the order's, a delete being a version in which the currency does not exist, at the time of the row it
/// deletes; an order fires once the watermark, the minimum over every partition of both topics, passes it), and a
/// single-process <c>eddy run</c> over the same topics.
/// </summary>
public sealed class TemporalJoinStageWorkerTests(ITestOutputHelper log)
{
    private const int Partitions = 4;
    private const string OrdersTopic = "temporalorders";
    private const string UpsertTopic = "temporalrates";
    private const string DebeziumTopic = "temporalcdcrates";
    /// <summary>Currencies with versions, c0..c23 (currency i in partition i mod 4 of both rate topics).</summary>
    private const int Currencies = 24;
    /// <summary>Currencies orders name that never get a version (x0, x1): dropped by the inner join, padded by LEFT.</summary>
    private const int Strays = 2;
    private const int StepsPerChunk = 1500;
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(200);
    /// <summary>The watermark delay of both tables.</summary>
    private static readonly TimeSpan Delay = TimeSpan.FromSeconds(2);
    private static readonly DateTime Start = new(2026, 3, 1, 0, 0, 0, DateTimeKind.Utc);

    private sealed record Order(long Id, string Currency, int Amount, DateTime Time)
    {
        public int Partition => (int)(Id % Partitions);
    }

    private sealed record Rate(string Currency, int Value, DateTime Time);

    /// <summary>One change of the versioned table: the row before (null: an insert) and after (null: a delete).</summary>
    private sealed record Change(Rate? Before, Rate? After)
    {
        public string Currency => (After ?? Before)!.Currency;

        public int Partition => int.Parse(Currency[1..], CultureInfo.InvariantCulture) % Partitions;
    }

    private sealed record Case(string Name, string Query, bool LeftOuter, Func<Order, Rate, bool> Residual);

    private const string Columns = "id BIGINT, cur VARCHAR, amount INT, order_ts TIMESTAMP(3), rate INT, rate_ts TIMESTAMP(3)";

    private const string RowText = "id || '|' || cur || '|' || amount || '|' || (extract(epoch from order_ts) * 1000)::bigint || '|' "
        + "|| COALESCE(rate::text, 'null') || '|' || COALESCE(((extract(epoch from rate_ts) * 1000)::bigint)::text, 'null')";

    private static readonly Case Inner = new("temporal_inner",
        "SELECT o.id, o.cur, o.amount, o.ts, r.rate, r.ts FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur",
        LeftOuter: false, (_, _) => true);

    private static readonly Case Left = new("temporal_left",
        "SELECT o.id, o.cur, o.amount, o.ts, r.rate, r.ts FROM orders AS o LEFT JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur",
        LeftOuter: true, (_, _) => true);

    /// <summary>A residual condition over both sides: a version that fails it pads the order, as none would.</summary>
    private static readonly Case DebeziumLeft = new("temporal_cdc_left",
        "SELECT o.id, o.cur, o.amount, o.ts, r.rate, r.ts FROM orders AS o LEFT JOIN cdc_rates FOR SYSTEM_TIME AS OF o.ts AS r "
        + "ON o.cur = r.cur AND MOD(o.amount, 5) <> MOD(r.rate, 5)",
        LeftOuter: true, (o, r) => o.Amount % 5 != r.Value % 5);

    private static readonly Case[] Cases = [Inner, Left, DebeziumLeft];

    private static string Text(params object?[] parts) => string.Join('|', parts.Select(p => p is null ? "null" : Convert.ToString(p, CultureInfo.InvariantCulture)));

    private static long Ms(DateTime t) => (long)(t - DateTime.UnixEpoch).TotalMilliseconds;

    private static string Stamp(DateTime t) => t.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    /// <summary>
    /// The test's event time: each step is an order or a change of a rate, 200 ms apart, so every partition's times
    /// increase (no row is late: what a one-process run and the workers fire is then the same).
    /// </summary>
    private sealed class History(int seed)
    {
        private readonly Random random = new(seed);
        private readonly Dictionary<string, Rate> live = [];
        /// <summary>The time of the last order of each currency.</summary>
        private readonly Dictionary<string, DateTime> lastOrder = [];
        private readonly int[] values = Shuffled(new Random(seed + 1), 1_000_000);
        private int nextValue;
        private long nextId;
        private int step;

        public List<Order> Orders { get; } = [];

        public List<Change> Changes { get; } = [];

        private static int[] Shuffled(Random r, int n)
        {
            var a = Enumerable.Range(1, n).ToArray();
            r.Shuffle(a);
            return a;
        }

        private DateTime Now => Start + step * Step;

        /// <summary>
        /// The next chunk: about one step in three changes a rate (an insert for a currency without one; else an update
        /// with a value of its own, or, for a currency no order has named since its version began, a delete — a delete
        /// is a version at the deleted row's time in Flink, so with orders in between which of them see it would depend
        /// on how far the watermark had come when it arrived); the other steps are orders.
        /// </summary>
        public (List<Order> Orders, List<Change> Changes) Chunk()
        {
            var orders = new List<Order>();
            var changes = new List<Change>();
            for (int i = 0; i < StepsPerChunk; i++, step++)
            {
                if (random.Next(3) == 0)
                {
                    string currency = $"c{random.Next(Currencies)}";
                    live.TryGetValue(currency, out var before);
                    bool quiet = before is not null && (!lastOrder.TryGetValue(currency, out var last) || last < before.Time);
                    Rate? after = quiet && random.Next(4) == 0 ? null : new Rate(currency, values[nextValue++], Now);
                    changes.Add(new Change(before, after));
                    if (after is null) live.Remove(currency);
                    else live[currency] = after;
                }
                else
                {
                    int c = random.Next(Currencies + Strays);
                    string currency = c < Currencies ? $"c{c}" : $"x{c - Currencies}";
                    orders.Add(new Order(nextId++, currency, random.Next(1, 1000), Now));
                    lastOrder[currency] = Now;
                }
            }
            Orders.AddRange(orders);
            Changes.AddRange(changes);
            return (orders, changes);
        }

        /// <summary>
        /// Rows an hour after the rest in every partition of every topic (an order of a stray currency, an update of a
        /// rate), so that the watermark passes every earlier order; those orders themselves stay held back.
        /// </summary>
        public (List<Order> Orders, List<Change> Changes) Closing()
        {
            var at = Now + TimeSpan.FromHours(1);
            var orders = Enumerable.Range(0, Partitions).Select(_ => new Order(nextId++, "x0", 1, at)).ToList();
            var changes = new List<Change>();
            for (int p = 0; p < Partitions; p++)
            {
                string currency = $"c{p}";
                live.TryGetValue(currency, out var before);
                var after = new Rate(currency, values[nextValue++], at);
                changes.Add(new Change(before, after));
                live[currency] = after;
            }
            Orders.AddRange(orders);
            Changes.AddRange(changes);
            return (orders, changes);
        }
    }

    /// <summary>
    /// Flink's event-time temporal join, from the produced rows: the versions of each currency ordered by time (a
    /// delete is a version at its deleted row's time in which the currency does not exist, replacing the version of
    /// that time); an order joins the latest version at or before its time when it exists and passes the residual, is
    /// padded by LEFT when not, and is fired only if <paramref name="watermark"/> has passed it.
    /// </summary>
    private static Dictionary<string, long> Oracle(Case c, History history, DateTime watermark)
    {
        var versions = Versions(history);
        var rows = new List<string>();
        foreach (var o in history.Orders.Where(o => o.Time <= watermark))
        {
            var (_, version) = ValidAt(versions, o);
            if (version is not null && c.Residual(o, version))
                rows.Add(Text(o.Id, o.Currency, o.Amount, Ms(o.Time), version.Value, Ms(version.Time)));
            else if (c.LeftOuter)
                rows.Add(Text(o.Id, o.Currency, o.Amount, Ms(o.Time), null, null));
        }
        return Counts(rows);
    }

    /// <summary>Per currency, its versions by time: a delete is a version without a row at the deleted row's time, replacing that version.</summary>
    private static Dictionary<string, SortedDictionary<DateTime, Rate?>> Versions(History history)
    {
        var versions = new Dictionary<string, SortedDictionary<DateTime, Rate?>>();
        foreach (var change in history.Changes)
        {
            if (!versions.TryGetValue(change.Currency, out var list)) versions[change.Currency] = list = [];
            if (change.After is { } after) list[after.Time] = after;
            else list[change.Before!.Time] = null;
        }
        return versions;
    }

    /// <summary>The version of the order's currency with the latest time at or before the order's: whether there is one, and its row (null: deleted).</summary>
    private static (bool Found, Rate? Row) ValidAt(Dictionary<string, SortedDictionary<DateTime, Rate?>> versions, Order o)
    {
        (bool, Rate?) found = (false, null);
        if (versions.TryGetValue(o.Currency, out var list))
            foreach (var (time, rate) in list)
            {
                if (time > o.Time) break;
                found = (true, rate);
            }
        return found;
    }

    /// <summary>
    /// The watermark the workers end at: per partition of each topic, its latest time less the delay (the tables'
    /// WATERMARK); the join's watermark is the minimum over all of them.
    /// </summary>
    private static DateTime FinalWatermark(History history) =>
        new[]
        {
            history.Orders.GroupBy(o => o.Partition).Select(g => g.Max(o => o.Time)).ToList(),
            history.Changes.GroupBy(c => c.Partition).Select(g => g.Max(c => c.After?.Time ?? DateTime.MinValue)).ToList(),
        }.Select(maxima =>
        {
            Assert.Equal(Partitions, maxima.Count);
            return maxima.Min();
        }).Min() - Delay;

    [Fact]
    public void Inner_and_left_temporal_joins_of_upsert_and_debezium_versioned_tables_across_two_workers_with_one_killed_and_restarted_equal_the_oracle_and_one_process()
    {
        const string name = "temporal";
        var tables = Cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name));
        string[] repartition = RepartitionTopics(name, tables);
        using var harness = new RecoveryHarness(log, Partitions, [OrdersTopic, UpsertTopic, DebeziumTopic, .. repartition]);
        var clock = Stopwatch.StartNew();
        string sql = WriteJob(harness, name, tables, bounded: false);
        string home = Path.Combine(harness.WorkDir, "home");
        var workers = new List<WorkerProcess>();
        // Per job: the orders' stage, the rates' stage, the join's stage.
        string[] prefixes = [.. Cases.SelectMany(c => new[] { $"job '{name}-{c.Name}'", $"job '{name}-{c.Name}' stage 1", $"job '{name}-{c.Name}' stage 2" })];
        var history = new History(1212);
        try
        {
            Send(harness, history.Chunk());
            // What chunk 0 alone lets the joins fire: the orders its watermark (the minimum over every partition) has passed.
            var afterFirst = Cases.ToDictionary(c => c, c => Oracle(c, history, FinalWatermark(history)).Values.Sum());
            workers.AddRange(new[] { "a", "b" }.Select(n => new WorkerProcess(n, sql, home, clock)));
            WaitFor(log, () => workers.All(w => prefixes.All(p => w.Said($"{p}: assigned partitions") is not null)) && Cases.All(c => Count(tables[c]) >= afterFirst[c]),
                "both workers own partitions of every stage and every table has the rows of chunk 0: " + string.Join(", ", Cases.Select(c => $"{c.Name} {afterFirst[c]}")),
                workers);

            // Mid-run: the second chunk is on its way, in slices, and worker b dies without a checkpoint or a goodbye once
            // rows of it are committed, so that records it read and sent on after its last checkpoint are read again by
            // its successor (and dropped by position at the repartition readers: an order joined twice would show).
            var chunk = history.Chunk();
            const int slices = 12;
            var produced = new ManualResetEventSlim();
            Exception? produceFailure = null;
            var producing = new Thread(() =>
            {
                try
                {
                    for (int i = 0; i < slices; i++)
                    {
                        Send(harness, ([.. chunk.Orders.Where((_, n) => n * slices / chunk.Orders.Count == i)], [.. chunk.Changes.Where((_, n) => n * slices / chunk.Changes.Count == i)]));
                        Thread.Sleep(250); // spread the chunk over a few checkpoints
                    }
                }
                catch (Exception e) when (e is InvalidOperationException or TimeoutException or KafkaException)
                {
                    produceFailure = e;
                }
                finally
                {
                    produced.Set();
                }
            });
            producing.Start();
            WaitFor(log, () => produced.IsSet || Count(tables[Left]) > afterFirst[Left], "rows of chunk 1 committed (or the chunk sent)", workers);
            log.WriteLine(produced.IsSet ? "chunk 1 was sent before any of its rows were committed" : "rows of chunk 1 are committed while it is being sent");
            var killedAt = clock.Elapsed;
            workers[1].KillHard();
            var orphans = prefixes.ToDictionary(p => p, p => OwnedAt(workers[1], p, killedAt));
            log.WriteLine($"[{killedAt.TotalSeconds:F2} s] worker b killed (SIGKILL) owning " + string.Join("; ", orphans.Select(o => $"{o.Key}: {string.Join(",", o.Value)}")));
            // The join's state of b's partitions (waiting orders, versions) moves to a, restored from their checkpoints.
            Assert.True(Cases.Any(c => orphans[$"job '{name}-{c.Name}' stage 2"].Count > 0), "worker b owned no partition of a join stage when killed");
            producing.Join();
            if (produceFailure is not null) throw produceFailure;
            WaitFor(log, () => orphans.All(o => o.Value.All(p => workers[0].Said($"{o.Key}: partition {p}: started ", killedAt) is not null)),
                "worker a takes over every partition of b in every stage", workers);

            workers[1].Dispose();
            workers[1] = new WorkerProcess("b", sql, home, clock);
            WaitFor(log, () => prefixes.All(p => workers[1].Said($"{p}: assigned partitions") is not null), "the restarted worker b owns partitions of every stage", workers);
            Send(harness, history.Chunk());
            Send(harness, history.Closing());

            var watermark = FinalWatermark(history);
            var expected = Cases.ToDictionary(c => c, c => Oracle(c, history, watermark));
            int held = history.Orders.Count(o => o.Time > watermark);
            log.WriteLine($"{history.Orders.Count} orders, {history.Changes.Count} rate changes ({history.Changes.Count(c => c.After is null)} deletes); "
                + $"{held} orders after the final watermark; rows expected: " + string.Join(", ", Cases.Select(c => $"{c.Name} {expected[c].Values.Sum()}")));
            Assert.Equal(Partitions, held);
            foreach (var c in Cases) Assert.True(expected[c].Count > 0, $"{c.Name}: the oracle has no rows");
            Assert.True(history.Changes.Count(c => c.After is null) > 0, "the history has no deletes");
            var versions = Versions(history);
            var valid = history.Orders.Where(o => o.Time <= watermark).Select(o => ValidAt(versions, o)).ToList();
            log.WriteLine($"orders the watermark passed: {valid.Count(v => !v.Found)} before any version of their currency, "
                + $"{valid.Count(v => v.Found && v.Row is null)} in a deleted version, {valid.Count(v => v.Row is not null)} with a row");
            Assert.True(valid.Count(v => v.Found && v.Row is null) > 0, "no order falls in a deleted version");
            Assert.True(expected[DebeziumLeft].Values.Sum() - expected[DebeziumLeft].Keys.Count(r => r.EndsWith("|null|null", StringComparison.Ordinal)) < expected[Inner].Values.Sum(),
                "the residual pads no order");

            // Append-only tables: wait (bounded) until each has as many rows as expected, then compare.
            var waited = Stopwatch.StartNew();
            while (!Cases.All(c => Count(tables[c]) >= expected[c].Values.Sum()) && waited.Elapsed < TimeSpan.FromMinutes(3))
            {
                var dead = workers.FirstOrDefault(w => w.HasExited && !w.Ended);
                Assert.True(dead is null, $"worker {dead?.Name} exited on its own\n{dead?.Describe(60)}");
                Thread.Sleep(500);
            }
            log.WriteLine($"every table has its rows (or the wait ended): after {waited.Elapsed.TotalSeconds:F1} s");
            foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            var distributed = Cases.ToDictionary(c => c, c => Rows(tables[c]));

            // The same from one process: eddy run over the same topics, to their end (where the watermark passes every order).
            var single = Cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name + "_single"));
            var run = harness.Run(WriteJob(harness, name + "_single", single, bounded: true), KillPlan.None, TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, run.Output);
            var all = Cases.ToDictionary(c => c, c => Oracle(c, history, DateTime.MaxValue));
            var singleRows = Cases.ToDictionary(c => c, c => Rows(single[c]));
            var report = Cases.SelectMany(c => new[]
            {
                (What: $"{c.Name} ({tables[c]}) against the oracle", Differences: Differences(expected[c], distributed[c])),
                (What: $"{c.Name}: eddy run ({single[c]}) against the oracle to the end of input", Differences: Differences(all[c], singleRows[c])),
            }).Where(r => r.Differences.Count > 0).ToList();
            Assert.True(report.Count == 0, string.Join("\n", report.Select(r => $"{r.What}: {r.Differences.Count} rows differ\n  " + string.Join("\n  ", r.Differences.Take(15))))
                + "\n" + string.Join("\n", workers.Select(w => w.Describe(40))));
            // The workers' rows are the one-process run's, but for the orders their watermark never passed.
            long heldMs = Ms(watermark);
            Compare("eddy run against the workers (orders the workers' watermark passed)",
                Cases.SelectMany(c => distributed[c].Select(r => (c.Name + ": " + r.Key, r.Value))).ToDictionary(),
                Cases.SelectMany(c => singleRows[c].Where(r => long.Parse(r.Key.Split('|')[3], CultureInfo.InvariantCulture) <= heldMs).Select(r => (c.Name + ": " + r.Key, r.Value))).ToDictionary(),
                workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
    }

    private static string RateJson(Rate r) => $$"""{"cur":"{{r.Currency}}","rate":{{r.Value}},"ts":"{{Stamp(r.Time)}}"}""";

    /// <summary>
    /// Orders to the orders topic (partition id mod 4); each change to the upsert topic (the row, or a tombstone) and
    /// as a Debezium envelope to the Debezium topic, currency i to partition i mod 4 of both.
    /// </summary>
    private static void Send(RecoveryHarness harness, (List<Order> Orders, List<Change> Changes) chunk)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = harness.Bootstrap, LingerMs = 5 }).Build();
        foreach (var o in chunk.Orders)
        {
            string json = $$"""{"id":{{o.Id}},"cur":"{{o.Currency}}","amount":{{o.Amount}},"ts":"{{Stamp(o.Time)}}"}""";
            producer.Produce(new TopicPartition(OrdersTopic, o.Partition), new Message<byte[]?, byte[]?> { Value = Encoding.UTF8.GetBytes(json) });
        }
        foreach (var c in chunk.Changes)
        {
            byte[] key = Encoding.UTF8.GetBytes($$"""{"cur":"{{c.Currency}}"}""");
            producer.Produce(new TopicPartition(UpsertTopic, c.Partition), new Message<byte[]?, byte[]?>
            {
                Key = key,
                Value = c.After is null ? null : Encoding.UTF8.GetBytes(RateJson(c.After)),
            });
            string op = c.Before is null ? "c" : c.After is null ? "d" : "u";
            string envelope = $$"""{"before":{{(c.Before is null ? "null" : RateJson(c.Before))}},"after":{{(c.After is null ? "null" : RateJson(c.After))}},"op":"{{op}}"}""";
            producer.Produce(new TopicPartition(DebeziumTopic, c.Partition), new Message<byte[]?, byte[]?> { Key = key, Value = Encoding.UTF8.GetBytes(envelope) });
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException("rows were not delivered");
    }

    /// <summary>The table's rows as text, each with how often it is there.</summary>
    private static Dictionary<string, long> Rows(string table)
    {
        try
        {
            return Counts(PgServer.Query($"SELECT {RowText} FROM {table}").Select(r => (string)r[0]!));
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01")
        {
            return []; // not created yet
        }
    }

    /// <summary>The jobs' repartition topics as <c>eddy explain --distributed</c> names them (the dev broker creates them at its start).</summary>
    private static string[] RepartitionTopics(string name, Dictionary<Case, string> tables)
    {
        string dir = Directory.CreateTempSubdirectory("eddy-explain-").FullName;
        try
        {
            string file = Path.Combine(dir, name + ".sql");
            File.WriteAllText(file, JobText(name, "127.0.0.1:1", tables, bounded: false));
            using var p = EddyProcess.Start("explain", file, "--distributed");
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2))) throw new TimeoutException("eddy explain did not finish in 2 minutes");
            Assert.True(p.ExitCode == 0, stderr + stdout.Result);
            var topics = Regex.Matches(stdout.Result, @"writes (\S+-repartition) \(").Select(m => m.Groups[1].Value).Distinct().ToArray();
            Assert.True(topics.Length == 2 * Cases.Length, "two repartition topics for each join (orders, rates):\n" + stdout.Result);
            // Append-only output: no SinkUpsertMaterializer (eddy worker would refuse one).
            Assert.DoesNotContain("upsertMaterialize=[true]", stdout.Result);
            return topics;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string WriteJob(RecoveryHarness harness, string name, Dictionary<Case, string> tables, bool bounded)
    {
        string file = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(file, JobText(name, harness.Bootstrap, tables, bounded));
        return file;
    }

    private static string JobText(string name, string bootstrap, Dictionary<Case, string> tables, bool bounded)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        string common(string topic) => $"""
            'topic' = '{topic}', 'properties.bootstrap.servers' = '{bootstrap}',
            'properties.group.id' = '{name}-{topic}', 'properties.session.timeout.ms' = '6000', 'properties.heartbeat.interval.ms' = '1000',
            'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = '{(bounded ? "latest-offset" : "unbounded")}'
            """;
        string watermark = $"WATERMARK FOR ts AS ts - INTERVAL '{Delay.TotalSeconds}' SECOND";
        var sb = new StringBuilder();
        sb.AppendLine($"""
            SET 'execution.checkpointing.interval' = '1 s';
            CREATE TABLE orders (id BIGINT, cur VARCHAR, amount INT, ts TIMESTAMP(3), {watermark}) WITH (
                'connector' = 'kafka', {common(OrdersTopic)}, 'format' = 'json'
            );
            CREATE TABLE rates (cur VARCHAR, rate INT, ts TIMESTAMP(3), {watermark}, PRIMARY KEY (cur) NOT ENFORCED) WITH (
                'connector' = 'upsert-kafka', {common(UpsertTopic)}, 'key.format' = 'json', 'value.format' = 'json'
            );
            CREATE TABLE cdc_rates (cur VARCHAR, rate INT, ts TIMESTAMP(3), {watermark}, PRIMARY KEY (cur) NOT ENFORCED) WITH (
                'connector' = 'kafka', {common(DebeziumTopic)}, 'format' = 'debezium-json'
            );
            """);
        foreach (var c in Cases)
        {
            sb.AppendLine($"""
                CREATE TABLE {c.Name}_sink ({Columns}) WITH (
                    'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{tables[c]}', 'sink.create-table' = 'true'
                );
                """);
        }
        foreach (var c in Cases)
        {
            sb.AppendLine($"SET 'pipeline.name' = '{name}-{c.Name}';");
            sb.AppendLine($"INSERT INTO {c.Name}_sink {c.Query};");
        }
        return sb.ToString();
    }
}
