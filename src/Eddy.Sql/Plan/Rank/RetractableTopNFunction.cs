using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// Top-N per key over an updating input (+I/+U accumulate, -U/-D retract), with the changelog of Flink's
/// RetractableTopNFunction. The state per key is every row it holds, in groups of equal sort key ordered by the sort
/// key, each group in arrival order (a retraction removes the first equal row of its group): a row retracted from the
/// top N lets a row from below move up, so no row can be dropped.
/// <list type="bullet">
/// <item>With the row number (or a range not starting at 1): an accumulated row takes the rank after its peers, and
/// every rank from there to N changes its row (-U the old row, +U the new one, in rank order), +I for a rank that
/// had no row; a retracted row's rank and every rank below it to N take the next row up (-U/+U), and the last
/// rank that is left without a row emits -D.</item>
/// <item>Without it: an accumulated row in the top N emits -D for the row pushed to rank N + 1 (if any) and +I for
/// itself; a retracted row in the top N emits -D for itself and +I for the row that moves up to rank N (if any).</item>
/// </list>
/// Only ranks inside [start, end] are emitted. A retraction of a row the key does not hold is ignored.
/// </summary>
public sealed class RetractableTopNFunction<TIn, TKey, TOut>(
    Comparison<TIn> compare,
    Func<TIn, TIn, bool> sameRow,
    long rankStart,
    long rankEnd,
    bool withRowNumber,
    Func<TIn, long, TOut> output) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, List<List<TIn>>>? state;
    private Collector<TOut>? collector;
    private long timestamp;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<List<List<TIn>>>("retractable-top-n");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        collector = output;
        timestamp = context.Timestamp;
        var groups = state!.Value;
        if (groups is null) state.Value = groups = [];
        int target = FindGroup(groups, value, out bool exists);
        if (context.RowKind.IsAccumulate())
        {
            if (exists) groups[target].Add(value);
            else groups.Insert(target, [value]);
            if (withRowNumber) EmitAddedWithRowNumber(groups, target, value);
            else EmitAddedWithoutRowNumber(groups, target, value);
            return;
        }
        if (!exists) return;
        var group = groups[target];
        int removedAt = withRowNumber ? RetractWithRowNumber(groups, target, value) : RetractWithoutRowNumber(groups, target, value);
        if (removedAt < 0)
        {
            // Below rank N: nothing to emit, the row just leaves the state.
            removedAt = group.FindIndex(r => sameRow(r, value));
            if (removedAt < 0) return;
            group.RemoveAt(removedAt);
        }
        if (group.Count == 0) groups.RemoveAt(target);
        if (groups.Count == 0) state.Clear();
    }

    /// <summary>The index of the group of <paramref name="value"/>'s sort key, or where it would go.</summary>
    private int FindGroup(List<List<TIn>> groups, TIn value, out bool exists)
    {
        int lo = 0, hi = groups.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = compare(groups[mid][0], value);
            if (c == 0)
            {
                exists = true;
                return mid;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        exists = false;
        return lo;
    }

    private void EmitAddedWithRowNumber(List<List<TIn>> groups, int target, TIn added)
    {
        long rank = 0;
        var current = added;
        bool found = false;
        for (int g = 0; g < groups.Count && rank <= rankEnd; g++)
        {
            var rows = groups[g];
            if (g == target)
            {
                rank += rows.Count;
                found = true;
            }
            else if (found)
            {
                for (int i = 0; i < rows.Count && rank <= rankEnd; i++)
                {
                    var previous = rows[i];
                    Emit(previous, rank, RowKind.UpdateBefore);
                    Emit(current, rank, RowKind.UpdateAfter);
                    current = previous;
                    rank++;
                }
            }
            else rank += rows.Count;
        }
        if (rank <= rankEnd) Emit(current, rank, RowKind.Insert);
    }

    private void EmitAddedWithoutRowNumber(List<List<TIn>> groups, int target, TIn added)
    {
        long rank = 0;
        bool found = false, insert = false;
        bool delete = false;
        TIn deleted = default!;
        for (int g = 0; g < groups.Count && rank <= rankEnd; g++)
        {
            var rows = groups[g];
            if (g == target)
            {
                rank += rows.Count;
                insert = rank <= rankEnd && rank >= rankStart;
                found = true;
            }
            else if (found)
            {
                long last = rank + rows.Count;
                if (last <= rankEnd) rank = last;
                else
                {
                    deleted = rows[(int)(rankEnd - rank)];
                    delete = true;
                    break;
                }
            }
            else rank += rows.Count;
        }
        if (delete) Emit(deleted, 0, RowKind.Delete);
        if (insert) Emit(added, 0, RowKind.Insert);
    }

    /// <summary>Emits the changes of retracting a row in the top N and removes it; -1 when it was not found above rank N + 1.</summary>
    private int RetractWithRowNumber(List<List<TIn>> groups, int target, TIn retracted)
    {
        long rank = 0;
        TIn previous = default!;
        int removedAt = -1;
        bool found = false;
        for (int g = 0; g < groups.Count && rank <= rankEnd; g++)
        {
            var rows = groups[g];
            if (!found && g == target)
            {
                for (int i = 0; i < rows.Count && rank <= rankEnd;)
                {
                    var row = rows[i];
                    if (!found && sameRow(row, retracted))
                    {
                        previous = row;
                        found = true;
                        removedAt = i;
                        rows.RemoveAt(i);
                    }
                    else
                    {
                        if (found)
                        {
                            Emit(previous, rank, RowKind.UpdateBefore);
                            Emit(row, rank, RowKind.UpdateAfter);
                            previous = row;
                        }
                        i++;
                    }
                    rank++;
                }
            }
            else if (found)
            {
                for (int i = 0; i < rows.Count && rank <= rankEnd; i++)
                {
                    Emit(previous, rank, RowKind.UpdateBefore);
                    Emit(rows[i], rank, RowKind.UpdateAfter);
                    previous = rows[i];
                    rank++;
                }
            }
            else rank += rows.Count;
        }
        if (found && rank <= rankEnd) Emit(previous, rank, RowKind.Delete);
        return removedAt;
    }

    private int RetractWithoutRowNumber(List<List<TIn>> groups, int target, TIn retracted)
    {
        long next = 1;
        int removedAt = -1;
        bool found = false;
        for (int g = 0; g < groups.Count && next <= rankEnd; g++)
        {
            var rows = groups[g];
            if (!found && g == target)
            {
                for (int i = 0; i < rows.Count && next <= rankEnd;)
                {
                    var row = rows[i];
                    if (!found && sameRow(row, retracted))
                    {
                        Emit(row, next, RowKind.Delete);
                        next--;
                        found = true;
                        removedAt = i;
                        rows.RemoveAt(i);
                    }
                    else
                    {
                        if (found && next == rankEnd) Emit(row, next, RowKind.Insert);
                        i++;
                    }
                    next++;
                }
            }
            else if (found)
            {
                long last = next + rows.Count - 1;
                if (last < rankEnd) next = last + 1;
                else
                {
                    Emit(rows[(int)(rankEnd - next)], rankEnd, RowKind.Insert);
                    break;
                }
            }
            else next += rows.Count;
        }
        return removedAt;
    }

    /// <summary>Emits a row with its rank when the rank is in [start, end] (Flink's collectInsert and kin).</summary>
    private void Emit(TIn row, long rank, RowKind kind)
    {
        if (withRowNumber && (rank < rankStart || rank > rankEnd)) return;
        collector!.Collect(output(row, rank), timestamp, kind);
    }
}
