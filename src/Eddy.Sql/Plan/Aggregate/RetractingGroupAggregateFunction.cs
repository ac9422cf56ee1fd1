using Eddy.Runtime;

namespace Eddy.Sql.Plan.Aggregate;

/// <summary>
/// Non-windowed GROUP BY over a changelog, as Flink's GroupAggFunction with retracting accumulators: +I/+U rows
/// accumulate, -U/-D rows retract. A key's first row emits +I, a change -U (old result) and +U (new result), nothing
/// when the result is unchanged; when every row of a key has been retracted (its row count is 0) the key emits -D
/// with its last result and its state is dropped. A retraction for a key without state is ignored, as in Flink.
/// Without aggregates (DISTINCT) a key emits +I when it appears and -D when it is gone. In batch mode only the final
/// result of each key still holding rows is emitted, at the end of input. With a state TTL
/// (<see cref="StateRetention{TKey}"/>) an expired key is absent: a retraction for it is ignored, an accumulation starts
/// it again (+I), and an unchanged result is emitted anyway (-U/+U), as Flink's GroupAggFunction.
/// </summary>
public sealed class RetractingGroupAggregateFunction<TIn, TKey, TAcc, TOut>(
    Func<TIn, TAcc, TAcc> accumulate,
    Func<TIn, TAcc, TAcc> retract,
    Func<TAcc, long> rowCount,
    Func<TKey, TAcc, TOut> result,
    bool emitsUpdates,
    bool finalOnly = false,
    long stateTtlMs = 0) : GroupAggregateFunctionBase<TIn, TKey, TAcc, TOut>(result, stateTtlMs) where TKey : notnull
{
    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var holder = Current(context);
        bool adds = context.RowKind.IsAccumulate();
        bool first = holder is null;
        if (first)
        {
            if (!adds) return;
            state!.Value = holder = new Holder();
            if (finalOnly) context.RegisterEventTimeTimer(EventTime.MaxWatermark);
        }
        if (finalOnly)
        {
            holder!.Accumulator = adds ? accumulate(value, holder.Accumulator) : retract(value, holder.Accumulator);
            if (rowCount(holder.Accumulator) == 0) state!.Clear();
            return;
        }
        var before = first ? default! : Result(context.CurrentKey, holder!.Accumulator);
        holder!.Accumulator = adds ? accumulate(value, holder.Accumulator) : retract(value, holder.Accumulator);
        if (rowCount(holder.Accumulator) == 0)
        {
            if (!first) output.Collect(before, context.Timestamp, RowKind.Delete);
            state!.Clear();
            retention.Cleared();
            return;
        }
        retention.Written(context);
        var after = Result(context.CurrentKey, holder.Accumulator);
        if (first)
        {
            output.Collect(after, context.Timestamp, RowKind.Insert);
            return;
        }
        if (!emitsUpdates || (!retention.Enabled && EqualityComparer<TOut>.Default.Equals(before, after))) return;
        output.Collect(before, context.Timestamp, RowKind.UpdateBefore);
        output.Collect(after, context.Timestamp, RowKind.UpdateAfter);
    }
}
