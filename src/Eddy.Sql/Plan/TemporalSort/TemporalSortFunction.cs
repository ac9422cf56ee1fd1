using Eddy.Runtime;

namespace Eddy.Sql.Plan.TemporalSort;

/// <summary>
/// Flink's <c>RowTimeSortOperator</c>: rows are kept per event time (one timer per time); when the watermark passes a
/// time its rows are emitted (+I), sorted by the secondary columns if any (a stable sort: ties keep their arrival
/// order), and the time becomes the last one fired. A row whose time is not after the last fired time is late and
/// dropped. All rows go to one key (Flink's singleton exchange), so the state is one key's: the rows by time and the
/// last fired time.
/// </summary>
public sealed class TemporalSortFunction<TIn>(Func<TIn, long> rowtimeMs, Comparison<TIn>? secondary) : KeyedProcessFunction<ValueTuple, TIn, TIn>
{
    private MapState<ValueTuple, long, List<TIn>>? rows;
    private ValueState<ValueTuple, long>? lastFired;

    public override void Open(KeyedContext<ValueTuple> context)
    {
        rows = context.GetMapState<long, List<TIn>>("rows-by-time");
        lastFired = context.GetValueState<long>("last-fired-time");
    }

    public override void ProcessElement(TIn value, KeyedContext<ValueTuple> context, Collector<TIn> output)
    {
        long time = rowtimeMs(value);
        if (lastFired!.HasValue && time <= lastFired.Value) return;
        if (rows!.TryGet(time, out var list))
        {
            list.Add(value);
            return;
        }
        rows.Put(time, [value]);
        context.RegisterEventTimeTimer(time);
    }

    public override void OnTimer(long timestamp, KeyedContext<ValueTuple> context, Collector<TIn> output)
    {
        if (!rows!.TryGet(timestamp, out var list)) return;
        IEnumerable<TIn> ordered = secondary is null ? list : list.Order(Comparer<TIn>.Create(secondary));
        foreach (var row in ordered) output.Collect(row, timestamp, RowKind.Insert);
        rows.Remove(timestamp);
        lastFired!.Value = timestamp;
    }
}
