using System.Globalization;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Connectors.Postgres;

/// <summary>
/// The options of <c>jdbc</c> (Flink's JDBC connector, PostgreSQL URLs only) and <c>postgres</c> (Eddy's, with
/// host/port/database or an Npgsql connection string) tables, declared once: the sink's and the lookup side's
/// (a table may be both). The lookup cache's rules across options (which mode takes which option) stay with
/// <see cref="Eddy.Sql.Connectors.LookupCacheOptions"/>, shared with the filesystem connector.
/// </summary>
internal static class PostgresOptions
{
    public static readonly ConnectorOption<string> TableName =
        Option.String("table-name", "the PostgreSQL table to write or look up (table or schema.table, as PostgreSQL resolves quoting)").AsRequired();

    public static readonly ConnectorOption<string> Username =
        Option.String("username", "the user to connect as (must agree with the url's when both give one)");

    public static readonly ConnectorOption<string> Password =
        Option.String("password", "the user's password (must agree with the url's when both give one)").AsSecret();

    public static readonly ConnectorOption<int> SinkMaxRows =
        Option.Int("sink.buffer-flush.max-rows", "rows buffered before the sink writes them (also at every interval and checkpoint); Eddy's default is 1000 (Flink's 100): larger COPY batches, the same rows", min: 1)
            .WithDefault(1000);

    public static readonly ConnectorOption<TimeSpan> SinkFlushInterval =
        Option.Duration("sink.buffer-flush.interval", "how long a buffered row waits at most before it is written").WithDefault(TimeSpan.FromSeconds(1));

    public static readonly ConnectorOption<int> SinkMaxRetries =
        Option.Int("sink.max-retries", "how often a failed write is retried on a new connection", min: 0).WithDefault(3);

    public static readonly ConnectorOption<int> SinkParallelism =
        Option.Int("sink.parallelism", "the sink's parallelism (default: the input's)", min: 1);

    public static readonly ConnectorOption<bool> SinkCreateTable =
        Option.Boolean("sink.create-table", "Eddy-only: create the table from the DDL's columns when it does not exist").WithDefault(false);

    public static readonly ConnectorOption<string> SinkDeliveryGuarantee =
        Option.Enum("sink.delivery-guarantee", "Eddy-only: exactly-once (a checkpoint's rows committed in one transaction with it), at-least-once or none; default exactly-once when the job checkpoints, else at-least-once",
            "exactly-once", "at-least-once", "none");

    public static readonly ConnectorOption<string> LookupCache =
        Option.Enum("lookup.cache", "the lookup side's cache: NONE, PARTIAL (lookup.partial-cache.*) or FULL (the whole table, reloaded periodically)", "NONE", "PARTIAL", "FULL");

    public static readonly ConnectorOption<long> PartialCacheMaxRows =
        Option.Long("lookup.partial-cache.max-rows", "PARTIAL: the most keys kept; the least recently used goes first", min: 1);

    public static readonly ConnectorOption<TimeSpan> PartialCacheExpireAfterWrite =
        Option.Duration("lookup.partial-cache.expire-after-write", "PARTIAL: a key is fetched again this long after it was loaded");

    public static readonly ConnectorOption<TimeSpan> PartialCacheExpireAfterAccess =
        Option.Duration("lookup.partial-cache.expire-after-access", "PARTIAL: a key not read for this long is dropped");

    public static readonly ConnectorOption<bool> PartialCacheMissingKey =
        Option.Boolean("lookup.partial-cache.cache-missing-key", "PARTIAL: whether a key without rows is remembered as such").WithDefault(true);

    public static readonly ConnectorOption<long> LegacyCacheMaxRows =
        Option.Long("lookup.cache.max-rows", "deprecated in Flink (use lookup.partial-cache.max-rows): with lookup.cache.ttl, the cache's size", min: 1);

    public static readonly ConnectorOption<TimeSpan> LegacyCacheTtl =
        Option.Duration("lookup.cache.ttl", "deprecated in Flink (use lookup.partial-cache.expire-after-write): with lookup.cache.max-rows, how long a row is kept");

    public static readonly ConnectorOption<bool> LegacyCacheMissingKey =
        Option.Boolean("lookup.cache.caching-missing-key", "deprecated in Flink: whether the legacy cache remembers keys without rows").WithDefault(true);

    public static readonly ConnectorOption<string> FullCacheReloadStrategy =
        Option.Enum("lookup.full-cache.reload-strategy", "FULL: PERIODIC reloads (TIMED is refused by Eddy)", "PERIODIC", "TIMED").WithDefault("PERIODIC");

    public static readonly ConnectorOption<TimeSpan> FullCacheReloadInterval =
        Option.Duration("lookup.full-cache.periodic-reload.interval", "FULL: how often the whole table is loaded again (required with FULL)");

    public static readonly ConnectorOption<string> FullCacheScheduleMode =
        Option.Enum("lookup.full-cache.periodic-reload.schedule-mode", "FULL: FIXED_DELAY between reloads (FIXED_RATE is refused by Eddy)", "FIXED_DELAY", "FIXED_RATE")
            .WithDefault("FIXED_DELAY");

    public static readonly ConnectorOption<string> FullCacheTimedIsoTime =
        Option.String("lookup.full-cache.timed-reload.iso-time", "FULL with TIMED reloads, which Eddy refuses");

    public static readonly ConnectorOption<int> FullCacheTimedIntervalInDays =
        Option.Int("lookup.full-cache.timed-reload.interval-in-days", "FULL with TIMED reloads, which Eddy refuses", min: 1);

    public static readonly ConnectorOption<bool> LookupAsync =
        Option.Boolean("lookup.async", "asynchronous lookups; only false: Eddy fetches all cache misses of an input batch at once").WithDefault(false);

    public static readonly ConnectorOption<int> LookupMaxRetries =
        Option.Int("lookup.max-retries", "how often a failed lookup is retried on a new connection", min: 0).WithDefault(3);

    public static readonly ConnectorOption<string> Scan =
        Option.Refused("scan.", "not supported: Eddy's PostgreSQL tables are sinks and lookup tables, not scan sources (read changes with 'postgres-cdc')");

    private static readonly ConnectorOption[] SinkAndLookup =
    [
        TableName, Username, Password,
        SinkMaxRows, SinkFlushInterval, SinkMaxRetries, SinkParallelism, SinkCreateTable, SinkDeliveryGuarantee,
        LookupCache, PartialCacheMaxRows, PartialCacheExpireAfterWrite, PartialCacheExpireAfterAccess, PartialCacheMissingKey,
        LegacyCacheMaxRows, LegacyCacheTtl, LegacyCacheMissingKey,
        FullCacheReloadStrategy, FullCacheReloadInterval, FullCacheScheduleMode, FullCacheTimedIsoTime, FullCacheTimedIntervalInDays,
        LookupAsync, LookupMaxRetries, Scan,
    ];

    public static readonly ConnectorOption<string> JdbcUrl =
        Option.String("url", "the JDBC URL: jdbc:postgresql://host[:port]/database[?sslmode=...&user=...&password=...]").AsRequired();

    public static readonly ConnectorOption<string> Driver =
        Option.String("driver", "the JDBC driver class; only org.postgresql.Driver (Eddy speaks PostgreSQL only)");

    public static readonly OptionSchema Jdbc = new("jdbc", [JdbcUrl, Driver, .. SinkAndLookup]);

    public static readonly ConnectorOption<string> ConnectionString =
        Option.String("url", "an Npgsql connection string (Host=...;Database=...), instead of hostname/port/database");

    public static readonly ConnectorOption<string> Hostname =
        Option.String("hostname", "the server's host (required unless 'url' is given)");

    public static readonly ConnectorOption<int> Port = PortOption("port", "the server's port");

    public static readonly ConnectorOption<string> Database =
        Option.String("database", "the database to connect to").WithDefault("postgres");

    public static readonly OptionSchema Postgres = new("postgres", [ConnectionString, Hostname, Port, Database, .. SinkAndLookup]);

    /// <summary>A TCP port, 1 to 65535, default 5432.</summary>
    internal static ConnectorOption<int> PortOption(string name, string description) =>
        new ConnectorOption<int>(name, description, "Integer", "a port number (1 to 65535)",
            text => int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is >= 1 and <= 65535
                ? (true, port, null) : (false, 0, null)).WithDefault(5432);
}
