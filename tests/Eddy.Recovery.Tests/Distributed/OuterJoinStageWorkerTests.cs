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
/// <c>eddy worker</c> processes running the joins whose output is padded or filtered by the other side (Nexmark-style
/// bids and auctions): regular LEFT and FULL OUTER joins and an event-time interval FULL OUTER join, and semi/anti joins
/// (IN, NOT EXISTS, and a null-aware NOT IN), each a job whose two sides go through their own co-partitioned
/// repartition topics, into PostgreSQL tables with a PRIMARY KEY exactly-once (padded rows retracted when a match
/// arrives, anti-join rows when their first match does). Some auctions are never produced and some bids name no
/// auction (NULL), so every job has unmatched rows. One worker of two is killed with SIGKILL mid-run and started again.
/// Expected rows: plain C# over the produced events, and a single-process <c>eddy run</c> over the same topics.
/// </summary>
public sealed class OuterJoinStageWorkerTests(ITestOutputHelper log)
{
    private const int Partitions = 4;
    private const int AuctionCount = 300;
    private const int BidCount = 2000;
    private const long ClosingId = 1_000_000;
    private const string Null = "-";
    private static readonly DateTime Start = new(2024, 1, 1, 10, 0, 0, DateTimeKind.Utc);

    /// <summary>Later than every interval of the data: one such event per topic partition lets every earlier padded row through.</summary>
    private static readonly DateTime Closing = Start.AddHours(1);

    private sealed record Auction(int Partition, long Id, long Seller, int Category, DateTime Time);

    private sealed record Bid(int Partition, long? Auction, long Bidder, long Price, DateTime Time);

    private sealed record Events(List<Auction> Auctions, List<Bid> Bids)
    {
        public Dictionary<long, Auction> ById { get; } = Auctions.ToDictionary(a => a.Id);

        public Auction? AuctionOf(Bid b) => b.Auction is { } id && ById.TryGetValue(id, out var a) ? a : null;
    }

    /// <summary>
    /// One join as a job: its sink table's columns (with the PRIMARY KEY the updates are applied by), its query, its
    /// columns as PostgreSQL shows them (one text per row, NULL as <see cref="Null"/>), the rows expected from the
    /// events, and the rows whose fate depends on the closing events (an interval join's, still held by the workers,
    /// flushed by the end of a bounded run), left out of every comparison, and whether it pads (an outer join).
    /// </summary>
    /// <param name="Materialize">
    /// The job's <c>table.exec.sink.upsert-materialize</c>: AUTO, unless the table's key does not hold the join key, where
    /// a materializer would get a key's rows from several partition tasks and <c>eddy worker</c> refuses it; those jobs
    /// say NONE, which here is Flink's result (a key's rows are one bid's or one auction's: a padded row and the match
    /// that replaces it, never two alive at once).
    /// </param>
    private sealed record Case(string Name, string Columns, string Query, string[] RowColumns, Func<Events, List<string>> Oracle, Func<string, bool> Open, bool Pads,
        string Materialize = "AUTO")
    {
        public string RowText => string.Join(" || '|' || ", RowColumns.Select(c => $"coalesce({c}::text, '{Null}')"));
    }

    private static string Text(params object?[] parts) => string.Join('|', parts.Select(p => p is null ? Null : Convert.ToString(p, CultureInfo.InvariantCulture)));

    private static bool NeverOpen(string row) => false;

    private static readonly Case Left = new("left_join", "bidder BIGINT, auction BIGINT, price BIGINT, seller BIGINT, category INT, PRIMARY KEY (bidder) NOT ENFORCED",
        "SELECT b.bidder, b.auction, b.price, a.seller, a.category FROM bids b LEFT JOIN auctions a ON b.auction = a.id AND a.category < 7",
        ["bidder", "auction", "price", "seller", "category"],
        e => [.. e.Bids.Select(b => e.AuctionOf(b) is { Category: < 7 } a
            ? Text(b.Bidder, b.Auction, b.Price, a.Seller, a.Category)
            : Text(b.Bidder, b.Auction, b.Price, null, null))],
        NeverOpen, Pads: true, Materialize: "NONE");

    /// <summary>A bid matches one auction at most (ids are unique): a row is a bid's (its bidder) or an unmatched auction's (-1 - id).</summary>
    private static readonly Case Full = new("full_join", "row_id BIGINT NOT NULL, bidder BIGINT, auction BIGINT, id BIGINT, seller BIGINT, PRIMARY KEY (row_id) NOT ENFORCED",
        "SELECT COALESCE(b.bidder, -1 - a.id) AS row_id, b.bidder, b.auction, a.id, a.seller FROM bids b FULL JOIN auctions a ON b.auction = a.id",
        ["row_id", "bidder", "auction", "id", "seller"],
        e =>
        {
            var bidden = e.Bids.Select(b => b.Auction).OfType<long>().ToHashSet();
            return
            [
                .. e.Bids.Select(b => e.AuctionOf(b) is { } a ? Text(b.Bidder, b.Bidder, b.Auction, a.Id, a.Seller) : Text(b.Bidder, b.Bidder, b.Auction, null, null)),
                .. e.Auctions.Where(a => !bidden.Contains(a.Id)).Select(a => Text(-1 - a.Id, null, null, a.Id, a.Seller)),
            ];
        },
        NeverOpen, Pads: true, Materialize: "NONE");

    private static bool InInterval(Bid b, Auction a) => b.Time >= a.Time && b.Time <= a.Time.AddSeconds(20);

    /// <summary>An event-time interval FULL OUTER join: unmatched rows are padded once the watermark passes their interval.</summary>
    private static readonly Case IntervalFull = new("interval_full_join", "row_id BIGINT NOT NULL, bidder BIGINT, id BIGINT, price BIGINT, seller BIGINT, PRIMARY KEY (row_id) NOT ENFORCED",
        """
        SELECT COALESCE(b.bidder, -1 - a.id) AS row_id, b.bidder, a.id, b.price, a.seller FROM bids b FULL JOIN auctions a
            ON b.auction = a.id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '20' SECOND
        """,
        ["row_id", "bidder", "id", "price", "seller"],
        e =>
        {
            var matched = e.Bids.Where(b => e.AuctionOf(b) is { } a && InInterval(b, a)).Select(b => b.Auction!.Value).ToHashSet();
            return
            [
                .. e.Bids.Select(b => e.AuctionOf(b) is { } a && InInterval(b, a) ? Text(b.Bidder, b.Bidder, a.Id, b.Price, a.Seller) : Text(b.Bidder, b.Bidder, null, b.Price, null)),
                .. e.Auctions.Where(a => !matched.Contains(a.Id)).Select(a => Text(-1 - a.Id, null, a.Id, null, a.Seller)),
            ];
        },
        // The closing rows' intervals end after the workers' last watermark: their padded rows come only at a bounded run's end.
        row => Math.Abs(long.Parse(row.Split('|')[0], CultureInfo.InvariantCulture)) >= ClosingId, Pads: true);

    private static readonly Case Semi = new("semi_join", "bidder BIGINT, auction BIGINT, price BIGINT, PRIMARY KEY (bidder) NOT ENFORCED",
        "SELECT bidder, auction, price FROM bids WHERE auction IN (SELECT id FROM auctions WHERE category < 5)",
        ["bidder", "auction", "price"],
        e => [.. e.Bids.Where(b => e.AuctionOf(b) is { Category: < 5 }).Select(b => Text(b.Bidder, b.Auction, b.Price))],
        NeverOpen, Pads: false);

    private static readonly Case Anti = new("anti_join", "bidder BIGINT, auction BIGINT, price BIGINT, PRIMARY KEY (bidder) NOT ENFORCED",
        "SELECT b.bidder, b.auction, b.price FROM bids b WHERE NOT EXISTS (SELECT * FROM auctions a WHERE a.id = b.auction AND a.seller < 25)",
        ["bidder", "auction", "price"],
        e => [.. e.Bids.Where(b => e.AuctionOf(b) is not { Seller: < 25 }).Select(b => Text(b.Bidder, b.Auction, b.Price))],
        NeverOpen, Pads: false, Materialize: "NONE");

    /// <summary>
    /// Where the materializer changes the result: an anti join written by its join key (so it runs in the join's
    /// partition task), one row per auction still named by a bid that no auction of seller &lt; 25 excludes (a bid later
    /// than its auction, or cheaper than 5000, is excluded). Several bids share an auction's row; an early cheap bid's
    /// row is retracted when its auction arrives while an early expensive bid's stays alive. Written as it is (NONE),
    /// that retraction would delete the auction's row; Flink's materializer keeps it for the bid still alive.
    /// </summary>
    private static readonly Case AntiByAuction = new("anti_by_auction", "auction BIGINT NOT NULL, bucket BIGINT, PRIMARY KEY (auction) NOT ENFORCED",
        """
        SELECT b.auction, MOD(b.auction, 7) AS bucket FROM bids b WHERE b.auction IS NOT NULL AND NOT EXISTS (
            SELECT * FROM auctions a WHERE a.id = b.auction AND a.seller < 25 AND (b.event_time > a.event_time OR b.price < 5000))
        """,
        ["auction", "bucket"],
        e =>
        {
            static bool Excludes(Auction a, Bid b) => a.Seller < 25 && (b.Time > a.Time || b.Price < 5000);
            var alive = e.Bids.Where(b => b.Auction is not null && !(e.AuctionOf(b) is { } a && Excludes(a, b))).ToList();
            // Auctions with a bid alive and an earlier-than-the-auction bid it excludes (retracted once the auction comes).
            var both = alive.Where(b => e.AuctionOf(b) is { Seller: < 25 } a && e.Bids.Any(o => o.Auction == a.Id && o.Time < a.Time && Excludes(a, o)))
                .Select(b => b.Auction).Distinct().Count();
            Assert.True(both > 5, $"auctions with a bid alive and an early bid excluded: {both}");
            return [.. alive.Select(b => b.Auction!.Value).Distinct().Select(id => Text(id, id % 7))];
        },
        NeverOpen, Pads: false);

    /// <summary>
    /// SQL's NOT IN over nullable columns: a bid whose auction is NULL is unknown against a subquery that is not empty,
    /// so it is dropped, as every bid naming an auction of the subquery is. No equality key (the null rule is an OR):
    /// one key group, so every row goes through one partition of the repartition topics.
    /// </summary>
    private static readonly Case NotIn = new("not_in", "bidder BIGINT, auction BIGINT, price BIGINT, PRIMARY KEY (bidder) NOT ENFORCED",
        "SELECT bidder, auction, price FROM bids WHERE auction NOT IN (SELECT id FROM auctions WHERE category >= 5)",
        ["bidder", "auction", "price"],
        e =>
        {
            var excluded = e.Auctions.Where(a => a.Category >= 5).Select(a => a.Id).ToHashSet();
            Assert.True(excluded.Count > 0 && e.Bids.Any(b => b.Auction is null), "the subquery has rows and some bids name no auction");
            return [.. e.Bids.Where(b => b.Auction is { } id && !excluded.Contains(id)).Select(b => Text(b.Bidder, b.Auction, b.Price))];
        },
        NeverOpen, Pads: false);

    [Fact]
    public void Left_full_and_interval_full_outer_joins_across_two_workers_with_one_killed_and_restarted_equal_the_oracle_and_one_process()
    {
        Run("outer", [Left, Full, IntervalFull]);
    }

    [Fact]
    public void Semi_anti_and_not_in_joins_across_two_workers_with_one_killed_and_restarted_equal_the_oracle_and_one_process()
    {
        Run("semi", [Semi, Anti, NotIn, AntiByAuction]);
    }

    private void Run(string name, Case[] cases)
    {
        var tables = cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name));
        string[] repartition = RepartitionTopics(name, cases, tables);
        using var harness = new RecoveryHarness(log, Partitions, ["auctions", "bids", .. repartition]);
        var clock = Stopwatch.StartNew();
        string sql = WriteJob(harness, name, cases, tables, bounded: false);
        string home = Path.Combine(harness.WorkDir, "home");
        var events = Generate();
        var workers = new List<WorkerProcess>();
        string[] prefixes = [.. cases.SelectMany(c => new[] { $"job '{name}-{c.Name}'", $"job '{name}-{c.Name}' stage 1", $"job '{name}-{c.Name}' stage 2" })];
        try
        {
            // Three chunks by time: within each partition the events stay in time order.
            var bounds = new[] { Start.AddSeconds(200), Start.AddSeconds(400), DateTime.MaxValue };
            Send(harness, events.Auctions.Where(a => a.Time < bounds[0]), events.Bids.Where(b => b.Time < bounds[0]));
            workers.AddRange(new[] { "a", "b" }.Select(n => new WorkerProcess(n, sql, home, clock)));
            WaitFor(log, () => workers.All(w => prefixes.All(p => w.Said($"{p}: assigned partitions") is not null)) && tables.Values.All(t => Count(t) > 0),
                "both workers own partitions of every stage and every table has rows", workers);

            // Mid-run: the second chunk is on its way while worker b dies without a checkpoint or a goodbye.
            Exception? produceFailure = null;
            var producing = new Thread(() =>
            {
                try
                {
                    Send(harness, events.Auctions.Where(a => a.Time >= bounds[0] && a.Time < bounds[1]), events.Bids.Where(b => b.Time >= bounds[0] && b.Time < bounds[1]));
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
            Assert.Contains(orphans, o => o.Key.EndsWith(" stage 2", StringComparison.Ordinal) && o.Value.Count > 0);
            producing.Join();
            if (produceFailure is not null) throw produceFailure;
            WaitFor(log, () => orphans.All(o => o.Value.All(p => workers[0].Said($"{o.Key}: partition {p}: started ", killedAt) is not null)),
                "worker a takes over every partition of b in every stage", workers);

            // b comes back and gets a share of every stage again; the last chunk and the closing events follow.
            workers[1].Dispose();
            workers[1] = new WorkerProcess("b", sql, home, clock);
            WaitFor(log, () => prefixes.All(p => workers[1].Said($"{p}: assigned partitions") is not null), "the restarted worker b owns partitions of every stage", workers);
            Send(harness, events.Auctions.Where(a => a.Time >= bounds[1]), events.Bids.Where(b => b.Time >= bounds[1]));

            // Updated by key: a table equals the oracle only once every change (retracted padding included) has arrived.
            var expected = cases.ToDictionary(c => c, c => Counts(c.Oracle(events).Where(r => !c.Open(r))));
            foreach (var c in cases)
            {
                bool Padded(string row) => row.Split('|').Contains(Null);
                Assert.True(expected[c].Count > 100, $"{c.Name}: the oracle has {expected[c].Count} rows");
                Assert.True(c.Pads ? expected[c].Keys.Any(Padded) && !expected[c].Keys.All(Padded) : expected[c].Count < BidCount,
                    c.Pads ? $"{c.Name}: the oracle has matched and padded rows" : $"{c.Name}: the oracle keeps some bids and drops others");
                Assert.True(expected[c].Values.All(n => n == 1), $"{c.Name}: the oracle's rows are distinct by the table's key");
            }
            WaitFor(log, () => cases.All(c => Differences(expected[c], Rows(c, tables[c])).Count == 0),
                "every table equals its oracle: " + string.Join(", ", cases.Select(c => $"{c.Name} {expected[c].Count}")), workers);
            foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            var distributed = cases.ToDictionary(c => c, c => Rows(c, tables[c]));
            foreach (var c in cases) Compare($"{c.Name} ({tables[c]}) against the oracle", expected[c], distributed[c], workers);

            // The same from one process: eddy run over the same topics, to their end (which flushes the closing events too).
            var single = cases.ToDictionary(c => c, c => PgServer.UniqueName(c.Name + "_single"));
            var run = harness.Run(WriteJob(harness, name + "_single", cases, single, bounded: true), KillPlan.None, TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, run.Output);
            foreach (var c in cases) Compare($"{c.Name}: eddy run ({single[c]}) against the workers", distributed[c], Rows(c, single[c]), workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
    }

    /// <summary>The table's rows as text, each with how often it is there; open rows left out.</summary>
    private static Dictionary<string, long> Rows(Case c, string table)
    {
        try
        {
            return Counts(PgServer.Query($"SELECT {c.RowText} FROM {table}").Select(r => (string)r[0]!).Where(r => !c.Open(r)));
        }
        catch (Npgsql.PostgresException e) when (e.SqlState == "42P01")
        {
            return []; // not created yet
        }
    }

    /// <summary>
    /// Auctions every 2 s (± 0.5 s), every tenth never produced (its bids find none); each bid names a random auction,
    /// never one whose id is 3 modulo 7 (those stay without bids), one in 40 names none (NULL), and comes 5 s before to 30 s after it, so the interval join (0..20 s) keeps some
    /// and pads others. Both topics get their events in time order round-robin over the partitions (no event is late),
    /// then one closing event per partition that joins nothing.
    /// </summary>
    private static Events Generate()
    {
        var random = new Random(1719);
        var all = Enumerable.Range(0, AuctionCount)
            .Select(i => (Id: (long)i, Time: Start.AddMilliseconds(i * 2000L + random.Next(-500, 500)), Seller: (long)random.Next(50), Category: random.Next(10)))
            .OrderBy(a => a.Time).ToList();
        var auctions = all.Where(a => a.Id % 10 != 9).Select((a, i) => new Auction(i % Partitions, a.Id, a.Seller, a.Category, a.Time)).ToList();
        var bidden = all.Where(a => a.Id % 7 != 3).ToList();
        var bids = Enumerable.Range(0, BidCount).Select(i =>
        {
            var a = bidden[random.Next(bidden.Count)];
            long? auction = random.Next(40) == 0 ? null : a.Id;
            return (Auction: auction, Bidder: (long)i, Price: (long)random.Next(1, 10_000), Time: a.Time.AddMilliseconds(random.Next(-5000, 30_000)));
        }).OrderBy(b => b.Time).Select((b, i) => new Bid(i % Partitions, b.Auction, b.Bidder, b.Price, b.Time)).ToList();
        for (int p = 0; p < Partitions; p++)
        {
            auctions.Add(new Auction(p, ClosingId + p, 0, 0, Closing));
            bids.Add(new Bid(p, -1 - p, ClosingId + p, 1, Closing));
        }
        return new Events(auctions, bids);
    }

    private static void Send(RecoveryHarness harness, IEnumerable<Auction> auctions, IEnumerable<Bid> bids)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = harness.Bootstrap, LingerMs = 5 }).Build();
        static string Time(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        foreach (var a in auctions)
        {
            string json = $$"""{"id":{{a.Id}},"seller":{{a.Seller}},"category":{{a.Category}},"event_time":"{{Time(a.Time)}}"}""";
            producer.Produce(new TopicPartition("auctions", a.Partition), new Message<Null, byte[]> { Value = Encoding.UTF8.GetBytes(json) });
        }
        foreach (var b in bids)
        {
            string auction = b.Auction is { } id ? id.ToString(CultureInfo.InvariantCulture) : "null";
            string json = $$"""{"auction":{{auction}},"bidder":{{b.Bidder}},"price":{{b.Price}},"event_time":"{{Time(b.Time)}}"}""";
            producer.Produce(new TopicPartition("bids", b.Partition), new Message<Null, byte[]> { Value = Encoding.UTF8.GetBytes(json) });
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException("events were not delivered");
    }

    /// <summary>The jobs' repartition topics as <c>eddy explain --distributed</c> names them (the dev broker creates them at its start).</summary>
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
            Assert.True(topics.Length == 2 * cases.Length, "two repartition topics per join expected:\n" + stdout.Result);
            Assert.Equal(cases.Length, Regex.Matches(stdout.Result, "co-partitioned: its partition task p reads partition p of each topic").Count);
            // Under AUTO the anti joins' tables get a SinkUpsertMaterializer, in the join's stage (their keys hold the join
            // key, or the join has none); the semi join and the interval join append, so none.
            var materialized = Regex.Matches(stdout.Result, @"^stage \d+: .* -> (?:Semi|Anti)?Join -> (?:.* -> )?SinkMaterializer -> Sink: (\w+)_sink\s*$", RegexOptions.Multiline)
                .Select(m => m.Groups[1].Value).Order();
            Assert.Equal(cases.Where(c => c.Materialize == "AUTO" && c.Name is "not_in" or "anti_by_auction").Select(c => c.Name).Order(), materialized);
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

    /// <summary>A job per case (<c>&lt;name&gt;-&lt;case&gt;</c>), each join's sides through their own repartition topics.</summary>
    private static string JobText(string name, string bootstrap, Case[] cases, Dictionary<Case, string> tables, bool bounded)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        string source(string topic) => $"""
            'connector' = 'kafka', 'topic' = '{topic}', 'properties.bootstrap.servers' = '{bootstrap}',
            'properties.group.id' = '{name}-{topic}', 'properties.session.timeout.ms' = '6000', 'properties.heartbeat.interval.ms' = '1000',
            'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = '{(bounded ? "latest-offset" : "unbounded")}', 'format' = 'json'
            """;
        var sb = new StringBuilder();
        sb.AppendLine($"""
            SET 'execution.checkpointing.interval' = '1 s';
            CREATE TABLE auctions (
                id BIGINT, seller BIGINT, category INT, event_time VARCHAR,
                ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
            ) WITH ({source("auctions")});
            CREATE TABLE bids (
                auction BIGINT, bidder BIGINT, price BIGINT, event_time VARCHAR,
                ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
                WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
            ) WITH ({source("bids")});
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
            sb.AppendLine($"SET 'table.exec.sink.upsert-materialize' = '{c.Materialize}';");
            sb.AppendLine($"INSERT INTO {c.Name}_sink {c.Query};");
        }
        return sb.ToString();
    }
}
