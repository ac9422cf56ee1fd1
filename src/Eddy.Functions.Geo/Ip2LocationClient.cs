using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Eddy.Functions.Geo;

/// <summary>How the ip2location.io provider calls the service. The key is kept out of <see cref="ToString"/>.</summary>
public sealed class Ip2LocationOptions
{
    /// <summary>The lab's endpoint; tests point it at a local server.</summary>
    public Uri Endpoint { get; init; } = new("https://api.ip2location.io/");

    /// <summary>The API key (the lab's <c>IP_CODING_KEY</c>). Sent as the <c>key</c> query parameter, never printed.</summary>
    public string? Key { get; init; }

    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Retries after a 429, a 5xx, a timeout or a network error (so at most MaxRetries + 1 requests per address).</summary>
    public int MaxRetries { get; init; } = 3;

    /// <summary>The first retry waits this long, each next one twice as long (with jitter), unless the server says Retry-After.</summary>
    public TimeSpan RetryBackoff { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Requests per second at most (0: no limit).</summary>
    public double RateLimit { get; init; }

    public int CacheSize { get; init; } = 100_000;

    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromHours(24);

    public override string ToString() =>
        $"ip2location endpoint={Endpoint} key={(string.IsNullOrEmpty(Key) ? "(none)" : "(set)")} timeout={RequestTimeout.TotalMilliseconds}ms " +
        $"retries={MaxRetries} backoff={RetryBackoff.TotalMilliseconds}ms rate-limit={RateLimit}/s cache={CacheSize} ttl={CacheTtl}";
}

/// <summary>A provider whose answers arrive later (a web service).</summary>
public interface IAsyncGeoLocator
{
    GeoMetrics Metrics { get; }

    /// <summary>Where <paramref name="ip"/> is; <see cref="GeoLocation.Unknown"/> when the service does not know, fails or the address is malformed. Never throws but for cancellation.</summary>
    Task<GeoLocation> LocateAsync(string? ip, CancellationToken cancellation);
}

/// <summary>
/// The ip2location.io web API as the lab calls it (<c>GET /?ip=..&amp;key=..</c>, reading <c>country_code</c>,
/// <c>region_name</c>, <c>city_name</c>, <c>latitude</c>, <c>longitude</c>), made fit for a stream: a timeout per
/// request, retries with exponential back-off on 429 and 5xx, an optional rate limit, one request per address at a
/// time (concurrent lookups of the same address share it), and a bounded LRU cache with a time to live in front.
/// </summary>
public sealed class Ip2LocationClient : IAsyncGeoLocator, IDisposable
{
    private readonly HttpClient http;
    private readonly bool ownsHttp;
    private readonly Ip2LocationOptions options;
    private readonly LruCache<string, GeoLocation> cache;
    private readonly ConcurrentDictionary<string, Task<GeoLocation>> running = new(StringComparer.Ordinal);
    private readonly TimeProvider clock;
    private readonly Lock rateGate = new();
    private long nextSlotTicks;

    public Ip2LocationClient(Ip2LocationOptions options, HttpClient? http = null, TimeProvider? clock = null)
    {
        this.options = options;
        this.clock = clock ?? TimeProvider.System;
        ownsHttp = http is null;
        this.http = http ?? new HttpClient();
        // Each request has its own timeout; the client-wide one must not cut retries short.
        if (ownsHttp) this.http.Timeout = Timeout.InfiniteTimeSpan;
        cache = new LruCache<string, GeoLocation>(options.CacheSize, options.CacheTtl, this.clock);
    }

    public GeoMetrics Metrics { get; } = new();

    public Ip2LocationOptions Options => options;

    public int CachedAddresses => cache.Count;

    public Task<GeoLocation> LocateAsync(string? ip, CancellationToken cancellation)
    {
        Interlocked.Increment(ref Metrics.Lookups);
        Span<byte> bytes = stackalloc byte[16];
        int length = ip is null ? 0 : IpAddressParser.TryParse(ip, bytes);
        if (length == 0)
        {
            Interlocked.Increment(ref Metrics.Malformed);
            return Task.FromResult(GeoLocation.Unknown);
        }
        // One cache entry per address, whatever its spelling.
        string key = new IPAddress(bytes[..length]).ToString();
        if (cache.TryGet(key, out var hit))
        {
            Interlocked.Increment(ref Metrics.CacheHits);
            return Task.FromResult(hit);
        }
        var call = running.GetOrAdd(key, static (k, self) => self.FetchAndCache(k), this);
        return cancellation.CanBeCanceled ? call.WaitAsync(cancellation) : call;
    }

    private async Task<GeoLocation> FetchAndCache(string address)
    {
        try
        {
            var (location, cacheable) = await Fetch(address).ConfigureAwait(false);
            if (cacheable) cache.Set(address, location);
            if (location.IsUnknown) Interlocked.Increment(ref Metrics.Misses);
            return location;
        }
        finally
        {
            running.TryRemove(address, out _);
        }
    }

    private async Task<(GeoLocation Location, bool Cacheable)> Fetch(string address)
    {
        var url = new Uri(options.Endpoint, $"?ip={Uri.EscapeDataString(address)}&key={Uri.EscapeDataString(options.Key ?? "")}&format=json");
        for (int attempt = 0; ; attempt++)
        {
            await WaitForRateSlot().ConfigureAwait(false);
            TimeSpan? retryAfter = null;
            try
            {
                Interlocked.Increment(ref Metrics.RemoteCalls);
                using var timeout = new CancellationTokenSource(options.RequestTimeout, clock);
                using var response = await http.GetAsync(url, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
                int status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadAsByteArrayAsync(timeout.Token).ConfigureAwait(false);
                    if (TryParseBody(body, out var location)) return (location, true);
                    Interlocked.Increment(ref Metrics.RemoteFailures);
                    return (GeoLocation.Unknown, false); // a malformed answer is not worth asking again for now, nor worth keeping
                }
                if (status != 429 && status < 500)
                {
                    // 4xx: the lab returns '{}' for any non-200; a bad address or key does not get better by retrying.
                    Interlocked.Increment(ref Metrics.RemoteFailures);
                    return (GeoLocation.Unknown, false);
                }
                retryAfter = response.Headers.RetryAfter?.Delta;
            }
            catch (OperationCanceledException)
            {
                // the request's own timeout
            }
            catch (HttpRequestException)
            {
                // connection refused, reset: retried like a 5xx
            }
            if (attempt >= options.MaxRetries)
            {
                Interlocked.Increment(ref Metrics.RemoteFailures);
                return (GeoLocation.Unknown, false);
            }
            Interlocked.Increment(ref Metrics.Retries);
            var backoff = options.RetryBackoff * Math.Pow(2, attempt) * (0.75 + Random.Shared.NextDouble() * 0.5);
            if (retryAfter is { } ra && ra > backoff) backoff = ra;
            await Task.Delay(backoff, clock).ConfigureAwait(false);
        }
    }

    private async Task WaitForRateSlot()
    {
        if (options.RateLimit <= 0) return;
        long interval = (long)(clock.TimestampFrequency / options.RateLimit);
        long wait;
        lock (rateGate)
        {
            long now = clock.GetTimestamp();
            long slot = Math.Max(now, nextSlotTicks);
            nextSlotTicks = slot + interval;
            wait = slot - now;
        }
        if (wait > 0) await Task.Delay(TimeSpan.FromSeconds((double)wait / clock.TimestampFrequency), clock).ConfigureAwait(false);
    }

    /// <summary>Reads ip2location.io's JSON answer; false when it is not a JSON object.</summary>
    internal static bool TryParseBody(ReadOnlySpan<byte> body, out GeoLocation location)
    {
        location = GeoLocation.Unknown;
        try
        {
            var reader = new Utf8JsonReader(body);
            using var doc = JsonDocument.ParseValue(ref reader);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) return false;
            var root = doc.RootElement;
            // An error answer ({"error": {...}}) is well-formed but knows nothing.
            if (root.TryGetProperty("error", out _)) return true;
            string? country = Str(root, "country_code"), region = Str(root, "region_name"), city = Str(root, "city_name");
            // Private and reserved addresses come back as "-" with coordinates 0, 0: nothing is known.
            if (country is null && region is null && city is null) return true;
            location = new GeoLocation(country, region, city, Num(root, "latitude"), Num(root, "longitude"));
            return true;
        }
        catch (JsonException)
        {
            return false;
        }

        static string? Str(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.GetString() is { } s && s != "-" ? s : null;

        static double? Num(JsonElement e, string name) =>
            e.TryGetProperty(name, out var v) ? v.ValueKind switch
            {
                JsonValueKind.Number => v.GetDouble(),
                JsonValueKind.String when double.TryParse(v.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
                _ => null,
            } : null;
    }

    public void Dispose()
    {
        if (ownsHttp) http.Dispose();
    }
}
