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

    /// <summary>
    /// A row's entry carries its inner rank and whether it changed since the last checkpoint; a row that leaves the
    /// buffer leaves the state too.
    /// </summary>
    private readonly struct Entries(UpdatableTopNWithTtlFunction<TIn, TKey, TOut> function) : IUpdatableTopNEntries<TIn, RankRow>
    {
        public TIn RowOf(RankRow entry) => entry.Row;

        public RankRow Put(TIn row, int innerRank) => new(row, innerRank, dirty: true);

        public RankRow Renewed(RankRow old, TIn row) => new(row, old.InnerRank, dirty: true);

        public void MovedFrom(List<List<RankRow>> groups, TIn oldRow) => function.RenumberInnerRanks(groups, oldRow);

        public void Dropped(TIn row) => function.RemoveFromState(row);
    }

    private readonly Dictionary<TKey, Buffer> cache = [];
    private UpdatableTopNRanking<TIn, TOut, RankRow, Entries>? ranking;
    private ValueState<TKey, List<UpdatableTopNStateRow<TIn>>>? state;
    private ValueState<TKey, long>? cleanupAt;

    public override void Open(KeyedContext<TKey> context)
    {
        ranking = new(compare, sameRowKey, rankStart, rankEnd, withRowNumber, output, new Entries(this));
        state = context.GetValueState<List<UpdatableTopNStateRow<TIn>>>("updatable-top-n-with-ttl");
        cleanupAt = context.GetValueState<long>("updatable-top-n-cleanup-at");
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        // Flink asks its input for no -U rows, and the input has no deletions.
        if (!context.RowKind.IsAccumulate()) return;
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
        ranking!.Process(buffer.Groups, value, output, context.Timestamp);
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
}
