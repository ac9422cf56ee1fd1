using System.Text.Json;
using Eddy.Sql;

namespace Eddy.Functions.Geo.Tests;

/// <summary>A user's own get_location, registered with CREATE FUNCTION: it must win over the built-in.</summary>
public class UserLocation
{
    public string Eval(string ip) => "mine:" + ip;
}

public class GeoSqlTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-geo-sql-").FullName;
    private readonly string database;

    public GeoSqlTests()
    {
        database = Path.Combine(dir, "city.mmdb");
        File.WriteAllBytes(database, MmdbGeoLocatorTests.SampleWriter()
            .Add("150.37.143.0/24", new Dictionary<string, object> { ["country_code"] = "JP", ["state1"] = "Tokyo", ["city"] = "Shinjuku", ["latitude"] = 35.69f, ["longitude"] = 139.7f })
            .Add("2a04:e80c::/32", new Dictionary<string, object> { ["country_code"] = "NL", ["state1"] = "North Holland", ["city"] = "Amsterdam" })
            .Build());
    }

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    internal static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d is not null && !File.Exists(Path.Combine(d.FullName, "Eddy.slnx"))) d = d.Parent;
        return d?.FullName ?? throw new DirectoryNotFoundException("repository root (Eddy.slnx) not found");
    }

    internal static (List<string> Lines, SqlSession Session) Run(string sql, Dictionary<string, string> env)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, name => env.TryGetValue(name, out var v) ? v : null);
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return (output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList(), session);
    }

    [Fact]
    public void The_labs_pass_through_job_geolocates_every_event_offline()
    {
        var events = Path.Combine(Root, "examples", "data", "web-events.jsonl");
        var (lines, session) = Run(File.ReadAllText(Path.Combine(Root, "examples", "lab", "01-pass-through-geo.sql")),
            new() { ["EDDY_EVENTS"] = events, ["EDDY_GEO_DATABASE"] = database });

        // The oracle: the events file read here, each IP placed by the networks the test database holds.
        var ips = File.ReadLines(events).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("ip").GetString()!).ToList();
        static string Expected(string ip) =>
            ip.StartsWith("150.37.143.", StringComparison.Ordinal) ? "{\"country\": \"JP\", \"state\": \"Tokyo\", \"city\": \"Shinjuku\"}"
            : ip.StartsWith("2a04:e80c:", StringComparison.Ordinal) ? "{\"country\": \"NL\", \"state\": \"North Holland\", \"city\": \"Amsterdam\"}"
            : "{}";
        Assert.Equal(ips.Count, lines.Count);
        var got = lines.Select(l => (Ip: l[3..l.IndexOf(',')], Geo: l[(l.LastIndexOf(", {", StringComparison.Ordinal) + 2)..^1])).ToList();
        Assert.Equal(ips.Order(StringComparer.Ordinal), got.Select(g => g.Ip).Order(StringComparer.Ordinal));
        Assert.All(got, g => Assert.Equal(Expected(g.Ip), g.Geo));
        Assert.Contains(got, g => g.Geo.Contains("Shinjuku", StringComparison.Ordinal));
        Assert.Contains(got, g => g.Geo.Contains("Amsterdam", StringComparison.Ordinal));
        Assert.Contains(got, g => g.Geo == "{}");
        Assert.Equal(ips.Count, session.Catalog.Geo.Metrics!.Lookups);
    }

    [Fact]
    public void Typed_functions_give_nulls_for_unknown_and_malformed_addresses_which_are_counted()
    {
        var (lines, session) = Run("""
            CREATE TABLE out_t (ip STRING, loc STRING, country STRING, region STRING, city STRING, lat DOUBLE, lon DOUBLE) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT ip, get_location(ip), geo_country(ip), geo_region(ip), geo_city(ip), geo_lat(ip), geo_lon(ip)
            FROM (VALUES ('81.2.69.160'), ('::ffff:8.8.8.8'), ('1.1.1.1'), ('not-an-ip'), (CAST(NULL AS STRING))) AS t(ip);
            """, new() { ["EDDY_GEO_DATABASE"] = database });
        Assert.Equal(5, lines.Count);
        Assert.StartsWith("+I[81.2.69.160, {\"country\": \"GB\", \"state\": \"England\", \"city\": \"London\"}, GB, England, London, 51.514", lines[0]);
        Assert.StartsWith("+I[::ffff:8.8.8.8, {\"country\": \"US\", \"state\": \"California\", \"city\": \"Mountain View\"}, US, California, Mountain View, 37.38", lines[1]);
        Assert.Equal("+I[1.1.1.1, {}, null, null, null, null, null]", lines[2]);
        Assert.Equal("+I[not-an-ip, {}, null, null, null, null, null]", lines[3]);
        Assert.Equal("+I[null, {}, null, null, null, null, null]", lines[4]);
        Assert.Equal(6, session.Catalog.Geo.Metrics!.Malformed); // six calls on 'not-an-ip'
    }

    [Fact]
    public async Task The_jobs_counters_show_the_geo_lookups_malformed_addresses_and_cache_hits()
    {
        var output = new StringWriter();
        var env = new Dictionary<string, string> { ["EDDY_GEO_DATABASE"] = database };
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, name => env.TryGetValue(name, out var v) ? v : null);
        var plain = session.Execute("""
            CREATE TABLE out_t (g STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT ip FROM (VALUES ('81.2.69.160')) AS t(ip);
            """).Single();
        Assert.Empty(plain.Environment.Counters.Read());
        var job = session.Execute("""
            INSERT INTO out_t SELECT get_location(ip) FROM (VALUES ('81.2.69.160'), ('81.2.69.160'), ('81.2.69.161'), ('not-an-ip')) AS t(ip);
            """).Single();
        var execution = job.Environment.Start(job.Name);
        var result = await execution.Completion;
        Assert.Null(result.Failure);
        var counters = execution.Counters.Read().ToDictionary(c => c.Name, c => c.Value);
        Assert.Equal(4, counters["geo_lookups_total"]);
        Assert.Equal(1, counters["geo_malformed_total"]);
        // The second 81.2.69.160 hits the address cache; 81.2.69.161 misses it but hits its /24 block (London's network is a /24).
        Assert.Equal(2, counters["geo_cache_hits_total"]);
        Assert.Equal(1, counters["geo_cache_misses_total"]);
        Assert.Equal(0, counters["geo_remote_errors_total"]);
    }

    [Fact]
    public void A_users_get_location_wins_over_the_built_in()
    {
        var (lines, _) = Run($"""
            CREATE FUNCTION get_location AS '{typeof(UserLocation).FullName}';
            CREATE TABLE out_t (g STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT get_location(ip) FROM (VALUES ('81.2.69.160')) AS t(ip);
            """, new() { ["EDDY_GEO_DATABASE"] = Path.Combine(dir, "absent.mmdb") });
        Assert.Equal(["+I[mine:81.2.69.160]"], lines);
    }

    [Fact]
    public void Without_a_database_the_statement_fails_at_the_call_saying_how_to_get_one()
    {
        var absent = Path.Combine(dir, "nothing-here");
        var e = Assert.ThrowsAny<Exception>(() => Run("""
            CREATE TABLE out_t (g STRING) WITH ('connector' = 'print');
            INSERT INTO out_t
            SELECT get_location(ip) FROM (VALUES ('81.2.69.160')) AS t(ip);
            """, new() { ["EDDY_GEO_DATABASE"] = absent }));
        Assert.Contains(absent, e.Message);
        Assert.Contains("scripts/fetch-geo-db.sh", e.Message);
        Assert.Contains("3:8", e.Message.Replace("line 3, column 8", "3:8", StringComparison.Ordinal));
    }

    [Fact]
    public void Geo_options_are_checked_when_set()
    {
        var e = Assert.ThrowsAny<Exception>(() => Run("SET 'geo.provider' = 'carrier-pigeon';", []));
        Assert.Contains("geo.provider", e.Message);
        Assert.Contains("carrier-pigeon", e.Message);
        e = Assert.ThrowsAny<Exception>(() => Run("SET 'geo.async.timeout' = 'soon';", []));
        Assert.Contains("geo.async.timeout", e.Message);
    }

    [Fact]
    public void A_database_path_can_be_set_in_sql_and_a_folder_holds_one_file_per_address_family()
    {
        var folder = Path.Combine(dir, "split");
        Directory.CreateDirectory(folder);
        File.WriteAllBytes(Path.Combine(folder, "test-city-ipv4.mmdb"), MmdbGeoLocatorTests.SampleWriter(ipVersion: 4, recordSize: 24).Build());
        File.WriteAllBytes(Path.Combine(folder, "test-city-ipv6.mmdb"), new TinyMmdbWriter(6, 32)
            .Add("2001:db8::/32", new Dictionary<string, object> { ["country_code"] = "SE", ["city"] = "Malmö" }).Build());
        var (lines, _) = Run($"""
            SET 'geo.database' = '{folder}';
            CREATE TABLE out_t (c STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT geo_city(ip) FROM (VALUES ('81.2.69.160'), ('2001:db8::7')) AS t(ip);
            """, []);
        Assert.Equal(["+I[London]", "+I[Malmö]"], lines);
    }
}
