using Eddy.Runtime;

namespace Eddy.Sql.Plan.Aggregate;

/// <summary>
/// What the non-windowed GROUP BY functions share (<see cref="GroupAggregateFunction{TIn, TKey, TAcc, TOut}"/> and
/// <see cref="RetractingGroupAggregateFunction{TIn, TKey, TAcc, TOut}"/>): an accumulator per key in keyed state, its
/// state TTL, and in batch mode each key's final result emitted at the end of input. How rows change an accumulator
/// and what that emits is each function's own.
/// </summary>
public abstract class GroupAggregateFunctionBase<TIn, TKey, TAcc, TOut>(Func<TKey, TAcc, TOut> result, long stateTtlMs)
    : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private protected readonly StateRetention<TKey> retention = new(stateTtlMs);
    private protected ValueState<TKey, Holder>? state;

    private protected sealed class Holder
    {
        public TAcc Accumulator = default!;
    }

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<Holder>("acc");
        retention.Open(context);
    }

    /// <summary>The current key's accumulator, or null when it has none (its state is cleared first when the TTL expired it).</summary>
    private protected Holder? Current(KeyedContext<TKey> context)
    {
        if (retention.Expired(context))
        {
            state!.Clear();
            retention.Cleared();
        }
        return state!.Value;
    }

    private protected TOut Result(TKey key, TAcc accumulator) => result(key, accumulator);

    public sealed override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (context.TimeDomain == TimeDomain.ProcessingTime)
        {
            if (retention.OnTimer(context)) state!.Clear();
            return;
        }
        if (state!.Value is { } holder) output.Collect(result(context.CurrentKey, holder.Accumulator), EventTime.None, RowKind.Insert);
    }
}
