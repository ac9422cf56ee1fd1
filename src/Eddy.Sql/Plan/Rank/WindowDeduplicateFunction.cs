using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// Window deduplication over a window TVF's rows (Flink's WindowDeduplicate, RowTimeWindowDeduplicateProcessor): keyed
/// by the window and the other partition columns, keeps one row per key and window — the one with the smallest
/// rowtime (keep first: a row replaces the kept one only with a strictly smaller rowtime, so the earlier of equal ones
/// stays) or the greatest (keep last: with a greater or equal rowtime, so the later of equal ones wins) — and emits it
/// once, as +I, when the watermark passes the window's end; then the key's state is gone. Rows of a window already
/// fired are late and dropped. Append-only output.
/// </summary>
public sealed class WindowDeduplicateFunction<TIn, TKey>(
    bool keepLast,
    Comparison<TIn> rowtimeOrder,
    Func<TIn, long> windowEndMs) : KeyedProcessFunction<TKey, TIn, TIn> where TKey : notnull
{
    private ValueState<TKey, TIn>? state;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<TIn>("window-kept");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TIn> output)
    {
        long windowEnd = windowEndMs(value);
        if (windowEnd - 1 <= context.CurrentWatermark) return;
        if (!state!.HasValue)
        {
            state.Value = value;
            context.RegisterEventTimeTimer(windowEnd - 1);
            return;
        }
        int order = rowtimeOrder(value, state.Value!);
        if (keepLast ? order >= 0 : order < 0) state.Value = value;
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TIn> output)
    {
        if (!state!.HasValue) return;
        output.Collect(state.Value!, timestamp, RowKind.Insert);
        state.Clear();
    }
}
