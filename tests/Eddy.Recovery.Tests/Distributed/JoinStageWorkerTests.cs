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
/// <c>eddy worker</c> processes running joins of two topics (Nexmark-style bids ⋈ auctions): each side is its own
/// source stage with its own group, cut into its own repartition topic, and the join stage's task p reads partition p
/// of both (co-partitioned). A regular inner join and an event-time interval join, each a job, into PostgreSQL
/// exactly-once; one worker of two is killed with SIGKILL mid-run and started again. Expected rows: plain C# over the
/// produced events, and a single-process <c>eddy run</c> over the same topics.
/// </summary>
public sealed class JoinStageWorkerTests(ITestOutputHelper log)
{
    private const int Partitions = 4;
    private const int AuctionCount = 360;
    private const int BidCount = 2400;
    private const long ClosingId = 1_000_000;
    private static readonly DateTime Start = new(2024, 1, 1, 10, 0, 0, DateTimeKind.Utc);
    private static readonly DateTime Closing = Start.AddHours(1);

    private sealed record Auction(int Partition, long Id, long Seller, int Category, DateTime Time);

    private sealed record Bid(int Partition, long Auction, long Bidder, long Price, DateTime Time);

    private static long Ms(DateTime t) => (long)(t - DateTime.UnixEpoch).TotalMilliseconds;

    private static string Text(params object[] parts) => string.Join('|', parts.Select(p => Convert.ToString(p, CultureInfo.InvariantCulture)));

    [Fact]
    public void Regular_and_interval_joins_of_two_topics_across_two_workers_with_one_killed_and_restarted_equal_the_oracle_and_one_process()
    {
        const string name = "joins";
        string regular = PgServer.UniqueName("bid_join"), interval = PgServer.UniqueName("bid_interval");
        string[] repartition = RepartitionTopics(name, regular, interval);
        using var harness = new RecoveryHarness(log, Partitions, ["auctions", "bids", .. repartition]);
        var clock = Stopwatch.StartNew();
        string sql = WriteJob(harness, name, regular, interval, bounded: false);
        string home = Path.Combine(harness.WorkDir, "home");
        var (auctions, bids) = Generate();
        var workers = new List<WorkerProcess>();
        string[] prefixes = [.. new[] { "regular", "interval" }.SelectMany(j => new[] { $"job '{name}-{j}'", $"job '{name}-{j}' stage 1", $"job '{name}-{j}' stage 2" })];
        try
        {
            // Three chunks by time: within each partition the events stay in time order.
            var bounds = new[] { Start.AddSeconds(240), Start.AddSeconds(480), DateTime.MaxValue };
            Send(harness, auctions.Where(a => a.Time < bounds[0]), bids.Where(b => b.Time < bounds[0]));
            workers.AddRange(new[] { "a", "b" }.Select(n => new WorkerProcess(n, sql, home, clock)));
            WaitFor(log, () => workers.All(w => prefixes.All(p => w.Said($"{p}: assigned partitions") is not null)) && Count(regular) > 0 && Count(interval) > 0,
                "both workers own partitions of every stage and both tables have rows", workers);

            Exception? produceFailure = null;
            var producing = new Thread(() =>
            {
                try
                {
                    Send(harness, auctions.Where(a => a.Time >= bounds[0] && a.Time < bounds[1]), bids.Where(b => b.Time >= bounds[0] && b.Time < bounds[1]));
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

            workers[1].Dispose();
            workers[1] = new WorkerProcess("b", sql, home, clock);
            WaitFor(log, () => prefixes.All(p => workers[1].Said($"{p}: assigned partitions") is not null), "the restarted worker b owns partitions of every stage", workers);
            Send(harness, auctions.Where(a => a.Time >= bounds[1]), bids.Where(b => b.Time >= bounds[1]));

            var byId = auctions.ToDictionary(a => a.Id);
            var expectedRegular = Counts(bids.Where(b => byId.ContainsKey(b.Auction))
                .Select(b => Text(b.Auction, b.Bidder, b.Price, byId[b.Auction].Seller, byId[b.Auction].Category)));
            var expectedInterval = Counts(bids.Where(b => byId.TryGetValue(b.Auction, out var a) && b.Time >= a.Time && b.Time <= a.Time.AddSeconds(20))
                .Select(b => Text(b.Auction, b.Bidder, b.Price, byId[b.Auction].Seller, Ms(b.Time))));
            Assert.True(expectedInterval.Count > 100 && expectedInterval.Count < expectedRegular.Count, "the interval keeps some bids and drops others");
            WaitFor(log, () => Count(regular) >= expectedRegular.Values.Sum() && Count(interval) >= expectedInterval.Values.Sum(),
                $"{expectedRegular.Values.Sum()} rows in {regular}, {expectedInterval.Values.Sum()} in {interval}", workers);
            foreach (var w in workers) Assert.True(w.Stop(TimeSpan.FromMinutes(2)) == 0, "a worker did not stop cleanly:\n" + w.Describe());
            var regularRows = Rows(regular, RegularText);
            var intervalRows = Rows(interval, IntervalText);
            Compare($"regular join ({regular}) against the oracle", expectedRegular, regularRows, workers);
            Compare($"interval join ({interval}) against the oracle", expectedInterval, intervalRows, workers);

            string singleRegular = PgServer.UniqueName("bid_join_single"), singleInterval = PgServer.UniqueName("bid_interval_single");
            var run = harness.Run(WriteJob(harness, name + "_single", singleRegular, singleInterval, bounded: true), KillPlan.None, TimeSpan.FromMinutes(3));
            Assert.True(run.ExitCode == 0, run.Output);
            Compare("regular join: eddy run against the workers", regularRows, Rows(singleRegular, RegularText), workers);
            Compare("interval join: eddy run against the workers", intervalRows, Rows(singleInterval, IntervalText), workers);
        }
        finally
        {
            foreach (var w in workers) w.Dispose();
            foreach (var w in workers) log.WriteLine(w.Describe(60));
        }
    }

    private const string RegularText = "auction || '|' || bidder || '|' || price || '|' || seller || '|' || category";

    private const string IntervalText = "auction || '|' || bidder || '|' || price || '|' || seller || '|' || (extract(epoch from bid_ts) * 1000)::bigint";

    private static Dictionary<string, long> Rows(string table, string text) => Counts(PgServer.Query($"SELECT {text} FROM {table}").Select(r => (string)r[0]!));

    /// <summary>
    /// Auctions every 2 s (± 0.5 s); each bid names a random auction and comes 5 s before to 30 s after it, so the
    /// interval join (0..20 s) keeps some and drops others. Both topics get their events in time order round-robin over
    /// the partitions (no event is late), then one closing event per partition that joins nothing.
    /// </summary>
    private static (List<Auction> Auctions, List<Bid> Bids) Generate()
    {
        var random = new Random(1717);
        var auctions = Enumerable.Range(0, AuctionCount)
            .Select(i => (Id: (long)i, Time: Start.AddMilliseconds(i * 2000L + random.Next(-500, 500)), Seller: random.Next(50), Category: random.Next(10)))
            .OrderBy(a => a.Time).Select((a, i) => new Auction(i % Partitions, a.Id, a.Seller, a.Category, a.Time)).ToList();
        var bids = Enumerable.Range(0, BidCount).Select(i =>
        {
            var a = auctions[random.Next(auctions.Count)];
            return (Auction: a.Id, Bidder: (long)i, Price: (long)random.Next(1, 10_000), Time: a.Time.AddMilliseconds(random.Next(-5000, 30_000)));
        }).OrderBy(b => b.Time).Select((b, i) => new Bid(i % Partitions, b.Auction, b.Bidder, b.Price, b.Time)).ToList();
        for (int p = 0; p < Partitions; p++)
        {
            auctions.Add(new Auction(p, ClosingId + p, 0, 0, Closing));
            bids.Add(new Bid(p, -1 - p, ClosingId + p, 1, Closing));
        }
        return (auctions, bids);
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
            string json = $$"""{"auction":{{b.Auction}},"bidder":{{b.Bidder}},"price":{{b.Price}},"event_time":"{{Time(b.Time)}}"}""";
            producer.Produce(new TopicPartition("bids", b.Partition), new Message<Null, byte[]> { Value = Encoding.UTF8.GetBytes(json) });
        }
        if (producer.Flush(TimeSpan.FromSeconds(60)) != 0) throw new TimeoutException("events were not delivered");
    }

    /// <summary>The jobs' repartition topics as <c>eddy explain --distributed</c> names them (the dev broker creates them at its start).</summary>
    private static string[] RepartitionTopics(string name, string regular, string interval)
    {
        string dir = Directory.CreateTempSubdirectory("eddy-explain-").FullName;
        try
        {
            string file = Path.Combine(dir, name + ".sql");
            File.WriteAllText(file, JobText(name, "127.0.0.1:1", regular, interval, bounded: false));
            using var p = EddyProcess.Start("explain", file, "--distributed");
            var stdout = p.StandardOutput.ReadToEndAsync();
            string stderr = p.StandardError.ReadToEnd();
            if (!p.WaitForExit(TimeSpan.FromMinutes(2))) throw new TimeoutException("eddy explain did not finish in 2 minutes");
            Assert.True(p.ExitCode == 0, stderr + stdout.Result);
            var topics = Regex.Matches(stdout.Result, @"writes (\S+-repartition) \(").Select(m => m.Groups[1].Value).Distinct().ToArray();
            Assert.True(topics.Length == 4, "two repartition topics per join expected:\n" + stdout.Result);
            Assert.Equal(2, Regex.Matches(stdout.Result, "co-partitioned: its partition task p reads partition p of each topic").Count);
            return topics;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static string WriteJob(RecoveryHarness harness, string name, string regular, string interval, bool bounded)
    {
        string file = Path.Combine(harness.WorkDir, name + ".sql");
        File.WriteAllText(file, JobText(name, harness.Bootstrap, regular, interval, bounded));
        return file;
    }

    private static string JobText(string name, string bootstrap, string regular, string interval, bool bounded)
    {
        var (url, user) = RecoveryHarness.JdbcUrl();
        string source(string topic) => $"""
            'connector' = 'kafka', 'topic' = '{topic}', 'properties.bootstrap.servers' = '{bootstrap}',
            'properties.group.id' = '{name}-{topic}', 'properties.session.timeout.ms' = '6000', 'properties.heartbeat.interval.ms' = '1000',
            'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = '{(bounded ? "latest-offset" : "unbounded")}', 'format' = 'json'
            """;
        return $"""
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
            CREATE TABLE joined (auction BIGINT, bidder BIGINT, price BIGINT, seller BIGINT, category INT) WITH (
                'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{regular}', 'sink.create-table' = 'true'
            );
            CREATE TABLE joined_interval (auction BIGINT, bidder BIGINT, price BIGINT, seller BIGINT, bid_ts TIMESTAMP(3)) WITH (
                'connector' = 'jdbc', 'url' = '{url}', 'username' = '{user}', 'table-name' = '{interval}', 'sink.create-table' = 'true'
            );
            SET 'pipeline.name' = '{name}-regular';
            INSERT INTO joined SELECT b.auction, b.bidder, b.price, a.seller, a.category FROM bids b JOIN auctions a ON b.auction = a.id;
            SET 'pipeline.name' = '{name}-interval';
            INSERT INTO joined_interval SELECT b.auction, b.bidder, b.price, a.seller, b.ts FROM bids b JOIN auctions a
                ON b.auction = a.id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '20' SECOND;
            """;
    }
}
