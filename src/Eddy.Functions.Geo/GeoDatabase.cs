using System.Net;
using MaxMind.Db;

namespace Eddy.Functions.Geo;

/// <summary>
/// One city database in the MaxMind DB format, read with MaxMind's own reader (MaxMind.Db; the hand-written reader it
/// replaced was measured against it, see docs/DEPENDENCIES.md). Records are read with the keys of the
/// ip-location-db project (<c>country_code</c>, <c>state1</c>, <c>city</c>, <c>latitude</c>, <c>longitude</c>) or of
/// MaxMind's own city databases (<c>country.iso_code</c>, <c>subdivisions[0].names.en</c>, <c>city.names.en</c>,
/// <c>location.latitude/longitude</c>).
/// </summary>
public sealed class GeoDatabase : IDisposable
{
    private readonly Reader reader;

    private GeoDatabase(Reader reader, string name)
    {
        this.reader = reader;
        Name = name;
    }

    /// <summary>The file, or a name given to a database read from memory; errors name it.</summary>
    public string Name { get; }

    /// <summary>4 or 6: an IPv6 database also answers IPv4 addresses (under ::/96).</summary>
    public int IpVersion => reader.Metadata.IPVersion;

    public string DatabaseType => reader.Metadata.DatabaseType;

    /// <summary>Memory-maps the file; a file that is not a MaxMind DB is refused with its path.</summary>
    public static GeoDatabase Open(string path)
    {
        try
        {
            return new GeoDatabase(new Reader(path, FileAccessMode.MemoryMapped), path);
        }
        catch (InvalidDatabaseException e)
        {
            throw new InvalidDataException($"'{path}' is not a MaxMind DB file: {e.Message}", e);
        }
    }

    public static GeoDatabase FromBytes(byte[] bytes, string name = "(in memory)")
    {
        try
        {
            return new GeoDatabase(new Reader(new MemoryStream(bytes, writable: false)), name);
        }
        catch (InvalidDatabaseException e)
        {
            throw new InvalidDataException($"'{name}' is not a MaxMind DB file: {e.Message}", e);
        }
    }

    /// <summary>
    /// The location of <paramref name="address"/> (4 or 16 bytes); null when the database has no record for it.
    /// An IPv4 database is asked only IPv4 addresses (the caller maps ::ffff:a.b.c.d down).
    /// </summary>
    public GeoLocation? Find(ReadOnlySpan<byte> address, out int prefixLength)
    {
        var record = reader.Find<Dictionary<string, object>>(new IPAddress(address), out prefixLength);
        return record is null ? null : FromRecord(record);
    }

    private static GeoLocation FromRecord(Dictionary<string, object> record)
    {
        // MaxMind's layout nests "city" in a map of names; the flat layout has a string.
        string? country = Text(record, "country_code") ?? Text(Map(record, "country"), "iso_code");
        string? region = Text(record, "state1") ?? EnglishName(record.GetValueOrDefault("subdivisions") is List<object> { Count: > 0 } subdivisions ? subdivisions[0] as Dictionary<string, object> : null);
        string? city = Text(record, "city") ?? EnglishName(Map(record, "city"));
        double? latitude = Number(record, "latitude") ?? Number(Map(record, "location"), "latitude");
        double? longitude = Number(record, "longitude") ?? Number(Map(record, "location"), "longitude");
        var location = new GeoLocation(country, region, city, latitude, longitude);
        return location.IsUnknown ? GeoLocation.Unknown : location;
    }

    private static Dictionary<string, object>? Map(Dictionary<string, object>? map, string key) =>
        map?.GetValueOrDefault(key) as Dictionary<string, object>;

    private static string? Text(Dictionary<string, object>? map, string key) => map?.GetValueOrDefault(key) as string;

    private static string? EnglishName(Dictionary<string, object>? map) => Text(Map(map, "names"), "en");

    private static double? Number(Dictionary<string, object>? map, string key) => map?.GetValueOrDefault(key) switch
    {
        double d => d,
        float f => f,
        int i => i,
        ushort u => u,
        uint u => u,
        ulong u => u,
        long l => l,
        _ => null,
    };

    public void Dispose() => reader.Dispose();
}
