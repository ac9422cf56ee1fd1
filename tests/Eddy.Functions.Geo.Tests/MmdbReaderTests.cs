using System.Net;

namespace Eddy.Functions.Geo.Tests;

public class MmdbReaderTests
{
    private static Dictionary<string, object> City(string country, string state, string city, double lat, double lon) => new()
    {
        ["country_code"] = country,
        ["state1"] = state,
        ["city"] = city,
        ["latitude"] = (float)lat,
        ["longitude"] = (float)lon,
    };

    internal static TinyMmdbWriter SampleWriter(int ipVersion = 6, int recordSize = 28)
    {
        var w = new TinyMmdbWriter(ipVersion, recordSize)
            .Add("81.2.69.0/24", City("GB", "England", "London", 51.5142, -0.0931))
            .Add("8.8.8.0/24", City("US", "California", "Mountain View", 37.386, -122.0838))
            .Add("10.0.0.0/8", new Dictionary<string, object> { ["country_code"] = "ZZ" });
        if (ipVersion == 6)
        {
            w.Add("2001:db8::/32", City("DE", "Bavaria", "München", 48.1374, 11.5755));
            w.Add("2a02:c7c::/32", City("GB", "Scotland", "Edinburgh", 55.95, -3.19));
        }
        return w;
    }

    private static long Find(MmdbReader r, string ip) => r.Find(IPAddress.Parse(ip).GetAddressBytes());

    [Theory]
    [InlineData(24)]
    [InlineData(28)]
    [InlineData(32)]
    public void Ipv4_ipv6_and_mapped_addresses_find_their_records_with_every_record_size(int recordSize)
    {
        using var reader = MmdbReader.FromBytes(SampleWriter(6, recordSize).Build());
        Assert.Equal(recordSize, reader.Metadata.RecordSize);
        Assert.Equal(6, reader.Metadata.IpVersion);
        Assert.Equal("Eddy-Test-City", reader.Metadata.DatabaseType);
        var locator = new MmdbGeoLocator(reader);

        var london = locator.Locate("81.2.69.160");
        Assert.Equal(("GB", "England", "London"), (london.Country, london.Region, london.City));
        Assert.Equal(51.5142, london.Latitude!.Value, 3);
        Assert.Equal(-0.0931, london.Longitude!.Value, 3);

        Assert.Equal("US", locator.Locate("8.8.8.8").Country);
        Assert.Equal("München", locator.Locate("2001:db8::1").City);
        Assert.Equal("Edinburgh", locator.Locate("2a02:c7c:1234::5").City);
        // IPv4-mapped IPv6 is the IPv4 address.
        Assert.Equal("London", locator.Locate("::ffff:81.2.69.1").City);
        Assert.Equal(Find(reader, "81.2.69.1"), Find(reader, "::ffff:81.2.69.1"));
        // The prefix that matched, in the address family given.
        reader.Find(IPAddress.Parse("81.2.69.1").GetAddressBytes(), out int prefix);
        Assert.Equal(24, prefix);
        reader.Find(IPAddress.Parse("2001:db8::9").GetAddressBytes(), out prefix);
        Assert.Equal(32, prefix);
    }

    [Fact]
    public void Misses_and_malformed_addresses_give_unknown_and_are_counted()
    {
        using var reader = MmdbReader.FromBytes(SampleWriter().Build());
        var locator = new MmdbGeoLocator(reader);
        Assert.Equal(-1, Find(reader, "81.2.70.1"));
        Assert.Equal(-1, Find(reader, "2001:db9::1"));
        Assert.Same(GeoLocation.Unknown, locator.Locate("1.1.1.1"));
        Assert.Same(GeoLocation.Unknown, locator.Locate("2600::1"));
        Assert.Equal("{}", locator.Locate("1.1.1.1").Json);
        foreach (var bad in new[] { "", "   ", "not-an-ip", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1..2.3", "12345::g", "8.8.8.8x" })
            Assert.Same(GeoLocation.Unknown, locator.Locate(bad));
        Assert.Equal(9, locator.Metrics.Malformed);
        Assert.Equal(3, locator.Metrics.Misses);
        // A record with only a country still answers with the lab's three keys.
        Assert.Equal("{\"country\": \"ZZ\", \"state\": \"\", \"city\": \"\"}", locator.Locate("10.1.2.3").Json);
    }

    [Fact]
    public void An_ipv4_database_answers_ipv4_and_mapped_addresses_and_misses_ipv6()
    {
        using var reader = MmdbReader.FromBytes(SampleWriter(ipVersion: 4, recordSize: 24).Build());
        var locator = new MmdbGeoLocator(reader);
        Assert.Equal("London", locator.Locate("81.2.69.160").City);
        Assert.Equal("Mountain View", locator.Locate("::ffff:8.8.8.8").City);
        Assert.Same(GeoLocation.Unknown, locator.Locate("2001:db8::1"));
    }

    [Fact]
    public void Every_data_type_and_size_encoding_decodes()
    {
        var big = new byte[600_000];
        new Random(7).NextBytes(big);
        var shared = new MmdbPointerTo(new Dictionary<string, object> { ["shared"] = "through a pointer", ["n"] = 5u });
        var value = new Dictionary<string, object>
        {
            ["utf8"] = "Zürich 東京",
            ["double"] = 1.0 / 3,
            ["float"] = 2.5f,
            ["bytes"] = new byte[] { 0, 1, 2, 255 },
            ["uint16"] = new MmdbUInt16(65535),
            ["uint32"] = 4_000_000_000u,
            ["uint32_zero"] = 0u,
            ["int32_negative"] = -123456,
            ["int32_positive"] = 77,
            ["uint64"] = ulong.MaxValue - 1,
            ["uint128"] = UInt128.MaxValue - 5,
            ["array"] = new List<object> { "a", 1u, new List<object> { true, false } },
            ["map"] = new Dictionary<string, object> { ["nested"] = new Dictionary<string, object> { ["deep"] = 1.5 } },
            ["true"] = true,
            ["false"] = false,
            ["empty_map"] = new Dictionary<string, object>(),
            ["empty_array"] = new List<object>(),
            ["size29"] = new string('x', 100),
            ["size30"] = new string('y', 300),
            ["size31"] = new string('z', 70_000),
            ["big_bytes"] = big,
            ["pointer_small"] = new MmdbPointerTo("pointed-at string"),
            ["pointer_to_map"] = shared,
            ["pointer_to_map_again"] = shared,
        };
        using var reader = MmdbReader.FromBytes(new TinyMmdbWriter().Add("1.2.3.0/24", value).Build());
        long offset = Find(reader, "1.2.3.4");
        var decoded = Assert.IsType<Dictionary<string, object?>>(reader.Decode(offset));
        Assert.Equal("Zürich 東京", decoded["utf8"]);
        Assert.Equal(1.0 / 3, decoded["double"]);
        Assert.Equal(2.5f, decoded["float"]);
        Assert.Equal(new byte[] { 0, 1, 2, 255 }, decoded["bytes"]);
        Assert.Equal((ushort)65535, decoded["uint16"]);
        Assert.Equal(4_000_000_000u, decoded["uint32"]);
        Assert.Equal(0u, decoded["uint32_zero"]);
        Assert.Equal(-123456, decoded["int32_negative"]);
        Assert.Equal(77, decoded["int32_positive"]);
        Assert.Equal(ulong.MaxValue - 1, decoded["uint64"]);
        Assert.Equal(UInt128.MaxValue - 5, decoded["uint128"]);
        var array = Assert.IsType<List<object?>>(decoded["array"]);
        Assert.Equal("a", array[0]);
        Assert.Equal(1u, array[1]);
        Assert.Equal(new List<object?> { true, false }, array[2]);
        var nested = Assert.IsType<Dictionary<string, object?>>(Assert.IsType<Dictionary<string, object?>>(decoded["map"])["nested"]);
        Assert.Equal(1.5, nested["deep"]);
        Assert.Equal(true, decoded["true"]);
        Assert.Equal(false, decoded["false"]);
        Assert.Empty(Assert.IsType<Dictionary<string, object?>>(decoded["empty_map"]));
        Assert.Empty(Assert.IsType<List<object?>>(decoded["empty_array"]));
        Assert.Equal(new string('x', 100), decoded["size29"]);
        Assert.Equal(new string('y', 300), decoded["size30"]);
        Assert.Equal(new string('z', 70_000), decoded["size31"]);
        Assert.Equal(big, decoded["big_bytes"]);
        Assert.Equal("pointed-at string", decoded["pointer_small"]);
        var viaPointer = Assert.IsType<Dictionary<string, object?>>(decoded["pointer_to_map"]);
        Assert.Equal("through a pointer", viaPointer["shared"]);
        Assert.Equal(5u, viaPointer["n"]);
        Assert.Equal(viaPointer, decoded["pointer_to_map_again"]);

        // In-place access agrees with decoding, and skips over every type to reach later keys.
        Assert.True(reader.TryGetMapValue(offset, "pointer_to_map_again"u8, out var mapValue));
        Assert.Equal(MmdbType.Map, reader.TypeAt(mapValue));
        Assert.True(reader.TryGetMapValue(mapValue, "shared"u8, out var sharedValue));
        Assert.Equal("through a pointer"u8.ToArray(), reader.ReadUtf8(sharedValue).ToArray());
        Assert.True(reader.TryGetMapValue(offset, "double"u8, out var d));
        Assert.Equal(1.0 / 3, reader.ReadDouble(d));
        Assert.True(reader.TryGetMapValue(offset, "int32_negative"u8, out var i));
        Assert.Equal(-123456, reader.ReadDouble(i));
        Assert.False(reader.TryGetMapValue(offset, "absent"u8, out _));
    }

    [Fact]
    public void Pointers_of_every_size_up_to_three_bytes_resolve()
    {
        // Targets beyond 2 KiB and 512 KiB need the 2- and 3-byte pointer forms; strings repeated later are written as pointers.
        var w = new TinyMmdbWriter(6, 32)
            .Add("1.0.0.0/24", new Dictionary<string, object> { ["pad1"] = new byte[3000], ["state1"] = "Mid", ["pad2"] = new byte[530_000], ["city"] = "Late" })
            .Add("1.0.1.0/24", new Dictionary<string, object> { ["state1"] = "Mid", ["city"] = "Late", ["country_code"] = "AU", ["x"] = new MmdbPointerTo("near target") });
        using var reader = MmdbReader.FromBytes(w.Build());
        var locator = new MmdbGeoLocator(reader, cacheSize: 0);
        var location = locator.Locate("1.0.1.7");
        Assert.Equal(("AU", "Mid", "Late"), (location.Country, location.Region, location.City));
        var d = Assert.IsType<Dictionary<string, object?>>(reader.Decode(Find(reader, "1.0.1.1")));
        Assert.Equal("Mid", d["state1"]);
        Assert.Equal("Late", d["city"]);
        Assert.Equal("near target", d["x"]);
    }

    [Fact]
    public void The_record_cache_returns_the_same_location_and_counts_hits()
    {
        using var reader = MmdbReader.FromBytes(SampleWriter().Build());
        var locator = new MmdbGeoLocator(reader, cacheSize: 16);
        var first = locator.Locate("81.2.69.1");
        var second = locator.Locate("81.2.69.200");
        Assert.Same(first, second);
        Assert.Equal(1, locator.Metrics.CacheHits);
        var uncached = new MmdbGeoLocator(reader, cacheSize: 0);
        Assert.NotSame(uncached.Locate("81.2.69.1"), uncached.Locate("81.2.69.200"));
        Assert.Equal(first.Json, uncached.Locate("81.2.69.1").Json);
    }

    [Fact]
    public void The_json_lookup_answers_as_the_location_lookup_from_cold_and_warm_caches()
    {
        using var reader = MmdbReader.FromBytes(SampleWriter(ipVersion: 6, recordSize: 28).Build());
        string[] ips = ["81.2.69.160", "8.8.8.8", "10.9.8.7", "2001:db8::1", "2a02:c7c:1234::5", "::ffff:81.2.69.1", "1.1.1.1", "2600::1", "bad", ""];
        var oracle = new MmdbGeoLocator(reader, cacheSize: 0);
        // Round 0 walks the tree (cold caches); rounds 1 and 2 answer from the address caches.
        var cached = new MmdbGeoLocator(reader, cacheSize: 16);
        for (int round = 0; round < 3; round++)
        {
            foreach (var ip in ips) Assert.Equal(oracle.Locate(ip).Json, cached.LocateJson(ip));
            for (int i = 0; i < 300; i++)
            {
                string ip = $"10.{i % 7}.{i / 7}.{i % 251}";
                Assert.Equal(oracle.Locate(ip).Json, cached.LocateJson(ip));
                Assert.Equal(cached.Locate(ip).Json, cached.LocateJson(ip));
            }
        }
        Assert.True(cached.Metrics.CacheHits > 900, cached.Metrics.ToString());
        Assert.Equal("{\"country\": \"GB\", \"state\": \"England\", \"city\": \"London\"}", cached.LocateJson("81.2.69.7"));
        Assert.Equal("{}", new GeoFunctions(cached).GetLocation("1.1.1.1"));
    }

    [Fact]
    public void The_lab_json_matches_pythons_json_dumps()
    {
        using var reader = MmdbReader.FromBytes(SampleWriter().Build());
        var locator = new MmdbGeoLocator(reader);
        Assert.Equal("{\"country\": \"US\", \"state\": \"California\", \"city\": \"Mountain View\"}", locator.Locate("8.8.8.8").Json);
        Assert.Equal("{\"country\": \"DE\", \"state\": \"Bavaria\", \"city\": \"M\\u00fcnchen\"}", locator.Locate("2001:db8::1").Json);
    }

    [Fact]
    public void A_file_is_memory_mapped_and_a_broken_file_is_refused_with_its_name()
    {
        var path = Path.Combine(Path.GetTempPath(), $"eddy-geo-{Guid.NewGuid():N}.mmdb");
        File.WriteAllBytes(path, SampleWriter().Build());
        try
        {
            using (var reader = MmdbReader.Open(path))
                Assert.Equal("London", new MmdbGeoLocator(reader).Locate("81.2.69.5").City);
            File.WriteAllBytes(path, new byte[1000]);
            var e = Assert.Throws<InvalidDataException>(() => MmdbReader.Open(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("metadata marker", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
