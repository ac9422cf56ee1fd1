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
    private ValueState<TKey, List<List<TIn>>>? state;
    private Collector<TOut>? collector;
    private long timestamp;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<List<List<TIn>>>("update-fast-top-n");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (!context.RowKind.IsAccumulate()) return;
        collector = output;
        timestamp = context.Timestamp;
        var groups = state!.Value;
        if (groups is null) state.Value = groups = [];
        if (withRowNumber) ProcessWithRowNumber(groups, value);
        else ProcessWithoutRowNumber(groups, value);
        if (groups.Count == 0) state.Clear();
    }

    private void ProcessWithRowNumber(List<List<TIn>> groups, TIn value)
    {
        if (Find(groups, value) is (int g, int i))
        {
            var old = groups[g][i];
            int c = compare(value, old);
            long oldRank = RankOf(groups, g, i);
            if (c == 0)
            {
                groups[g][i] = value;
                Emit(old, oldRank, RowKind.UpdateBefore);
                Emit(value, oldRank, RowKind.UpdateAfter);
                return;
            }
            Remove(groups, g, i);
            int target = Add(groups, value);
            if (c < 0) EmitWithRowNumber(groups, target, value, old, oldRank, hasOld: true);
            else EmitMovedDown(groups, value, RankOf(groups, target, groups[target].Count - 1), old, oldRank);
        }
        else if (InBufferRange(groups, value))
        {
            int target = Add(groups, value);
            EmitWithRowNumber(groups, target, value, default!, -1, hasOld: false);
        }
    }

    private void ProcessWithoutRowNumber(List<List<TIn>> groups, TIn value)
    {
        if (Find(groups, value) is (int g, int i))
        {
            var old = groups[g][i];
            if (compare(value, old) != 0)
            {
                Remove(groups, g, i);
                Add(groups, value);
            }
            else groups[g][i] = value;
            Emit(old, 0, RowKind.UpdateBefore);
            Emit(value, 0, RowKind.UpdateAfter);
        }
        else if (InBufferRange(groups, value))
        {
            Add(groups, value);
            if (Count(groups) > rankEnd)
            {
                var lastGroup = groups[^1];
                var retired = lastGroup[^1];
                Remove(groups, groups.Count - 1, lastGroup.Count - 1);
                Emit(retired, 0, RowKind.Delete);
            }
            Emit(value, 0, RowKind.Insert);
        }
    }

    /// <summary>
    /// Flink's emitRecordsWithRowNumber: walks the ranks from the top; from the row's new place each rank takes the row
    /// above it (down to N for a new row, down to the old rank for a moved one). When the walk passes N, the groups
    /// not reached leave the buffer.
    /// </summary>
    private void EmitWithRowNumber(List<List<TIn>> groups, int target, TIn input, TIn oldRow, long oldRank, bool hasOld)
    {
        long rank = 0;
        TIn current = default!;
        bool currentIsInput = false, found = false, oldRetracted = false;
        int g = 0;
        for (; g < groups.Count && rank <= rankEnd; g++)
        {
            var rows = groups[g];
            if (!found && g == target)
            {
                rank += rows.Count;
                current = input;
                currentIsInput = true;
                found = true;
            }
            else if (found)
            {
                if (hasOld && compare(rows[0], oldRow) > 0) break;
                for (int i = 0; i < rows.Count && (hasOld ? rank < oldRank : rank <= rankEnd); i++)
                {
                    var previous = rows[i];
                    Emit(previous, rank, RowKind.UpdateBefore);
                    if (hasOld && currentIsInput && !oldRetracted)
                    {
                        // The same unique key: its old version is retracted before it is emitted at its new rank.
                        Emit(oldRow, oldRank, RowKind.UpdateBefore);
                        oldRetracted = true;
                    }
                    Emit(current, rank, RowKind.UpdateAfter);
                    current = previous;
                    currentIsInput = false;
                    rank++;
                }
            }
            else rank += rows.Count;
        }
        if (rank <= rankEnd)
        {
            if (!hasOld) Emit(current, rank, RowKind.Insert);
            else
            {
                if (!oldRetracted) Emit(oldRow, oldRank, RowKind.UpdateBefore);
                Emit(current, rank, RowKind.UpdateAfter);
            }
            return;
        }
        if (g < groups.Count) groups.RemoveRange(g, groups.Count - g);
    }

    /// <summary>Flink's emitRecordsWithRowNumberIgnoreStateError, for a row whose new version sorts after its old one.</summary>
    private void EmitMovedDown(List<List<TIn>> groups, TIn newRow, long newRank, TIn oldRow, long oldRank)
    {
        Emit(oldRow, oldRank, RowKind.UpdateBefore);
        long rank = 0;
        foreach (var rows in groups)
        {
            foreach (var row in rows)
            {
                rank++;
                if (rank == newRank) goto done;
                if (oldRank <= rank)
                {
                    Emit(row, rank + 1, RowKind.UpdateBefore);
                    Emit(row, rank, RowKind.UpdateAfter);
                }
            }
        }
    done:
        Emit(newRow, newRank, RowKind.UpdateAfter);
    }

    /// <summary>Flink's checkSortKeyInBufferRange: before the worst sort key held, or the buffer has room.</summary>
    private bool InBufferRange(List<List<TIn>> groups, TIn value) =>
        groups.Count == 0 || compare(value, groups[^1][0]) < 0 || Count(groups) < rankEnd;

    private static long Count(List<List<TIn>> groups)
    {
        long count = 0;
        foreach (var rows in groups) count += rows.Count;
        return count;
    }

    private (int Group, int Index)? Find(List<List<TIn>> groups, TIn value)
    {
        for (int g = 0; g < groups.Count; g++)
        {
            var rows = groups[g];
            for (int i = 0; i < rows.Count; i++)
            {
                if (sameRowKey(rows[i], value)) return (g, i);
            }
        }
        return null;
    }

    private static long RankOf(List<List<TIn>> groups, int group, int index)
    {
        long rank = index + 1;
        for (int g = 0; g < group; g++) rank += groups[g].Count;
        return rank;
    }

    private static void Remove(List<List<TIn>> groups, int group, int index)
    {
        groups[group].RemoveAt(index);
        if (groups[group].Count == 0) groups.RemoveAt(group);
    }

    /// <summary>Adds a row at the end of its sort key's group; returns the group's index.</summary>
    private int Add(List<List<TIn>> groups, TIn value)
    {
        int lo = 0, hi = groups.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = compare(groups[mid][0], value);
            if (c == 0)
            {
                groups[mid].Add(value);
                return mid;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        groups.Insert(lo, [value]);
        return lo;
    }

    /// <summary>Emits a row with its rank when the rank is in [start, end] (Flink's collectInsert and kin).</summary>
    private void Emit(TIn row, long rank, RowKind kind)
    {
        if (withRowNumber && (rank < rankStart || rank > rankEnd)) return;
        collector!.Collect(output(row, rank), timestamp, kind);
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
