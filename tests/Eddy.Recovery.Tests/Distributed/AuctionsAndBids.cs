using System.Globalization;
using static Eddy.Recovery.Tests.Distributed.DistributedJob;

namespace Eddy.Recovery.Tests.Distributed;

internal sealed record Auction(int Partition, long Id, long Seller, int Category, DateTime Time);

/// <summary>A bid; its auction may be NULL.</summary>
internal sealed record Bid(int Partition, long? Auction, long Bidder, long Price, DateTime Time);

/// <summary>
/// Nexmark-style auctions and bids as the join worker tests produce them: two JSON topics with event time (15 s
/// watermark bound), each event to a chosen partition, sent in chunks by time.
/// </summary>
internal sealed record AuctionsAndBids(List<Auction> Auctions, List<Bid> Bids)
{
    public static readonly string[] Topics = ["auctions", "bids"];

    public Dictionary<long, Auction> ById { get; } = Auctions.ToDictionary(a => a.Id);

    /// <summary>The auction a bid names, if it names one that was produced.</summary>
    public Auction? AuctionOf(Bid b) => b.Auction is { } id && ById.TryGetValue(id, out var a) ? a : null;

    /// <summary>The interval joins' condition: the bid from the auction's time to 20 s after.</summary>
    public static bool InInterval(Bid b, Auction a) => b.Time >= a.Time && b.Time <= a.Time.AddSeconds(20);

    /// <summary>
    /// Sends chunk <paramref name="chunk"/>: the events before <paramref name="ends"/>[chunk] and at or after the previous
    /// chunk's end (within each partition they stay in time order).
    /// </summary>
    public void SendChunk(RecoveryHarness harness, DateTime[] ends, int chunk)
    {
        bool InChunk(DateTime t) => (chunk == 0 || t >= ends[chunk - 1]) && t < ends[chunk];
        Send(harness,
        [
            .. Auctions.Where(a => InChunk(a.Time)).Select(a => ("auctions", a.Partition, (string?)null,
                (string?)$$"""{"id":{{a.Id}},"seller":{{a.Seller}},"category":{{a.Category}},"event_time":"{{Time(a.Time)}}"}""")),
            .. Bids.Where(b => InChunk(b.Time)).Select(b => ("bids", b.Partition, (string?)null,
                (string?)$$"""{"auction":{{(b.Auction is { } id ? id.ToString(CultureInfo.InvariantCulture) : "null")}},"bidder":{{b.Bidder}},"price":{{b.Price}},"event_time":"{{Time(b.Time)}}"}""")),
        ]);
    }

    /// <summary>The two source tables of a job named <paramref name="name"/> (a consumer group per topic).</summary>
    public static string Tables(string name, string bootstrap, bool bounded) => $"""
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
        """;
}
