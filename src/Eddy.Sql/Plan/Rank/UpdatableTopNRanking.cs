using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// What a function running <see cref="UpdatableTopNRanking{TIn, TOut, TEntry, TEntries}"/> keeps per row of its buffer,
/// and what it does when rows come and go. A struct, so that the ranking's calls to it are direct and inlined.
/// </summary>
internal interface IUpdatableTopNEntries<TIn, TEntry>
{
    TIn RowOf(TEntry entry);

    /// <summary>The entry of a row put at <paramref name="innerRank"/> among its sort key's rows (Flink's RankRow, dirty).</summary>
    TEntry Put(TIn row, int innerRank);

    /// <summary>The entry of a new version of a row whose sort key did not change, without the row number: Flink keeps its old inner rank.</summary>
    TEntry Renewed(TEntry old, TIn row);

    /// <summary>A row moved from the sort key of <paramref name="oldRow"/> to another one.</summary>
    void MovedFrom(List<List<TEntry>> groups, TIn oldRow);

    /// <summary>A row left the buffer (pushed below rank N).</summary>
    void Dropped(TIn row);
}

/// <summary>
/// The ranking of Flink's UpdatableTopNFunction over one key's buffer, shared by
/// <see cref="UpdateFastTopNFunction{TIn, TKey, TOut}"/> (the changelog is described there) and
/// <see cref="UpdatableTopNWithTtlFunction{TIn, TKey, TOut}"/>, which differ in what they keep per row
/// (<typeparamref name="TEntries"/>). The buffer is groups of equal sort key in sort order, each in arrival order.
/// </summary>
internal sealed class UpdatableTopNRanking<TIn, TOut, TEntry, TEntries>(
    Comparison<TIn> compare,
    Func<TIn, TIn, bool> sameRowKey,
    long rankStart,
    long rankEnd,
    bool withRowNumber,
    Func<TIn, long, TOut> output,
    TEntries entries) where TEntries : struct, IUpdatableTopNEntries<TIn, TEntry>
{
    private TEntries entries = entries;
    private Collector<TOut>? collector;
    private long timestamp;

    /// <summary>Ranks the new version of a row (an accumulation; the caller ignores -U and -D) and emits the changes.</summary>
    public void Process(List<List<TEntry>> groups, TIn value, Collector<TOut> output, long timestamp)
    {
        collector = output;
        this.timestamp = timestamp;
        if (withRowNumber) ProcessWithRowNumber(groups, value);
        else ProcessWithoutRowNumber(groups, value);
    }

    private void ProcessWithRowNumber(List<List<TEntry>> groups, TIn value)
    {
        if (Find(groups, value) is (int g, int i))
        {
            var old = entries.RowOf(groups[g][i]);
            int c = compare(value, old);
            long oldRank = RankOf(groups, g, i);
            if (c == 0)
            {
                groups[g][i] = entries.Put(value, i + 1);
                Emit(old, oldRank, RowKind.UpdateBefore);
                Emit(value, oldRank, RowKind.UpdateAfter);
                return;
            }
            Remove(groups, g, i);
            int target = Add(groups, value);
            entries.MovedFrom(groups, old);
            if (c < 0) EmitWithRowNumber(groups, target, value, old, oldRank, hasOld: true);
            else EmitMovedDown(groups, value, RankOf(groups, target, groups[target].Count - 1), old, oldRank);
        }
        else if (InBufferRange(groups, value))
        {
            int target = Add(groups, value);
            EmitWithRowNumber(groups, target, value, default!, -1, hasOld: false);
        }
    }

    private void ProcessWithoutRowNumber(List<List<TEntry>> groups, TIn value)
    {
        if (Find(groups, value) is (int g, int i))
        {
            var oldEntry = groups[g][i];
            var old = entries.RowOf(oldEntry);
            if (compare(value, old) != 0)
            {
                Remove(groups, g, i);
                Add(groups, value);
                entries.MovedFrom(groups, old);
            }
            else groups[g][i] = entries.Renewed(oldEntry, value);
            Emit(old, 0, RowKind.UpdateBefore);
            Emit(value, 0, RowKind.UpdateAfter);
        }
        else if (InBufferRange(groups, value))
        {
            Add(groups, value);
            if (Count(groups) > rankEnd)
            {
                var lastGroup = groups[^1];
                var retired = entries.RowOf(lastGroup[^1]);
                Remove(groups, groups.Count - 1, lastGroup.Count - 1);
                entries.Dropped(retired);
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
    private void EmitWithRowNumber(List<List<TEntry>> groups, int target, TIn input, TIn oldRow, long oldRank, bool hasOld)
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
                if (hasOld && compare(entries.RowOf(rows[0]), oldRow) > 0) break;
                for (int i = 0; i < rows.Count && (hasOld ? rank < oldRank : rank <= rankEnd); i++)
                {
                    var previous = entries.RowOf(rows[i]);
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
        if (g < groups.Count)
        {
            for (int r = g; r < groups.Count; r++)
            {
                foreach (var entry in groups[r]) entries.Dropped(entries.RowOf(entry));
            }
            groups.RemoveRange(g, groups.Count - g);
        }
    }

    /// <summary>Flink's emitRecordsWithRowNumberIgnoreStateError, for a row whose new version sorts after its old one.</summary>
    private void EmitMovedDown(List<List<TEntry>> groups, TIn newRow, long newRank, TIn oldRow, long oldRank)
    {
        Emit(oldRow, oldRank, RowKind.UpdateBefore);
        long rank = 0;
        foreach (var rows in groups)
        {
            foreach (var entry in rows)
            {
                rank++;
                if (rank == newRank) goto done;
                if (oldRank <= rank)
                {
                    var row = entries.RowOf(entry);
                    Emit(row, rank + 1, RowKind.UpdateBefore);
                    Emit(row, rank, RowKind.UpdateAfter);
                }
            }
        }
    done:
        Emit(newRow, newRank, RowKind.UpdateAfter);
    }

    /// <summary>Flink's checkSortKeyInBufferRange: before the worst sort key held, or the buffer has room.</summary>
    private bool InBufferRange(List<List<TEntry>> groups, TIn value) =>
        groups.Count == 0 || compare(value, entries.RowOf(groups[^1][0])) < 0 || Count(groups) < rankEnd;

    private static long Count(List<List<TEntry>> groups)
    {
        long count = 0;
        foreach (var rows in groups) count += rows.Count;
        return count;
    }

    private (int Group, int Index)? Find(List<List<TEntry>> groups, TIn value)
    {
        for (int g = 0; g < groups.Count; g++)
        {
            var rows = groups[g];
            for (int i = 0; i < rows.Count; i++)
            {
                if (sameRowKey(entries.RowOf(rows[i]), value)) return (g, i);
            }
        }
        return null;
    }

    private static long RankOf(List<List<TEntry>> groups, int group, int index)
    {
        long rank = index + 1;
        for (int g = 0; g < group; g++) rank += groups[g].Count;
        return rank;
    }

    private static void Remove(List<List<TEntry>> groups, int group, int index)
    {
        groups[group].RemoveAt(index);
        if (groups[group].Count == 0) groups.RemoveAt(group);
    }

    /// <summary>Flink's TopNBuffer.put: a row at the end of its sort key's rows; returns the group's index.</summary>
    private int Add(List<List<TEntry>> groups, TIn value)
    {
        int lo = 0, hi = groups.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = compare(entries.RowOf(groups[mid][0]), value);
            if (c == 0)
            {
                groups[mid].Add(entries.Put(value, groups[mid].Count + 1));
                return mid;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        groups.Insert(lo, [entries.Put(value, 1)]);
        return lo;
    }

    /// <summary>Emits a row with its rank when the rank is in [start, end] (Flink's collectInsert and kin).</summary>
    private void Emit(TIn row, long rank, RowKind kind)
    {
        if (withRowNumber && (rank < rankStart || rank > rankEnd)) return;
        collector!.Collect(output(row, rank), timestamp, kind);
    }
}
