using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>A top 1 row in keyed state with the processing time it was written.</summary>
public sealed class TopOneRow<TIn>
{
    public TIn Row { get; set; } = default!;

    public long WrittenAt { get; set; }
}

/// <summary>
/// Flink's FastTop1Function with a state TTL (<c>table.exec.state.ttl</c>). The top row of each key lives in a heap
/// cache whose entries expire the TTL after they were put (Guava's expireAfterWrite): a key's first row and each row
/// that sorts strictly before the top are put there. The keyed state, a value with state TTL (written at t, gone from
/// t + TTL on), is written only at checkpoints: every cached row is written to its key's state then. A row whose key
/// has no live cache entry compares against that state (and does not put it in the cache), so once the cache entry
/// expired the key ranks against the top row of the last checkpoint within the TTL, or starts again (+I) if there is
/// none. The changelog is that of <see cref="FastTop1Function{TIn, TKey, TOut}"/>.
/// <para>Flink also writes a row to the state when its cache evicts it for size (more keys than
/// <c>table.exec.rank.topn-cache-size</c> per subtask, per hash segment); Eddy's cache holds every key until its TTL.
/// A processing-time timer per key frees the memory of keys whose cache entry and state have both expired.</para>
/// </summary>
public sealed class FastTop1WithTtlFunction<TIn, TKey, TOut>(Comparison<TIn> compare, Func<TIn, long, TOut> output, long stateTtlMs)
    : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private readonly Dictionary<TKey, (TIn Row, long PutAt)> cache = [];
    private ValueState<TKey, TopOneRow<TIn>>? state;
    private ValueState<TKey, long>? cleanupAt;

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<TopOneRow<TIn>>("top-1-with-ttl");
        cleanupAt = context.GetValueState<long>("top-1-cleanup-at");
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        if (!context.RowKind.IsAccumulate()) return;
        long now = context.CurrentProcessingTime;
        long ts = context.Timestamp;
        var key = context.CurrentKey;
        TIn previous;
        if (cache.TryGetValue(key, out var cached) && now - cached.PutAt < stateTtlMs) previous = cached.Row;
        else if (state!.Value is { } stored && stored.WrittenAt + stateTtlMs > now) previous = stored.Row;
        else
        {
            Put(key, value, now, context);
            collector.Collect(output(value, 1), ts, RowKind.Insert);
            return;
        }
        if (compare(value, previous) >= 0) return;
        Put(key, value, now, context);
        collector.Collect(output(previous, 1), ts, RowKind.UpdateBefore);
        collector.Collect(output(value, 1), ts, RowKind.UpdateAfter);
    }

    private void Put(TKey key, TIn value, long now, KeyedContext<TKey> context)
    {
        cache[key] = (value, now);
        if (!cleanupAt!.HasValue)
        {
            cleanupAt.Value = now + stateTtlMs;
            context.RegisterProcessingTimeTimer(now + stateTtlMs);
        }
    }

    public override void OnCheckpoint(KeyedContext<TKey> context)
    {
        long now = context.CurrentProcessingTime;
        foreach (var (key, (row, putAt)) in cache)
        {
            if (now - putAt >= stateTtlMs) continue;
            context.ForKey(key, () => state!.Value = new TopOneRow<TIn> { Row = row, WrittenAt = now });
        }
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var key = context.CurrentKey;
        long now = context.CurrentProcessingTime;
        long until = long.MinValue;
        if (cache.TryGetValue(key, out var cached)) until = cached.PutAt + stateTtlMs;
        if (state!.Value is { } stored) until = Math.Max(until, stored.WrittenAt + stateTtlMs);
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
