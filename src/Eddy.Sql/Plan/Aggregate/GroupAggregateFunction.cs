using Eddy.Runtime;
using Eddy.Windows;

namespace Eddy.Sql.Plan.Aggregate;

/// <summary>
/// Non-windowed GROUP BY: one accumulator per key in keyed state; every input row updates it and emits the change:
/// +I for a new key, then -U (old result) and +U (new result), as Flink's GroupAggFunction. Without aggregates
/// (DISTINCT) a key is emitted once. In batch mode only the final result of each key is emitted, at the end of input.
/// With a state TTL (<see cref="StateRetention{TKey}"/>) a key whose accumulator has expired starts again (+I), and an
/// unchanged result is emitted anyway (-U/+U), as Flink's GroupAggFunction does so that downstream state is not
/// expired too early.
/// </summary>
public sealed class GroupAggregateFunction<TIn, TKey, TAcc, TOut>(
    IAggregateFunction<TIn, TAcc, TAcc> aggregate,
    Func<TKey, TAcc, TOut> result,
    bool emitsUpdates,
    bool finalOnly = false,
    long stateTtlMs = 0) : GroupAggregateFunctionBase<TIn, TKey, TAcc, TOut>(result, stateTtlMs) where TKey : notnull
{
    public override void Open(KeyedContext<TKey> context)
    {
        base.Open(context);
        // The operator instance's own user aggregate functions (Flink opens them with the operator).
        if (aggregate is IFunctionLifecycle functions) functions.Open(context.Operator);
    }

    public override void Close()
    {
        if (aggregate is IFunctionLifecycle functions) functions.Close();
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var holder = Current(context);
        if (finalOnly)
        {
            if (holder is null)
            {
                state!.Value = holder = new Holder { Accumulator = aggregate.CreateAccumulator() };
                // The final watermark of a bounded input (+∞) fires this timer once every row is in.
                context.RegisterEventTimeTimer(EventTime.MaxWatermark);
            }
            holder.Accumulator = aggregate.Add(value, holder.Accumulator);
            return;
        }
        if (holder is null)
        {
            holder = new Holder { Accumulator = aggregate.Add(value, aggregate.CreateAccumulator()) };
            state!.Value = holder;
            retention.Written(context);
            output.Collect(Result(context.CurrentKey, holder.Accumulator), context.Timestamp, RowKind.Insert);
            return;
        }
        if (!emitsUpdates) return;
        var before = Result(context.CurrentKey, holder.Accumulator);
        holder.Accumulator = aggregate.Add(value, holder.Accumulator);
        retention.Written(context);
        var after = Result(context.CurrentKey, holder.Accumulator);
        if (!retention.Enabled && EqualityComparer<TOut>.Default.Equals(before, after)) return;
        output.Collect(before, context.Timestamp, RowKind.UpdateBefore);
        output.Collect(after, context.Timestamp, RowKind.UpdateAfter);
    }
}
