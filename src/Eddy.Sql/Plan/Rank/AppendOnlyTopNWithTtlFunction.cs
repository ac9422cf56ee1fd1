using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>One sort key's rows in a Top-N's state, in arrival order, with the processing time they were last written.</summary>
public sealed class TopNSortKeyRows<TIn>
{
    public List<TIn> Rows { get; set; } = [];

    public long WrittenAt { get; set; }
}

/// <summary>
/// Flink's AppendOnlyTopNFunction with a state TTL (<c>table.exec.state.ttl</c>), which keeps two things per key:
/// <list type="bullet">
/// <item>its state, a map from sort key to that key's rows, each entry with state TTL (update on create and write,
/// never returning an expired entry): an entry written at t is gone from t + TTL on. An entry is written when a row of
/// its sort key enters the top N and, without the row number, when the row pushed out of the top N leaves a group
/// behind; sort keys pushed out of the top N are removed.</item>
/// <item>a heap buffer of that map, loaded from the state when the key is not in the buffer cache, kept there until the
/// TTL after loading (Guava's expireAfterWrite; writes to the buffer do not renew it), and changed together with the
/// state. Until it expires the key's ranking comes from the buffer, which still holds entries that expired in the
/// state; the next load drops them.</item>
/// </list>
/// The buffer is Flink's TopNBuffer: groups of equal sort key in sort order. A row enters when it sorts before the worst
/// sort key held or the buffer holds fewer than N rows. With the row number (or a range not starting at 1) the walk
/// down the ranks stops after rank N and the groups it did not reach leave the buffer and the state (a tie group at
/// rank N stays whole); without it the last row leaves when the buffer holds more than N. The changelog is that of
/// <see cref="AppendOnlyTopNFunction{TIn, TKey, TOut}"/>.
/// <para>The cache is this operator instance's and is not checkpointed: after a restore every key loads from its
/// restored state, as in Flink. Flink also evicts buffers from its cache when it holds more than
/// <c>table.exec.rank.topn-cache-size</c> / N keys (least recently used, per hash segment); Eddy's cache holds every
/// key until its TTL. A processing-time timer per key frees the memory of keys whose buffer and state have both
/// expired.</para>
/// </summary>
public sealed class AppendOnlyTopNWithTtlFunction<TIn, TKey, TOut>(
    Comparison<TIn> compare,
    long rankStart,
    long rankEnd,
    bool withRowNumber,
    Func<TIn, long, TOut> output,
    long stateTtlMs) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private readonly Dictionary<TKey, long> loadedAt = [];
    private ValueState<TKey, List<TopNSortKeyRows<TIn>>>? state;
    private Collector<TOut>? collector;
    private long timestamp;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<List<TopNSortKeyRows<TIn>>>("top-n-with-ttl");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        collector = output;
        timestamp = context.Timestamp;
        long now = context.CurrentProcessingTime;
        var key = context.CurrentKey;
        var groups = state!.Value;
        if (!loadedAt.TryGetValue(key, out long loaded) || now - loaded >= stateTtlMs)
        {
            // A cache miss: the buffer is what the state returns now.
            groups?.RemoveAll(g => g.WrittenAt + stateTtlMs <= now);
            loadedAt[key] = now;
        }
        if (groups is null)
        {
            state.Value = groups = [];
            context.RegisterProcessingTimeTimer(now + stateTtlMs);
        }
        if (!InBufferRange(groups, value)) return;
        int target = Put(groups, value);
        groups[target].WrittenAt = now;
        if (withRowNumber) ProcessWithRowNumber(groups, target, value);
        else ProcessWithoutRowNumber(groups, value, now);
    }

    /// <summary>Flink's TopNBuffer.checkSortKeyInBufferRange with N as the size.</summary>
    private bool InBufferRange(List<TopNSortKeyRows<TIn>> groups, TIn value) =>
        groups.Count == 0 || compare(value, groups[^1].Rows[0]) < 0 || Count(groups) < rankEnd;

    private static long Count(List<TopNSortKeyRows<TIn>> groups)
    {
        long count = 0;
        foreach (var g in groups) count += g.Rows.Count;
        return count;
    }

    /// <summary>Adds a row at the end of its sort key's group; returns the group's index.</summary>
    private int Put(List<TopNSortKeyRows<TIn>> groups, TIn value)
    {
        int lo = 0, hi = groups.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            int c = compare(groups[mid].Rows[0], value);
            if (c == 0)
            {
                groups[mid].Rows.Add(value);
                return mid;
            }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        groups.Insert(lo, new TopNSortKeyRows<TIn> { Rows = [value] });
        return lo;
    }

    private void ProcessWithRowNumber(List<TopNSortKeyRows<TIn>> groups, int target, TIn input)
    {
        long rank = 0;
        var current = input;
        int g = 0;
        for (; g < groups.Count && rank <= rankEnd; g++)
        {
            var rows = groups[g].Rows;
            if (g == target) rank += rows.Count;
            else if (g > target)
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
        // The sort keys the walk did not reach are out of the top N: out of the buffer and the state.
        if (g < groups.Count) groups.RemoveRange(g, groups.Count - g);
    }

    private void ProcessWithoutRowNumber(List<TopNSortKeyRows<TIn>> groups, TIn input, long now)
    {
        if (Count(groups) > rankEnd)
        {
            var last = groups[^1];
            var retired = last.Rows[^1];
            if (last.Rows.Count <= 1) groups.RemoveAt(groups.Count - 1);
            else
            {
                last.Rows.RemoveAt(last.Rows.Count - 1);
                last.WrittenAt = now;
            }
            collector!.Collect(output(retired, 0), timestamp, RowKind.Delete);
        }
        collector!.Collect(output(input, 0), timestamp, RowKind.Insert);
    }

    /// <summary>Emits a row with its rank when the rank is in [start, end] (Flink's collectInsert and kin).</summary>
    private void Emit(TIn row, long rank, RowKind kind)
    {
        if (rank < rankStart || rank > rankEnd) return;
        collector!.Collect(output(row, rank), timestamp, kind);
    }

    public override void OnTimer(long time, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (state!.Value is not { } groups) return;
        long now = context.CurrentProcessingTime;
        long until = loadedAt.TryGetValue(context.CurrentKey, out long loaded) ? loaded + stateTtlMs : long.MinValue;
        foreach (var g in groups) until = Math.Max(until, g.WrittenAt + stateTtlMs);
        if (until > now)
        {
            context.RegisterProcessingTimeTimer(until);
            return;
        }
        state.Clear();
        loadedAt.Remove(context.CurrentKey);
    }
}
