using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// Flink's AppendOnlyFirstNFunction, which Flink runs for a Top-N of an append-only input ordered by its processing
/// time ascending: a later row never sorts before an earlier one, so the first N rows of a key are its top N. The state
/// per key is a count of the rows emitted; each of the first N rows is emitted as +I (with its rank, the count, when
/// the rank is selected or the range starts after 1, and then only ranks inside [start, end]), the rest are dropped.
/// <para>With a state TTL (<see cref="StateRetention{TKey}"/>) the count is forgotten once it has not been written for
/// the TTL: it is written by each of the first N rows only, so a key that has its N rows starts again (rank 1) the TTL
/// after its N-th row, however many rows came since.</para>
/// </summary>
public sealed class AppendOnlyFirstNFunction<TIn, TKey, TOut>(
    long rankStart,
    long rankEnd,
    bool withRowNumber,
    Func<TIn, long, TOut> output,
    long stateTtlMs) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private readonly StateRetention<TKey> retention = new(stateTtlMs);
    private ValueState<TKey, long>? count;

    public override void Open(KeyedContext<TKey> context)
    {
        count = context.GetValueState<long>("first-n-count");
        retention.Open(context);
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        if (retention.Expired(context))
        {
            count!.Clear();
            retention.Cleared();
        }
        long rank = count!.HasValue ? count.Value : 0;
        if (rank >= rankEnd) return;
        rank++;
        count.Value = rank;
        retention.Written(context);
        if (!withRowNumber) collector.Collect(output(value, 0), context.Timestamp, RowKind.Insert);
        else if (rank >= rankStart) collector.Collect(output(value, rank), context.Timestamp, RowKind.Insert);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (retention.OnTimer(context)) count!.Clear();
    }
}
