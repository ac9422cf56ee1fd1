namespace Eddy;

public enum WatermarkKind
{
    /// <summary>No event-time progress is generated (only the final watermark of a bounded input).</summary>
    None,
    /// <summary>watermark = max timestamp seen − bound − 1 ms.</summary>
    BoundedOutOfOrderness,
}

/// <summary>
/// How a stream gets event time: where each record's timestamp comes from and how watermarks follow them.
/// Mirrors Flink's <c>WatermarkStrategy</c>: <c>ForBoundedOutOfOrderness</c>, <c>ForMonotonousTimestamps</c>,
/// <c>NoWatermarks</c>, with <c>WithTimestampAssigner</c> and <c>WithIdleness</c>.
/// </summary>
public sealed record WatermarkStrategy<T>
{
    public WatermarkKind Kind { get; init; }

    public long OutOfOrdernessMs { get; init; }

    /// <summary>Reads the event time (ms) of a record; null keeps the timestamp the source attached.</summary>
    public Func<T, long>? TimestampAssigner { get; init; }

    /// <summary>A split or input without data for this long is idle and does not hold the watermark back.</summary>
    public TimeSpan? IdleTimeout { get; init; }

    public static WatermarkStrategy<T> NoWatermarks() => new() { Kind = WatermarkKind.None };

    public static WatermarkStrategy<T> ForMonotonousTimestamps() => ForBoundedOutOfOrderness(TimeSpan.Zero);

    public static WatermarkStrategy<T> ForBoundedOutOfOrderness(TimeSpan maxOutOfOrderness)
    {
        if (maxOutOfOrderness < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(maxOutOfOrderness));
        return new() { Kind = WatermarkKind.BoundedOutOfOrderness, OutOfOrdernessMs = EventTime.Millis(maxOutOfOrderness) };
    }

    public WatermarkStrategy<T> WithTimestampAssigner(Func<T, long> assigner) => this with { TimestampAssigner = assigner };

    public WatermarkStrategy<T> WithTimestampAssigner(Func<T, DateTime> assigner) =>
        this with { TimestampAssigner = v => EventTime.FromDateTime(assigner(v)) };

    public WatermarkStrategy<T> WithTimestampAssigner(Func<T, DateTimeOffset> assigner) =>
        this with { TimestampAssigner = v => assigner(v).ToUnixTimeMilliseconds() };

    public WatermarkStrategy<T> WithIdleness(TimeSpan idleTimeout) => this with { IdleTimeout = idleTimeout };

    public Runtime.WatermarkGenerator CreateGenerator() => new(Kind, OutOfOrdernessMs);
}
