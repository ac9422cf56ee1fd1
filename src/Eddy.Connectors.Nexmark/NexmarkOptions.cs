using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

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

    private static readonly NexmarkOptions Defaults = new();

    private static readonly ConnectorOption<string> RateShapeOption =
        Option.Enum("rate.shape", "the shape of the rate curve (accepted and unused: Nexmark's generator reads only the first rate)", "SQUARE", "SINE").WithDefault("SQUARE");

    private static readonly ConnectorOption<TimeSpan> RatePeriodOption =
        Option.Duration("rate.period", "the period of the rate curve (accepted and unused, as rate.shape)").WithDefault(TimeSpan.FromSeconds(Defaults.RatePeriodSec));

    private static readonly ConnectorOption<bool> RateLimitedOption =
        Option.Boolean("rate.limited", "whether the rate is limited (accepted and unused, as rate.shape)").WithDefault(Defaults.RateLimited);

    private static readonly ConnectorOption<int> FirstEventRateOption =
        Option.Int("first-event.rate", "events per second of event time, which sets the delay between events", min: 1).WithDefault(Defaults.FirstEventRate);

    private static readonly ConnectorOption<int> NextEventRateOption =
        Option.Int("next-event.rate", "the rate after the first period (accepted and unused, as rate.shape)", min: 1).WithDefault(Defaults.NextEventRate);

    private static readonly ConnectorOption<long> PersonAvgSizeOption =
        Option.MemorySize("person.avg-size", "the average size of a person event, reached by padding its extra field").WithDefault(Defaults.AvgPersonByteSize);

    private static readonly ConnectorOption<long> AuctionAvgSizeOption =
        Option.MemorySize("auction.avg-size", "the average size of an auction event, reached by padding its extra field").WithDefault(Defaults.AvgAuctionByteSize);

    private static readonly ConnectorOption<long> BidAvgSizeOption =
        Option.MemorySize("bid.avg-size", "the average size of a bid event, reached by padding its extra field").WithDefault(Defaults.AvgBidByteSize);

    private static readonly ConnectorOption<int> PersonProportionOption =
        Option.Int("person.proportion", "the share of person events, against the auction and bid proportions", min: 1).WithDefault(Defaults.PersonProportion);

    private static readonly ConnectorOption<int> AuctionProportionOption =
        Option.Int("auction.proportion", "the share of auction events, against the person and bid proportions", min: 1).WithDefault(Defaults.AuctionProportion);

    private static readonly ConnectorOption<int> BidProportionOption =
        Option.Int("bid.proportion", "the share of bid events, against the person and auction proportions", min: 1).WithDefault(Defaults.BidProportion);

    private static readonly ConnectorOption<int> HotAuctionsOption =
        Option.Int("bid.hot-ratio.auctions", "a bid goes to the hot auction with probability 1 - 1/ratio", min: 1).WithDefault(Defaults.HotAuctionRatio);

    private static readonly ConnectorOption<int> HotBiddersOption =
        Option.Int("bid.hot-ratio.bidders", "a bid comes from the hot bidder with probability 1 - 1/ratio", min: 1).WithDefault(Defaults.HotBiddersRatio);

    private static readonly ConnectorOption<int> HotSellersOption =
        Option.Int("auction.hot-ratio.sellers", "an auction comes from the hot seller with probability 1 - 1/ratio", min: 1).WithDefault(Defaults.HotSellersRatio);

    private static readonly ConnectorOption<long> EventsNumOption =
        Option.Long("events.num", "the number of events in all; 0: unbounded", min: 0).WithDefault(Defaults.NumEvents);

    private static readonly ConnectorOption<bool> KeepAliveOption =
        Option.Boolean("keep-alive", "stay running (idle) after the last event").WithDefault(Defaults.KeepAlive);

    private static readonly ConnectorOption<long> StopAtOption =
        Option.Long("stop-at", "stop after this many events (-1: never)", min: -1).WithDefault(Defaults.StopAt);

    private static readonly ConnectorOption<bool> MaxEmitSpeedOption =
        Option.Boolean("max-emit-speed", "emit as fast as possible; false: each event at its due wall-clock time").WithDefault(Defaults.MaxEmitSpeed);

    private static readonly ConnectorOption<long> SeedOption =
        Option.Long("seed", "Eddy: the seed of every random draw, so that a stream can be made again (default: a new seed per source, as Flink's unseeded generator)");

    private static readonly ConnectorOption<long> BaseTimeOption =
        Option.Long("base-time", "Eddy: the event time of event number 0, in epoch milliseconds (default: the time the table is read, as Flink)", min: 0);

    /// <summary>The options of <c>'connector' = 'nexmark'</c>, each declared once: Flink's <c>NexmarkSourceOptions</c> and Eddy's two.</summary>
    public static OptionSchema OptionSchema { get; } = new("nexmark",
        RateShapeOption, RatePeriodOption, RateLimitedOption, FirstEventRateOption, NextEventRateOption, PersonAvgSizeOption, AuctionAvgSizeOption,
        BidAvgSizeOption, PersonProportionOption, AuctionProportionOption, BidProportionOption, HotAuctionsOption, HotBiddersOption, HotSellersOption,
        EventsNumOption, KeepAliveOption, StopAtOption, MaxEmitSpeedOption, SeedOption, BaseTimeOption);

    /// <summary>Validates a <c>WITH (...)</c> clause; a bad or unknown option throws a <see cref="ConnectorOptionException"/> naming it.</summary>
    public static NexmarkOptions Parse(string table, IReadOnlyDictionary<string, string> options) => From(table, OptionSchema.Validate(table, options));

    /// <summary>Reads options validated by <see cref="OptionSchema"/>.</summary>
    public static NexmarkOptions From(string table, ConnectorOptions options) => new()
    {
        RateShape = options.Get(RateShapeOption) == "SINE" ? RateShape.Sine : RateShape.Square,
        RatePeriodSec = options.Get(RatePeriodOption).TotalSeconds is var seconds && seconds <= int.MaxValue
            ? (int)seconds
            : throw new ConnectorOptionException(table, RatePeriodOption.Name, $"at most {int.MaxValue} s"),
        RateLimited = options.Get(RateLimitedOption),
        FirstEventRate = options.Get(FirstEventRateOption),
        NextEventRate = options.Get(NextEventRateOption),
        AvgPersonByteSize = EventSize(table, options, PersonAvgSizeOption),
        AvgAuctionByteSize = EventSize(table, options, AuctionAvgSizeOption),
        AvgBidByteSize = EventSize(table, options, BidAvgSizeOption),
        PersonProportion = options.Get(PersonProportionOption),
        AuctionProportion = options.Get(AuctionProportionOption),
        BidProportion = options.Get(BidProportionOption),
        HotAuctionRatio = options.Get(HotAuctionsOption),
        HotBiddersRatio = options.Get(HotBiddersOption),
        HotSellersRatio = options.Get(HotSellersOption),
        NumEvents = options.Get(EventsNumOption),
        KeepAlive = options.Get(KeepAliveOption),
        StopAt = options.Get(StopAtOption),
        MaxEmitSpeed = options.Get(MaxEmitSpeedOption),
        Seed = options.Find(SeedOption),
        BaseTime = options.Find(BaseTimeOption),
    };

    private static int EventSize(string table, ConnectorOptions options, ConnectorOption<long> option) =>
        options.Get(option) is var bytes and > 0 and <= int.MaxValue
            ? (int)bytes
            : throw new ConnectorOptionException(table, option.Name, "expected a size between 1 byte and 2 GiB");
}
