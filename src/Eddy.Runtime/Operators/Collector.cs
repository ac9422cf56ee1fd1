using System.Runtime.CompilerServices;

namespace Eddy.Runtime;

/// <summary>
/// Where user functions put records one at a time. It fills a pooled batch and hands it downstream when full
/// or when flushed, so that one-record calls never cross a task boundary one by one.
/// </summary>
public sealed class Collector<T>
{
    private readonly IBatchInput<T> target;
    private Batch<T>? current;

    public Collector(IBatchInput<T> target) => this.target = target;

    /// <summary>The timestamp given to records collected without one: the element or timer being processed.</summary>
    public long CurrentTimestamp { get; set; } = EventTime.None;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Collect(T value) => Collect(value, CurrentTimestamp);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Collect(T value, long timestamp)
    {
        var b = current ??= BatchPool<T>.Rent();
        b.Add(value, timestamp);
        if (b.IsFull) Push();
    }

    public void Collect(T value, long timestamp, RowKind kind)
    {
        var b = current ??= BatchPool<T>.Rent();
        b.Add(value, timestamp, kind);
        if (b.IsFull) Push();
    }

    public void Flush()
    {
        if (current is { Count: > 0 }) Push();
    }

    private void Push()
    {
        var b = current!;
        current = null;
        target.OnBatch(b);
    }
}
