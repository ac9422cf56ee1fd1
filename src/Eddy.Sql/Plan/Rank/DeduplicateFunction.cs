using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// Deduplication per key, with the changelog of Flink's ProcTimeDeduplicateKeepFirstRowFunction,
/// ProcTimeDeduplicateKeepLastRowFunction and RowTimeDeduplicateFunction (DeduplicateFunctionHelper): keep-first on
/// processing time emits the first row (+I) and drops the rest; the others emit +I for a key's first row and then,
/// whenever a row replaces the kept one, -U (the kept row) and +U (the new one). On event time a row replaces the kept
/// one when its rowtime is smaller (keep first) or greater or equal (keep last); on processing time (keep last)
/// always, unless it equals the kept row in every column but the processing time (Flink's record equaliser, without
/// state TTL): then nothing is emitted. The state per key is the kept row.
/// <para>With a state TTL (<see cref="StateRetention{TKey}"/>) the kept row is forgotten once it has not been written
/// for the TTL, and the next row of the key is a first row again (+I). It is written when a row replaces it, and on
/// processing time keeping the last row by every row: then a row equal to the kept one is emitted too (-U/+U), as
/// Flink does with state TTL so that downstream state is not expired too early.</para>
/// </summary>
public sealed class DeduplicateFunction<TIn, TKey>(RankStrategy strategy, Comparison<TIn> rowtimeOrder, Func<TIn, TIn, bool> sameRow, long stateTtlMs = 0)
    : KeyedProcessFunction<TKey, TIn, TIn>
    where TKey : notnull
{
    private readonly StateRetention<TKey> retention = new(stateTtlMs);
    private ValueState<TKey, TIn>? state;

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<TIn>("kept");
        retention.Open(context);
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TIn> output)
    {
        long ts = context.Timestamp;
        if (retention.Expired(context))
        {
            state!.Clear();
            retention.Cleared();
        }
        if (!state!.HasValue)
        {
            state.Value = value;
            retention.Written(context);
            output.Collect(value, ts, RowKind.Insert);
            return;
        }
        var kept = state.Value!;
        bool replaces = strategy switch
        {
            RankStrategy.KeepFirstProctime => false,
            RankStrategy.KeepLastProctime => retention.Enabled || !sameRow(kept, value),
            RankStrategy.KeepFirstRowtime => rowtimeOrder(value, kept) < 0,
            _ => rowtimeOrder(value, kept) >= 0,
        };
        if (!replaces) return;
        state.Value = value;
        retention.Written(context);
        output.Collect(kept, ts, RowKind.UpdateBefore);
        output.Collect(value, ts, RowKind.UpdateAfter);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TIn> output)
    {
        if (retention.OnTimer(context)) state!.Clear();
    }
}
