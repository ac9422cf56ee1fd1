using System.Globalization;
using Eddy.Runtime;
using Eddy.Sql.Catalog;

namespace Eddy.Sql.Connectors;

/// <summary>
/// A connector whose tables can be the right side of a lookup join (<c>JOIN t FOR SYSTEM_TIME AS OF o.proc_time ON
/// o.k = t.k</c>): for each probe row the planner asks it for the rows of the table whose key columns equal the row's
/// key values, as Flink's <c>LookupTableSource</c>.
/// </summary>
public interface ILookupTableConnector : ITableConnector
{
    /// <summary>
    /// Opens the lookup side of <paramref name="table"/>: checks the options and the external table, and returns what
    /// fetches rows of <paramref name="columns"/> (the table's physical columns, in order) by the values of
    /// <paramref name="keyColumns"/> (indexes into <paramref name="columns"/>).
    /// </summary>
    LookupSource CreateLookup(TableDef table, Schema columns, IReadOnlyList<int> keyColumns, ConnectorContext context);

    /// <summary>
    /// Whether the table can also be scanned (filesystem: read whole as a lookup table, scanned as a source). A table
    /// that can only be looked up is refused in a regular join with a hint to write it as a lookup join.
    /// </summary>
    bool IsScannable => false;
}

/// <summary>The lookup side of one table in one job: the cache settings and a fetcher per subtask.</summary>
public abstract class LookupSource
{
    /// <summary>What EXPLAIN shows (never a password).</summary>
    public abstract string Describe { get; }

    public required LookupCacheOptions Cache { get; init; }

    /// <summary>A fetcher for one subtask (its own connection); disposed when the subtask ends.</summary>
    public abstract LookupFetcher CreateFetcher();

    /// <summary>Whether the fetchers can read the whole table (<see cref="LookupFetcher.LoadAll"/>), which Flink's FULL cache needs.</summary>
    public virtual bool CanLoadAll => false;
}

/// <summary>Fetches the rows of many keys at once: one round trip for all the cache misses of a batch.</summary>
public abstract class LookupFetcher : IDisposable
{
    /// <summary>
    /// Calls <paramref name="found"/> with (key index, row values) for every row of the table whose key columns equal
    /// <c>keys[key index]</c>; keys without rows get no call. No key holds a NULL (NULL never equals anything).
    /// </summary>
    public abstract void Fetch(IReadOnlyList<object?[]> keys, Action<int, object?[]> found);

    /// <summary>Calls <paramref name="row"/> with the values of every row of the table (for a FULL cache).</summary>
    public virtual void LoadAll(Action<object?[]> row) => throw new NotSupportedException("this lookup table cannot be read whole");

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>Whether and how looked-up rows are kept (Flink's <c>lookup.cache</c> and its legacy JDBC options).</summary>
/// <param name="MaxRows">the most keys kept (each with its rows); the least recently used goes first. Null: no bound.</param>
/// <param name="ExpireAfterWrite">an entry is fetched again this long after it was loaded.</param>
/// <param name="ExpireAfterAccess">an entry is dropped when not read for this long.</param>
/// <param name="CacheMissingKey">whether a key without rows is remembered as such.</param>
public sealed record LookupCacheOptions(bool Enabled, long? MaxRows, TimeSpan? ExpireAfterWrite, TimeSpan? ExpireAfterAccess, bool CacheMissingKey)
{
    public static readonly LookupCacheOptions None = new(false, null, null, null, false);

    /// <summary>
    /// Flink's FULL cache: the whole table is loaded when the join starts and again every <see cref="ReloadInterval"/>
    /// (PERIODIC reload, FIXED_DELAY), and every key is answered from it.
    /// </summary>
    public bool Full { get; init; }

    /// <summary>The FULL cache's reload interval (<c>lookup.full-cache.periodic-reload.interval</c>).</summary>
    public TimeSpan ReloadInterval { get; init; }

    public static LookupCacheOptions FullCache(TimeSpan reloadInterval) => new(true, null, null, null, true) { Full = true, ReloadInterval = reloadInterval };

    private const string FullPrefix = "lookup.full-cache.";

    /// <summary>The options this class reads; a connector adds them to the ones it knows.</summary>
    public static readonly string[] OptionNames =
    [
        "lookup.cache", "lookup.partial-cache.max-rows", "lookup.partial-cache.expire-after-write", "lookup.partial-cache.expire-after-access",
        "lookup.partial-cache.cache-missing-key", "lookup.cache.max-rows", "lookup.cache.ttl", "lookup.cache.caching-missing-key",
        "lookup.full-cache.reload-strategy", "lookup.full-cache.periodic-reload.interval", "lookup.full-cache.periodic-reload.schedule-mode",
        "lookup.full-cache.timed-reload.iso-time", "lookup.full-cache.timed-reload.interval-in-days", "lookup.async",
    ];

    /// <summary>
    /// Reads the cache options of <paramref name="table"/>: <c>lookup.cache</c> = <c>NONE</c> (default) or
    /// <c>PARTIAL</c> with <c>lookup.partial-cache.*</c> (Flink 1.16+), or the legacy JDBC pair
    /// <c>lookup.cache.max-rows</c> + <c>lookup.cache.ttl</c> (both needed, as in Flink).
    /// </summary>
    public static LookupCacheOptions Parse(TableDef table)
    {
        var o = table.Options;
        bool legacy = o.ContainsKey("lookup.cache.max-rows") || o.ContainsKey("lookup.cache.ttl");
        string mode = o.TryGetValue("lookup.cache", out var m) ? m.ToUpperInvariant() : legacy ? "LEGACY" : "NONE";
        if (mode is not ("NONE" or "PARTIAL" or "FULL" or "LEGACY"))
            throw new ConnectorOptionException(table.Name, "lookup.cache", $"expected NONE, PARTIAL or FULL, got '{m}'");
        if (o.TryGetValue("lookup.async", out var async) && !async.Equals("false", StringComparison.OrdinalIgnoreCase))
            throw new ConnectorOptionException(table.Name, "lookup.async",
                "is not supported by Eddy: lookups are synchronous (all cache misses of an input batch in one fetch); remove the option or set it to 'false'");
        foreach (var key in o.Keys)
        {
            if (mode != "FULL" && key.StartsWith(FullPrefix, StringComparison.Ordinal))
                throw new ConnectorOptionException(table.Name, key, "needs 'lookup.cache' = 'FULL'");
        }
        if (mode == "FULL") return ParseFull(table);
        if (legacy && mode != "LEGACY")
            throw new ConnectorOptionException(table.Name, o.ContainsKey("lookup.cache.max-rows") ? "lookup.cache.max-rows" : "lookup.cache.ttl",
                "is a legacy option; with 'lookup.cache' use 'lookup.partial-cache.max-rows' and 'lookup.partial-cache.expire-after-write'");
        foreach (var key in o.Keys)
        {
            if (mode != "PARTIAL" && key.StartsWith("lookup.partial-cache.", StringComparison.Ordinal))
                throw new ConnectorOptionException(table.Name, key, "needs 'lookup.cache' = 'PARTIAL'");
        }
        switch (mode)
        {
            case "LEGACY":
            {
                if (!o.ContainsKey("lookup.cache.max-rows") || !o.ContainsKey("lookup.cache.ttl"))
                    throw new ConnectorOptionException(table.Name, o.ContainsKey("lookup.cache.max-rows") ? "lookup.cache.ttl" : "lookup.cache.max-rows",
                        "required with the other legacy option: the cache is on when both 'lookup.cache.max-rows' and 'lookup.cache.ttl' are set");
                long rows = Count(table, "lookup.cache.max-rows");
                var ttl = Duration(table, "lookup.cache.ttl");
                bool missing = Bool(table, "lookup.cache.caching-missing-key", true);
                return new LookupCacheOptions(true, rows, ttl, null, missing);
            }
            case "PARTIAL":
            {
                long? rows = o.ContainsKey("lookup.partial-cache.max-rows") ? Count(table, "lookup.partial-cache.max-rows") : null;
                TimeSpan? write = o.ContainsKey("lookup.partial-cache.expire-after-write") ? Duration(table, "lookup.partial-cache.expire-after-write") : null;
                TimeSpan? access = o.ContainsKey("lookup.partial-cache.expire-after-access") ? Duration(table, "lookup.partial-cache.expire-after-access") : null;
                if (rows is null && write is null && access is null)
                    throw new ConnectorOptionException(table.Name, "lookup.cache",
                        "PARTIAL needs at least one of 'lookup.partial-cache.max-rows', 'lookup.partial-cache.expire-after-write', 'lookup.partial-cache.expire-after-access'");
                return new LookupCacheOptions(true, rows, write, access, Bool(table, "lookup.partial-cache.cache-missing-key", true));
            }
            default:
                if (o.ContainsKey("lookup.cache.caching-missing-key"))
                    throw new ConnectorOptionException(table.Name, "lookup.cache.caching-missing-key", "needs the cache: set 'lookup.cache.max-rows' and 'lookup.cache.ttl'");
                return None;
        }
    }

    /// <summary>
    /// <c>'lookup.cache' = 'FULL'</c>: the PERIODIC reload strategy (Flink's default) with its required interval and
    /// FIXED_DELAY schedule (the default). TIMED reloads and FIXED_RATE are refused by name.
    /// </summary>
    private static LookupCacheOptions ParseFull(TableDef table)
    {
        var o = table.Options;
        foreach (var key in o.Keys)
        {
            if (key.StartsWith("lookup.partial-cache.", StringComparison.Ordinal))
                throw new ConnectorOptionException(table.Name, key, "needs 'lookup.cache' = 'PARTIAL', not FULL");
            if (key.StartsWith("lookup.full-cache.timed-reload.", StringComparison.Ordinal))
                throw new ConnectorOptionException(table.Name, key, "TIMED reloads of the FULL cache are not supported by Eddy: use the PERIODIC strategy");
        }
        if (o.TryGetValue("lookup.full-cache.reload-strategy", out var strategy) && !strategy.Equals("PERIODIC", StringComparison.OrdinalIgnoreCase))
            throw new ConnectorOptionException(table.Name, "lookup.full-cache.reload-strategy",
                $"expected PERIODIC, got '{strategy}' (TIMED reloads are not supported by Eddy)");
        if (o.TryGetValue("lookup.full-cache.periodic-reload.schedule-mode", out var schedule) && !schedule.Equals("FIXED_DELAY", StringComparison.OrdinalIgnoreCase))
            throw new ConnectorOptionException(table.Name, "lookup.full-cache.periodic-reload.schedule-mode",
                $"expected FIXED_DELAY, got '{schedule}' (FIXED_RATE is not supported by Eddy)");
        if (!o.ContainsKey("lookup.full-cache.periodic-reload.interval"))
            throw new ConnectorOptionException(table.Name, "lookup.full-cache.periodic-reload.interval", "required with 'lookup.cache' = 'FULL' (the PERIODIC reload's interval, e.g. '1 h')");
        var interval = Duration(table, "lookup.full-cache.periodic-reload.interval");
        if (interval <= TimeSpan.Zero)
            throw new ConnectorOptionException(table.Name, "lookup.full-cache.periodic-reload.interval", "must be positive");
        return FullCache(interval);
    }

    private static long Count(TableDef table, string option)
    {
        var text = table.Options[option];
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long n) && n > 0
            ? n
            : throw new ConnectorOptionException(table.Name, option, $"expected a positive whole number, got '{text}'");
    }

    private static TimeSpan Duration(TableDef table, string option)
    {
        try
        {
            return SqlSession.ParseDuration(option, table.Options[option]);
        }
        catch (FormatException e)
        {
            throw new ConnectorOptionException(table.Name, option, e.Message);
        }
    }

    private static bool Bool(TableDef table, string option, bool fallback)
    {
        if (!table.Options.TryGetValue(option, out var text)) return fallback;
        return text.ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            _ => throw new ConnectorOptionException(table.Name, option, $"expected true or false, got '{text}'"),
        };
    }

    public override string ToString() => !Enabled ? "NONE"
        : Full ? $"FULL(reload-interval={ReloadInterval.TotalMilliseconds} ms)"
        : "PARTIAL(" + string.Join(", ", new[]
        {
            MaxRows is { } r ? $"max-rows={r}" : null,
            ExpireAfterWrite is { } w ? $"expire-after-write={w.TotalMilliseconds} ms" : null,
            ExpireAfterAccess is { } a ? $"expire-after-access={a.TotalMilliseconds} ms" : null,
            $"cache-missing-key={(CacheMissingKey ? "true" : "false")}",
        }.Where(s => s is not null)) + ")";
}

/// <summary>The lookup joins of one job, counted together (shown as <c>eddy_job_lookup_*</c> on the server's /metrics).</summary>
public sealed class LookupCounters
{
    private long hits, misses, loadedRows, queries;

    public long Hits => Interlocked.Read(ref hits);

    public long Misses => Interlocked.Read(ref misses);

    public long LoadedRows => Interlocked.Read(ref loadedRows);

    public long Queries => Interlocked.Read(ref queries);

    /// <summary>Adds one batch's figures (one interlocked add per figure per batch, not per row).</summary>
    public void Add(long batchHits, long batchMisses, long batchLoadedRows, long batchQueries)
    {
        if (batchHits != 0) Interlocked.Add(ref hits, batchHits);
        if (batchMisses != 0) Interlocked.Add(ref misses, batchMisses);
        if (batchLoadedRows != 0) Interlocked.Add(ref loadedRows, batchLoadedRows);
        if (batchQueries != 0) Interlocked.Add(ref queries, batchQueries);
    }

    public void RegisterWith(JobCounters counters)
    {
        counters.Register("lookup_cache_hits_total", "Lookup-join rows whose key was answered from the cache.", () => Hits);
        counters.Register("lookup_cache_misses_total", "Lookup-join rows whose key was not in the cache (or expired, or no cache): fetched, once per distinct key of a batch.", () => Misses);
        counters.Register("lookup_loaded_rows_total", "Rows fetched from lookup tables.", () => LoadedRows);
        counters.Register("lookup_queries_total", "Fetches sent to lookup tables (one per input batch with misses).", () => Queries);
    }
}
