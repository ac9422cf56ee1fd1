using Eddy.Runtime;
using Eddy.Runtime.Distributed;
using Eddy.Sql.Plan.Aggregate;

namespace Eddy.Sql.Plan.WindowTableFunction;

/// <summary>
/// Assigns each row its windows (Flink's <c>WindowTableFunctionOperator</c> for TUMBLE, HOP and CUMULATE): one output
/// row per window, built by <c>build(row, windowStart, windowEnd)</c> and stamped with <c>window_end - 1</c>, the new
/// rowtime. The row's time is its event timestamp; a row without one (a NULL rowtime) is dropped, as Flink drops it.
/// No state and no late-row handling: as in Flink, lateness is judged by the operator that consumes the windows.
/// Relays source positions (under <c>eddy worker</c>, to a repartition writer after it), numbering the windows of
/// each row (their ordinals), so that a replay is dropped window record by window record.
/// </summary>
public sealed class WindowTableFunctionOperator<TIn, TOut>(WindowSpecification window, Func<TIn, long, long, TOut> build) : StreamOperator<TIn, TOut>
{
    private readonly long size = window.Size;
    private readonly long slide = window.Slide;
    private readonly long offset = window.Offset;
    private readonly WindowKind kind = window.Kind;

    // With source positions (a repartition writer downstream, under eddy worker): the batch being filled, and each of
    // its records' source position and ordinal (its number among the windows of its input record).
    private Batch<TOut>? positioned;
    private long[] positions = [];
    private long[] ordinals = [];
    private long[]? inPositions;
    private long[]? inOrdinals;

    /// <summary>The most windows one row belongs to: an input record's ordinals, when it has some, are scaled by it.</summary>
    private long WindowsPerRow => kind switch
    {
        WindowKind.Tumble => 1,
        WindowKind.Hop => (size + slide - 1) / slide,
        _ => size / slide,
    };

    public override void OnBatch(Batch<TIn> batch)
    {
        inPositions = SourcePositions.Of(batch);
        inOrdinals = SourcePositions.OrdinalsOf(batch);
        // Rows collected without positions go first (a source gives positions to all its batches or none).
        if (inPositions is not null) Out.Flush();
        var values = batch.Values;
        var times = batch.Timestamps;
        for (int i = 0; i < batch.Count; i++)
        {
            long ts = times[i];
            if (ts == EventTime.None) continue;
            var kindOfRow = batch.KindAt(i);
            long ordinal = inOrdinals is null ? 0 : checked(inOrdinals[i] * WindowsPerRow);
            switch (kind)
            {
                case WindowKind.Tumble:
                {
                    long start = StartOf(ts, size);
                    Emit(build(values[i], start, start + size), start + size - 1, kindOfRow, i, ordinal);
                    break;
                }
                case WindowKind.Hop:
                {
                    for (long start = StartOf(ts, slide); start > ts - size; start -= slide)
                        Emit(build(values[i], start, start + size), start + size - 1, kindOfRow, i, ordinal++);
                    break;
                }
                default:
                {
                    // CUMULATE: the windows [start, start + k * step) of ts's max-size window that already contain ts.
                    long start = StartOf(ts, size);
                    for (long end = StartOf(ts, slide) + slide; end <= start + size; end += slide)
                        Emit(build(values[i], start, end), end - 1, kindOfRow, i, ordinal++);
                    break;
                }
            }
        }
        // The positions are published for this call only: what was made of this batch goes down now.
        if (positioned is not null) PushPositioned();
        inPositions = null;
        inOrdinals = null;
        BatchPool<TIn>.Return(batch);
    }

    private void Emit(TOut value, long timestamp, RowKind kindOfRow, int input, long ordinal)
    {
        if (inPositions is null)
        {
            Out.Collect(value, timestamp, kindOfRow);
            return;
        }
        var b = positioned ??= BatchPool<TOut>.Rent();
        if (positions.Length < b.Capacity)
        {
            positions = new long[b.Capacity];
            ordinals = new long[b.Capacity];
        }
        positions[b.Count] = inPositions[input];
        ordinals[b.Count] = ordinal;
        b.Add(value, timestamp, kindOfRow);
        if (b.IsFull) PushPositioned();
    }

    /// <summary>
    /// Hands the positioned batch down with its records' source positions and ordinals: a HOP or CUMULATE row makes
    /// several records of one source offset, which a repartition reader tells apart (and drops in a replay) by ordinal.
    /// </summary>
    private void PushPositioned()
    {
        var b = positioned!;
        positioned = null;
        var previous = SourcePositions.Relay(b, positions, ordinals);
        try
        {
            Output.OnBatch(b);
        }
        finally
        {
            SourcePositions.Restore(previous);
        }
    }

    /// <summary>The start of the window of <paramref name="length"/> (aligned to the offset) that holds <paramref name="ts"/>.</summary>
    private long StartOf(long ts, long length)
    {
        long remainder = (ts - offset) % length;
        if (remainder < 0) remainder += length;
        return ts - remainder;
    }
}
