using System.Buffers.Binary;
using System.Globalization;
using Eddy.Functions.Geo;
using Eddy.Sql;

namespace Eddy.Bench;

/// <summary>
/// Geolocation (issue 6) on the real offline database (scripts/fetch-geo-db.sh; EDDY_GEO_DATABASE to choose
/// another): lookups per second on one thread, and the lab's pass-through job with and without get_location.
/// One event = one lookup. Addresses come from the events' payloads: uniform over the IPv4 space for the tree walk,
/// and a pool of 65,536 address strings (made before any timing) for string lookups, as a stream repeats visitors.
/// </summary>
public static class GeoWorkloads
{
    private const int PoolSize = 1 << 16;
    private static readonly Lazy<string[]> Ipv4Pool = new(() => MakePool(v6: false));
    private static readonly Lazy<string[]> Ipv6Pool = new(() => MakePool(v6: true));
    private static readonly Lazy<IReadOnlyList<GeoDatabase>> Readers = new(() =>
        GeoDatabases.Get(GeoConfig.DefaultDatabasePath(Environment.GetEnvironmentVariable)));

    /// <summary>Opens the database and makes the address pools before any timing.</summary>
    public static void Prepare(int events)
    {
        try
        {
            _ = Readers.Value;
        }
        catch (GeoDatabaseMissingException)
        {
            return; // the geo workloads report it when selected
        }
        _ = Ipv4Pool.Value;
        _ = Ipv6Pool.Value;
        if (events > 0) WebTrafficIpsFor(events);
    }

    private static string[] MakePool(bool v6)
    {
        var r = new Random(20240101);
        var pool = new string[PoolSize];
        Span<byte> b = stackalloc byte[16];
        for (int i = 0; i < pool.Length; i++)
        {
            if (v6)
            {
                r.NextBytes(b);
                b[0] = 0x2a;
                b[1] = (byte)r.Next(0, 16);
                pool[i] = new System.Net.IPAddress(b).ToString();
            }
            else pool[i] = string.Create(CultureInfo.InvariantCulture, $"{r.Next(1, 224)}.{r.Next(256)}.{r.Next(256)}.{r.Next(256)}");
        }
        return pool;
    }

    private static GeoDatabase Ipv4Database => Readers.Value.FirstOrDefault(x => x.IpVersion == 4) ?? Readers.Value[0];

    /// <summary>The database read alone: 4 address bytes → location (MaxMind's reader walks the tree and decodes the record).</summary>
    public static long FindIpv4(BenchEvent[] events)
    {
        var database = Ipv4Database;
        Span<byte> b = stackalloc byte[4];
        long found = 0;
        for (int i = 0; i < events.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(b, events[i].Payload);
            if (database.Find(b, out _) is not null) found++;
        }
        return found;
    }

    /// <summary>get_location's work: parse the string, walk the tree, and the location from the decoded-record cache.</summary>
    public static long LocateIpv4Cached(BenchEvent[] events) => Locate(events, Ipv4Pool.Value, new MmdbGeoLocator(Readers.Value, 65536));

    /// <summary>The same without the cache: every lookup decodes its record (and allocates its strings).</summary>
    public static long LocateIpv4Uncached(BenchEvent[] events) => Locate(events, Ipv4Pool.Value, new MmdbGeoLocator(Readers.Value, 0));

    public static long LocateIpv6Cached(BenchEvent[] events) => Locate(events, Ipv6Pool.Value, new MmdbGeoLocator(Readers.Value, 65536));

    private static long Locate(BenchEvent[] events, string[] pool, MmdbGeoLocator locator)
    {
        long known = 0;
        for (int i = 0; i < events.Length; i++)
        {
            if (!locator.Locate(pool[events[i].Payload & (PoolSize - 1)]).IsUnknown) known++;
        }
        return known;
    }

    private static readonly Dictionary<int, string[]> WebTrafficIps = [];

    /// <summary>The addresses of the pass-through job's events (web traffic, 100,000 visitors, seed 7), made before any timing.</summary>
    public static string[] WebTrafficIpsFor(int count)
    {
        lock (WebTrafficIps)
        {
            if (WebTrafficIps.TryGetValue(count, out var ips)) return ips;
            var generator = new Eddy.Connectors.WebTrafficGenerator(new Eddy.Connectors.WebTrafficOptions { Users = 100000, Count = count }, 7);
            ips = new string[count];
            for (int i = 0; i < count && generator.TryNext(out var e, out _); i++) ips[i] = e.Ip;
            WebTrafficIps[count] = ips;
            return ips;
        }
    }

    /// <summary>
    /// get_location over the pass-through job's address sequence (100,000 visitors, 5 % IPv6), without the job: what
    /// the lookup adds to it. One locator over the run, as a job has (its caches start cold).
    /// </summary>
    public static long GetLocationWebTraffic(BenchEvent[] events)
    {
        var ips = WebTrafficIpsFor(events.Length);
        var functions = new GeoFunctions(new MmdbGeoLocator(Readers.Value, 65536));
        long known = 0;
        for (int i = 0; i < ips.Length; i++)
        {
            if (functions.GetLocation(ips[i]).Length > 2) known++;
        }
        return known;
    }

    /// <summary>The lab's day-1 job (web traffic → project → sink) with get_location(ip) over the offline database.</summary>
    public static long PassThroughGeo(BenchEvent[] events) => PassThrough(events, ", get_location(ip) AS geodata", ", geodata VARCHAR");

    /// <summary>The same job without the geolocation column (the baseline).</summary>
    public static long PassThroughPlain(BenchEvent[] events) => PassThrough(events, "", "");

    private static long PassThrough(BenchEvent[] events, string select, string column)
    {
        _ = Readers.Value;
        SqlWorkloads.Counted = 0;
        var session = new SqlSession(BenchConnectors.Registry, TextWriter.Null, Console.Error);
        var jobs = session.Execute($"""
            CREATE TABLE events (url VARCHAR, referrer VARCHAR, host VARCHAR, ip VARCHAR, event_time VARCHAR,
              event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')
            ) WITH ('connector' = 'web-traffic', 'number-of-rows' = '{events.Length}', 'users' = '100000', 'seed' = '7');
            CREATE TABLE processed_events (ip VARCHAR, event_timestamp TIMESTAMP(3), referrer VARCHAR, host VARCHAR, url VARCHAR{column})
            WITH ('connector' = 'bench-count');
            INSERT INTO processed_events SELECT ip, event_timestamp, referrer, host, url{select} FROM events;
            """);
        var result = jobs[0].Environment.ExecuteAsync("geo-pass-through").GetAwaiter().GetResult();
        if (result.Failure is not null) throw result.Failure;
        if (select.Length > 0 && Environment.GetEnvironmentVariable("EDDY_BENCH_GEO_METRICS") == "1")
            Console.Error.WriteLine($"geo metrics: {session.Catalog.Geo.Metrics}");
        return SqlWorkloads.Counted;
    }
}
