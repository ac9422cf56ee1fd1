using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>A row of an <see cref="UpdatableTopNWithTtlFunction{TIn, TKey, TOut}"/>'s state: the row, its place among the rows of its sort key, and when it was written.</summary>
public sealed class UpdatableTopNStateRow<TIn>
{
    public TIn Row { get; set; } = default!;

    public int InnerRank { get; set; }

    public long WrittenAt { get; set; }
}

/// <summary>
/// Flink's UpdatableTopNFunction with a state TTL (<c>table.exec.state.ttl</c>), for N &gt; 1 under the
/// UpdateFastStrategy (rank 1 is <see cref="FastTop1WithTtlFunction{TIn, TKey, TOut}"/>). Flink keeps:
/// <list type="bullet">
/// <item>a heap buffer per key (sort keys → rows, and row key → row with its inner rank, its place among its sort
/// key's rows), in a cache whose entries expire the TTL after they were loaded (Guava's expireAfterWrite; changes do
/// not renew it). The ranking comes from it; <see cref="UpdateFastTopNFunction{TIn, TKey, TOut}"/> has the changelog.</item>
/// <item>the state, row key → (row, inner rank), each entry with state TTL. Rows are written to it only at checkpoints
/// (the rows changed since the last one, "dirty"), and removed from it as soon as they leave the buffer.</item>
/// </list>
/// A key not in the cache loads its buffer from the unexpired state entries, ordered by sort key and, within one, by
/// inner rank. So after a cache expiry a key ranks the rows of the last checkpoints that are younger than the TTL, and
/// a job without checkpoints starts every key again the TTL after it was loaded. An inner rank is a row's place when it
/// was put (or its sort key's rows renumbered after one moved away), not changed when an expired peer disappears, so
/// two loaded rows of one sort key can carry the same inner rank; Flink then keeps one of them in its buffer, chosen by
/// the order its state backend iterates the entries in, and this function stops the job with an error naming that
/// case rather than pick one.
/// <para>The cache is not checkpointed: after a restore every key loads its state. Flink also writes a key's dirty rows
/// to the state when its cache evicts the key for size (<c>table.exec.rank.topn-cache-size</c> / N keys per subtask);
/// Eddy's cache holds every key until its TTL. A processing-time timer per key frees the memory of keys whose cache
/// entry and state rows have all expired.</para>
/// </summary>
public sealed class UpdatableTopNWithTtlFunction<TIn, TKey, TOut>(
    Comparison<TIn> compare,
    Func<TIn, TIn, bool> sameRowKey,
    long rankStart,
    long rankEnd,
    bool withRowNumber,
    Func<TIn, long, TOut> output,
    long stateTtlMs) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private sealed class RankRow(TIn row, int innerRank, bool dirty)
    {
        public TIn Row = row;
        public int InnerRank = innerRank;
        public bool Dirty = dirty;
    }

    private sealed class Buffer(long loadedAt)
    {
        public readonly long LoadedAt = loadedAt;
        public readonly List<List<RankRow>> Groups = [];
    }

    private readonly Dictionary<TKey, Buffer> cache = [];
    private ValueState<TKey, List<UpdatableTopNStateRow<TIn>>>? state;
    private ValueState<TKey, long>? cleanupAt;
    private Collector<TOut>? collector;
    private long timestamp;

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<List<UpdatableTopNStateRow<TIn>>>("updatable-top-n-with-ttl");
        cleanupAt = context.GetValueState<long>("updatable-top-n-cleanup-at");
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        // Flink asks its input for no -U rows, and the input has no deletions.
        if (!context.RowKind.IsAccumulate()) return;
        collector = output;
        timestamp = context.Timestamp;
        long now = context.CurrentProcessingTime;
        var key = context.CurrentKey;
        if (!cache.TryGetValue(key, out var buffer) || now - buffer.LoadedAt >= stateTtlMs)
        {
            cache[key] = buffer = Load(now);
            if (!cleanupAt!.HasValue)
            {
                cleanupAt.Value = now + stateTtlMs;
                context.RegisterProcessingTimeTimer(now + stateTtlMs);
            }
        }
        if (withRowNumber) ProcessWithRowNumber(buffer.Groups, value);
        else ProcessWithoutRowNumber(buffer.Groups, value);
    }

    /// <summary>Flink's initHeapStates on a cache miss: the buffer from the unexpired state rows.</summary>
    private Buffer Load(long now)
    {
        var buffer = new Buffer(now);
        if (state!.Value is not { } rows) return buffer;
        rows.RemoveAll(r => r.WrittenAt + stateTtlMs <= now);
        var ordered = rows.ToList();
        ordered.Sort((a, b) =>
        {
            int c = compare(a.Row, b.Row);
            return c != 0 ? c : a.InnerRank.CompareTo(b.InnerRank);
        });
        for (int i = 0; i < ordered.Count; i++)
        {
            var row = ordered[i];
            if (i > 0 && compare(ordered[i - 1].Row, row.Row) == 0 && ordered[i - 1].InnerRank == row.InnerRank)
            {
                throw new InvalidOperationException($"Top-N state of a key holds two rows of one sort key with the same inner rank {row.InnerRank} "
                    + "after rows expired by 'table.exec.state.ttl': Flink's UpdatableTopNFunction keeps one of them, chosen by the order its state "
                    + "backend iterates its entries, which Eddy cannot reproduce. Raise 'table.exec.state.ttl' above the time a row can stay "
                    + "unchanged in the top N, or remove it.");
            }
            var groups = buffer.Groups;
            var rankRow = new RankRow(row.Row, row.InnerRank, dirty: false);
            if (groups.Count > 0 && compare(groups[^1][0].Row, row.Row) == 0) groups[^1].Add(rankRow);
            else groups.Add([rankRow]);
        }
        if (rows.Count == 0) state.Clear();
        return buffer;
    }

    private void ProcessWithRowNumber(List<List<RankRow>> groups, TIn value)
    {
        if (Find(groups, value) is (int g, int i))
        {
            var old = groups[g][i];
            int c = compare(value, old.Row);
            long oldRank = RankOf(groups, g, i);
            if (c == 0)
            {
                groups[g][i] = new RankRow(value, i + 1, dirty: true);
                Emit(old.Row, oldRank, RowKind.UpdateBefore);
                Emit(value, oldRank, RowKind.UpdateAfter);
                return;
            }
            Remove(groups, g, i);
            int target = Add(groups, value);
            RenumberInnerRanks(groups, old.Row);
            if (c < 0) EmitWithRowNumber(groups, target, value, old.Row, oldRank, hasOld: true);
            else EmitMovedDown(groups, value, RankOf(groups, target, groups[target].Count - 1), old.Row, oldRank);
        }
        else if (InBufferRange(groups, value))
        {
            int target = Add(groups, value);
            EmitWithRowNumber(groups, target, value, default!, -1, hasOld: false);
        }
    }

    private void ProcessWithoutRowNumber(List<List<RankRow>> groups, TIn value)
    {
        if (Find(groups, value) is (int g, int i))
        {
            var old = groups[g][i];
            if (compare(value, old.Row) != 0)
            {
                Remove(groups, g, i);
                Add(groups, value);
                RenumberInnerRanks(groups, old.Row);
            }
            else groups[g][i] = new RankRow(value, old.InnerRank, dirty: true);
            Emit(old.Row, 0, RowKind.UpdateBefore);
            Emit(value, 0, RowKind.UpdateAfter);
        }
        else if (InBufferRange(groups, value))
        {
            Add(groups, value);
            if (Count(groups) > rankEnd)
            {
                var lastGroup = groups[^1];
                var retired = lastGroup[^1].Row;
                Remove(groups, groups.Count - 1, lastGroup.Count - 1);
                RemoveFromState(retired);
                Emit(retired, 0, RowKind.Delete);
            }
            Emit(value, 0, RowKind.Insert);
        }
    }

    /// <summary>Flink's emitRecordsWithRowNumber (see <see cref="UpdateFastTopNFunction{TIn, TKey, TOut}"/>); sort keys past N leave the buffer and the state.</summary>
    private void EmitWithRowNumber(List<List<RankRow>> groups, int target, TIn input, TIn oldRow, long oldRank, bool hasOld)
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
                if (hasOld && compare(rows[0].Row, oldRow) > 0) break;
                for (int i = 0; i < rows.Count && (hasOld ? rank < oldRank : rank <= rankEnd); i++)
                {
                    var previous = rows[i].Row;
                    Emit(previous, rank, RowKind.UpdateBefore);
                    if (hasOld && currentIsInput && !oldRetracted)
                    {
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
        for (int r = g; r < groups.Count; r++)
        {
            foreach (var row in groups[r]) RemoveFromState(row.Row);
        }
        if (g < groups.Count) groups.RemoveRange(g, groups.Count - g);
    }

    /// <summary>Flink's emitRecordsWithRowNumberIgnoreStateError, for a row whose new version sorts after its old one.</summary>
    private void EmitMovedDown(List<List<RankRow>> groups, TIn newRow, long newRank, TIn oldRow, long oldRank)
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
                    Emit(row.Row, rank + 1, RowKind.UpdateBefore);
                    Emit(row.Row, rank, RowKind.UpdateAfter);
                }
            }
        }
    done:
        Emit(newRow, newRank, RowKind.UpdateAfter);
    }

    /// <summary>Flink's updateInnerRank: the rows left under a row's old sort key are numbered again, the changed ones dirty.</summary>
    private void RenumberInnerRanks(List<List<RankRow>> groups, TIn oldRow)
    {
        foreach (var rows in groups)
        {
            int c = compare(rows[0].Row, oldRow);
            if (c < 0) continue;
            if (c > 0) return;
            for (int i = 0; i < rows.Count; i++)
            {
                if (rows[i].InnerRank == i + 1) continue;
                rows[i].InnerRank = i + 1;
                rows[i].Dirty = true;
            }
            return;
        }
    }

    private void RemoveFromState(TIn row)
    {
        if (state!.Value is not { } rows) return;
        rows.RemoveAll(r => sameRowKey(r.Row, row));
        if (rows.Count == 0) state.Clear();
    }

    /// <summary>Flink's snapshotState: every cached key's dirty rows are written to its state.</summary>
    public override void OnCheckpoint(KeyedContext<TKey> context)
    {
        long now = context.CurrentProcessingTime;
        foreach (var (key, buffer) in cache)
        {
            if (now - buffer.LoadedAt >= stateTtlMs) continue;
            context.ForKey(key, () =>
            {
                var rows = state!.Value;
                foreach (var group in buffer.Groups)
                {
                    foreach (var row in group)
                    {
                        if (!row.Dirty) continue;
                        rows ??= [];
                        int at = rows.FindIndex(r => sameRowKey(r.Row, row.Row));
                        var written = new UpdatableTopNStateRow<TIn> { Row = row.Row, InnerRank = row.InnerRank, WrittenAt = now };
                        if (at >= 0) rows[at] = written;
                        else rows.Add(written);
                        row.Dirty = false;
                    }
                }
                if (rows is not null) state!.Value = rows;
            });
        }
    }

    public override void OnTimer(long time, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var key = context.CurrentKey;
        long now = context.CurrentProcessingTime;
        long until = long.MinValue;
        if (cache.TryGetValue(key, out var buffer)) until = buffer.LoadedAt + stateTtlMs;
        if (state!.Value is { } rows)
        {
            foreach (var row in rows) until = Math.Max(until, row.WrittenAt + stateTtlMs);
        }
        if (until > now)
        {
            cleanupAt!.Value = until;
            context.RegisterProcessingTimeTimer(until);
            return;
        }
        cache.Remove(key);
        state.Clear();
        cleanupAt!.Clear();
    }

    /// <summary>Flink's checkSortKeyInBufferRange: before the worst sort key held, or the buffer has room.</summary>
    private bool InBufferRange(List<List<RankRow>> groups, TIn value) =>
        groups.Count == 0 || compare(value, groups[^1][0].Row) < 0 || Count(groups) < rankEnd;

    private static long Count(List<List<RankRow>> groups)
    {
        long count = 0;
        foreach (var rows in groups) count += rows.Count;
        return count;
    }

    private (int Group, int Index)? Find(List<List<RankRow>> groups, TIn value)
    {
        for (int g = 0; g < groups.Count; g++)
        {
            var rows = groups[g];
            for (int i = 0; i < rows.Count; i++)
            {
                if (sameRowKey(rows[i].Row, value)) return (g, i);
            }
        }
        return null;
    }

    private static long RankOf(List<List<RankRow>> groups, int group, int index)
    {
        long rank = index + 1;
        for (int g = 0; g < group; g++) rank += groups[g].Count;
        return rank;
    }

    private static void Remove(List<List<RankRow>> groups, int group, int index)
    {
        groups[group].RemoveAt(index);
        if (groups[group].Count == 0) groups.RemoveAt(group);
    }

    /// <summary>Flink's TopNBuffer.put: a row at the end of its sort key's rows, inner rank their new count, dirty; returns the group's index.</summary>
    private int Add(List<List<RankRow>> groups, TIn value)
    {
        int lo = 0, hi = groups.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = compare(groups[mid][0].Row, value);
            if (c == 0)
            {
                groups[mid].Add(new RankRow(value, groups[mid].Count + 1, dirty: true));
                return mid;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        groups.Insert(lo, [new RankRow(value, 1, dirty: true)]);
        return lo;
    }

    /// <summary>Emits a row with its rank when the rank is in [start, end] (Flink's collectInsert and kin).</summary>
    private void Emit(TIn row, long rank, RowKind kind)
    {
        if (withRowNumber && (rank < rankStart || rank > rankEnd)) return;
        collector!.Collect(output(row, rank), timestamp, kind);
    }
}
