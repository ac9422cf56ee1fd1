using Eddy.Runtime;
using Eddy.Sql.Connectors;

namespace Eddy.Sql.Plan.LookupJoin;

/// <summary>
/// Keys and their looked-up rows, bounded by count (least recently used out first) and by age since loading or since
/// the last read (Flink's partial cache). Times are epoch milliseconds from the job's clock. Not thread-safe: one per
/// subtask, used on its task thread.
/// </summary>
public sealed class LookupCache<TKey, TValue>(LookupCacheOptions options) where TKey : notnull
{
    private sealed class Entry(TKey key, TValue[] rows, long loadedAt)
    {
        public readonly TKey Key = key;
        public TValue[] Rows = rows;
        public long LoadedAt = loadedAt;
        public long ReadAt = loadedAt;
        public Entry? Newer, Older;
    }

    private readonly Dictionary<TKey, Entry> entries = [];
    private readonly long writeTtl = options.ExpireAfterWrite is { } w ? (long)w.TotalMilliseconds : long.MaxValue;
    private readonly long accessTtl = options.ExpireAfterAccess is { } a ? (long)a.TotalMilliseconds : long.MaxValue;
    private readonly long maxRows = options.MaxRows ?? long.MaxValue;
    private Entry? newest, oldest;

    public int Count => entries.Count;

    /// <summary>The cached rows of <paramref name="key"/> (maybe none: a cached missing key) unless absent or expired.</summary>
    public bool TryGet(TKey key, long now, out TValue[] rows)
    {
        if (entries.TryGetValue(key, out var e))
        {
            if (now - e.LoadedAt < writeTtl && now - e.ReadAt < accessTtl)
            {
                e.ReadAt = now;
                MoveToFront(e);
                rows = e.Rows;
                return true;
            }
            Remove(e);
        }
        rows = [];
        return false;
    }

    public void Put(TKey key, TValue[] rows, long now)
    {
        if (rows.Length == 0 && !options.CacheMissingKey) return;
        if (entries.TryGetValue(key, out var e))
        {
            e.Rows = rows;
            e.LoadedAt = e.ReadAt = now;
            MoveToFront(e);
            return;
        }
        e = new Entry(key, rows, now);
        entries.Add(key, e);
        Link(e);
        while (entries.Count > maxRows && oldest is not null) Remove(oldest);
    }

    private void Link(Entry e)
    {
        e.Older = newest;
        e.Newer = null;
        if (newest is not null) newest.Newer = e;
        newest = e;
        oldest ??= e;
    }

    private void Unlink(Entry e)
    {
        if (e.Newer is not null) e.Newer.Older = e.Older;
        else newest = e.Older;
        if (e.Older is not null) e.Older.Newer = e.Newer;
        else oldest = e.Newer;
        e.Newer = e.Older = null;
    }

    private void MoveToFront(Entry e)
    {
        if (newest == e) return;
        Unlink(e);
        Link(e);
    }

    private void Remove(Entry e)
    {
        Unlink(e);
        entries.Remove(e.Key);
    }
}

/// <summary>
/// The functions a lookup join is compiled into: the probe row's key, whether it holds a NULL, the key's values for
/// the fetcher (null: a NOT NULL key never holds one), the looked-up row from fetched values, the joined row (and the probe row padded with NULLs for a LEFT
/// join), and the rest of the ON condition over the joined row.
/// </summary>
public sealed record LookupJoinFunctions<TIn, TKey, TLookup, TOut>(
    Func<TIn, TKey> Key,
    Func<TKey, bool>? KeyHasNull,
    Func<TKey, object?[]> KeyValues,
    Func<object?[], TLookup> LookupRow,
    Func<TIn, TLookup, TOut> Join,
    Func<TIn, TOut>? PadLeft,
    Func<TOut, bool>? Condition)
{
    /// <summary>The key of a looked-up row, as the probe side computes it (for a FULL cache, which indexes the whole table).</summary>
    public Func<TLookup, TKey>? LookupKey { get; init; }

    /// <summary>Whether a looked-up row's key columns hold a NULL (such a row never matches); null when none can.</summary>
    public Func<TLookup, bool>? LookupKeyHasNull { get; init; }
}

/// <summary>
/// Joins each probe row with the rows of a lookup table whose key equals the row's key (Flink's lookup join on
/// processing time): per batch, keys found in the cache are answered from it and all other distinct keys are fetched
/// in one call to the connector; rows then go out in input order with their timestamps and kinds. With a FULL cache the
/// whole table is loaded at open and again once per reload interval, and every key is answered from it. The only state
/// is the cache, which is not checkpointed (as in Flink): a restored job starts with an empty one.
/// </summary>
public sealed class LookupJoinOperator<TIn, TKey, TLookup, TOut>(
    LookupJoinFunctions<TIn, TKey, TLookup, TOut> f, LookupSource source, LookupCounters? counters) : StreamOperator<TIn, TOut>
    where TKey : notnull
{
    private const int Hit = -1, NullKey = -2;

    private LookupFetcher? fetcher;
    private LookupCache<TKey, TLookup>? cache;
    private readonly Dictionary<TKey, int> missIndex = [];
    private readonly List<object?[]> missKeys = [];
    private readonly List<TKey> missKeyValues = [];
    private List<TLookup>[] fetched = [];
    private TLookup[][] cachedRows = new TLookup[Batch<TIn>.DefaultCapacity][];
    private int[] slot = new int[Batch<TIn>.DefaultCapacity];
    private Dictionary<TKey, TLookup[]>? full;
    private long nextReload;

    public override void Open()
    {
        fetcher = source.CreateFetcher();
        if (source.Cache.Full) LoadFull();
        else if (source.Cache.Enabled) cache = new LookupCache<TKey, TLookup>(source.Cache);
    }

    /// <summary>
    /// Flink's FULL cache: reads the whole table into a map by key (rows with a NULL key can never match and are
    /// left out) and schedules the next load one reload interval after this one ended (FIXED_DELAY).
    /// </summary>
    private void LoadFull()
    {
        var lookupKey = f.LookupKey ?? throw new InvalidOperationException($"operator '{Context.OperatorName}': a FULL cache needs the looked-up rows' key");
        var rows = new Dictionary<TKey, List<TLookup>>();
        long loaded = 0;
        fetcher!.LoadAll(values =>
        {
            var row = f.LookupRow(values);
            loaded++;
            if (f.LookupKeyHasNull is { } hasNull && hasNull(row)) return;
            var key = lookupKey(row);
            if (!rows.TryGetValue(key, out var list)) rows.Add(key, list = []);
            list.Add(row);
        });
        full = rows.ToDictionary(e => e.Key, e => e.Value.ToArray());
        counters?.Add(0, 0, loaded, 1);
        nextReload = Context.ProcessingTimers.Now + (long)source.Cache.ReloadInterval.TotalMilliseconds;
    }

    public override void OnBatch(Batch<TIn> batch)
    {
        int count = batch.Count;
        if (slot.Length < count)
        {
            slot = new int[count];
            cachedRows = new TLookup[count][];
        }
        long now = Context.ProcessingTimers.Now;
        var values = batch.Values;
        var keyHasNull = f.KeyHasNull;
        long hits = 0, misses = 0;
        if (full is not null && now >= nextReload) LoadFull();
        for (int i = 0; i < count; i++)
        {
            var key = f.Key(values[i]);
            if (keyHasNull is not null && keyHasNull(key))
            {
                slot[i] = NullKey;
                continue;
            }
            if (full is not null)
            {
                slot[i] = Hit;
                cachedRows[i] = full.TryGetValue(key, out var all) ? all : [];
                hits++;
                continue;
            }
            if (cache is not null && cache.TryGet(key, now, out var rows))
            {
                slot[i] = Hit;
                cachedRows[i] = rows;
                hits++;
                continue;
            }
            misses++;
            if (!missIndex.TryGetValue(key, out int m))
            {
                m = missKeys.Count;
                missIndex.Add(key, m);
                missKeys.Add(f.KeyValues(key));
                missKeyValues.Add(key);
            }
            slot[i] = m;
        }
        long loaded = 0;
        if (missKeys.Count > 0)
        {
            if (fetched.Length < missKeys.Count) Array.Resize(ref fetched, Math.Max(missKeys.Count, fetched.Length * 2));
            for (int m = 0; m < missKeys.Count; m++) (fetched[m] ??= []).Clear();
            fetcher!.Fetch(missKeys, (m, row) =>
            {
                fetched[m].Add(f.LookupRow(row));
                loaded++;
            });
            if (cache is not null)
                for (int m = 0; m < missKeys.Count; m++) cache.Put(missKeyValues[m], fetched[m].ToArray(), now);
        }
        counters?.Add(hits, misses, loaded, missKeys.Count > 0 ? 1 : 0);

        var output = Out;
        var timestamps = batch.Timestamps;
        for (int i = 0; i < count; i++)
        {
            var row = values[i];
            long ts = timestamps[i];
            var kind = batch.KindAt(i);
            bool any = false;
            int s = slot[i];
            if (s == Hit)
            {
                foreach (var looked in cachedRows[i]) any |= Emit(output, row, looked, ts, kind);
                cachedRows[i] = null!;
            }
            else if (s >= 0)
            {
                foreach (var looked in fetched[s]) any |= Emit(output, row, looked, ts, kind);
            }
            if (!any && f.PadLeft is not null) output.Collect(f.PadLeft(row), ts, kind);
        }
        missIndex.Clear();
        missKeys.Clear();
        missKeyValues.Clear();
        BatchPool<TIn>.Return(batch);
    }

    private bool Emit(Collector<TOut> output, TIn row, TLookup looked, long ts, RowKind kind)
    {
        var joined = f.Join(row, looked);
        if (f.Condition is not null && !f.Condition(joined)) return false;
        output.Collect(joined, ts, kind);
        return true;
    }

    public override void Close()
    {
        fetcher?.Dispose();
        fetcher = null;
    }
}
