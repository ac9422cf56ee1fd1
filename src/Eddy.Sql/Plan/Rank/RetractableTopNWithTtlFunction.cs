using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// One sort key of a <see cref="RetractableTopNWithTtlFunction{TIn, TKey, TOut}"/>: its entry in the sorted map (a
/// count) and its entry in the data state (its rows, in arrival order, with the time they were written), which Flink
/// keeps in two states that expire apart and can disagree after an expiry.
/// </summary>
public sealed class RetractableSortKey<TIn>
{
    /// <summary>A row with this sort key (what the comparison reads).</summary>
    public TIn Key { get; set; } = default!;

    /// <summary>Whether the sorted map holds this sort key, and its count there.</summary>
    public bool InSortedMap { get; set; }

    public long Count { get; set; }

    /// <summary>Whether the data state holds this sort key, its rows and when they were written.</summary>
    public bool HasRows { get; set; }

    public List<TIn> Rows { get; set; } = [];

    public long RowsWrittenAt { get; set; }
}

/// <summary>A key's state in a <see cref="RetractableTopNWithTtlFunction{TIn, TKey, TOut}"/>.</summary>
public sealed class RetractableTopNState<TIn>
{
    /// <summary>When the sorted map was written (every row of the key writes it).</summary>
    public long SortedMapWrittenAt { get; set; }

    /// <summary>The sort keys of the sorted map or the data state, in sort order.</summary>
    public List<RetractableSortKey<TIn>> SortKeys { get; set; } = [];
}

/// <summary>
/// Flink's RetractableTopNFunction with a state TTL (<c>table.exec.state.ttl</c>: update on create and write, never
/// returning an expired value, processing time). Flink keeps two states per key, both with the TTL:
/// <list type="bullet">
/// <item>the sorted map, sort key → count of rows, one value written by every row of the key, so it expires the TTL
/// after the key's last row, with everything else;</item>
/// <item>the data state, sort key → that key's rows, each entry written only when a row of its sort key is added or
/// retracted (a retraction rewrites the entry even when its row is not found), so an entry not touched for the TTL
/// expires while the sorted map still counts it.</item>
/// </list>
/// The ranking walks the sorted map and reads rows from the data state. Flink's handling of what expiry leaves
/// behind, reproduced here (Flink logs "The state is cleared because of state ttl" and goes on, its lenient mode):
/// <list type="bullet">
/// <item>A sort key after the changed row's whose rows expired is dropped from the sorted map and not counted; before
/// it, sort keys are counted from the sorted map without reading their rows, expired or not.</item>
/// <item>A retraction whose sort key's rows expired drops that sort key from the sorted map and emits nothing; a
/// retraction of a row the key does not hold (expired, or never there) emits nothing, but still takes one from its
/// sort key's count when the sorted map has it.</item>
/// <item>A row added to a sort key whose rows expired starts a new entry of rows while the count goes on from the old
/// one, so that sort key ranks as if its expired rows were still there. Without the row number, when the walk needs
/// such a sort key's row past its remaining rows Flink fails with an IndexOutOfBoundsException; so does this function,
/// with a message naming the TTL.</item>
/// </list>
/// Expired rows are never retracted downstream. The changelog is otherwise that of
/// <see cref="RetractableTopNFunction{TIn, TKey, TOut}"/>. A processing-time timer per key frees the memory of keys
/// whose sorted map has expired.
/// </summary>
public sealed class RetractableTopNWithTtlFunction<TIn, TKey, TOut>(
    Comparison<TIn> compare,
    Func<TIn, TIn, bool> sameRow,
    long rankStart,
    long rankEnd,
    bool withRowNumber,
    Func<TIn, long, TOut> output,
    long stateTtlMs) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, RetractableTopNState<TIn>>? state;
    private Collector<TOut>? collector;
    private long timestamp;
    private long now;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<RetractableTopNState<TIn>>("retractable-top-n-with-ttl");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        collector = output;
        timestamp = context.Timestamp;
        now = context.CurrentProcessingTime;
        var current = state!.Value;
        if (current is null)
        {
            state.Value = current = new RetractableTopNState<TIn>();
            context.RegisterProcessingTimeTimer(now + stateTtlMs);
        }
        // Every write of the data state comes with a write of the sorted map, so when the map has expired every
        // entry of rows has too.
        else if (current.SortedMapWrittenAt + stateTtlMs <= now) current.SortKeys.Clear();
        var sortKeys = current.SortKeys;
        var slot = SlotOf(sortKeys, value);
        if (context.RowKind.IsAccumulate())
        {
            if (slot.InSortedMap) slot.Count++;
            else
            {
                slot.InSortedMap = true;
                slot.Count = 1;
            }
            if (withRowNumber) EmitAddedWithRowNumber(sortKeys, slot, value);
            else EmitAddedWithoutRowNumber(sortKeys, slot, value);
            if (RowsOf(slot) is null)
            {
                slot.Rows.Clear();
                slot.HasRows = true;
            }
            slot.Rows.Add(value);
            slot.RowsWrittenAt = now;
        }
        else
        {
            bool removed = withRowNumber ? RetractWithRowNumber(sortKeys, slot, value) : RetractWithoutRowNumber(sortKeys, slot, value);
            if (slot.InSortedMap && --slot.Count == 0) slot.InSortedMap = false;
            if (!removed && RowsOf(slot) is { } rows)
            {
                int at = rows.FindIndex(r => sameRow(r, value));
                if (at >= 0) rows.RemoveAt(at);
                Written(slot);
            }
        }
        sortKeys.RemoveAll(s => !s.InSortedMap && RowsOf(s) is null);
        current.SortedMapWrittenAt = now;
    }

    /// <summary>The entry of <paramref name="value"/>'s sort key, added (in neither state yet) when missing.</summary>
    private RetractableSortKey<TIn> SlotOf(List<RetractableSortKey<TIn>> sortKeys, TIn value)
    {
        int lo = 0, hi = sortKeys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = compare(sortKeys[mid].Key, value);
            if (c == 0) return sortKeys[mid];
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        var slot = new RetractableSortKey<TIn> { Key = value };
        sortKeys.Insert(lo, slot);
        return slot;
    }

    /// <summary>The sort key's rows from the data state; null when it has none or they have expired.</summary>
    private List<TIn>? RowsOf(RetractableSortKey<TIn> slot)
    {
        if (!slot.HasRows) return null;
        if (slot.RowsWrittenAt + stateTtlMs > now) return slot.Rows;
        slot.HasRows = false;
        slot.Rows.Clear();
        return null;
    }

    /// <summary>The sort key's rows were written back (removed from the data state when none is left).</summary>
    private void Written(RetractableSortKey<TIn> slot)
    {
        if (slot.Rows.Count == 0) slot.HasRows = false;
        else slot.RowsWrittenAt = now;
    }

    private void EmitAddedWithRowNumber(List<RetractableSortKey<TIn>> sortKeys, RetractableSortKey<TIn> target, TIn added)
    {
        long rank = 0;
        var current = added;
        bool found = false;
        for (int s = 0; s < sortKeys.Count && rank <= rankEnd; s++)
        {
            var slot = sortKeys[s];
            if (!slot.InSortedMap) continue;
            if (!found && slot == target)
            {
                rank += slot.Count;
                found = true;
            }
            else if (found)
            {
                if (RowsOf(slot) is not { } rows)
                {
                    slot.InSortedMap = false;
                    continue;
                }
                for (int i = 0; i < rows.Count && rank <= rankEnd; i++)
                {
                    var previous = rows[i];
                    Emit(previous, rank, RowKind.UpdateBefore);
                    Emit(current, rank, RowKind.UpdateAfter);
                    current = previous;
                    rank++;
                }
            }
            else rank += slot.Count;
        }
        if (rank <= rankEnd) Emit(current, rank, RowKind.Insert);
    }

    private void EmitAddedWithoutRowNumber(List<RetractableSortKey<TIn>> sortKeys, RetractableSortKey<TIn> target, TIn added)
    {
        long rank = 0;
        bool found = false, insert = false, delete = false;
        TIn deleted = default!;
        for (int s = 0; s < sortKeys.Count && rank <= rankEnd; s++)
        {
            var slot = sortKeys[s];
            if (!slot.InSortedMap) continue;
            if (!found && slot == target)
            {
                rank += slot.Count;
                insert = rank >= rankStart && rank <= rankEnd;
                found = true;
            }
            else if (found)
            {
                if (RowsOf(slot) is not { } rows)
                {
                    slot.InSortedMap = false;
                    continue;
                }
                long last = rank + slot.Count;
                if (last <= rankEnd) rank = last;
                else
                {
                    deleted = RowAt(rows, rankEnd - rank, slot);
                    delete = true;
                    break;
                }
            }
            else rank += slot.Count;
        }
        if (delete) Emit(deleted, 0, RowKind.Delete);
        if (insert) Emit(added, 0, RowKind.Insert);
    }

    /// <summary>Retracts a row in the top N, emitting the changes; true when it was found (and removed from its rows).</summary>
    private bool RetractWithRowNumber(List<RetractableSortKey<TIn>> sortKeys, RetractableSortKey<TIn> target, TIn retracted)
    {
        long rank = 0;
        TIn previous = default!;
        bool found = false;
        for (int s = 0; s < sortKeys.Count && rank <= rankEnd; s++)
        {
            var slot = sortKeys[s];
            if (!slot.InSortedMap) continue;
            if (!found && slot == target)
            {
                if (RowsOf(slot) is not { } rows)
                {
                    slot.InSortedMap = false;
                    continue;
                }
                for (int i = 0; i < rows.Count && rank <= rankEnd;)
                {
                    var row = rows[i];
                    if (!found && sameRow(row, retracted))
                    {
                        previous = row;
                        found = true;
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
                Written(slot);
            }
            else if (found)
            {
                if (RowsOf(slot) is not { } rows)
                {
                    slot.InSortedMap = false;
                    continue;
                }
                for (int i = 0; i < rows.Count && rank <= rankEnd; i++)
                {
                    Emit(previous, rank, RowKind.UpdateBefore);
                    Emit(rows[i], rank, RowKind.UpdateAfter);
                    previous = rows[i];
                    rank++;
                }
            }
            else rank += slot.Count;
        }
        if (found && rank <= rankEnd) Emit(previous, rank, RowKind.Delete);
        return found;
    }

    private bool RetractWithoutRowNumber(List<RetractableSortKey<TIn>> sortKeys, RetractableSortKey<TIn> target, TIn retracted)
    {
        long next = 1;
        bool found = false;
        for (int s = 0; s < sortKeys.Count && next <= rankEnd; s++)
        {
            var slot = sortKeys[s];
            if (!slot.InSortedMap) continue;
            if (!found && slot == target)
            {
                if (RowsOf(slot) is not { } rows)
                {
                    slot.InSortedMap = false;
                    continue;
                }
                for (int i = 0; i < rows.Count && next <= rankEnd;)
                {
                    var row = rows[i];
                    if (!found && sameRow(row, retracted))
                    {
                        Emit(row, 0, RowKind.Delete);
                        next--;
                        found = true;
                        rows.RemoveAt(i);
                    }
                    else
                    {
                        if (found && next == rankEnd) Emit(row, 0, RowKind.Insert);
                        i++;
                    }
                    next++;
                }
                Written(slot);
            }
            else if (found)
            {
                long last = next + slot.Count - 1;
                if (last < rankEnd) next = last + 1;
                else if (RowsOf(slot) is not { } rows) slot.InSortedMap = false;
                else
                {
                    Emit(RowAt(rows, rankEnd - next, slot), 0, RowKind.Insert);
                    break;
                }
            }
            else next += slot.Count;
        }
        return found;
    }

    /// <summary>The row at <paramref name="index"/> of a sort key's rows, which an expiry can leave fewer than its count.</summary>
    private static TIn RowAt(List<TIn> rows, long index, RetractableSortKey<TIn> slot)
    {
        if (index < rows.Count) return rows[(int)index];
        throw new InvalidOperationException($"Top-N state expired by 'table.exec.state.ttl' left a sort key counted {slot.Count} times with "
            + $"{rows.Count} row(s), and the ranking needs its row {index + 1}; Flink's RetractableTopNFunction fails here too "
            + "(IndexOutOfBoundsException). Raise 'table.exec.state.ttl' above the time a key's rows stay unchanged.");
    }

    /// <summary>Emits a row with its rank when the rank is in [start, end] (Flink's collectInsert and kin).</summary>
    private void Emit(TIn row, long rank, RowKind kind)
    {
        if (withRowNumber && (rank < rankStart || rank > rankEnd)) return;
        collector!.Collect(output(row, rank), timestamp, kind);
    }

    public override void OnTimer(long time, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (state!.Value is not { } current) return;
        long expiresAt = current.SortedMapWrittenAt + stateTtlMs;
        if (expiresAt > context.CurrentProcessingTime)
        {
            context.RegisterProcessingTimeTimer(expiresAt);
            return;
        }
        state.Clear();
    }
}
