using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

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

    /// <summary>
    /// One join as a job: its sink table's columns (with the PRIMARY KEY the updates are applied by), its query, its
    /// columns as PostgreSQL shows them (one text per row, NULL as <see cref="Null"/>), the rows expected from the
    /// events, and the rows whose fate depends on the closing events (an interval join's, still held by the workers,
    /// flushed by the end of a bounded run), left out of every comparison, and whether it pads (an outer join).
    /// </summary>
    private sealed record Case(string Name, string Columns, string Query, string[] RowColumns, Func<AuctionsAndBids, List<string>> Oracle, Func<string, bool>? Open, bool Pads)
        : SinkCase(Name, Columns, Query, string.Join(" || '|' || ", RowColumns.Select(c => $"coalesce({c}::text, '{Null}')")), KeyedStages: 2, UpdatedByKey: true, Open);

    private static string Text(params object?[] parts) => string.Join('|', parts.Select(p => p is null ? Null : Convert.ToString(p, CultureInfo.InvariantCulture)));

    private static bool NeverOpen(string row) => false;

    private static readonly Case Left = new("left_join", "bidder BIGINT, auction BIGINT, price BIGINT, seller BIGINT, category INT, PRIMARY KEY (bidder) NOT ENFORCED",
        "SELECT b.bidder, b.auction, b.price, a.seller, a.category FROM bids b LEFT JOIN auctions a ON b.auction = a.id AND a.category < 7",
        ["bidder", "auction", "price", "seller", "category"],
        e => [.. e.Bids.Select(b => e.AuctionOf(b) is { Category: < 7 } a
            ? Text(b.Bidder, b.Auction, b.Price, a.Seller, a.Category)
            : Text(b.Bidder, b.Auction, b.Price, null, null))],
        NeverOpen, Pads: true);

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
        NeverOpen, Pads: true);

    /// <summary>An event-time interval FULL OUTER join: unmatched rows are padded once the watermark passes their interval.</summary>
    private static readonly Case IntervalFull = new("interval_full_join", "row_id BIGINT NOT NULL, bidder BIGINT, id BIGINT, price BIGINT, seller BIGINT, PRIMARY KEY (row_id) NOT ENFORCED",
        """
        SELECT COALESCE(b.bidder, -1 - a.id) AS row_id, b.bidder, a.id, b.price, a.seller FROM bids b FULL JOIN auctions a
            ON b.auction = a.id AND b.ts BETWEEN a.ts AND a.ts + INTERVAL '20' SECOND
        """,
        ["row_id", "bidder", "id", "price", "seller"],
        e =>
        {
            var matched = e.Bids.Where(b => e.AuctionOf(b) is { } a && AuctionsAndBids.InInterval(b, a)).Select(b => b.Auction!.Value).ToHashSet();
            return
            [
                .. e.Bids.Select(b => e.AuctionOf(b) is { } a && AuctionsAndBids.InInterval(b, a) ? Text(b.Bidder, b.Bidder, a.Id, b.Price, a.Seller) : Text(b.Bidder, b.Bidder, null, b.Price, null)),
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
        Run("semi", [Semi, Anti, NotIn]);
    }

    private void Run(string name, Case[] cases)
    {
        var events = Generate();
        // Three chunks by time.
        DateTime[] ends = [Start.AddSeconds(200), Start.AddSeconds(400), DateTime.MaxValue];
        new StagedJobScenario(log)
        {
            Name = name,
            Partitions = Partitions,
            SourceTopics = AuctionsAndBids.Topics,
            Cases = cases,
            JobText = JobText,
            CheckPlan = plan => Assert.Equal(cases.Length, Regex.Matches(plan, "co-partitioned: its partition task p reads partition p of each topic").Count),
            Produce = (harness, chunk) => events.SendChunk(harness, ends, chunk),
            CheckOrphans = orphans => Assert.Contains(orphans, o => o.Key.EndsWith(" stage 2", StringComparison.Ordinal) && o.Value.Count > 0),
            Oracle = c => ((Case)c).Oracle(events),
            CheckOracle = (c, expected) =>
            {
                bool Padded(string row) => row.Split('|').Contains(Null);
                bool pads = ((Case)c).Pads;
                Assert.True(expected.Count > 100, $"{c.Name}: the oracle has {expected.Count} rows");
                Assert.True(pads ? expected.Keys.Any(Padded) && !expected.Keys.All(Padded) : expected.Count < BidCount,
                    pads ? $"{c.Name}: the oracle has matched and padded rows" : $"{c.Name}: the oracle keeps some bids and drops others");
                Assert.True(expected.Values.All(n => n == 1), $"{c.Name}: the oracle's rows are distinct by the table's key");
            },
            HeldBackIgnoredInWorkerTables = true,
        }.Run();
    }

    /// <summary>
    /// Auctions every 2 s (± 0.5 s), every tenth never produced (its bids find none); each bid names a random auction,
    /// never one whose id is 3 modulo 7 (those stay without bids), one in 40 names none (NULL), and comes 5 s before to 30 s after it, so the interval join (0..20 s) keeps some
    /// and pads others. Both topics get their events in time order round-robin over the partitions (no event is late),
    /// then one closing event per partition that joins nothing.
    /// </summary>
    private static AuctionsAndBids Generate()
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
        return new AuctionsAndBids(auctions, bids);
    }

    /// <summary>A job per case (<c>&lt;name&gt;-&lt;case&gt;</c>), each join's sides through their own repartition topics.</summary>
    private static string JobText(string name, string bootstrap, IReadOnlyDictionary<SinkCase, string> tables, bool bounded) => $"""
        SET 'execution.checkpointing.interval' = '1 s';
        -- Flink would put a SinkUpsertMaterializer before these sinks (their keys are not the joins' upsert keys);
        -- eddy worker refuses one, so the jobs say NONE, as a Flink job may.
        SET 'table.exec.sink.upsert-materialize' = 'NONE';
        {AuctionsAndBids.Tables(name, bootstrap, bounded)}
        {Inserts(name, tables.Keys, tables)}
        """;
}
