namespace Eddy.Connectors.Nexmark.Tests;

/// <summary>The generator against facts of Nexmark's source (nexmark-flink's generator classes) and Java's random.</summary>
public class GeneratorTests
{
    private const long Base = 1_704_067_200_000;

    private static List<NexmarkEvent> Generate(NexmarkOptions options, long seed = 7, int parallelism = 1, int generator = 0)
    {
        var g = NexmarkGenerator.ForTable(options, parallelism, seed, Base)[generator];
        var events = new List<NexmarkEvent>();
        var e = new NexmarkEvent();
        while (g.HasNext)
        {
            g.Next(ref e);
            events.Add(e);
        }
        return events;
    }

    [Fact]
    public void SplittableRandomDrawsAsJavas()
    {
        // Expected values printed by OpenJDK 17's java.util.SplittableRandom (jshell), seed 42 then -7.
        var r = new SplittableRandom(42);
        Assert.Equal(-491277234, r.NextInt());
        Assert.Equal(2949826092126892291L, r.NextLong());
        Assert.Equal(9, r.NextInt(13));
        Assert.Equal(18, r.NextInt(26));
        Assert.Equal(6781, r.NextInt(10000));
        Assert.Equal(1274364071, r.NextInt(1500000001));
        Assert.Equal(0, r.NextInt(8));
        Assert.Equal(0.8006318767135033, r.NextDouble());
        // Math.round(Math.pow(10.0, nextDouble() * 6.0) * 100.0), Nexmark's price, in Java: 10954.
        Assert.Equal(10954L, (long)Math.Floor(Math.Pow(10.0, r.NextDouble() * 6.0) * 100.0 + 0.5));
        var s = new SplittableRandom(-7);
        Assert.Equal([2, 0, 1, 2, 0, 1, 0, 0, 2, 0, 2, 0, 0, 2, 0, 2, 1, 1, 1, 1], Enumerable.Range(0, 20).Select(_ => s.NextInt(3)));
    }

    [Fact]
    public void EveryEpochOfFiftyEventsHasOnePersonThreeAuctionsAndFortySixBids()
    {
        var events = Generate(new NexmarkOptions { NumEvents = 50_000 });
        // The table source numbers events from 1 and ids from 1: event k (0-based) has id k + 2, and id mod 50 picks
        // the kind (0: person, 1-3: auction, 4-49: bid). So the stream starts with three auctions and the first
        // person is the 49th event.
        Assert.Equal(NexmarkEventType.Auction, events[0].Type);
        Assert.Equal(NexmarkEventType.Bid, events[2].Type);
        Assert.Equal(NexmarkEventType.Person, events[48].Type);
        for (int k = 0; k < events.Count; k++)
        {
            long id = k + 2;
            var expected = (id % 50) switch { 0 => NexmarkEventType.Person, < 4 => NexmarkEventType.Auction, _ => NexmarkEventType.Bid };
            Assert.Equal(expected, events[k].Type);
        }
        // Full epochs: ids 50..49999 → 999 epochs.
        foreach (var epoch in events.Select((e, k) => (e, id: k + 2L)).Where(x => x.id >= 50 && x.id < 50_000).GroupBy(x => x.id / 50))
        {
            Assert.Equal(1, epoch.Count(x => x.e.Type == NexmarkEventType.Person));
            Assert.Equal(3, epoch.Count(x => x.e.Type == NexmarkEventType.Auction));
            Assert.Equal(46, epoch.Count(x => x.e.Type == NexmarkEventType.Bid));
        }
    }

    [Fact]
    public void IdsFollowTheEventIds()
    {
        var events = Generate(new NexmarkOptions { NumEvents = 50_000 });
        var people = events.Where(e => e.Type == NexmarkEventType.Person).Select(e => e.PersonId).ToList();
        var auctions = events.Where(e => e.Type == NexmarkEventType.Auction).Select(e => e.AuctionId).ToList();
        // One id per event, counted from FIRST_PERSON_ID / FIRST_AUCTION_ID (1000) by the event id's epoch and offset.
        // The table source's ids start at 2, so the first person (id 50, epoch 1) is 1001 and the first auction
        // (id 2, offset 1 among the auctions of epoch 0) is 1001 too: 1000 is never generated.
        Assert.Equal(Enumerable.Range(1001, people.Count).Select(i => (long)i), people);
        Assert.Equal(Enumerable.Range(1001, auctions.Count).Select(i => (long)i), auctions);
        long lastAuction = 999, lastPerson = 999;
        int hotAuction = 0, bids = 0, hotChannel = 0;
        foreach (var e in events)
        {
            switch (e.Type)
            {
                case NexmarkEventType.Person:
                    lastPerson = e.PersonId;
                    Assert.Matches(@"^\d{4} \d{4} \d{4} \d{4}$", e.CreditCard);
                    Assert.EndsWith(".com", e.EmailAddress);
                    break;
                case NexmarkEventType.Auction:
                    lastAuction = e.AuctionId;
                    Assert.InRange(e.Category, 10, 14);
                    Assert.True(e.Reserve >= e.InitialBid);
                    Assert.True(e.Expires > e.DateTime);
                    // A seller is a hot seller (first of its batch of 100) or one of the active people or 10 ahead.
                    Assert.InRange(e.Seller, 1000, Math.Max(lastPerson, 1000) + 10);
                    break;
                case NexmarkEventType.Bid:
                    bids++;
                    // A bid's auction: an auction in flight (at most 100 back) or up to 10 ahead of the last one.
                    Assert.InRange(e.BidAuction, 1000, lastAuction + 10);
                    if (e.BidAuction == (lastAuction - 1000) / 100 * 100 + 1000) hotAuction++;
                    // Bidders carry FIRST_PERSON_ID twice, as Nexmark's BidGenerator adds it twice.
                    Assert.InRange(e.Bidder, 2000, Math.Max(lastPerson, 1000) + 1000 + 10);
                    Assert.InRange(e.Price, 100, 100_000_000);
                    Assert.InRange(e.Extra.Length, 54, 81);
                    if (e.Channel is "Google" or "Facebook" or "Baidu" or "Apple") hotChannel++;
                    else Assert.Matches(@"^channel-\d+$", e.Channel);
                    Assert.StartsWith("https://www.nexmark.com/", e.Url);
                    break;
            }
        }
        // bid.hot-ratio.auctions = 2: half the bids go to the hot auction (plus the random picks that land on it);
        // half the bids are on one of the four hot channels.
        Assert.InRange(hotAuction / (double)bids, 0.49, 0.53);
        Assert.InRange(hotChannel / (double)bids, 0.48, 0.52);
    }

    [Fact]
    public void EventTimesFollowTheRate()
    {
        // 10,000 events/s: 100 µs between events; event number k + 1 (the table source starts at 1) at k+1 × 0.1 ms.
        var events = Generate(new NexmarkOptions { NumEvents = 1000, FirstEventRate = 10_000, NextEventRate = 10_000 });
        for (int k = 0; k < events.Count; k++) Assert.Equal(Base + (k + 1) / 10, events[k].DateTime);
        // At parallelism 2 each generator has its own timeline at half the rate: 200 µs between its events.
        var second = Generate(new NexmarkOptions { NumEvents = 1000, FirstEventRate = 10_000 }, parallelism: 2, generator: 1);
        Assert.Equal(500, second.Count);
        for (int k = 0; k < second.Count; k++) Assert.Equal(Base + (k + 1) * 2 / 10, second[k].DateTime);
        // The second generator owns the event ids after the first one's 500: its first id is 501 + 1 = 502, and
        // 502 mod 50 = 2 makes it an auction, the second of epoch 10: auction id 1000 + 10 × 3 + 1.
        Assert.Equal(NexmarkEventType.Auction, second[0].Type);
        Assert.Equal(1031, second[0].AuctionId);
    }

    [Fact]
    public void SameSeedSameEventsOtherSeedOtherEvents()
    {
        var options = new NexmarkOptions { NumEvents = 5000 };
        static string Text(NexmarkEvent e) => e.Type switch
        {
            NexmarkEventType.Person => $"P {e.PersonId} {e.Name} {e.EmailAddress} {e.CreditCard} {e.City} {e.State} {e.DateTime} {e.Extra}",
            NexmarkEventType.Auction => $"A {e.AuctionId} {e.ItemName} {e.Description} {e.InitialBid} {e.Reserve} {e.DateTime} {e.Expires} {e.Seller} {e.Category} {e.Extra}",
            _ => $"B {e.BidAuction} {e.Bidder} {e.Price} {e.Channel} {e.Url} {e.DateTime} {e.Extra}",
        };
        var a = Generate(options, seed: 11).Select(Text).ToList();
        var b = Generate(options, seed: 11).Select(Text).ToList();
        var c = Generate(options, seed: 12).Select(Text).ToList();
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void OptionsHaveFlinksNamesAndDefaults()
    {
        var o = NexmarkOptions.Parse("t", new Dictionary<string, string> { ["connector"] = "nexmark" });
        Assert.Equal((10_000, 10_000, 1, 3, 46, 2, 4, 4, 0L, true), (o.FirstEventRate, o.NextEventRate, o.PersonProportion, o.AuctionProportion,
            o.BidProportion, o.HotAuctionRatio, o.HotBiddersRatio, o.HotSellersRatio, o.NumEvents, o.MaxEmitSpeed));
        Assert.Equal((200, 500, 100), (o.AvgPersonByteSize, o.AvgAuctionByteSize, o.AvgBidByteSize));
        var set = NexmarkOptions.Parse("t", new Dictionary<string, string> { ["events.num"] = "123", ["bid.avg-size"] = "1kb", ["rate.period"] = "10 min" });
        Assert.Equal((123L, 1024, 600), (set.NumEvents, set.AvgBidByteSize, set.RatePeriodSec));
        var e = Assert.Throws<Sql.Connectors.ConnectorOptionException>(() => NexmarkOptions.Parse("t", new Dictionary<string, string> { ["events.nums"] = "1" }));
        Assert.Equal("table 't', option 'events.nums': unknown option for connector 'nexmark'; did you mean 'events.num'?", e.Message);
        e = Assert.Throws<Sql.Connectors.ConnectorOptionException>(() => NexmarkOptions.Parse("t", new Dictionary<string, string> { ["bid.proportion"] = "0" }));
        Assert.Equal("table 't', option 'bid.proportion': expected a positive integer, got '0'", e.Message);
        e = Assert.Throws<Sql.Connectors.ConnectorOptionException>(() => NexmarkOptions.Parse("t", new Dictionary<string, string> { ["bid.avg-size"] = "4 gb" }));
        Assert.Equal("table 't', option 'bid.avg-size': expected a size between 1 byte and 2 GiB", e.Message);
        e = Assert.Throws<Sql.Connectors.ConnectorOptionException>(() => NexmarkOptions.Parse("t", new Dictionary<string, string> { ["rate.shape"] = "square wave" }));
        Assert.Equal("table 't', option 'rate.shape': expected one of SQUARE, SINE, got 'square wave'", e.Message);
    }
}
