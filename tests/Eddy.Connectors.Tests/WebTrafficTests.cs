using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Eddy.Connectors;
using Eddy.Testing;
using Eddy.Sql.Connectors;

namespace Eddy.Tests;

public class WebTrafficTests
{
    private static List<(WebTrafficEvent Event, long Timestamp)> Generate(WebTrafficOptions options, long seed = 1, int subtask = 0, int parallelism = 1)
    {
        var generator = new WebTrafficGenerator(options, seed, subtask, parallelism);
        var events = new List<(WebTrafficEvent, long)>();
        while (generator.TryNext(out var e, out long ts)) events.Add((e, ts));
        return events;
    }

    [Fact]
    public void Events_look_like_the_labs_web_traffic()
    {
        var events = Generate(new WebTrafficOptions { Count = 20_000, Users = 500 });
        Assert.Equal(20_000, events.Count);
        Assert.All(events, e => Assert.Contains(e.Event.Host, WebTrafficOptions.Hosts));
        Assert.Equal(WebTrafficOptions.Hosts.Order(), events.Select(e => e.Event.Host).Distinct().Order());
        Assert.All(events, e => Assert.True(IPAddress.TryParse(e.Event.Ip, out _), e.Event.Ip));
        var families = events.Select(e => IPAddress.Parse(e.Event.Ip).AddressFamily).ToList();
        Assert.Contains(AddressFamily.InterNetworkV6, families);
        Assert.True(families.Count(f => f == AddressFamily.InterNetwork) > events.Count * 0.8);
        Assert.InRange(events.Select(e => e.Event.Ip).Distinct().Count(), 100, 500);
        Assert.Contains(events, e => e.Event.Referrer is null);
        Assert.Contains(events, e => e.Event.Referrer == "");
        Assert.Contains(events, e => e.Event.Referrer?.StartsWith("https://", StringComparison.Ordinal) == true);
        Assert.All(events, e => Assert.StartsWith("/", e.Event.Url));
        Assert.True(events.Select(e => e.Event.UserAgent).Distinct().Count() > 3);
        foreach (var (e, ts) in events.Take(2000))
        {
            using var headers = JsonDocument.Parse(e.Headers);
            Assert.Equal(JsonValueKind.Object, headers.RootElement.ValueKind);
            Assert.Equal(e.Host, headers.RootElement.GetProperty("host").GetString());
            Assert.Equal(e.UserAgent, headers.RootElement.GetProperty("user-agent").GetString());
            Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", e.EventTime);
            var parsed = DateTimeOffset.ParseExact(e.EventTime, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
            Assert.Equal(ts, parsed.ToUnixTimeMilliseconds());
        }
    }

    [Fact]
    public void Visitors_come_back_so_that_sessions_form()
    {
        var events = Generate(new WebTrafficOptions { Count = 10_000, Users = 200 });
        var perIp = events.GroupBy(e => e.Event.Ip).Select(g => g.Count()).ToList();
        Assert.True(perIp.Count(c => c >= 10) > 50);
    }

    [Fact]
    public void Event_time_advances_from_the_start_at_the_configured_rate()
    {
        var start = new DateTimeOffset(2023, 5, 1, 8, 0, 0, TimeSpan.Zero);
        var events = Generate(new WebTrafficOptions { Count = 1000, Start = start, EventsPerSecond = 100, MaxOutOfOrderness = TimeSpan.Zero, LateShare = 0 });
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => start.ToUnixTimeMilliseconds() + i * 10L), events.Select(e => e.Timestamp));
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.05)]
    [InlineData(0.2)]
    public void Out_of_orderness_is_bounded_and_late_events_have_the_configured_share(double lateShare)
    {
        var bound = TimeSpan.FromSeconds(5);
        var events = Generate(new WebTrafficOptions
        {
            Count = 100_000, EventsPerSecond = 50, MaxOutOfOrderness = bound, LateShare = lateShare, MaxLateness = TimeSpan.FromSeconds(30),
        });
        long boundMs = (long)bound.TotalMilliseconds;
        long newest = long.MinValue;
        int late = 0, behind = 0;
        foreach (var (_, ts) in events)
        {
            // The watermark of a bounded-out-of-orderness strategy with the same bound: newest − bound − 1.
            if (newest != long.MinValue && ts <= newest - boundMs - 1)
            {
                late++;
                Assert.True(ts >= newest - boundMs - 1 - 30_000, "late by more than the configured lateness");
            }
            else if (newest != long.MinValue && ts < newest) behind++;
            newest = Math.Max(newest, ts);
        }
        Assert.InRange(late / 100_000.0, lateShare * 0.9, lateShare * 1.1);
        Assert.True(behind > 10_000, "on-time events are out of order within the bound");
    }

    [Fact]
    public void A_seed_makes_the_events_the_same_and_another_seed_different()
    {
        var options = new WebTrafficOptions { Count = 5000 };
        Assert.Equal(Generate(options, 7), Generate(options, 7));
        Assert.NotEqual(Generate(options, 7).Select(e => e.Event), Generate(options, 8).Select(e => e.Event));
        var source = new WebTrafficSource(options with { Seed = 3 });
        Assert.Equal(SourceReading.ReadAll(source), SourceReading.ReadAll(new WebTrafficSource(options with { Seed = 3 })));
    }

    [Fact]
    public void The_source_gives_event_time_as_the_record_timestamp_and_splits_the_count()
    {
        var source = new WebTrafficSource(new WebTrafficOptions { Seed = 9, Count = 1000, EventsPerSecond = 1000, LateShare = 0, MaxOutOfOrderness = TimeSpan.Zero });
        Assert.True(source.IsBounded);
        var parts = Enumerable.Range(0, 3).Select(s => SourceReading.ReadAll(source, s, 3)).ToList();
        Assert.Equal([334, 333, 333], parts.Select(p => p.Count));
        var all = parts.SelectMany(p => p).ToList();
        Assert.All(all, r => Assert.Equal(WebTrafficEvent.FormatEventTime(r.Timestamp), r.Value.EventTime));
        // Together the subtasks cover every event index once: one event per ms from the start.
        long start = new WebTrafficOptions().Start.ToUnixTimeMilliseconds();
        Assert.Equal(Enumerable.Range(0, 1000).Select(i => start + i), all.Select(r => r.Timestamp).Order());
        Assert.False(new WebTrafficSource().IsBounded);
    }

    [Fact]
    public void The_row_form_has_the_same_columns()
    {
        var options = new WebTrafficOptions { Seed = 4, Count = 50 };
        var events = SourceReading.ReadAll(new WebTrafficSource(options));
        var rows = SourceReading.ReadAll(new WebTrafficSource(options).AsRows());
        Assert.Equal(["url", "referrer", "user_agent", "host", "ip", "headers", "event_time"], WebTrafficEvent.Schema.Columns.Select(c => c.Name));
        Assert.Equal(events.Select(e => e.Value.ToRow()), rows.Select(r => r.Value));
        Assert.Equal(events.Select(e => e.Timestamp), rows.Select(r => r.Timestamp));
        var e0 = events[0].Value;
        Assert.Equal(Row.Of(e0.Url, e0.Referrer, e0.UserAgent, e0.Host, e0.Ip, e0.Headers, e0.EventTime), rows[0].Value);
    }

    [Fact]
    public void Rows_per_second_throttles_the_source()
    {
        var source = new WebTrafficSource(new WebTrafficOptions { Seed = 1, RowsPerSecond = 200 });
        var clock = new ManualClock(0);
        using var reader = source.CreateReader(SourceReading.Context(0, 2, clock));
        var output = new Eddy.Runtime.SourceOutput<WebTrafficEvent>();
        Assert.Empty(SourceReading.ReadOnce(reader, output).Records);
        clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(100, SourceReading.ReadOnce(reader, output).Records.Count);
    }
}

public class WebTrafficOptionTests
{
    [Fact]
    public void Sql_options_configure_the_generator()
    {
        var options = WebTrafficOptions.Parse("t", new Dictionary<string, string>
        {
            ["connector"] = "web-traffic", ["seed"] = "12", ["start"] = "2023-06-01T10:00:00Z", ["events-per-second"] = "250",
            ["max-out-of-orderness"] = "3 s", ["late-share"] = "0.02", ["max-lateness"] = "1 min", ["users"] = "50",
            ["ipv6-share"] = "0.5", ["number-of-rows"] = "1000", ["rows-per-second"] = "500",
        });
        Assert.Equal(new WebTrafficOptions
        {
            Seed = 12, Start = new DateTimeOffset(2023, 6, 1, 10, 0, 0, TimeSpan.Zero), EventsPerSecond = 250,
            MaxOutOfOrderness = TimeSpan.FromSeconds(3), LateShare = 0.02, MaxLateness = TimeSpan.FromMinutes(1), Users = 50,
            Ipv6Share = 0.5, Count = 1000, RowsPerSecond = 500,
        }, options);
    }

    [Theory]
    [InlineData("late-share", "1.5", "table 't', option 'late-share': expected a number between 0 and 1, got '1.5'")]
    [InlineData("events-per-second", "0", "table 't', option 'events-per-second': expected a positive number, got '0'")]
    [InlineData("users", "0", "table 't', option 'users': expected a positive integer, got '0'")]
    [InlineData("start", "noon", "table 't', option 'start': expected an ISO-8601 time such as '2024-01-01T00:00:00Z', got 'noon'")]
    [InlineData("max-lateness", "1 fortnight", "table 't', option 'max-lateness': unknown time unit 'fortnight' in '1 fortnight'; use ms, s, min, h or d")]
    [InlineData("hosts", "x", "table 't', option 'hosts': unknown option for connector 'web-traffic'; its options are connector, seed, start, events-per-second, max-out-of-orderness, late-share, max-lateness, users, ipv6-share, number-of-rows, rows-per-second")]
    public void Bad_options_fail_naming_the_option(string key, string value, string message) =>
        Assert.Equal(message, Assert.Throws<ConnectorOptionException>(() => WebTrafficOptions.Parse("t", new Dictionary<string, string> { [key] = value })).Message);
}
