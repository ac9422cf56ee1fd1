using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// Top-N per key over an updating input whose rows only move towards the top (Flink's UpdateFastStrategy, run by its
/// UpdatableTopNFunction): the input has a unique key (<paramref name="sameRowKey"/>, the GROUP BY keys below) holding
/// the partition key, and a row's new version never sorts after its old one (a descending COUNT or MAX, an ascending
/// MIN). Flink asks its input for no -U rows and the input has no deletions, so -U and -D rows are ignored, and each
/// +I/+U is the new version of the row with its key.
/// <para>The state per partition is a buffer of the top rows: groups of equal sort key in sort order, each in arrival
/// order (a row moved to a new sort key goes to the end of its group). A row pushed below rank N is dropped from it,
/// with the rest of the groups after the one that crossed N (a tie group at the boundary stays whole); a dropped row
/// that comes back is a new row.</para>
/// <list type="bullet">
/// <item>With the row number (or a range not starting at 1): a new row in the top N shifts every rank below it to N
/// (-U the old row of that rank, +U the new one, in rank order) and takes a free rank with +I; a row that moves up does
/// the same down to its old rank, retracting its old version (-U at the old rank) before its first +U; a row whose sort
/// key stays emits -U/+U at its rank. Only ranks inside [start, end] are emitted.</item>
/// <item>Without it: a row already in the buffer emits -U (old version) and +U (new), whatever its rank; a new row in the
/// top N emits -D for the row pushed out of the buffer (if it is full) and +I for itself.</item>
/// </list>
/// A row that moves down (the input broke its monotonicity, e.g. an upstream STATE_TTL forgot a group) takes Flink's
/// lenient path: -U at its old rank, -U/+U for each row that moves up one, +U at its new rank.
/// </summary>
public sealed class UpdateFastTopNFunction<TIn, TKey, TOut>(
    Comparison<TIn> compare,
    Func<TIn, TIn, bool> sameRowKey,
    long rankStart,
    long rankEnd,
    bool withRowNumber,
    Func<TIn, long, TOut> output) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    /// <summary>A row is its own entry: this function keeps nothing else per row.</summary>
    private readonly struct Entries : IUpdatableTopNEntries<TIn, TIn>
    {
        public TIn RowOf(TIn entry) => entry;

        public TIn Put(TIn row, int innerRank) => row;

        public TIn Renewed(TIn old, TIn row) => row;

        public void MovedFrom(List<List<TIn>> groups, TIn oldRow) { }

        public void Dropped(TIn row) { }
    }

    private readonly UpdatableTopNRanking<TIn, TOut, TIn, Entries> ranking = new(compare, sameRowKey, rankStart, rankEnd, withRowNumber, output, default);
    private ValueState<TKey, List<List<TIn>>>? state;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<List<List<TIn>>>("update-fast-top-n");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (!context.RowKind.IsAccumulate()) return;
        var groups = state!.Value;
        if (groups is null) state.Value = groups = [];
        ranking.Process(groups, value, output, context.Timestamp);
        if (groups.Count == 0) state.Clear();
    }
}

/// <summary>
/// Flink's FastTop1Function, which it runs for rank 1 under the UpdateFastStrategy: the state per partition is the top
/// row; a row that sorts strictly before it replaces it (-U the old, +U the new), any other row is dropped (also a new
/// version of the top row whose sort key did not change). The first row of a partition is +I. -U and -D input rows are
/// ignored, as for <see cref="UpdateFastTopNFunction{TIn, TKey, TOut}"/>.
/// </summary>
public sealed class FastTop1Function<TIn, TKey, TOut>(Comparison<TIn> compare, Func<TIn, long, TOut> output)
    : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, TIn>? state;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<TIn>("top-1");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        if (!context.RowKind.IsAccumulate()) return;
        long ts = context.Timestamp;
        if (!state!.HasValue)
        {
            state.Value = value;
            collector.Collect(output(value, 1), ts, RowKind.Insert);
            return;
        }
        var previous = state.Value!;
        if (compare(value, previous) >= 0) return;
        state.Value = value;
        collector.Collect(output(previous, 1), ts, RowKind.UpdateBefore);
        collector.Collect(output(value, 1), ts, RowKind.UpdateAfter);
    }
}
