using Eddy.Runtime;
using Eddy.Sql.Plan.Aggregate;

namespace Eddy.Sql.Plan.WindowTableFunction;

/// <summary>
/// Assigns each row its windows (Flink's <c>WindowTableFunctionOperator</c> for TUMBLE, HOP and CUMULATE): one output
/// row per window, built by <c>build(row, windowStart, windowEnd)</c> and stamped with <c>window_end - 1</c>, the new
/// rowtime. The row's time is its event timestamp; a row without one (a NULL rowtime) is dropped, as Flink drops it.
/// No state and no late-row handling: as in Flink, lateness is judged by the operator that consumes the windows.
/// </summary>
public sealed class WindowTableFunctionOperator<TIn, TOut>(WindowSpecification window, Func<TIn, long, long, TOut> build) : StreamOperator<TIn, TOut>
{
    private readonly long size = window.Size;
    private readonly long slide = window.Slide;
    private readonly long offset = window.Offset;
    private readonly WindowKind kind = window.Kind;

    public override void OnBatch(Batch<TIn> batch)
    {
        var output = Out;
        var values = batch.Values;
        var times = batch.Timestamps;
        for (int i = 0; i < batch.Count; i++)
        {
            long ts = times[i];
            if (ts == EventTime.None) continue;
            var kindOfRow = batch.KindAt(i);
            switch (kind)
            {
                case WindowKind.Tumble:
                {
                    long start = StartOf(ts, size);
                    output.Collect(build(values[i], start, start + size), start + size - 1, kindOfRow);
                    break;
                }
                case WindowKind.Hop:
                {
                    for (long start = StartOf(ts, slide); start > ts - size; start -= slide)
                        output.Collect(build(values[i], start, start + size), start + size - 1, kindOfRow);
                    break;
                }
                default:
                {
                    // CUMULATE: the windows [start, start + k * step) of ts's max-size window that already contain ts.
                    long start = StartOf(ts, size);
                    for (long end = StartOf(ts, slide) + slide; end <= start + size; end += slide)
                        output.Collect(build(values[i], start, end), end - 1, kindOfRow);
                    break;
                }
            }
        }
        BatchPool<TIn>.Return(batch);
    }

    /// <summary>The start of the window of <paramref name="length"/> (aligned to the offset) that holds <paramref name="ts"/>.</summary>
    private long StartOf(long ts, long length)
    {
        long remainder = (ts - offset) % length;
        if (remainder < 0) remainder += length;
        return ts - remainder;
    }
}
