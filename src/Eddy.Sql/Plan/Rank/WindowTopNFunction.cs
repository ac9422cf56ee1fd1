using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// Window Top-N over a window aggregation's result or a window TVF's rows (Flink's WindowRank): keyed by the window and the other partition
/// columns, keeps the top <c>end</c> rows (ties in arrival order) and emits ranks [start, end] once, as +I in rank
/// order, when the watermark passes the window's end; then the key's state is gone. Append-only output.
/// </summary>
public sealed class WindowTopNFunction<TIn, TKey, TOut>(
    Comparison<TIn> compare,
    long rankStart,
    long rankEnd,
    Func<TIn, long> windowEndMs,
    Func<TIn, long, TOut> output) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, List<TIn>>? state;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<List<TIn>>("window-top-n");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        // A row of a window already fired is late and dropped, as Flink's window rank (possible over a window TVF;
        // a window aggregation emits its rows before the watermark that fired them).
        if (windowEndMs(value) - 1 <= context.CurrentWatermark) return;
        var rows = state!.Value;
        if (rows is null)
        {
            state.Value = rows = new List<TIn>((int)Math.Min(rankEnd, 16));
            context.RegisterEventTimeTimer(windowEndMs(value) - 1);
        }
        if (rows.Count >= rankEnd && compare(value, rows[^1]) >= 0) return;
        int lo = 0, hi = rows.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (compare(rows[mid], value) <= 0) lo = mid + 1;
            else hi = mid;
        }
        rows.Insert(lo, value);
        if (rows.Count > rankEnd) rows.RemoveAt(rows.Count - 1);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        if (state!.Value is not { } rows) return;
        for (int i = (int)rankStart - 1; i < rows.Count; i++) collector.Collect(output(rows[i], i + 1), timestamp, RowKind.Insert);
        state.Clear();
    }
}
