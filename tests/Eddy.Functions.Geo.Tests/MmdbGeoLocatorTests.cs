using System.Net;

namespace Eddy.Functions.Geo.Tests;

/// <summary>
/// The offline locator over databases written by <see cref="TinyMmdbWriter"/> (an independent writer, from the
/// format's specification) and read with MaxMind's reader.
/// </summary>
public class MmdbGeoLocatorTests
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

    private static GeoDatabase Database(TinyMmdbWriter writer) => GeoDatabase.FromBytes(writer.Build());

    private static int Prefix(GeoDatabase database, string ip)
    {
        Assert.NotNull(database.Find(IPAddress.Parse(ip).GetAddressBytes(), out int prefix));
        return prefix;
    }

    [Theory]
    [InlineData(24)]
    [InlineData(28)]
    [InlineData(32)]
    public void Ipv4_ipv6_and_mapped_addresses_find_their_records_with_every_record_size(int recordSize)
    {
        using var reader = Database(SampleWriter(6, recordSize));
        Assert.Equal(6, reader.IpVersion);
        Assert.Equal("Eddy-Test-City", reader.DatabaseType);
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
        // The prefix that matched, in the address family given.
        Assert.Equal(24, Prefix(reader, "81.2.69.1"));
        Assert.Equal(32, Prefix(reader, "2001:db8::9"));
    }

    [Fact]
    public void Misses_and_malformed_addresses_give_unknown_and_are_counted()
    {
        using var reader = Database(SampleWriter());
        var locator = new MmdbGeoLocator(reader);
        Assert.Null(reader.Find(IPAddress.Parse("81.2.70.1").GetAddressBytes(), out _));
        Assert.Null(reader.Find(IPAddress.Parse("2001:db9::1").GetAddressBytes(), out _));
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
        using var reader = Database(SampleWriter(ipVersion: 4, recordSize: 24));
        var locator = new MmdbGeoLocator(reader);
        Assert.Equal("London", locator.Locate("81.2.69.160").City);
        Assert.Equal("Mountain View", locator.Locate("::ffff:8.8.8.8").City);
        Assert.Same(GeoLocation.Unknown, locator.Locate("2001:db8::1"));
    }

    [Fact]
    public void A_record_in_maxminds_own_city_layout_is_read_from_its_nested_maps()
    {
        static Dictionary<string, object> Names(string en) => new() { ["names"] = new Dictionary<string, object> { ["en"] = en, ["de"] = "x" } };
        var record = new Dictionary<string, object>
        {
            ["country"] = new Dictionary<string, object> { ["iso_code"] = "FR", ["names"] = new Dictionary<string, object> { ["en"] = "France" } },
            ["subdivisions"] = new List<object> { Names("Île-de-France"), Names("Paris") },
            ["city"] = Names("Paris"),
            ["location"] = new Dictionary<string, object> { ["latitude"] = 48.8566, ["longitude"] = 2.3522, ["accuracy_radius"] = new MmdbUInt16(20) },
        };
        using var database = Database(new TinyMmdbWriter(6, 28).Add("2.2.2.0/24", record));
        var location = new MmdbGeoLocator(database, cacheSize: 0).Locate("2.2.2.2");
        Assert.Equal(("FR", "Île-de-France", "Paris"), (location.Country, location.Region, location.City));
        Assert.Equal(48.8566, location.Latitude!.Value, 6);
        Assert.Equal(2.3522, location.Longitude!.Value, 6);
    }

    [Fact]
    public void Pointers_of_every_size_up_to_three_bytes_resolve()
    {
        // Targets beyond 2 KiB and 512 KiB need the 2- and 3-byte pointer forms; strings repeated later are written as pointers.
        var w = new TinyMmdbWriter(6, 32)
            .Add("1.0.0.0/24", new Dictionary<string, object> { ["pad1"] = new byte[3000], ["state1"] = "Mid", ["pad2"] = new byte[530_000], ["city"] = "Late" })
            .Add("1.0.1.0/24", new Dictionary<string, object> { ["state1"] = "Mid", ["city"] = "Late", ["country_code"] = "AU", ["x"] = new MmdbPointerTo("near target") });
        using var reader = Database(w);
        var locator = new MmdbGeoLocator(reader, cacheSize: 0);
        var location = locator.Locate("1.0.1.7");
        Assert.Equal(("AU", "Mid", "Late"), (location.Country, location.Region, location.City));
        var first = locator.Locate("1.0.0.7");
        Assert.Equal((null, "Mid", "Late"), (first.Country, first.Region, first.City));
    }

    [Fact]
    public void The_cache_answers_addresses_and_blocks_of_a_network_and_shares_one_location_per_value()
    {
        using var reader = Database(SampleWriter()
            .Add("20.0.0.0/25", City("NL", "Noord-Holland", "Amsterdam", 52.37, 4.89))
            .Add("20.0.0.128/25", City("NL", "Noord-Holland", "Amsterdam", 52.37, 4.89)));
        var locator = new MmdbGeoLocator(reader, cacheSize: 16);
        var first = locator.Locate("81.2.69.1");
        // Another address of the same /24 network: its block is known.
        var second = locator.Locate("81.2.69.200");
        Assert.Same(first, second);
        Assert.Equal(1, locator.Metrics.CacheHits);
        Assert.Same(first, locator.Locate("81.2.69.200"));
        Assert.Equal(2, locator.Metrics.CacheHits);
        // Two /25 networks in one /24 block: the block cannot answer, the database does (one location for both).
        var low = locator.Locate("20.0.0.1");
        var high = locator.Locate("20.0.0.200");
        Assert.Same(low, high);
        Assert.Equal("Amsterdam", high.City);
        Assert.Equal(2, locator.Metrics.CacheHits);
        var uncached = new MmdbGeoLocator(reader, cacheSize: 0);
        Assert.NotSame(uncached.Locate("81.2.69.1"), uncached.Locate("81.2.69.200"));
        Assert.Equal(first.Json, uncached.Locate("81.2.69.1").Json);
    }

    [Fact]
    public void The_json_lookup_answers_as_the_location_lookup_from_cold_and_warm_caches()
    {
        using var reader = Database(SampleWriter(ipVersion: 6, recordSize: 28));
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
        using var reader = Database(SampleWriter());
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
            using (var reader = GeoDatabase.Open(path))
                Assert.Equal("London", new MmdbGeoLocator(reader).Locate("81.2.69.5").City);
            File.WriteAllBytes(path, new byte[1000]);
            var e = Assert.Throws<InvalidDataException>(() => GeoDatabase.Open(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("not a MaxMind DB file", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
