using System.Text;

namespace Eddy.Functions.Geo;

/// <summary>Counters of a geolocation provider, readable from any thread.</summary>
public sealed class GeoMetrics
{
    public long Lookups;
    public long Malformed;
    public long Misses;
    public long CacheHits;
    public long RemoteCalls;
    public long RemoteFailures;
    public long Retries;

    /// <summary>Cache hits over lookups that reached the cache (0 when none did).</summary>
    public double CacheHitRate
    {
        get
        {
            long lookups = Interlocked.Read(ref Lookups) - Interlocked.Read(ref Malformed);
            return lookups <= 0 ? 0 : (double)Interlocked.Read(ref CacheHits) / lookups;
        }
    }

    public override string ToString() =>
        $"lookups={Interlocked.Read(ref Lookups)} malformed={Interlocked.Read(ref Malformed)} misses={Interlocked.Read(ref Misses)} " +
        $"cache-hit-rate={CacheHitRate:P1} remote-calls={Interlocked.Read(ref RemoteCalls)} remote-failures={Interlocked.Read(ref RemoteFailures)} retries={Interlocked.Read(ref Retries)}";
}

/// <summary>A provider that answers at once, on the calling thread.</summary>
public interface IGeoLocator
{
    GeoMetrics Metrics { get; }

    /// <summary>Where <paramref name="ip"/> is; <see cref="GeoLocation.Unknown"/> for a miss or a malformed address (counted).</summary>
    GeoLocation Locate(ReadOnlySpan<char> ip);

    /// <summary><c>Locate(ip).Json</c>; a provider may answer it without touching the location object.</summary>
    string LocateJson(ReadOnlySpan<char> ip) => Locate(ip).Json;
}

/// <summary>
/// The offline provider: city databases in the MaxMind DB format (<see cref="GeoDatabase"/>). A stream sees the same
/// visitors again and again, so answers are kept by address; the locations they point to are kept once per distinct
/// value (many networks share a city), with their lab JSON made once.
/// </summary>
public sealed class MmdbGeoLocator : IGeoLocator
{
    private readonly GeoDatabase[] databases;
    private readonly GeoDatabase[] forIpv4;
    private readonly GeoDatabase[] forIpv6;
    private readonly int capacity;
    private readonly object gate = new();
    private volatile CacheState? state;

    /// <summary>
    /// The caches, replaced as a whole when <see cref="Locations"/> is full (so an address slot never names a
    /// location of another generation). Lookups that hit read it without a lock; misses add under the locator's lock.
    /// </summary>
    private sealed class CacheState
    {
        // IPv4 address → location id, 2-way sets of packed (address << 32 | id + 1), 0 = empty: one 16-byte read
        // per hit, no object to follow.
        public readonly ulong[] Ipv4;
        public readonly int Ipv4SetMask;
        // IPv4 /24 block → location id, direct-mapped packed (block << 32 | id + 1), for blocks inside one network
        // of the database: a visitor never seen before but from a known block costs no database read.
        public readonly ulong[] Ipv4Blocks;
        // IPv6 address → location id, direct-mapped (IPv6 visitors are few; the entry is an object to publish its three parts at once).
        public readonly Ipv6Entry?[] Ipv6;
        // Location (by value) → id: the networks of one city share one location object and one JSON string.
        public readonly Dictionary<(string?, string?, string?, double?, double?), int> ByValue;
        public readonly GeoLocation[] Locations;
        // Locations[id].Json, beside it: get_location needs only the string, and a hit then reads the address set and
        // this slot, not also the location object (in a job that allocates a lot, each of those is a likely cache miss).
        public readonly string[] Jsons;
        public int Count = 1; // id 0 is GeoLocation.Unknown

        public CacheState(int capacity)
        {
            Locations = new GeoLocation[capacity];
            Locations[0] = GeoLocation.Unknown;
            Jsons = new string[capacity];
            Jsons[0] = GeoLocation.EmptyJson;
            ByValue = new(Math.Min(capacity, 1 << 16));
            // Four address slots per location: addresses outnumber the locations they land on.
            Ipv4 = new ulong[capacity * 4];
            Ipv4SetMask = capacity * 2 - 1;
            Ipv4Blocks = new ulong[capacity * 2];
            Ipv6 = new Ipv6Entry?[capacity];
        }
    }

    private sealed class Ipv6Entry(ulong high, ulong low, int id)
    {
        public readonly ulong High = high;
        public readonly ulong Low = low;
        public readonly int Id = id;
    }

    /// <param name="cacheSize">locations to keep (rounded up to a power of two, at least 16); 0 reads the database every time.</param>
    public MmdbGeoLocator(GeoDatabase database, int cacheSize = 65536) : this([database], cacheSize) { }

    /// <summary>
    /// Several databases, as the ip-location-db project ships them (one file per address family): IPv4 addresses go
    /// to the IPv4 files first, then to IPv6 files (which may hold IPv4 under ::/96); IPv6 addresses to IPv6 files.
    /// </summary>
    public MmdbGeoLocator(IReadOnlyList<GeoDatabase> databases, int cacheSize = 65536)
    {
        if (databases.Count == 0) throw new ArgumentException("no database given", nameof(databases));
        this.databases = [.. databases];
        forIpv4 = [.. databases.Where(r => r.IpVersion == 4), .. databases.Where(r => r.IpVersion == 6)];
        forIpv6 = [.. databases.Where(r => r.IpVersion == 6)];
        if (cacheSize > 0)
        {
            capacity = (int)Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)cacheSize), 16, 1 << 24);
            state = new CacheState(capacity);
        }
    }

    public IReadOnlyList<GeoDatabase> Databases => databases;

    public GeoMetrics Metrics { get; } = new();

    public GeoLocation Locate(ReadOnlySpan<char> ip) => Lookup<LocationResult, GeoLocation>(ip);

    public string LocateJson(ReadOnlySpan<char> ip) => Lookup<JsonResult, string>(ip);

    /// <summary>What a lookup returns: from a cached location id, or from a location just found (struct: specialized, inlined).</summary>
    private interface IResult<T>
    {
        static abstract T FromCache(CacheState s, int id);

        static abstract T From(GeoLocation location);
    }

    private readonly struct LocationResult : IResult<GeoLocation>
    {
        public static GeoLocation FromCache(CacheState s, int id) => s.Locations[id];

        public static GeoLocation From(GeoLocation location) => location;
    }

    private readonly struct JsonResult : IResult<string>
    {
        public static string FromCache(CacheState s, int id) => s.Jsons[id];

        public static string From(GeoLocation location) => location.Json;
    }

    private T Lookup<TResult, T>(ReadOnlySpan<char> ip) where TResult : struct, IResult<T>
    {
        Interlocked.Increment(ref Metrics.Lookups);
        Span<byte> bytes = stackalloc byte[16];
        int length = IpAddressParser.TryParse(ip, bytes);
        if (length == 0)
        {
            Interlocked.Increment(ref Metrics.Malformed);
            return TResult.From(GeoLocation.Unknown);
        }
        var address = bytes[..length];
        bool v4 = length == 4 || (bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xFF && bytes[11] == 0xFF);
        // An IPv4-mapped IPv6 address is the IPv4 address.
        if (v4) address = length == 4 ? address : address[12..];
        var s = state;
        if (s is null) return TResult.From(Find(v4 ? forIpv4 : forIpv6, address, out _));
        if (v4)
        {
            uint a = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(address);
            int set = ((int)((ulong)a * 0x9E3779B97F4A7C15UL >> 32) & s.Ipv4SetMask) * 2;
            ulong first = Volatile.Read(ref s.Ipv4[set]);
            ulong second = Volatile.Read(ref s.Ipv4[set + 1]);
            int id = (uint)(first >> 32) == a && (uint)first != 0 ? (int)(uint)first - 1
                : (uint)(second >> 32) == a && (uint)second != 0 ? (int)(uint)second - 1 : -1;
            if (id >= 0) return Hit<TResult, T>(s, id);
            uint block = a >> 8;
            int blockSlot = (int)((ulong)block * 0x9E3779B97F4A7C15UL >> 40) & (s.Ipv4Blocks.Length - 1);
            ulong known = Volatile.Read(ref s.Ipv4Blocks[blockSlot]);
            GeoLocation location;
            if ((uint)(known >> 32) == block && (uint)known != 0)
            {
                id = (int)(uint)known - 1;
                location = s.Locations[id];
                Interlocked.Increment(ref Metrics.CacheHits);
            }
            else
            {
                location = Keep(s, Find(forIpv4, address, out int prefix), out id);
                if (id > 0 && prefix <= 24 && ReferenceEquals(s, state)) Volatile.Write(ref s.Ipv4Blocks[blockSlot], (ulong)block << 32 | (uint)(id + 1));
            }
            if (id >= 0 && ReferenceEquals(s, state))
            {
                // Most recent first: the older entry of the set moves to the second way.
                Volatile.Write(ref s.Ipv4[set + 1], first);
                Volatile.Write(ref s.Ipv4[set], (ulong)a << 32 | (uint)(id + 1));
            }
            return TResult.From(location);
        }
        else
        {
            ulong high = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(address);
            ulong low = System.Buffers.Binary.BinaryPrimitives.ReadUInt64BigEndian(address[8..]);
            int slot = (int)((high ^ low * 0x9E3779B97F4A7C15UL) * 0x9E3779B97F4A7C15UL >> 40) & (s.Ipv6.Length - 1);
            var entry = Volatile.Read(ref s.Ipv6[slot]);
            if (entry is not null && entry.High == high && entry.Low == low) return Hit<TResult, T>(s, entry.Id);
            var location = Keep(s, Find(forIpv6, address, out _), out int id);
            if (id >= 0 && ReferenceEquals(s, state)) Volatile.Write(ref s.Ipv6[slot], new Ipv6Entry(high, low, id));
            return TResult.From(location);
        }
    }

    private T Hit<TResult, T>(CacheState s, int id) where TResult : struct, IResult<T>
    {
        Interlocked.Increment(ref Metrics.CacheHits);
        if (id == 0) Interlocked.Increment(ref Metrics.Misses);
        return TResult.FromCache(s, id);
    }

    /// <summary>
    /// The first database that has a record for the address (IPv4 as 4 bytes, IPv6 as 16), and the prefix length of
    /// the network it found (in the address's family).
    /// </summary>
    private GeoLocation Find(GeoDatabase[] candidates, ReadOnlySpan<byte> address, out int prefix)
    {
        prefix = address.Length * 8;
        for (int i = 0; i < candidates.Length; i++)
        {
            // An IPv6 database holds IPv4 under ::/96, where MaxMind's reader looks for a 4-byte address.
            if (candidates[i].Find(address, out prefix) is { } location) return location;
        }
        prefix = address.Length * 8;
        Interlocked.Increment(ref Metrics.Misses);
        return GeoLocation.Unknown;
    }

    /// <summary>The location's id in <paramref name="s"/> (-1 when it could not be kept), and the shared instance of its value.</summary>
    private GeoLocation Keep(CacheState s, GeoLocation location, out int id)
    {
        id = 0;
        if (location.IsUnknown) return GeoLocation.Unknown;
        var key = (location.Country, location.Region, location.City, location.Latitude, location.Longitude);
        lock (gate)
        {
            if (!ReferenceEquals(s, state)) { id = -1; return location; }
            if (s.ByValue.TryGetValue(key, out id)) return s.Locations[id];
            if (s.Count == s.Locations.Length)
            {
                // Full: a new generation (the old one stays valid for lookups that still hold it).
                state = new CacheState(capacity);
                id = -1;
                return location;
            }
            id = s.Count++;
            Volatile.Write(ref s.Jsons[id], location.Json);
            Volatile.Write(ref s.Locations[id], location);
            s.ByValue[key] = id;
            return location;
        }
    }
}
