namespace Eddy.Connectors.Nexmark;

/// <summary>
/// One generator's share of the stream, as Nexmark's <c>GeneratorConfig</c>: which event ids it owns, how many events
/// it makes, and the event time of each event number (<c>baseTime + number × inter-event delay</c>).
/// </summary>
public sealed class GeneratorConfig
{
    /// <summary>Ids start here so that queries find matches even on small streams (Nexmark's constants).</summary>
    public const long FirstAuctionId = 1000;
    public const long FirstPersonId = 1000;
    public const long FirstCategoryId = 10;

    public GeneratorConfig(NexmarkOptions options, int generators, long baseTime, long firstEventId, long maxEventsOrZero, long stopAtEvent, long firstEventNumber)
    {
        Options = options;
        TotalProportion = options.TotalProportion;
        PersonProportion = options.PersonProportion;
        AuctionProportion = options.AuctionProportion;
        Generators = generators;
        BaseTime = baseTime;
        FirstEventId = firstEventId;
        // As Nexmark: "unbounded" is scaled down so that size estimates cannot overflow.
        MaxEvents = maxEventsOrZero != 0 ? maxEventsOrZero
            : long.MaxValue / (options.TotalProportion * (long)Math.Max(Math.Max(options.AvgPersonByteSize, options.AvgAuctionByteSize), options.AvgBidByteSize));
        StopAtEvent = stopAtEvent;
        FirstEventNumber = firstEventNumber;
        // Only the first rate is used, as in Nexmark's generator (next-event.rate and the rate shape are read but unused there).
        InterEventDelayUs = 1_000_000.0 / options.FirstEventRate * generators;
    }

    public NexmarkOptions Options { get; }
    public int Generators { get; }
    public long BaseTime { get; }
    public long FirstEventId { get; }
    public long MaxEvents { get; }
    public long StopAtEvent { get; }
    public long FirstEventNumber { get; }
    public double InterEventDelayUs { get; }

    public int PersonProportion { get; }
    public int AuctionProportion { get; }
    public int TotalProportion { get; }

    /// <summary>The whole stream as Nexmark's table source configures it: ids and event numbers from 1, one generator per subtask.</summary>
    public static GeneratorConfig ForTable(NexmarkOptions options, int parallelism, long baseTime) =>
        new(options, parallelism, baseTime, firstEventId: 1, options.NumEvents, options.StopAt, firstEventNumber: 1);

    /// <summary>Nexmark's <c>split(n)</c>: <paramref name="n"/> generators on parallel timelines with disjoint event ids.</summary>
    public IReadOnlyList<GeneratorConfig> Split(int n)
    {
        if (n == 1) return [this];
        var result = new List<GeneratorConfig>(n);
        long subMax = MaxEvents / n, subFirst = FirstEventId, subValid = StopAtEvent / n;
        for (int i = 0; i < n; i++)
        {
            if (i == n - 1)
            {
                subMax = MaxEvents - subMax * (n - 1);
                subValid = StopAtEvent - subValid * (n - 1);
            }
            // The reader reconfigures each split with the job's stop: none (-1) stays none.
            result.Add(new GeneratorConfig(Options, Generators, BaseTime, subFirst, subMax, StopAtEvent < 0 ? -1 : subValid, FirstEventNumber));
            subFirst += subMax;
        }
        return result;
    }

    /// <summary>How many events this generator makes.</summary>
    public long EventCount => StopAtEvent < 0 ? MaxEvents : Math.Min(StopAtEvent, MaxEvents);

    public long NextEventNumber(long eventsSoFar) => FirstEventNumber + eventsSoFar;

    /// <summary>The event number shuffled inside its out-of-order group (groups of 1: unchanged).</summary>
    public long NextAdjustedEventNumber(long eventsSoFar)
    {
        long n = Options.OutOfOrderGroupSize;
        long number = NextEventNumber(eventsSoFar);
        // Groups of one (every table source: no option sets another size) keep the number; skips two divisions per event.
        return n == 1 ? number : number / n * n + number * 953 % n;
    }

    public long NextEventNumberForWatermark(long eventsSoFar)
    {
        long n = Options.OutOfOrderGroupSize;
        return NextEventNumber(eventsSoFar) / n * n;
    }

    /// <summary>Event time (epoch ms) of event number <paramref name="eventNumber"/>: truncated to µs, then to ms, as Nexmark.</summary>
    public long TimestampForEvent(long eventNumber) => BaseTime + (long)(eventNumber * InterEventDelayUs) / 1000L;
}
