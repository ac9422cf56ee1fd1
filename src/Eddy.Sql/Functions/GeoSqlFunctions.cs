using System.Collections.Concurrent;
using Eddy.Functions.Geo;
using Eddy.Runtime;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions;

/// <summary>
/// The built-in geolocation functions of SQL (<c>get_location</c>, <c>geo_country</c>, <c>geo_region</c>,
/// <c>geo_city</c>, <c>geo_lat</c>, <c>geo_lon</c>), bound with the session's <c>geo.*</c> options: with the offline
/// provider a plain scalar call compiled into the Calc; with ip2location an <see cref="AsyncCall"/>, which the
/// planner runs in an async operator. A user function of the same name (CREATE FUNCTION) is bound before these.
/// </summary>
public sealed class GeoSqlFunctions(Func<IReadOnlyDictionary<string, string>> options, Func<string, string?> environment)
{
    private readonly ConcurrentDictionary<string, object> providers = new(StringComparer.Ordinal);
    private readonly List<GeoMetrics> boundSinceTaken = [];

    public static bool IsGeoFunction(string upperName) => GeoFunctions.MethodFor(upperName) is not null;

    /// <summary>The settings the next bound call gets.</summary>
    public GeoConfig Config() => GeoConfig.From(options(), environment);

    /// <summary>Metrics of the provider the current settings use, once one was bound (null before).</summary>
    public GeoMetrics? Metrics
    {
        get
        {
            var config = Config();
            return providers.TryGetValue(config.ToString(), out var p) ? p switch
            {
                GeoFunctions f => f.Metrics,
                Ip2LocationClient c => c.Metrics,
                _ => null,
            } : null;
        }
    }

    /// <summary>Binds a call whose argument is already a STRING expression; errors are <see cref="ArgumentException"/> or <see cref="GeoDatabaseMissingException"/>.</summary>
    public BoundExpr Bind(string upperName, BoundExpr ip)
    {
        var method = GeoFunctions.MethodFor(upperName) ?? throw new ArgumentException($"{upperName} is not a geolocation function");
        var type = upperName is "GEO_LAT" or "GEO_LON" ? DataType.Double
            : upperName == "GET_LOCATION" ? DataType.String.NotNull() : DataType.String;
        var config = Config();
        if (config.Provider == GeoProviderKind.Offline)
        {
            var functions = (GeoFunctions)providers.GetOrAdd(config.ToString(), _ => GeoFunctions.Offline(config));
            Bound(functions.Metrics);
            return new UserCall(upperName, method, functions, [ip], type);
        }
        if (string.IsNullOrEmpty(config.Ip2Location.Key))
            throw new ArgumentException("the ip2location provider needs an API key in the environment variable IP_CODING_KEY (see https://www.ip2location.io/)");
        var client = (Ip2LocationClient)providers.GetOrAdd(config.ToString(), _ => new Ip2LocationClient(config.Ip2Location));
        Bound(client.Metrics);
        Func<GeoLocation, object?> part = upperName switch
        {
            "GET_LOCATION" => l => l.Json,
            "GEO_COUNTRY" => l => l.Country,
            "GEO_REGION" => l => l.Region,
            "GEO_CITY" => l => l.City,
            "GEO_LAT" => l => l.Latitude,
            _ => l => l.Longitude,
        };
        var asyncOptions = new AsyncOptions
        {
            Capacity = config.AsyncCapacity,
            Timeout = config.AsyncTimeout,
            Mode = config.AsyncOrdered ? AsyncOutputMode.Ordered : AsyncOutputMode.Unordered,
        };
        var function = new AsyncFunctionSpec($"ip2location.io {config.Ip2Location.Endpoint.Host}",
            () => new GeoPartFunction(client, part), asyncOptions);
        return new AsyncCall(upperName, [ip], function, type);
    }

    private void Bound(GeoMetrics metrics)
    {
        lock (boundSinceTaken)
            if (!boundSinceTaken.Contains(metrics)) boundSinceTaken.Add(metrics);
    }

    /// <summary>Starts a job's binding: providers bound before (by EXPLAIN, a failed statement) are not the job's.</summary>
    public void ForgetBound()
    {
        lock (boundSinceTaken) boundSinceTaken.Clear();
    }

    /// <summary>
    /// Registers the counters of the providers bound since the last call in <paramref name="counters"/> (a job's):
    /// <c>geo_lookups_total</c>, <c>geo_malformed_total</c>, <c>geo_misses_total</c>, <c>geo_cache_hits_total</c>,
    /// <c>geo_cache_misses_total</c>, <c>geo_remote_calls_total</c>, <c>geo_remote_errors_total</c>. A provider is
    /// shared by the session's jobs with the same options, so its counters count all of them.
    /// </summary>
    public void RegisterBoundCounters(JobCounters counters)
    {
        List<GeoMetrics> bound;
        lock (boundSinceTaken)
        {
            bound = [.. boundSinceTaken];
            boundSinceTaken.Clear();
        }
        if (bound.Count == 0) return;
        long Sum(Func<GeoMetrics, long> read) => bound.Sum(read);
        counters.Register("geo_lookups_total", "Geolocation lookups (the provider's, over the session's jobs).", () => Sum(m => Interlocked.Read(ref m.Lookups)));
        counters.Register("geo_malformed_total", "Geolocation lookups of malformed addresses.", () => Sum(m => Interlocked.Read(ref m.Malformed)));
        counters.Register("geo_misses_total", "Geolocation lookups of addresses the provider knows nothing of.", () => Sum(m => Interlocked.Read(ref m.Misses)));
        counters.Register("geo_cache_hits_total", "Geolocation lookups answered from the cache.", () => Sum(m => Interlocked.Read(ref m.CacheHits)));
        counters.Register("geo_cache_misses_total", "Well-formed geolocation lookups not answered from the cache.",
            () => Sum(m => Math.Max(0, Interlocked.Read(ref m.Lookups) - Interlocked.Read(ref m.Malformed) - Interlocked.Read(ref m.CacheHits))));
        counters.Register("geo_remote_calls_total", "Requests to the remote geolocation API.", () => Sum(m => Interlocked.Read(ref m.RemoteCalls)));
        counters.Register("geo_remote_errors_total", "Remote geolocation requests that failed (after retries).", () => Sum(m => Interlocked.Read(ref m.RemoteFailures)));
    }

    /// <summary>One part of a location, looked up remotely.</summary>
    private sealed class GeoPartFunction(IAsyncGeoLocator locator, Func<GeoLocation, object?> part) : IAsyncCallFunction
    {
        public void Open(OperatorContext context)
        {
        }

        public async Task<object?> InvokeAsync(object?[] arguments, CancellationToken cancellation) =>
            part(await locator.LocateAsync((string?)arguments[0], cancellation).ConfigureAwait(false));

        // A lookup that takes too long answers "unknown" (the geo.async.timeout contract), it does not fail the job.
        public object? Timeout(object?[] arguments) => part(GeoLocation.Unknown);

        public void Close()
        {
        }
    }
}
