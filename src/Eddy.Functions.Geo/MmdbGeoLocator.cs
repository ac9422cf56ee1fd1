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
    private readonly MmdbReader[] readers;
    private readonly MmdbReader[] forIpv4;
    private readonly MmdbReader[] forIpv6;
    private readonly CachedRecord?[]? cache;
    private readonly AddressEntry?[]? addresses;
    private readonly int cacheMask;
    private readonly int addressMask;

    // IPv4 address → location: a stream sees the same visitors again and again, and this skips the tree walk.
    private sealed class AddressEntry(uint address, GeoLocation location)
    {
        public readonly uint Address = address;
        public readonly GeoLocation Location = location;
    }

    private sealed class CachedRecord(long key, GeoLocation location)
    {
        public readonly long Key = key;
        public readonly GeoLocation Location = location;
    }

    /// <param name="cacheSize">decoded records to keep (rounded up to a power of two); 0 decodes every time.</param>
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
            int size = (int)Math.Min(1 << 26, System.Numerics.BitOperations.RoundUpToPowerOf2((uint)cacheSize));
            cache = new CachedRecord?[size];
            // Four address slots per record slot: addresses outnumber the records they land on.
            addresses = new AddressEntry?[size * 4];
            addressMask = size * 4 - 1;
            cacheMask = size - 1;
        }
    }

    public IReadOnlyList<MmdbReader> Readers => readers;

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
        var address = bytes[..length];
        bool v4 = length == 4 || (bytes[..10].IndexOfAnyExcept((byte)0) < 0 && bytes[10] == 0xFF && bytes[11] == 0xFF);
        if (v4 && addresses is not null)
        {
            uint a = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(length == 4 ? address : address[12..]);
            int slot = (int)((ulong)a * 0x9E3779B97F4A7C15UL >> 40) & addressMask;
            var entry = Volatile.Read(ref addresses[slot]);
            if (entry is not null && entry.Address == a)
            {
                Interlocked.Increment(ref Metrics.CacheHits);
                if (entry.Location.IsUnknown) Interlocked.Increment(ref Metrics.Misses);
                return entry.Location;
            }
            var location = Walk(forIpv4, address);
            Volatile.Write(ref addresses[slot], new AddressEntry(a, location));
            return location;
        }
        return Walk(v4 ? forIpv4 : forIpv6, address);
    }

    private GeoLocation Walk(MmdbReader[] candidates, ReadOnlySpan<byte> address)
    {
        for (int i = 0; i < candidates.Length; i++)
        {
            long offset = candidates[i].Find(address);
            if (offset >= 0) return Record(candidates[i], offset);
        }
        Interlocked.Increment(ref Metrics.Misses);
        return GeoLocation.Unknown;
    }

    /// <summary>The location of the record at <paramref name="offset"/> of the first database.</summary>
    public GeoLocation Record(long offset) => Record(readers[0], offset);

    private GeoLocation Record(MmdbReader reader, long offset)
    {
        if (cache is null) return DecodeRecord(reader, offset);
        long key = offset << 3 | (long)Array.IndexOf(readers, reader);
        int slot = (int)((ulong)key * 0x9E3779B97F4A7C15UL >> 40) & cacheMask;
        var entry = Volatile.Read(ref cache[slot]);
        if (entry is not null && entry.Key == key)
        {
            Interlocked.Increment(ref Metrics.CacheHits);
            return entry.Location;
        }
        var location = DecodeRecord(reader, offset);
        Volatile.Write(ref cache[slot], new CachedRecord(key, location));
        return location;
    }

    private struct Fields
    {
        public long Country, State, City, Latitude, Longitude, MaxMindCountry, MaxMindCity, MaxMindSubdivisions, MaxMindLocation;
    }

    /// <summary>Decodes the fields of one record (allocates the strings: that is what the cache saves).</summary>
    public static GeoLocation DecodeRecord(MmdbReader reader, long offset)
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
        string? country = String(reader, f.Country) ?? Nested(reader, f.MaxMindCountry, "iso_code"u8);
        string? state = String(reader, f.State) ?? SubdivisionName(reader, f.MaxMindSubdivisions);
        string? city = String(reader, f.City) ?? EnglishName(reader, f.MaxMindCity);
        double? lat = Number(reader, f.Latitude) ?? NestedNumber(reader, f.MaxMindLocation, "latitude"u8);
        double? lon = Number(reader, f.Longitude) ?? NestedNumber(reader, f.MaxMindLocation, "longitude"u8);
        var location = new GeoLocation(country, state, city, lat, lon);
        return location.IsUnknown ? GeoLocation.Unknown : location;
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
