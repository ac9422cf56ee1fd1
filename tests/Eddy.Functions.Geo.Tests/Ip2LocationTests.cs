using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Functions.Geo.Tests;

public class Ip2LocationTests : IAsyncLifetime
{
    private FakeIp2LocationServer server = null!;

    public async Task InitializeAsync() => server = await FakeIp2LocationServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    private Ip2LocationClient Client(Func<Ip2LocationOptions, Ip2LocationOptions>? tweak = null)
    {
        var options = new Ip2LocationOptions
        {
            Endpoint = server.Endpoint,
            Key = FakeIp2LocationServer.Key,
            // Generous, so that only the deliberately slow answers time out, however loaded the machine.
            RequestTimeout = TimeSpan.FromSeconds(5),
            MaxRetries = 3,
            RetryBackoff = TimeSpan.FromMilliseconds(10),
            CacheSize = 1000,
        };
        return new Ip2LocationClient(tweak?.Invoke(options) ?? options);
    }

    [Fact]
    public async Task A_good_answer_maps_the_lab_fields_and_is_cached()
    {
        using var client = Client();
        var first = await client.LocateAsync("203.0.113.7", CancellationToken.None);
        Assert.Equal(("C7", "Region 7", "City 7"), (first.Country, first.Region, first.City));
        Assert.Equal(1.5, first.Latitude);
        Assert.Equal("{\"country\": \"C7\", \"state\": \"Region 7\", \"city\": \"City 7\"}", first.Json);
        var again = await client.LocateAsync(" 203.0.113.7 ", CancellationToken.None);
        Assert.Same(first, again);
        Assert.Equal(1, server.Requests["203.0.113.7"]);
        Assert.Equal(1, client.Metrics.CacheHits);
        Assert.Equal(0.5, client.Metrics.CacheHitRate);
    }

    [Fact]
    public async Task Spellings_of_one_ipv6_address_share_a_cache_entry()
    {
        using var client = Client();
        await client.LocateAsync("2001:db8:0:0::1", CancellationToken.None);
        await client.LocateAsync("2001:DB8::1", CancellationToken.None);
        Assert.Equal(1, server.TotalRequests);
    }

    [Fact]
    public async Task Rate_limited_and_failing_answers_are_retried_with_back_off()
    {
        using var client = Client();
        var paris = await client.LocateAsync("9.9.9.3", CancellationToken.None);
        Assert.Equal("Paris", paris.City);
        Assert.Equal(3, server.Requests["9.9.9.3"]);
        var tokyo = await client.LocateAsync("9.9.9.6", CancellationToken.None);
        Assert.Equal("Tokyo", tokyo.City);
        Assert.Equal(2, server.Requests["9.9.9.6"]);
        var broken = await client.LocateAsync("9.9.9.4", CancellationToken.None);
        Assert.Same(GeoLocation.Unknown, broken);
        Assert.Equal(4, server.Requests["9.9.9.4"]); // 1 + 3 retries
        Assert.Equal(2 + 1 + 3, client.Metrics.Retries);
        Assert.Equal(1, client.Metrics.RemoteFailures);
        // A failure is not cached: the next lookup asks again.
        await client.LocateAsync("9.9.9.4", CancellationToken.None);
        Assert.Equal(8, server.Requests["9.9.9.4"]);
    }

    [Fact]
    public async Task A_slow_answer_times_out_and_is_retried()
    {
        using var client = Client(o => new Ip2LocationOptions { Endpoint = o.Endpoint, Key = o.Key, RequestTimeout = TimeSpan.FromSeconds(1), RetryBackoff = o.RetryBackoff });
        var zurich = await client.LocateAsync("9.9.9.2", CancellationToken.None);
        Assert.Equal("Zürich", zurich.City);
        Assert.Equal(2, server.Requests["9.9.9.2"]);
        using var noRetry = Client(o => new Ip2LocationOptions { Endpoint = o.Endpoint, Key = o.Key, RequestTimeout = TimeSpan.FromSeconds(1), MaxRetries = 0 });
        Assert.Same(GeoLocation.Unknown, await noRetry.LocateAsync("9.9.9.1", CancellationToken.None));
    }

    [Fact]
    public async Task Malformed_bodies_unknown_places_wrong_keys_and_bad_addresses_give_unknown()
    {
        using var client = Client();
        Assert.Same(GeoLocation.Unknown, await client.LocateAsync("9.9.9.5", CancellationToken.None));
        Assert.Same(GeoLocation.Unknown, await client.LocateAsync("10.0.0.1", CancellationToken.None));
        Assert.Equal("{}", (await client.LocateAsync("10.0.0.1", CancellationToken.None)).Json);
        Assert.Same(GeoLocation.Unknown, await client.LocateAsync("not an ip", CancellationToken.None));
        Assert.Same(GeoLocation.Unknown, await client.LocateAsync(null, CancellationToken.None));
        Assert.Equal(2, client.Metrics.Malformed);
        Assert.False(server.Requests.ContainsKey("not an ip"));
        using var wrongKey = Client(o => new Ip2LocationOptions { Endpoint = o.Endpoint, Key = "wrong", MaxRetries = 3 });
        Assert.Same(GeoLocation.Unknown, await wrongKey.LocateAsync("198.51.100.1", CancellationToken.None));
        Assert.Equal(1, server.Requests["198.51.100.1"]); // a 401 is not retried
    }

    [Fact]
    public async Task Concurrent_lookups_of_one_address_make_one_request()
    {
        using var client = Client();
        var all = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => client.LocateAsync("192.0.2.33", CancellationToken.None)));
        Assert.All(all, l => Assert.Equal("City 33", l.City));
        Assert.Equal(1, server.Requests["192.0.2.33"]);
    }

    [Fact]
    public void The_key_never_shows_in_descriptions()
    {
        var options = new Ip2LocationOptions { Key = "very-secret-key" };
        Assert.DoesNotContain("very-secret-key", options.ToString());
        var config = GeoConfig.From(new Dictionary<string, string> { ["geo.provider"] = "ip2location" }, n => n == "IP_CODING_KEY" ? "very-secret-key" : null);
        Assert.Equal("very-secret-key", config.Ip2Location.Key);
        Assert.DoesNotContain("very-secret-key", config.ToString());
    }

    [Fact]
    public async Task Through_the_async_operator_the_stream_keeps_flowing_in_order_with_misbehaving_addresses()
    {
        using var client = Client();
        var addresses = new List<string>();
        for (int i = 0; i < 300; i++)
        {
            addresses.Add((i % 50) switch
            {
                7 when i % 100 == 7 => "9.9.9.1", // slow beyond the element timeout
                11 => "9.9.9.3", // 429s
                13 => "9.9.9.4", // 500s
                17 => "9.9.9.5", // malformed
                19 => "bogus",
                _ => $"192.0.2.{i % 40}", // 40 distinct addresses, repeated: the cache answers most
            });
        }
        var op = new AsyncWaitOperator<string?, GeoLocation>(() => new AsyncGeoFunction(client),
            new AsyncOptions { Capacity = 16, Timeout = TimeSpan.FromSeconds(2) });
        var harness = new OperatorHarness<string?, GeoLocation>(op);
        harness.Elements(addresses.Select((a, i) => ((string?)a, (long)i)));
        harness.EndInput();

        Assert.Equal(addresses.Count, harness.Output.Records.Count);
        Assert.Equal(Enumerable.Range(0, addresses.Count).Select(i => (long)i), harness.Output.Records.Select(r => r.Timestamp));
        for (int i = 0; i < addresses.Count; i++)
        {
            var location = harness.Output.Records[i].Value;
            switch (addresses[i])
            {
                case "9.9.9.3": Assert.Equal("Paris", location.City); break;
                case "9.9.9.1" or "9.9.9.4" or "9.9.9.5" or "bogus": Assert.Same(GeoLocation.Unknown, location); break;
                default: Assert.Equal($"City {addresses[i].Split('.')[^1]}", location.City); break;
            }
        }
        Assert.True(op.TimedOut >= 1, "the slow address timed out in the operator");
        Assert.True(client.Metrics.CacheHitRate > 0.5, client.Metrics.ToString());
        Assert.Contains("cache-hit-rate=", client.Metrics.ToString());
    }
}

public class Ip2LocationSqlTests : IAsyncLifetime
{
    private FakeIp2LocationServer server = null!;

    public async Task InitializeAsync() => server = await FakeIp2LocationServer.StartAsync();

    public async Task DisposeAsync() => await server.DisposeAsync();

    private string Script(string body) => $"""
        SET 'geo.provider' = 'ip2location';
        SET 'geo.ip2location.endpoint' = '{server.Endpoint}';
        SET 'geo.ip2location.timeout' = '2 s';
        SET 'geo.ip2location.retry-backoff' = '10 ms';
        SET 'geo.async.capacity' = '8';
        SET 'geo.async.timeout' = '10 s';
        {body}
        """;

    [Fact]
    public void With_ip2location_the_planner_runs_get_location_in_an_async_operator_and_keeps_the_order()
    {
        var ips = Enumerable.Range(0, 120).Select(i => i % 30 == 29 ? "9.9.9.4" : $"192.0.2.{i % 25}").ToList();
        var values = string.Join(", ", ips.Select((ip, i) => $"({i}, '{ip}')"));
        var env = new Dictionary<string, string> { ["IP_CODING_KEY"] = FakeIp2LocationServer.Key };
        var (lines, session) = GeoSqlTests.Run(Script($"""
            CREATE TABLE out_t (n INT, ip STRING, geodata STRING, city STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT n, ip, get_location(ip), geo_city(ip) FROM (VALUES {values}) AS t(n, ip) WHERE n >= 0;
            """), env);
        Assert.Equal(ips.Count, lines.Count);
        for (int i = 0; i < ips.Count; i++)
        {
            var last = ips[i].Split('.')[^1];
            Assert.Equal(ips[i] == "9.9.9.4" ? $"+I[{i}, {ips[i]}, {{}}, null]"
                : $"+I[{i}, {ips[i]}, {{\"country\": \"C{last}\", \"state\": \"Region {last}\", \"city\": \"City {last}\"}}, City {last}]", lines[i]);
        }
        var metrics = session.Catalog.Geo.Metrics!;
        Assert.True(metrics.CacheHitRate > 0.5, metrics.ToString());
        Assert.True(server.Requests.Keys.Count(k => k.StartsWith("192.0.2.", StringComparison.Ordinal)) == 25);

        var explain = new StringWriter();
        var s = new Eddy.Sql.SqlSession(TestConnectors.Registry, explain, TextWriter.Null, n => env.GetValueOrDefault(n));
        s.Execute(Script("""
            CREATE TABLE out_t (ip STRING, geodata STRING) WITH ('connector' = 'print');
            EXPLAIN INSERT INTO out_t SELECT ip, get_location(ip) FROM (VALUES ('1.2.3.4')) AS t(ip);
            """));
        Assert.Contains("AsyncLookup", explain.ToString());
        Assert.DoesNotContain(FakeIp2LocationServer.Key, explain.ToString());
    }

    [Fact]
    public void Without_a_key_the_ip2location_provider_says_where_the_key_goes()
    {
        var e = Assert.ThrowsAny<Exception>(() => GeoSqlTests.Run(Script("""
            CREATE TABLE out_t (g STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT get_location(ip) FROM (VALUES ('1.2.3.4')) AS t(ip);
            """), []));
        Assert.Contains("IP_CODING_KEY", e.Message);
    }
}
