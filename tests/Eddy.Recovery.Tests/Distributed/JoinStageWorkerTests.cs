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
        var events = Generate();
        IEnumerable<string> Oracle(SinkCase c) =>
            from b in events.Bids
            let a = events.AuctionOf(b)
            where a is not null && (c == Regular || AuctionsAndBids.InInterval(b, a))
            select c == Regular ? Text(b.Auction, b.Bidder, b.Price, a.Seller, a.Category) : Text(b.Auction, b.Bidder, b.Price, a.Seller, Ms(b.Time));
        // Three chunks by time.
        DateTime[] ends = [Start.AddSeconds(240), Start.AddSeconds(480), DateTime.MaxValue];
        new StagedJobScenario(log)
        {
            Name = "joins",
            Partitions = Partitions,
            SourceTopics = AuctionsAndBids.Topics,
            Cases = [Regular, Interval],
            JobText = JobText,
            CheckPlan = plan => Assert.Equal(2, Regex.Matches(plan, "co-partitioned: its partition task p reads partition p of each topic").Count),
            Produce = (harness, chunk) => events.SendChunk(harness, ends, chunk),
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
    private static AuctionsAndBids Generate()
    {
        var random = new Random(1717);
        var auctions = Enumerable.Range(0, AuctionCount)
            .Select(i => (Id: (long)i, Time: Start.AddMilliseconds(i * 2000L + random.Next(-500, 500)), Seller: random.Next(50), Category: random.Next(10)))
            .OrderBy(a => a.Time).Select((a, i) => new Auction(i % Partitions, a.Id, a.Seller, a.Category, a.Time)).ToList();
        var bids = Enumerable.Range(0, BidCount).Select(i =>
        {
            var a = auctions[random.Next(auctions.Count)];
            return (Auction: (long?)a.Id, Bidder: (long)i, Price: (long)random.Next(1, 10_000), Time: a.Time.AddMilliseconds(random.Next(-5000, 30_000)));
        }).OrderBy(b => b.Time).Select((b, i) => new Bid(i % Partitions, b.Auction, b.Bidder, b.Price, b.Time)).ToList();
        for (int p = 0; p < Partitions; p++)
        {
            auctions.Add(new Auction(p, ClosingId + p, 0, 0, Closing));
            bids.Add(new Bid(p, -1 - p, ClosingId + p, 1, Closing));
        }
        return new AuctionsAndBids(auctions, bids);
    }

    /// <summary>A job per join (<c>&lt;name&gt;-regular</c>, <c>&lt;name&gt;-interval</c>), each join's sides through their own repartition topics.</summary>
    private static string JobText(string name, string bootstrap, IReadOnlyDictionary<SinkCase, string> tables, bool bounded) => $"""
        SET 'execution.checkpointing.interval' = '1 s';
        {AuctionsAndBids.Tables(name, bootstrap, bounded)}
        {Inserts(name, tables.Keys, tables)}
        """;
}
