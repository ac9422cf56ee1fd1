namespace Eddy.Windows;

/// <summary>
/// Decides the windows of each element. Assigners are descriptions: the window operator picks its algorithm from
/// the kind of assigner (slices for tumbling, sliding and cumulating windows; merging for sessions; per-key counts for
/// global windows).
/// </summary>
public abstract class WindowAssigner<TWindow> where TWindow : struct
{
    private protected WindowAssigner() { }

    /// <summary>True for event-time assigners, false for processing-time ones.</summary>
    public abstract bool IsEventTime { get; }
}

/// <summary>The shape of slice-based windows (tumbling, sliding, cumulating).</summary>
internal enum SliceKind
{
    Tumbling,
    Sliding,
    Cumulative,
}

/// <summary>
/// Windows that are unions of fixed-size slices, so that each element updates exactly one slice and a window merges
/// its slices when it fires (Flink SQL's window slicing).
/// </summary>
public abstract class SlicingWindowAssigner : WindowAssigner<TimeWindow>
{
    private protected SlicingWindowAssigner(SliceKind kind, long size, long slide, long offset, bool eventTime)
    {
        if (size <= 0) throw new ArgumentOutOfRangeException(nameof(size), "a window needs a positive size");
        if (slide <= 0) throw new ArgumentOutOfRangeException(nameof(slide), "a window needs a positive slide or step");
        Kind = kind;
        Size = size;
        Slide = slide;
        Offset = offset;
        IsEventTime = eventTime;
    }

    internal SliceKind Kind { get; }

    /// <summary>Window size in ms (the largest window for cumulating windows).</summary>
    public long Size { get; }

    /// <summary>Distance between window ends in ms: the size, the slide, or the cumulation step.</summary>
    public long Slide { get; }

    public long Offset { get; }

    public override bool IsEventTime { get; }

    private protected static long Ms(TimeSpan span, string name) =>
        span > TimeSpan.Zero ? EventTime.Millis(span) : throw new ArgumentOutOfRangeException(name, "must be positive");

    private protected static long OffsetMs(TimeSpan offset, long period, string name) =>
        Math.Abs(EventTime.Millis(offset)) < period
            ? EventTime.Millis(offset)
            : throw new ArgumentOutOfRangeException(name, "the offset must be smaller than the slide or size");

    public override string ToString() => $"{GetType().Name}(size={Size}ms, slide={Slide}ms, offset={Offset}ms)";
}

/// <summary>Fixed-size, non-overlapping event-time windows: Flink's <c>TumblingEventTimeWindows</c>.</summary>
public sealed class TumblingEventTimeWindows : SlicingWindowAssigner
{
    private TumblingEventTimeWindows(long size, long offset) : base(SliceKind.Tumbling, size, size, offset, eventTime: true) { }

    public static TumblingEventTimeWindows Of(TimeSpan size) => Of(size, TimeSpan.Zero);

    /// <summary>Windows start at <paramref name="offset"/> + k × <paramref name="size"/> (e.g. −8 h for days in UTC+8).</summary>
    public static TumblingEventTimeWindows Of(TimeSpan size, TimeSpan offset)
    {
        long s = Ms(size, nameof(size));
        return new(s, OffsetMs(offset, s, nameof(offset)));
    }
}

/// <summary>Fixed-size windows every <c>slide</c> (hop windows): Flink's <c>SlidingEventTimeWindows</c>.</summary>
public sealed class SlidingEventTimeWindows : SlicingWindowAssigner
{
    private SlidingEventTimeWindows(long size, long slide, long offset) : base(SliceKind.Sliding, size, slide, offset, eventTime: true) { }

    public static SlidingEventTimeWindows Of(TimeSpan size, TimeSpan slide) => Of(size, slide, TimeSpan.Zero);

    public static SlidingEventTimeWindows Of(TimeSpan size, TimeSpan slide, TimeSpan offset)
    {
        long sl = Ms(slide, nameof(slide));
        return new(Ms(size, nameof(size)), sl, OffsetMs(offset, sl, nameof(offset)));
    }
}

/// <summary>
/// Flink SQL's CUMULATE: windows that all start at a multiple of <c>maxSize</c> and end every <c>step</c> up to
/// <c>maxSize</c>: [0, step), [0, 2 step), …, [0, maxSize), then [maxSize, maxSize + step), …
/// </summary>
public sealed class CumulativeEventTimeWindows : SlicingWindowAssigner
{
    private CumulativeEventTimeWindows(long maxSize, long step, long offset) : base(SliceKind.Cumulative, maxSize, step, offset, eventTime: true) { }

    public static CumulativeEventTimeWindows Of(TimeSpan maxSize, TimeSpan step) => Of(maxSize, step, TimeSpan.Zero);

    public static CumulativeEventTimeWindows Of(TimeSpan maxSize, TimeSpan step, TimeSpan offset)
    {
        long size = Ms(maxSize, nameof(maxSize));
        long st = Ms(step, nameof(step));
        if (size % st != 0) throw new ArgumentException("the max size must be a multiple of the step", nameof(step));
        return new(size, st, OffsetMs(offset, size, nameof(offset)));
    }
}

/// <summary>Tumbling windows over the task's processing time: Flink's <c>TumblingProcessingTimeWindows</c>.</summary>
public sealed class TumblingProcessingTimeWindows : SlicingWindowAssigner
{
    private TumblingProcessingTimeWindows(long size, long offset) : base(SliceKind.Tumbling, size, size, offset, eventTime: false) { }

    public static TumblingProcessingTimeWindows Of(TimeSpan size) => Of(size, TimeSpan.Zero);

    public static TumblingProcessingTimeWindows Of(TimeSpan size, TimeSpan offset)
    {
        long s = Ms(size, nameof(size));
        return new(s, OffsetMs(offset, s, nameof(offset)));
    }
}

/// <summary>Sliding windows over the task's processing time: Flink's <c>SlidingProcessingTimeWindows</c>.</summary>
public sealed class SlidingProcessingTimeWindows : SlicingWindowAssigner
{
    private SlidingProcessingTimeWindows(long size, long slide, long offset) : base(SliceKind.Sliding, size, slide, offset, eventTime: false) { }

    public static SlidingProcessingTimeWindows Of(TimeSpan size, TimeSpan slide) => Of(size, slide, TimeSpan.Zero);

    public static SlidingProcessingTimeWindows Of(TimeSpan size, TimeSpan slide, TimeSpan offset)
    {
        long sl = Ms(slide, nameof(slide));
        return new(Ms(size, nameof(size)), sl, OffsetMs(offset, sl, nameof(offset)));
    }
}

/// <summary>
/// Event-time session windows: an element opens [t, t + gap); windows of a key that overlap or touch merge.
/// </summary>
public abstract class SessionWindowAssigner : WindowAssigner<TimeWindow>
{
    private protected SessionWindowAssigner() { }

    public override bool IsEventTime => true;
}

/// <summary>Flink's <c>EventTimeSessionWindows</c>.</summary>
public sealed class EventTimeSessionWindows : SessionWindowAssigner
{
    private EventTimeSessionWindows(long gap) => Gap = gap;

    /// <summary>The gap in ms.</summary>
    public long Gap { get; }

    public static EventTimeSessionWindows WithGap(TimeSpan gap) =>
        gap > TimeSpan.Zero ? new(EventTime.Millis(gap)) : throw new ArgumentOutOfRangeException(nameof(gap), "must be positive");

    /// <summary>A gap computed from each element (Flink's <c>DynamicEventTimeSessionWindows</c>).</summary>
    public static DynamicEventTimeSessionWindows<T> WithDynamicGap<T>(Func<T, TimeSpan> gapOf) => new(gapOf);
}

/// <summary>Session windows whose gap each element decides; it must be positive.</summary>
public sealed class DynamicEventTimeSessionWindows<T> : SessionWindowAssigner
{
    internal DynamicEventTimeSessionWindows(Func<T, TimeSpan> gapOf) => GapOf = gapOf ?? throw new ArgumentNullException(nameof(gapOf));

    public Func<T, TimeSpan> GapOf { get; }
}

/// <summary>One window per key holding everything; only a trigger (such as <see cref="CountTrigger"/>) fires it.</summary>
public sealed class GlobalWindows : WindowAssigner<GlobalWindow>
{
    private GlobalWindows() { }

    public static GlobalWindows Create() => new();

    public override bool IsEventTime => false;
}
