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
/// The offline provider: a city database in the MaxMind DB format. Records are read with the keys of the
/// ip-location-db project (<c>country_code</c>, <c>state1</c>, <c>city</c>, <c>latitude</c>, <c>longitude</c>) or of
/// MaxMind's own city databases (<c>country.iso_code</c>, <c>subdivisions[0].names.en</c>, <c>city.names.en</c>,
/// <c>location.latitude/longitude</c>). Decoded records are kept in a direct-mapped cache keyed by their data offset:
/// many addresses share a record, so a warm lookup is a tree walk and one array read.
/// </summary>
public sealed class MmdbGeoLocator : IGeoLocator
{
    private readonly MmdbReader[] readers;
    private readonly MmdbReader[] forIpv4;
    private readonly MmdbReader[] forIpv6;
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
        // per hit, no object to follow (a stream sees the same visitors again and again; this skips the tree walk).
        public readonly ulong[] Ipv4;
        public readonly int Ipv4SetMask;
        // IPv6 address → location id, direct-mapped (IPv6 visitors are few; the entry is an object to publish its three parts at once).
        public readonly Ipv6Entry?[] Ipv6;
        // Record (database index, data offset) → location id: many addresses share a city record, and its
        // location (strings and formatted JSON) is made once per generation.
        public readonly Dictionary<long, int> ByRecord;
        // Strings by (database, data offset): records of one city point to the same strings.
        public readonly Dictionary<long, string> Strings = [];
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
            ByRecord = new Dictionary<long, int>(Math.Min(capacity, 1 << 16));
            // Four address slots per location: addresses outnumber the records they land on.
            Ipv4 = new ulong[capacity * 4];
            Ipv4SetMask = capacity * 2 - 1;
            Ipv6 = new Ipv6Entry?[capacity];
        }
    }

    private sealed class Ipv6Entry(ulong high, ulong low, int id)
    {
        public readonly ulong High = high;
        public readonly ulong Low = low;
        public readonly int Id = id;
    }

    /// <param name="cacheSize">locations (decoded records) to keep (rounded up to a power of two, at least 16); 0 decodes every time.</param>
    public MmdbGeoLocator(MmdbReader reader, int cacheSize = 65536) : this([reader], cacheSize) { }

    /// <summary>
    /// Several databases, as the ip-location-db project ships them (one file per address family): IPv4 addresses go
    /// to the IPv4 files first, then to IPv6 files (which may hold IPv4 under ::/96); IPv6 addresses to IPv6 files.
    /// </summary>
    public MmdbGeoLocator(IReadOnlyList<MmdbReader> readers, int cacheSize = 65536)
    {
        if (readers.Count == 0) throw new ArgumentException("no database given", nameof(readers));
        if (readers.Count > 8) throw new ArgumentException("at most 8 databases", nameof(readers));
        this.readers = [.. readers];
        forIpv4 = [.. readers.Where(r => r.Metadata.IpVersion == 4), .. readers.Where(r => r.Metadata.IpVersion == 6)];
        forIpv6 = [.. readers.Where(r => r.Metadata.IpVersion == 6)];
        if (cacheSize > 0)
        {
            capacity = (int)Math.Clamp(System.Numerics.BitOperations.RoundUpToPowerOf2((uint)cacheSize), 16, 1 << 24);
            state = new CacheState(capacity);
        }
    }

    public IReadOnlyList<MmdbReader> Readers => readers;

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
        var s = state;
        if (s is null) return TResult.From(Walk(v4 ? forIpv4 : forIpv6, address, null));
        if (v4)
        {
            uint a = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(length == 4 ? address : address[12..]);
            int set = ((int)((ulong)a * 0x9E3779B97F4A7C15UL >> 32) & s.Ipv4SetMask) * 2;
            ulong first = Volatile.Read(ref s.Ipv4[set]);
            ulong second = Volatile.Read(ref s.Ipv4[set + 1]);
            int id = (uint)(first >> 32) == a && (uint)first != 0 ? (int)(uint)first - 1
                : (uint)(second >> 32) == a && (uint)second != 0 ? (int)(uint)second - 1 : -1;
            if (id >= 0) return Hit<TResult, T>(s, id);
            var location = Walk(forIpv4, address, s, out id);
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
            var location = Walk(forIpv6, address, s, out int id);
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

    private GeoLocation Walk(MmdbReader[] candidates, ReadOnlySpan<byte> address, CacheState? s) => Walk(candidates, address, s, out _);

    /// <summary>The tree walk; with a cache, <paramref name="id"/> is the location's id in <paramref name="s"/> (-1 when it could not be kept).</summary>
    private GeoLocation Walk(MmdbReader[] candidates, ReadOnlySpan<byte> address, CacheState? s, out int id)
    {
        for (int i = 0; i < candidates.Length; i++)
        {
            long offset = candidates[i].Find(address);
            if (offset >= 0) return Record(candidates[i], offset, s, out id);
        }
        Interlocked.Increment(ref Metrics.Misses);
        id = 0;
        return GeoLocation.Unknown;
    }

    /// <summary>The location of the record at <paramref name="offset"/> of the first database.</summary>
    public GeoLocation Record(long offset) => Record(readers[0], offset, state, out _);

    private GeoLocation Record(MmdbReader reader, long offset, CacheState? s, out int id)
    {
        id = -1;
        if (s is null) return DecodeRecord(reader, offset, null);
        long key = offset << 3 | (long)Array.IndexOf(readers, reader);
        lock (gate)
        {
            if (s.ByRecord.TryGetValue(key, out id))
            {
                Interlocked.Increment(ref Metrics.CacheHits);
                return s.Locations[id];
            }
            var location = DecodeRecord(reader, offset, (key & 7, s.Strings));
            if (!ReferenceEquals(s, state)) { id = -1; return location; }
            if (s.Count == s.Locations.Length)
            {
                // Full: a new generation (the old one stays valid for lookups that still hold it).
                state = new CacheState(capacity);
                id = -1;
                return location;
            }
            id = location.IsUnknown ? 0 : s.Count++;
            if (id > 0)
            {
                Volatile.Write(ref s.Jsons[id], location.Json);
                Volatile.Write(ref s.Locations[id], location);
            }
            s.ByRecord[key] = id;
            return location;
        }
    }

    private struct Fields
    {
        public long Country, State, City, Latitude, Longitude, MaxMindCountry, MaxMindCity, MaxMindSubdivisions, MaxMindLocation;
    }

    /// <summary>Decodes the fields of one record (allocates the strings: that is what the cache saves).</summary>
    public static GeoLocation DecodeRecord(MmdbReader reader, long offset) => DecodeRecord(reader, offset, null);

    /// <param name="strings">the database's index and the strings already made from it, by data offset (they are shared by records).</param>
    private static GeoLocation DecodeRecord(MmdbReader reader, long offset, (long Database, Dictionary<long, string> ByOffset)? strings)
    {
        if (reader.TypeAt(offset) != MmdbType.Map) return GeoLocation.Unknown;
        var f = new Fields { Country = -1, State = -1, City = -1, Latitude = -1, Longitude = -1, MaxMindCountry = -1, MaxMindCity = -1, MaxMindSubdivisions = -1, MaxMindLocation = -1 };
        reader.ForEachMapEntry(offset, ref f, static (ref Fields s, ReadOnlySpan<byte> key, long value) =>
        {
            if (key.SequenceEqual("country_code"u8)) s.Country = value;
            else if (key.SequenceEqual("state1"u8)) s.State = value;
            else if (key.SequenceEqual("city"u8)) s.City = value;
            else if (key.SequenceEqual("latitude"u8)) s.Latitude = value;
            else if (key.SequenceEqual("longitude"u8)) s.Longitude = value;
            else if (key.SequenceEqual("country"u8)) s.MaxMindCountry = value;
            else if (key.SequenceEqual("subdivisions"u8)) s.MaxMindSubdivisions = value;
            else if (key.SequenceEqual("location"u8)) s.MaxMindLocation = value;
        });
        // MaxMind's layout: "city" is a map with names; the flat layout: a string.
        if (f.City >= 0 && reader.TypeAt(f.City) == MmdbType.Map) (f.MaxMindCity, f.City) = (f.City, -1);
        string? country = String(reader, f.Country, strings) ?? Nested(reader, f.MaxMindCountry, "iso_code"u8);
        string? state = String(reader, f.State, strings) ?? SubdivisionName(reader, f.MaxMindSubdivisions);
        string? city = String(reader, f.City, strings) ?? EnglishName(reader, f.MaxMindCity);
        double? lat = Number(reader, f.Latitude) ?? NestedNumber(reader, f.MaxMindLocation, "latitude"u8);
        double? lon = Number(reader, f.Longitude) ?? NestedNumber(reader, f.MaxMindLocation, "longitude"u8);
        var location = new GeoLocation(country, state, city, lat, lon);
        return location.IsUnknown ? GeoLocation.Unknown : location;
    }

    private static string? String(MmdbReader reader, long offset, (long Database, Dictionary<long, string> ByOffset)? strings)
    {
        if (strings is not { } known || offset < 0) return String(reader, offset);
        long key = offset << 3 | known.Database;
        if (known.ByOffset.TryGetValue(key, out var s)) return s;
        s = String(reader, offset);
        if (s is not null) known.ByOffset[key] = s;
        return s;
    }

    private static string? String(MmdbReader reader, long offset) =>
        offset >= 0 && reader.TypeAt(offset) == MmdbType.Utf8String ? Encoding.UTF8.GetString(reader.ReadUtf8(offset)) : null;

    private static double? Number(MmdbReader reader, long offset) =>
        offset >= 0 && reader.TypeAt(offset) is MmdbType.Double or MmdbType.Float or MmdbType.Int32 or MmdbType.UInt16 or MmdbType.UInt32 or MmdbType.UInt64
            ? reader.ReadDouble(offset) : null;

    private static string? Nested(MmdbReader reader, long map, ReadOnlySpan<byte> key) =>
        map >= 0 && reader.TypeAt(map) == MmdbType.Map && reader.TryGetMapValue(map, key, out var v) ? String(reader, v) : null;

    private static double? NestedNumber(MmdbReader reader, long map, ReadOnlySpan<byte> key) =>
        map >= 0 && reader.TypeAt(map) == MmdbType.Map && reader.TryGetMapValue(map, key, out var v) ? Number(reader, v) : null;

    private static string? EnglishName(MmdbReader reader, long map) =>
        map >= 0 && reader.TypeAt(map) == MmdbType.Map && reader.TryGetMapValue(map, "names"u8, out var names) ? Nested(reader, names, "en"u8) : null;

    private static string? SubdivisionName(MmdbReader reader, long array)
    {
        if (array < 0 || reader.TypeAt(array) != MmdbType.Array) return null;
        return reader.Decode(array) is List<object?> { Count: > 0 } list && list[0] is Dictionary<string, object?> first
            && first.TryGetValue("names", out var n) && n is Dictionary<string, object?> names && names.TryGetValue("en", out var en) ? en as string : null;
    }
}
