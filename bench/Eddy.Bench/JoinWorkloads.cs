using Eddy.Joins;
using Eddy.Runtime;

namespace Eddy.Bench;

/// <summary>
/// Join workloads over a Nexmark-like split of the benchmark events: of every 50 events (by index i = timestamp / 10),
/// one is a person (id = i / 50), three are auctions (id = 3 × (i / 50) + i % 50 - 1, seller one of the last 100
/// persons), the other 46 are bids (on one of the last 30 auctions, so at most 5 s old). Each side is its own source
/// over the event array; events/s count every event, as Nexmark does.
/// </summary>
public static class JoinWorkloads
{
    public readonly record struct Person(long Id, int State);

    public readonly record struct Auction(long Id, long Seller, int Category);

    public readonly record struct Bid(long Auction, long Price);

    private static long Index(BenchEvent e) => e.Timestamp / Harness.EventSpacingMs;

    private static bool IsPerson(BenchEvent e) => Index(e) % 50 == 0;

    private static bool IsAuction(BenchEvent e) => Index(e) % 50 is >= 1 and <= 3;

    private static bool IsBid(BenchEvent e) => Index(e) % 50 >= 4;

    private static Person ToPerson(BenchEvent e) => new(Index(e) / 50, e.Payload & 63);

    private static Auction ToAuction(BenchEvent e)
    {
        long i = Index(e);
        return new Auction(3 * (i / 50) + i % 50 - 1, Math.Max(0, i / 50 - e.Key % 100), e.Payload & 15);
    }

    private static Bid ToBid(BenchEvent e) => new(Math.Max(0, 3 * (Index(e) / 50) - e.Key % 30), e.Payload & 0xFFFF);

    /// <summary>Regular inner join person ⋈ auction on seller id (Nexmark q3's join without its filters): unbounded state.</summary>
    public static long PersonAuction(BenchEvent[] events)
    {
        var env = StreamEnvironment.Create().SetParallelism(1);
        var sink = new CountingSink<(long, long)>();
        var persons = Harness.Events(env, events, "Persons").Filter(IsPerson).Map(ToPerson);
        var auctions = Harness.Events(env, events, "Auctions").Filter(IsAuction).Map(ToAuction);
        persons.Join(auctions, p => p.Id, a => a.Seller, JoinType.Inner, null,
                (p, _, a, _) => (p.Id, a.Id))
            .SinkTo(sink);
        env.Execute("join-person-auction");
        return sink.Count;
    }

    /// <summary>Event-time interval join bid ⋈ auction: bid.ts BETWEEN auction.ts AND auction.ts + 10 s; state cleaned by the watermark.</summary>
    public static long AuctionBidInterval(BenchEvent[] events)
    {
        var env = StreamEnvironment.Create().SetParallelism(1);
        var sink = new CountingSink<(long, long)>();
        var bids = Harness.Events(env, events, "Bids").Filter(IsBid).Map(ToBid);
        var auctions = Harness.Events(env, events, "Auctions").Filter(IsAuction).Map(ToAuction);
        bids.IntervalJoin(auctions, b => b.Auction, a => a.Id, JoinType.Inner, TimeSpan.Zero, TimeSpan.FromSeconds(10), null,
                (b, _, a, _) => (a.Id, b.Price))
            .SinkTo(sink);
        env.Execute("join-auction-bid-interval");
        return sink.Count;
    }
}
