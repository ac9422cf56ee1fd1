using System.Globalization;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

/// <summary>
/// <c>eddy worker</c> processes running event-time temporal joins (<c>FOR SYSTEM_TIME AS OF o.ts</c>): orders (an
/// append-only topic, partitioned by order id) joined with the rate of their currency valid at their time, from a
/// versioned table read as an upsert topic (<c>'connector' = 'upsert-kafka'</c>) and, the same changes, as a Debezium
/// topic (<c>'format' = 'debezium-json'</c>), each partitioned by currency. Three jobs — inner and LEFT against the
/// upsert table, LEFT with a residual condition against the Debezium table —, each with both sides through their own
/// repartition topic keyed by the currency (co-partitioned), into append-only PostgreSQL tables, exactly-once, so a
/// probe row joined twice would show. One worker of two is killed with SIGKILL while rows are in flight and started
/// again. Expected rows: plain C# applying Flink's semantics (each order joins the version of its currency with the
/// latest time at or before the order's, a delete being a version in which the currency does not exist; an order fires
/// once the watermark, the minimum over every partition of both topics, passes it), and a single-process
/// <c>eddy run</c> over the same topics.
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

    /// <summary>A job: both sides through a repartition topic each (two keyed inputs); its rows held back while the watermark is before them.</summary>
    private sealed record Case(string Name, string Query, bool LeftOuter, Func<Order, Rate, bool> Residual, Func<string, bool> Held)
        : SinkCase(Name, OrderColumns, Query, OrderRowText, KeyedStages: 2, Open: Held);

    private const string OrderColumns = "id BIGINT, cur VARCHAR, amount INT, order_ts TIMESTAMP(3), rate INT, rate_ts TIMESTAMP(3)";

    private static readonly string OrderRowText = $"id || '|' || cur || '|' || amount || '|' || {Ms("order_ts")} || '|' "
        + $"|| COALESCE(rate::text, 'null') || '|' || COALESCE({Ms("rate_ts")}::text, 'null')";

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
    private static IEnumerable<string> Oracle(Case c, History history)
    {
        var versions = Versions(history);
        var rows = new List<string>();
        foreach (var o in history.Orders)
        {
            var (_, version) = ValidAt(versions, o);
            if (version is not null && c.Residual(o, version))
                rows.Add(Text(o.Id, o.Currency, o.Amount, Ms(o.Time), version.Value, Ms(version.Time)));
            else if (c.LeftOuter)
                rows.Add(Text(o.Id, o.Currency, o.Amount, Ms(o.Time), null, null));
        }
        return rows;
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
        var history = new History(1212);
        // Set once the closing rows are made: the orders the workers' final watermark has not passed stay out.
        long? heldAfter = null;
        bool HeldBack(string row) => long.Parse(row.Split('|')[3], CultureInfo.InvariantCulture) > (heldAfter ?? throw new InvalidOperationException("no final watermark yet"));
        Case inner = new("temporal_inner",
            "SELECT o.id, o.cur, o.amount, o.ts, r.rate, r.ts FROM orders AS o JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur",
            LeftOuter: false, (_, _) => true, HeldBack);
        Case left = new("temporal_left",
            "SELECT o.id, o.cur, o.amount, o.ts, r.rate, r.ts FROM orders AS o LEFT JOIN rates FOR SYSTEM_TIME AS OF o.ts AS r ON o.cur = r.cur",
            LeftOuter: true, (_, _) => true, HeldBack);
        // A residual condition over both sides: a version that fails it pads the order, as none would.
        Case debeziumLeft = new("temporal_cdc_left",
            "SELECT o.id, o.cur, o.amount, o.ts, r.rate, r.ts FROM orders AS o LEFT JOIN cdc_rates FOR SYSTEM_TIME AS OF o.ts AS r "
            + "ON o.cur = r.cur AND MOD(o.amount, 5) <> MOD(r.rate, 5)",
            LeftOuter: true, (o, r) => o.Amount % 5 != r.Value % 5, HeldBack);
        Case[] cases = [inner, left, debeziumLeft];
        // What chunk 0 alone lets the LEFT join fire: the orders its watermark has passed.
        long firstLeft = 0;
        new StagedJobScenario(log)
        {
            Name = name,
            Partitions = Partitions,
            SourceTopics = [OrdersTopic, UpsertTopic, DebeziumTopic],
            Cases = cases,
            JobText = (job, bootstrap, tables, bounded) => JobText(job, bootstrap, cases, tables, bounded),
            // Append-only output: no SinkUpsertMaterializer (eddy worker would refuse one).
            CheckPlan = plan => Assert.DoesNotContain("upsertMaterialize=[true]", plan),
            Produce = (harness, chunk) =>
            {
                var made = history.Chunk();
                if (chunk == 0)
                {
                    var w = FinalWatermark(history);
                    firstLeft = Oracle(left, history).Count(r => long.Parse(r.Split('|')[3], CultureInfo.InvariantCulture) <= Ms(w));
                    Send(harness, made);
                }
                else if (chunk == 1)
                {
                    // In slices over a few checkpoints, so that worker b dies with records read and sent on after its last one.
                    const int slices = 12;
                    for (int i = 0; i < slices; i++)
                    {
                        Send(harness, ([.. made.Orders.Where((_, n) => n * slices / made.Orders.Count == i)], [.. made.Changes.Where((_, n) => n * slices / made.Changes.Count == i)]));
                        Thread.Sleep(250);
                    }
                }
                else
                {
                    Send(harness, made);
                    Send(harness, history.Closing());
                    heldAfter = Ms(FinalWatermark(history));
                    Assert.Equal(Partitions, history.Orders.Count(o => Ms(o.Time) > heldAfter));
                }
            },
            // Once rows of chunk 1 are committed: b's successor reads again what b read and sent on after its last
            // checkpoint, and the repartition readers drop it by position (an order joined twice would show).
            KillWhen = tables => Count(tables[left]) > firstLeft,
            KillWhenText = "rows of chunk 1 committed",
            // The join's state of b's partitions (waiting orders, versions) moves to a, restored from their checkpoints.
            CheckOrphans = orphans => Assert.True(cases.Any(c => orphans[$"job '{name}-{c.Name}' stage 2"].Count > 0), "worker b owned no partition of a join stage when killed"),
            Oracle = c => Oracle((Case)c, history),
            CheckOracle = (c, expected) =>
            {
                if (c != debeziumLeft) return;
                var versions = Versions(history);
                var valid = history.Orders.Where(o => Ms(o.Time) <= heldAfter).Select(o => ValidAt(versions, o)).ToList();
                log.WriteLine($"{history.Orders.Count} orders, {history.Changes.Count} rate changes ({history.Changes.Count(x => x.After is null)} deletes); "
                    + $"orders the final watermark passed: {valid.Count(v => !v.Found)} before any version of their currency, "
                    + $"{valid.Count(v => v.Found && v.Row is null)} in a deleted version, {valid.Count(v => v.Row is not null)} with a row");
                Assert.True(valid.Count(v => v.Found && v.Row is null) > 0, "no order falls in a deleted version");
                long joined = expected.Where(r => !r.Key.EndsWith("|null|null", StringComparison.Ordinal)).Sum(r => r.Value);
                Assert.True(joined < valid.Count(v => v.Row is not null), "the residual pads no order");
            },
        }.Run();
    }

    private static string RateJson(Rate r) => $$"""{"cur":"{{r.Currency}}","rate":{{r.Value}},"ts":"{{Stamp(r.Time)}}"}""";

    /// <summary>
    /// Orders to the orders topic (partition id mod 4); each change to the upsert topic (the row, or a tombstone) and
    /// as a Debezium envelope to the Debezium topic, currency i to partition i mod 4 of both.
    /// </summary>
    private static void Send(RecoveryHarness harness, (List<Order> Orders, List<Change> Changes) chunk) => DistributedJob.Send(harness,
    [
        .. chunk.Orders.Select(o => (OrdersTopic, o.Partition, (string?)null,
            (string?)$$"""{"id":{{o.Id}},"cur":"{{o.Currency}}","amount":{{o.Amount}},"ts":"{{Stamp(o.Time)}}"}""")),
        .. chunk.Changes.Select(c => (UpsertTopic, c.Partition, (string?)$$"""{"cur":"{{c.Currency}}"}""", c.After is null ? null : RateJson(c.After))),
        .. chunk.Changes.Select(c => (DebeziumTopic, c.Partition, (string?)$$"""{"cur":"{{c.Currency}}"}""",
            (string?)$$"""{"before":{{(c.Before is null ? "null" : RateJson(c.Before))}},"after":{{(c.After is null ? "null" : RateJson(c.After))}},"op":"{{(c.Before is null ? "c" : c.After is null ? "d" : "u")}}"}""")),
    ]);

    private static string JobText(string name, string bootstrap, Case[] cases, IReadOnlyDictionary<SinkCase, string> tables, bool bounded)
    {
        string watermark = $"WATERMARK FOR ts AS ts - INTERVAL '{Delay.TotalSeconds}' SECOND";
        return $"""
            SET 'execution.checkpointing.interval' = '1 s';
            CREATE TABLE orders (id BIGINT, cur VARCHAR, amount INT, ts TIMESTAMP(3), {watermark}) WITH (
                'connector' = 'kafka', {KafkaOptions(bootstrap, OrdersTopic, $"{name}-{OrdersTopic}", bounded)}, 'format' = 'json'
            );
            CREATE TABLE rates (cur VARCHAR, rate INT, ts TIMESTAMP(3), {watermark}, PRIMARY KEY (cur) NOT ENFORCED) WITH (
                'connector' = 'upsert-kafka', {KafkaOptions(bootstrap, UpsertTopic, $"{name}-{UpsertTopic}", bounded)}, 'key.format' = 'json', 'value.format' = 'json'
            );
            CREATE TABLE cdc_rates (cur VARCHAR, rate INT, ts TIMESTAMP(3), {watermark}, PRIMARY KEY (cur) NOT ENFORCED) WITH (
                'connector' = 'kafka', {KafkaOptions(bootstrap, DebeziumTopic, $"{name}-{DebeziumTopic}", bounded)}, 'format' = 'debezium-json'
            );
            {Inserts(name, cases.Where(tables.ContainsKey), tables)}
            """;
    }
}
