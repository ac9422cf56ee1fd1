using System.Text.RegularExpressions;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

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

    private static readonly SinkCase Regular = new("regular", "auction BIGINT, bidder BIGINT, price BIGINT, seller BIGINT, category INT",
        "SELECT b.auction, b.bidder, b.price, a.seller, a.category FROM bids b JOIN auctions a ON b.auction = a.id",
        "auction || '|' || bidder || '|' || price || '|' || seller || '|' || category", KeyedStages: 2);

    private static readonly SinkCase Interval = new("interval", "auction BIGINT, bidder BIGINT, price BIGINT, seller BIGINT, bid_ts TIMESTAMP(3)",
        """
        SELECT b.auction, b.bidder, b.price, a.seller, b.ts FROM bids b JOIN auctions a
            ON b.auction = a.id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '20' SECOND
        """,
        $"auction || '|' || bidder || '|' || price || '|' || seller || '|' || {Ms("bid_ts")}", KeyedStages: 2);

    [Fact]
    public void Regular_and_interval_joins_of_two_topics_across_two_workers_with_one_killed_and_restarted_equal_the_oracle_and_one_process()
    {
        var (auctions, bids) = Generate();
        var byId = auctions.ToDictionary(a => a.Id);
        IEnumerable<string> Oracle(SinkCase c) => c == Regular
            ? bids.Where(b => byId.ContainsKey(b.Auction)).Select(b => Text(b.Auction, b.Bidder, b.Price, byId[b.Auction].Seller, byId[b.Auction].Category))
            : bids.Where(b => byId.TryGetValue(b.Auction, out var a) && b.Time >= a.Time && b.Time <= a.Time.AddSeconds(20))
                .Select(b => Text(b.Auction, b.Bidder, b.Price, byId[b.Auction].Seller, Ms(b.Time)));
        // Three chunks by time: within each partition the events stay in time order.
        var bounds = new[] { Start.AddSeconds(240), Start.AddSeconds(480), DateTime.MaxValue };
        bool InChunk(DateTime t, int chunk) => (chunk == 0 || t >= bounds[chunk - 1]) && t < bounds[chunk];
        new StagedJobScenario(log)
        {
            Name = "joins",
            Partitions = Partitions,
            SourceTopics = ["auctions", "bids"],
            Cases = [Regular, Interval],
            JobText = JobText,
            CheckPlan = plan => Assert.Equal(2, Regex.Matches(plan, "co-partitioned: its partition task p reads partition p of each topic").Count),
            Produce = (harness, chunk) => Send(harness, auctions.Where(a => InChunk(a.Time, chunk)), bids.Where(b => InChunk(b.Time, chunk))),
            CheckOrphans = orphans => Assert.Contains(orphans, o => o.Key.EndsWith(" stage 2", StringComparison.Ordinal) && o.Value.Count > 0),
            Oracle = Oracle,
            CheckOracle = (c, expected) => Assert.True(c != Interval || (expected.Count > 100 && expected.Count < Counts(Oracle(Regular)).Count),
                "the interval keeps some bids and drops others"),
        }.Run();
    }

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

    private static void Send(RecoveryHarness harness, IEnumerable<Auction> auctions, IEnumerable<Bid> bids) => DistributedJob.Send(harness,
    [
        .. auctions.Select(a => ("auctions", a.Partition, (string?)null,
            (string?)$$"""{"id":{{a.Id}},"seller":{{a.Seller}},"category":{{a.Category}},"event_time":"{{Time(a.Time)}}"}""")),
        .. bids.Select(b => ("bids", b.Partition, (string?)null,
            (string?)$$"""{"auction":{{b.Auction}},"bidder":{{b.Bidder}},"price":{{b.Price}},"event_time":"{{Time(b.Time)}}"}""")),
    ]);

    /// <summary>A job per join (<c>&lt;name&gt;-regular</c>, <c>&lt;name&gt;-interval</c>), each join's sides through their own repartition topics.</summary>
    private static string JobText(string name, string bootstrap, IReadOnlyDictionary<SinkCase, string> tables, bool bounded) => $"""
        SET 'execution.checkpointing.interval' = '1 s';
        CREATE TABLE auctions (
            id BIGINT, seller BIGINT, category INT, event_time VARCHAR,
            ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
            WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
        ) WITH ('connector' = 'kafka', {KafkaOptions(bootstrap, "auctions", $"{name}-auctions", bounded)}, 'format' = 'json');
        CREATE TABLE bids (
            auction BIGINT, bidder BIGINT, price BIGINT, event_time VARCHAR,
            ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
            WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
        ) WITH ('connector' = 'kafka', {KafkaOptions(bootstrap, "bids", $"{name}-bids", bounded)}, 'format' = 'json');
        {Inserts(name, tables.Keys, tables)}
        """;
}
