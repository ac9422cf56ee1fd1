using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary><c>eddy produce</c> run as a process against the mock cluster over TCP; messages are read back and parsed.</summary>
public partial class ProduceCommandTests
{
    private sealed record Outcome(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed);

    private static async Task<Outcome> Run(params string[] args)
    {
        var clock = Stopwatch.StartNew();
        using var eddy = EddyProcess.Start(args);
        var stdout = eddy.StandardOutput.ReadToEndAsync();
        var stderr = eddy.StandardError.ReadToEndAsync();
        await eddy.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
        return new Outcome(eddy.ExitCode, await stdout, await stderr, clock.Elapsed);
    }

    /// <summary>Every message of a one-partition topic, in order, checking that the topic holds no more.</summary>
    private static List<(string? Key, string Value)> ReadAll(KafkaFixture kafka)
    {
        using var consumer = new ConsumerBuilder<string?, string>(new ConsumerConfig { BootstrapServers = kafka.Cluster.Bootstrap, GroupId = "produce-tests" }).Build();
        var partition = new TopicPartition(kafka.Topic, 0);
        long end = consumer.QueryWatermarkOffsets(partition, TimeSpan.FromSeconds(10)).High.Value;
        consumer.Assign(new TopicPartitionOffset(partition, Offset.Beginning));
        var got = new List<(string?, string)>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (got.Count < end && DateTime.UtcNow < deadline)
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) got.Add((r.Message.Key, r.Message.Value));
        Assert.Equal(end, got.Count);
        return got;
    }

    private static async Task<List<(string? Key, string Value)>> Produce(params string[] args)
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var outcome = await Run(["produce", "--bootstrap", kafka.Cluster.Bootstrap, "--topic", kafka.Topic, .. args]);
        Assert.True(outcome.ExitCode == 0, outcome.Stderr);
        Assert.Contains("done: sent", outcome.Stderr);
        return ReadAll(kafka);
    }

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")]
    private static partial Regex IsoMillis();

    [Fact]
    public async Task Web_traffic_has_the_labs_fields_keyed_by_ip_near_now()
    {
        var before = DateTime.UtcNow;
        var messages = await Produce("--events", "web-traffic", "--count", "300", "--seed", "7", "--late-share", "0.2");
        Assert.Equal(300, messages.Count);
        int late = 0;
        DateTime newest = DateTime.MinValue;
        foreach (var (key, value) in messages)
        {
            using var doc = JsonDocument.Parse(value);
            var e = doc.RootElement;
            Assert.Equal(["url", "referrer", "user_agent", "host", "ip", "headers", "event_time"], e.EnumerateObject().Select(p => p.Name));
            Assert.StartsWith("/", e.GetProperty("url").GetString());
            Assert.Contains(e.GetProperty("host").GetString(), (string[])["zachwilson.techcreator.io", "zachwilson.tech", "lulu.techcreator.io", "bootcamp.techcreator.io"]);
            string ip = e.GetProperty("ip").GetString()!;
            Assert.True(IPAddress.TryParse(ip, out _), ip);
            Assert.Equal(ip, key);
            Assert.Equal(JsonValueKind.Object, e.GetProperty("headers").ValueKind);
            Assert.Equal(ip, e.GetProperty("headers").GetProperty("x-forwarded-for").GetString());
            Assert.True(e.GetProperty("referrer").ValueKind is JsonValueKind.String or JsonValueKind.Null);
            string time = e.GetProperty("event_time").GetString()!;
            Assert.Matches(IsoMillis(), time);
            var t = DateTime.ParseExact(time, "yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);
            // Near now: the default start is the wall clock; late events lie at most ~1 min 5 s behind.
            Assert.InRange(t, before.AddMinutes(-2), DateTime.UtcNow.AddMinutes(1));
            if (newest != DateTime.MinValue && t < newest.AddSeconds(-5)) late++;
            if (t > newest) newest = t;
        }
        // A fifth are late by design (beyond the 5 s bound); allow for chance.
        Assert.InRange(late, 20, 120);
    }

    [Fact]
    public async Task Test_data_counts_from_zero_with_epoch_millis()
    {
        long before = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var messages = await Produce("--events", "test-data", "--count", "250");
        long after = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(250, messages.Count);
        for (int i = 0; i < messages.Count; i++)
        {
            Assert.Null(messages[i].Key);
            using var doc = JsonDocument.Parse(messages[i].Value);
            Assert.Equal(["test_data", "event_timestamp"], doc.RootElement.EnumerateObject().Select(p => p.Name));
            Assert.Equal(i, doc.RootElement.GetProperty("test_data").GetInt32());
            Assert.InRange(doc.RootElement.GetProperty("event_timestamp").GetInt64(), before, after);
        }
    }

    [Fact]
    public async Task Taxi_trips_have_the_homeworks_columns_and_plausible_values()
    {
        var messages = await Produce("--events", "taxi", "--count", "400", "--seed", "3");
        Assert.Equal(400, messages.Count);
        foreach (var (key, value) in messages)
        {
            Assert.Null(key);
            using var doc = JsonDocument.Parse(value);
            var e = doc.RootElement;
            Assert.Equal(["lpep_pickup_datetime", "lpep_dropoff_datetime", "PULocationID", "DOLocationID", "passenger_count", "trip_distance", "tip_amount"],
                e.EnumerateObject().Select(p => p.Name));
            var pickup = DateTime.ParseExact(e.GetProperty("lpep_pickup_datetime").GetString()!, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            var dropoff = DateTime.ParseExact(e.GetProperty("lpep_dropoff_datetime").GetString()!, "yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
            Assert.InRange(dropoff - pickup, TimeSpan.FromMinutes(1), TimeSpan.FromHours(5));
            Assert.InRange(e.GetProperty("PULocationID").GetInt32(), 1, 265);
            Assert.InRange(e.GetProperty("DOLocationID").GetInt32(), 1, 265);
            Assert.InRange(e.GetProperty("passenger_count").GetInt32(), 1, 6);
            Assert.InRange(e.GetProperty("trip_distance").GetDouble(), 0.3, 25);
            Assert.InRange(e.GetProperty("tip_amount").GetDouble(), 0, 25);
        }
        Assert.Contains(messages, m => m.Value.Contains("\"tip_amount\":0}", StringComparison.Ordinal));
        Assert.Contains(messages, m => !m.Value.Contains("\"tip_amount\":0}", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("web-traffic")]
    [InlineData("taxi")]
    public async Task A_seed_and_start_give_the_same_messages(string kind)
    {
        string[] args = ["--events", kind, "--count", "200", "--seed", "42", "--start", "2024-05-01T12:00:00Z"];
        var first = await Produce(args);
        var second = await Produce(args);
        Assert.Equal(first, second);
        var other = await Produce(["--events", kind, "--count", "200", "--seed", "43", "--start", "2024-05-01T12:00:00Z"]);
        Assert.NotEqual(first, other);
        if (kind == "web-traffic") Assert.StartsWith("2024-05-01T1", JsonDocument.Parse(first[0].Value).RootElement.GetProperty("event_time").GetString());
    }

    [Fact]
    public async Task A_file_is_sent_line_by_line()
    {
        string path = Path.Combine(Path.GetTempPath(), $"eddy-produce-{Guid.NewGuid():N}.jsonl");
        string[] lines = ["{\"a\":1}", "{\"a\":2,\"s\":\"x y\"}", "{\"a\":3,\"nested\":{\"b\":[1,2]}}"];
        await File.WriteAllTextAsync(path, string.Join("\n", lines) + "\n\n");
        try
        {
            var all = await Produce("--events", "file:" + path);
            Assert.Equal(lines, all.Select(m => m.Value));
            Assert.All(all, m => Assert.Null(m.Key));
            var firstTwo = await Produce("--events", "file:" + path, "--count", "2");
            Assert.Equal(lines[..2], firstTwo.Select(m => m.Value));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task Unkeyed_lines_are_spread_evenly_over_the_partitions()
    {
        // librdkafka's sticky partitioner sends a burst of unkeyed messages to one partition: a file sent at full
        // speed filled some partitions 40 times more than others, and the dev broker (about 5 MB per partition)
        // dropped the oldest records of the fullest ones, which the recovery suite took for a job losing rows.
        const int Lines = 16_000, Partitions = 8;
        string path = Path.Combine(Path.GetTempPath(), $"eddy-produce-{Guid.NewGuid():N}.jsonl");
        await File.WriteAllLinesAsync(path, Enumerable.Range(0, Lines).Select(i => $"{{\"id\":{i}}}"));
        try
        {
            using var kafka = new KafkaFixture(partitions: Partitions);
            var outcome = await Run("produce", "--bootstrap", kafka.Cluster.Bootstrap, "--topic", kafka.Topic, "--events", "file:" + path);
            Assert.True(outcome.ExitCode == 0, outcome.Stderr);
            using var consumer = new ConsumerBuilder<Ignore, Ignore>(new ConsumerConfig { BootstrapServers = kafka.Cluster.Bootstrap, GroupId = "produce-tests" }).Build();
            var sizes = Enumerable.Range(0, Partitions)
                .Select(p => consumer.QueryWatermarkOffsets(new TopicPartition(kafka.Topic, p), TimeSpan.FromSeconds(10)).High.Value).ToList();
            Assert.Equal(Lines, sizes.Sum());
            // A random partition per message: 2000 ± 42 (one standard deviation) each; a burst is thousands.
            Assert.All(sizes, n => Assert.InRange(n, Lines / Partitions * 8 / 10, Lines / Partitions * 12 / 10));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task A_line_too_large_for_kafka_is_an_error_and_the_rest_is_sent()
    {
        string path = Path.Combine(Path.GetTempPath(), $"eddy-produce-{Guid.NewGuid():N}.jsonl");
        // librdkafka's message.max.bytes is 1 000 000 by default.
        await File.WriteAllLinesAsync(path, ["{\"a\":1}", "{\"big\":\"" + new string('x', 2_000_000) + "\"}", "{\"a\":3}"]);
        try
        {
            using var kafka = new KafkaFixture(partitions: 1);
            var outcome = await Run("produce", "--bootstrap", kafka.Cluster.Bootstrap, "--topic", kafka.Topic, "--events", "file:" + path);
            Assert.Equal(1, outcome.ExitCode);
            Assert.Contains("errors 1", outcome.Stderr);
            Assert.DoesNotContain("   at ", outcome.Stderr);
            Assert.Equal(["{\"a\":1}", "{\"a\":3}"], ReadAll(kafka).Select(m => m.Value));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task With_a_rate_it_says_how_many_minutes_the_dev_broker_holds()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        string path = Path.Combine(Path.GetTempPath(), $"eddy-produce-{Guid.NewGuid():N}.jsonl");
        // 100 lines of 930 bytes each.
        File.WriteAllLines(path, Enumerable.Range(0, 100).Select(i => $$"""{"n":{{i + 1000}},"pad":"{{new string('x', 930 - 19)}}"}"""));
        try
        {
            Assert.All(File.ReadAllLines(path), l => Assert.Equal(930, l.Length));
            var outcome = await Run("produce", "--bootstrap", kafka.Cluster.Bootstrap, "--topic", kafka.Topic, "--events", "file:" + path, "--rate", "100");
            Assert.True(outcome.ExitCode == 0, outcome.Stderr);
            // 5 MiB per partition, 2 partitions, 100 messages/s of 930 bytes plus 70 bytes of batch framing each:
            // 10,485,760 B / 100,000 B/s = 104.9 s = 1.75 minutes.
            Assert.Contains("at 100/s of ~930 B over 2 partitions it holds about the last 1.7 minutes", outcome.Stderr);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task The_rate_limits_the_messages_per_second()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var outcome = await Run("produce", "--bootstrap", kafka.Cluster.Bootstrap, "--topic", kafka.Topic, "--events", "test-data", "--count", "200", "--rate", "1000");
        Assert.True(outcome.ExitCode == 0, outcome.Stderr);
        // 200 at 1000/s cannot take less than ~0.2 s of sending (process start comes on top; no upper bound: CI may be slow).
        var sending = double.Parse(Regex.Match(outcome.Stderr, @"in (\d+\.\d) s").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.True(sending >= 0.15, outcome.Stderr);
        Assert.True(outcome.Elapsed >= TimeSpan.FromSeconds(0.15));
        Assert.Equal(200, ReadAll(kafka).Count);
    }

    [Fact]
    public async Task Sigterm_stops_an_unbounded_run_with_everything_flushed()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        using var eddy = EddyProcess.Start("produce", "--bootstrap", kafka.Cluster.Bootstrap, "--topic", kafka.Topic, "--events", "test-data", "--count", "0", "--rate", "500");
        var stdout = eddy.StandardOutput.ReadToEndAsync();
        // The first progress line comes after about a second of sending.
        string progress = (await eddy.StandardError.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)))!;
        Assert.Matches(@"^sent [\d,]+ \([\d,]+/s\), errors 0$", progress);
        using (var kill = Process.Start("kill", ["-TERM", eddy.Id.ToString(CultureInfo.InvariantCulture)])) await kill.WaitForExitAsync();
        string rest = await eddy.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(eddy.WaitForExit(TimeSpan.FromSeconds(10)), "eddy produce did not stop on SIGTERM");
        await stdout;
        Assert.Equal(0, eddy.ExitCode);
        var summary = Regex.Match(rest, @"stopped: sent ([\d,]+) messages");
        Assert.True(summary.Success, rest);
        int sent = int.Parse(summary.Groups[1].Value, NumberStyles.AllowThousands, CultureInfo.InvariantCulture);
        Assert.True(sent > 0);
        // Everything the summary counts is in the topic, and counted from 0 without gaps.
        var messages = ReadAll(kafka);
        Assert.Equal(sent, messages.Count);
        Assert.Equal(sent - 1, JsonDocument.Parse(messages[^1].Value).RootElement.GetProperty("test_data").GetInt32());
    }

    [Fact]
    public async Task An_unreachable_broker_is_reported_with_exit_code_1()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        var outcome = await Run("produce", "--bootstrap", $"127.0.0.1:{port}", "--topic", "t", "--events", "test-data", "--count", "10");
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains($"error: cannot reach the Kafka broker at 127.0.0.1:{port}", outcome.Stderr);
        Assert.DoesNotContain("   at ", outcome.Stderr);
    }

    [Fact]
    public async Task Bad_arguments_are_reported()
    {
        var kind = await Run("produce", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--events", "weather");
        Assert.Equal(1, kind.ExitCode);
        Assert.Contains("expected web-traffic, test-data, taxi or file:PATH.jsonl", kind.Stderr);
        var file = await Run("produce", "--bootstrap", "127.0.0.1:1", "--topic", "t", "--events", "file:/nonexistent/x.jsonl");
        Assert.Equal(1, file.ExitCode);
        Assert.Contains("no such file", file.Stderr);
    }
}
