using System.Globalization;
using Eddy.Sql;

namespace Eddy.Connectors.Nexmark;

/// <summary>The shape of the rate curve (<c>rate.shape</c>); Nexmark's generator reads only the first rate either way.</summary>
public enum RateShape
{
    Square,
    Sine,
}

/// <summary>
/// The options of Flink's Nexmark table source (<c>NexmarkSourceOptions</c>, defaults of <c>NexmarkConfiguration</c>),
/// plus two Eddy additions that make a stream reproducible: <c>seed</c> and <c>base-time</c>.
/// </summary>
public sealed record NexmarkOptions
{
    public RateShape RateShape { get; init; } = RateShape.Square;
    public int RatePeriodSec { get; init; } = 600;
    public bool RateLimited { get; init; }
    public int FirstEventRate { get; init; } = 10_000;
    public int NextEventRate { get; init; } = 10_000;
    public int AvgPersonByteSize { get; init; } = 200;
    public int AvgAuctionByteSize { get; init; } = 500;
    public int AvgBidByteSize { get; init; } = 100;
    public int PersonProportion { get; init; } = 1;
    public int AuctionProportion { get; init; } = 3;
    public int BidProportion { get; init; } = 46;
    public int HotAuctionRatio { get; init; } = 2;
    public int HotBiddersRatio { get; init; } = 4;
    public int HotSellersRatio { get; init; } = 4;
    /// <summary>0: as many as the generator's counters allow (unbounded in practice).</summary>
    public long NumEvents { get; init; }
    public bool KeepAlive { get; init; }
    public long StopAt { get; init; } = -1;
    public bool MaxEmitSpeed { get; init; } = true;

    // Fixed in Flink's NexmarkConfiguration (no table option sets them).
    public int NumInFlightAuctions { get; init; } = 100;
    public int NumActivePeople { get; init; } = 1000;
    public long OutOfOrderGroupSize { get; init; } = 1;

    /// <summary>Eddy: the seed of every random draw. Null: a new seed per source, as Flink's unseeded generator.</summary>
    public long? Seed { get; init; }

    /// <summary>Eddy: the event time of event number 0, epoch ms. Null: the time the table is read, as Flink.</summary>
    public long? BaseTime { get; init; }

    public int TotalProportion => PersonProportion + AuctionProportion + BidProportion;

    /// <summary>Whether the source ends (a number of events or a stop, and no keep-alive).</summary>
    public bool IsBounded => !KeepAlive && (NumEvents > 0 || StopAt >= 0);

    public static readonly string[] Known =
    [
        "rate.shape", "rate.period", "rate.limited", "first-event.rate", "next-event.rate", "person.avg-size", "auction.avg-size",
        "bid.avg-size", "person.proportion", "auction.proportion", "bid.proportion", "bid.hot-ratio.auctions", "bid.hot-ratio.bidders",
        "auction.hot-ratio.sellers", "events.num", "keep-alive", "stop-at", "max-emit-speed", "seed", "base-time",
    ];

    /// <summary>Reads a <c>WITH (...)</c> clause; a bad or unknown option throws an <see cref="ArgumentException"/> naming it.</summary>
    public static NexmarkOptions Parse(IReadOnlyDictionary<string, string> options)
    {
        var o = new NexmarkOptions();
        foreach (var (key, raw) in options)
        {
            string v = raw.Trim();
            o = key switch
            {
                "connector" => o,
                "rate.shape" => o with { RateShape = Enum.TryParse<RateShape>(v, ignoreCase: true, out var s) ? s : throw Bad(key, raw, "SQUARE or SINE") },
                "rate.period" => o with { RatePeriodSec = checked((int)SqlSession.ParseDuration(key, v).TotalSeconds) },
                "rate.limited" => o with { RateLimited = Bool(key, v) },
                "first-event.rate" => o with { FirstEventRate = Positive(key, v) },
                "next-event.rate" => o with { NextEventRate = Positive(key, v) },
                "person.avg-size" => o with { AvgPersonByteSize = MemorySize(key, v) },
                "auction.avg-size" => o with { AvgAuctionByteSize = MemorySize(key, v) },
                "bid.avg-size" => o with { AvgBidByteSize = MemorySize(key, v) },
                "person.proportion" => o with { PersonProportion = Positive(key, v) },
                "auction.proportion" => o with { AuctionProportion = Positive(key, v) },
                "bid.proportion" => o with { BidProportion = Positive(key, v) },
                "bid.hot-ratio.auctions" => o with { HotAuctionRatio = Positive(key, v) },
                "bid.hot-ratio.bidders" => o with { HotBiddersRatio = Positive(key, v) },
                "auction.hot-ratio.sellers" => o with { HotSellersRatio = Positive(key, v) },
                "events.num" => o with { NumEvents = Long(key, v, 0) },
                "keep-alive" => o with { KeepAlive = Bool(key, v) },
                "stop-at" => o with { StopAt = Long(key, v, -1) },
                "max-emit-speed" => o with { MaxEmitSpeed = Bool(key, v) },
                "seed" => o with { Seed = long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed) ? seed : throw Bad(key, raw, "a long") },
                "base-time" => o with { BaseTime = Long(key, v, 0) },
                _ => throw new ArgumentException($"nexmark option '{key}': unknown; known: {string.Join(", ", Known)}"),
            };
        }
        return o;
    }

    private static ArgumentException Bad(string key, string value, string expected) =>
        new($"nexmark option '{key}': expected {expected}, got '{value}'");

    private static bool Bool(string key, string v) => bool.TryParse(v, out bool b) ? b : throw Bad(key, v, "true or false");

    private static int Positive(string key, string v) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw Bad(key, v, "a positive int");

    private static long Long(string key, string v, long min) =>
        long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) && n >= min ? n : throw Bad(key, v, $"a long >= {min}");

    /// <summary>Flink's MemorySize text: a number of bytes with an optional unit (b, kb, mb, gb, tb; 1024-based).</summary>
    private static int MemorySize(string key, string v)
    {
        int end = 0;
        while (end < v.Length && char.IsAsciiDigit(v[end])) end++;
        if (end == 0 || !long.TryParse(v.AsSpan(0, end), NumberStyles.None, CultureInfo.InvariantCulture, out long n)) throw Bad(key, v, "a memory size such as '200b' or '1kb'");
        long unit = v[end..].Trim().ToLowerInvariant() switch
        {
            "" or "b" or "bytes" => 1,
            "k" or "kb" or "kibibytes" => 1L << 10,
            "m" or "mb" or "mebibytes" => 1L << 20,
            "g" or "gb" or "gibibytes" => 1L << 30,
            "t" or "tb" or "tebibytes" => 1L << 40,
            _ => throw Bad(key, v, "a memory size such as '200b' or '1kb'"),
        };
        long bytes = n * unit;
        return bytes is > 0 and <= int.MaxValue ? (int)bytes : throw Bad(key, v, "a size between 1 byte and 2 GiB");
    }
}
