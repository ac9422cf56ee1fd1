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
}

/// <summary>The lookup side of one table in one job: the cache settings and a fetcher per subtask.</summary>
public abstract class LookupSource
{
    /// <summary>What EXPLAIN shows (never a password).</summary>
    public abstract string Describe { get; }

    public required LookupCacheOptions Cache { get; init; }

    /// <summary>A fetcher for one subtask (its own connection); disposed when the subtask ends.</summary>
    public abstract LookupFetcher CreateFetcher();
}

/// <summary>Fetches the rows of many keys at once: one round trip for all the cache misses of a batch.</summary>
public abstract class LookupFetcher : IDisposable
{
    /// <summary>
    /// Calls <paramref name="found"/> with (key index, row values) for every row of the table whose key columns equal
    /// <c>keys[key index]</c>; keys without rows get no call. No key holds a NULL (NULL never equals anything).
    /// </summary>
    public abstract void Fetch(IReadOnlyList<object?[]> keys, Action<int, object?[]> found);

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

    /// <summary>The options this class reads; a connector adds them to the ones it knows.</summary>
    public static readonly string[] OptionNames =
    [
        "lookup.cache", "lookup.partial-cache.max-rows", "lookup.partial-cache.expire-after-write", "lookup.partial-cache.expire-after-access",
        "lookup.partial-cache.cache-missing-key", "lookup.cache.max-rows", "lookup.cache.ttl", "lookup.cache.caching-missing-key",
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
        if (mode is not ("NONE" or "PARTIAL" or "LEGACY"))
            throw new ConnectorOptionException(table.Name, "lookup.cache", $"expected NONE or PARTIAL, got '{m}' (FULL caching is not supported by Eddy)");
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
