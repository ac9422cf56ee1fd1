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
    private readonly MmdbReader reader;
    private readonly CachedRecord?[]? cache;
    private readonly int cacheMask;

    private sealed class CachedRecord(long offset, GeoLocation location)
    {
        public readonly long Offset = offset;
        public readonly GeoLocation Location = location;
    }

    /// <param name="cacheSize">decoded records to keep (rounded up to a power of two); 0 decodes every time.</param>
    public MmdbGeoLocator(MmdbReader reader, int cacheSize = 65536)
    {
        this.reader = reader;
        if (cacheSize > 0)
        {
            int size = (int)Math.Min(1 << 30, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)cacheSize));
            cache = new CachedRecord?[size];
            cacheMask = size - 1;
        }
    }

    public MmdbReader Reader => reader;

    public GeoMetrics Metrics { get; } = new();

    public GeoLocation Locate(ReadOnlySpan<char> ip)
    {
        Interlocked.Increment(ref Metrics.Lookups);
        Span<byte> bytes = stackalloc byte[16];
        int length = IpAddressParser.TryParse(ip, bytes);
        if (length == 0)
        {
            Interlocked.Increment(ref Metrics.Malformed);
            return GeoLocation.Unknown;
        }
        long offset = reader.Find(bytes[..length]);
        if (offset < 0)
        {
            Interlocked.Increment(ref Metrics.Misses);
            return GeoLocation.Unknown;
        }
        return Record(offset);
    }

    /// <summary>The location of the record at <paramref name="offset"/>, from the cache or decoded.</summary>
    public GeoLocation Record(long offset)
    {
        if (cache is null) return DecodeRecord(offset);
        int slot = (int)((ulong)offset * 0x9E3779B97F4A7C15UL >> 40) & cacheMask;
        var entry = Volatile.Read(ref cache[slot]);
        if (entry is not null && entry.Offset == offset)
        {
            Interlocked.Increment(ref Metrics.CacheHits);
            return entry.Location;
        }
        var location = DecodeRecord(offset);
        Volatile.Write(ref cache[slot], new CachedRecord(offset, location));
        return location;
    }

    private struct Fields
    {
        public long Country, State, City, Latitude, Longitude, MaxMindCountry, MaxMindCity, MaxMindSubdivisions, MaxMindLocation;
    }

    /// <summary>Decodes the fields of one record (allocates the strings: that is what the cache saves).</summary>
    public GeoLocation DecodeRecord(long offset)
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
        string? country = String(f.Country) ?? Nested(f.MaxMindCountry, "iso_code"u8);
        string? state = String(f.State) ?? SubdivisionName(f.MaxMindSubdivisions);
        string? city = String(f.City) ?? EnglishName(f.MaxMindCity);
        double? lat = Number(f.Latitude) ?? NestedNumber(f.MaxMindLocation, "latitude"u8);
        double? lon = Number(f.Longitude) ?? NestedNumber(f.MaxMindLocation, "longitude"u8);
        var location = new GeoLocation(country, state, city, lat, lon);
        return location.IsUnknown ? GeoLocation.Unknown : location;
    }

    private string? String(long offset) =>
        offset >= 0 && reader.TypeAt(offset) == MmdbType.Utf8String ? Encoding.UTF8.GetString(reader.ReadUtf8(offset)) : null;

    private double? Number(long offset) =>
        offset >= 0 && reader.TypeAt(offset) is MmdbType.Double or MmdbType.Float or MmdbType.Int32 or MmdbType.UInt16 or MmdbType.UInt32 or MmdbType.UInt64
            ? reader.ReadDouble(offset) : null;

    private string? Nested(long map, ReadOnlySpan<byte> key) =>
        map >= 0 && reader.TypeAt(map) == MmdbType.Map && reader.TryGetMapValue(map, key, out var v) ? String(v) : null;

    private double? NestedNumber(long map, ReadOnlySpan<byte> key) =>
        map >= 0 && reader.TypeAt(map) == MmdbType.Map && reader.TryGetMapValue(map, key, out var v) ? Number(v) : null;

    private string? EnglishName(long map) =>
        map >= 0 && reader.TypeAt(map) == MmdbType.Map && reader.TryGetMapValue(map, "names"u8, out var names) ? Nested(names, "en"u8) : null;

    private string? SubdivisionName(long array)
    {
        if (array < 0 || reader.TypeAt(array) != MmdbType.Array) return null;
        return reader.Decode(array) is List<object?> { Count: > 0 } list && list[0] is Dictionary<string, object?> first
            && first.TryGetValue("names", out var n) && n is Dictionary<string, object?> names && names.TryGetValue("en", out var en) ? en as string : null;
    }
}
