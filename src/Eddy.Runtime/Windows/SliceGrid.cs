namespace Eddy.Windows;

/// <summary>
/// The arithmetic of slice-based windows. Slices are the coarsest grid that every window boundary falls on: the
/// size for tumbling windows, gcd(size, slide) for sliding ones, the step for cumulating ones. A window with end
/// <c>e</c> is the union of the slices whose ends lie in (<see cref="WindowStart"/>(e), e]. Window ends lie on
/// their own grid of period <see cref="Step"/>.
/// </summary>
internal readonly struct SliceGrid
{
    private readonly SliceKind kind;
    private readonly long size;
    private readonly long offset;
    private readonly long endOffset;

    public SliceGrid(SlicingWindowAssigner assigner)
    {
        kind = assigner.Kind;
        size = assigner.Size;
        Step = assigner.Slide;
        offset = assigner.Offset;
        SliceSize = kind == SliceKind.Sliding ? Gcd(size, Step) : Step;
        // Sliding windows start on the slide grid, so they end on it shifted by the size.
        endOffset = kind == SliceKind.Sliding ? offset + size % Step : offset;
    }

    public long SliceSize { get; }

    /// <summary>Cumulating windows: each window of a group extends the previous one by one slice.</summary>
    public bool IsCumulative => kind == SliceKind.Cumulative;

    /// <summary>The window size (the largest window for cumulating windows).</summary>
    public long Size => size;

    /// <summary>The distance between consecutive window ends.</summary>
    public long Step { get; }

    public long SliceEndOf(long timestamp) => TimeWindow.GetWindowStartWithOffset(timestamp, offset, SliceSize) + SliceSize;

    /// <summary>The end of the earliest window that contains the slice ending at <paramref name="sliceEnd"/>.</summary>
    public long FirstWindowEnd(long sliceEnd) => EndFloor(sliceEnd - 1) + Step;

    /// <summary>The end of the latest window that contains the slice ending at <paramref name="sliceEnd"/>.</summary>
    public long LastWindowEnd(long sliceEnd) => kind switch
    {
        SliceKind.Tumbling => sliceEnd,
        SliceKind.Sliding => EndFloor(sliceEnd - SliceSize + size),
        _ => TimeWindow.GetWindowStartWithOffset(sliceEnd - 1, offset, size) + size,
    };

    public long WindowStart(long windowEnd) =>
        kind == SliceKind.Cumulative ? TimeWindow.GetWindowStartWithOffset(windowEnd - 1, offset, size) : windowEnd - size;

    /// <summary>The earliest window end whose window fires strictly after <paramref name="time"/>.</summary>
    public long FirstWindowEndFiringAfter(long time) => EndFloor(time + 1) + Step;

    private long EndFloor(long time) => TimeWindow.GetWindowStartWithOffset(time, endOffset, Step);

    private static long Gcd(long a, long b)
    {
        while (b != 0) (a, b) = (b, a % b);
        return a;
    }
}
