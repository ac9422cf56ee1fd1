namespace Eddy.Windows;

/// <summary>
/// A window over event (or processing) time: <see cref="Start"/> inclusive, <see cref="End"/> exclusive, as Flink's
/// <c>TimeWindow</c>. It fires when time reaches <see cref="MaxTimestamp"/>, and its results carry that timestamp.
/// </summary>
public readonly record struct TimeWindow(long Start, long End)
{
    public long MaxTimestamp => End - 1;

    /// <summary>True when the windows overlap or touch (session windows merge then).</summary>
    public bool Intersects(TimeWindow other) => Start <= other.End && End >= other.Start;

    /// <summary>The smallest window that covers both.</summary>
    public TimeWindow Cover(TimeWindow other) => new(Math.Min(Start, other.Start), Math.Max(End, other.End));

    /// <summary>
    /// The start of the window of size <paramref name="windowSize"/> that contains <paramref name="timestamp"/>, on the
    /// grid shifted by <paramref name="offset"/>, as Flink's <c>TimeWindow.getWindowStartWithOffset</c> (negative
    /// timestamps included: the remainder is taken towards minus infinity).
    /// </summary>
    public static long GetWindowStartWithOffset(long timestamp, long offset, long windowSize)
    {
        long remainder = (timestamp - offset) % windowSize;
        return remainder < 0 ? timestamp - (remainder + windowSize) : timestamp - remainder;
    }

    public override string ToString() => $"[{EventTime.Describe(Start)}, {EventTime.Describe(End)})";
}

/// <summary>The one window of <see cref="GlobalWindows"/>: everything of a key, until a trigger fires and purges it.</summary>
public readonly record struct GlobalWindow
{
    public static GlobalWindow Instance => default;

    /// <summary>The window never ends, so its results carry the largest timestamp, as in Flink.</summary>
    public long MaxTimestamp => long.MaxValue;

    public override string ToString() => "GlobalWindow";
}
