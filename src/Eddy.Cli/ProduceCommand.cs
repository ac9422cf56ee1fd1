using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Eddy.Connectors;
using Eddy.Connectors.Kafka;

namespace Eddy.Cli;

/// <summary>
/// <c>eddy produce</c>: writes the course's test events to a Kafka topic (the lab's web traffic, the zoomcamp's
/// test data, green-taxi trips, or a JSON-lines file), so that a Kafka job has input without a Python producer.
/// </summary>
internal static class ProduceCommand
{
    /// <summary>The taxi homework's date-time layout (pandas' default text for a timestamp).</summary>
    internal const string TaxiTimeFormat = "yyyy-MM-dd HH:mm:ss";

    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var bootstrap = new Option<string>("--bootstrap") { Description = "Kafka bootstrap servers (HOST:PORT[,HOST:PORT...]).", Required = true };
        var topic = new Option<string>("--topic") { Description = "The topic to write to.", Required = true };
        var events = new Option<string>("--events")
        {
            Description = "What to send: web-traffic, test-data, taxi, or file:PATH.jsonl (each line one message).", Required = true,
        };
        var rate = new Option<double?>("--rate") { Description = "Messages per second at most (default: as fast as possible)." };
        var count = new Option<long?>("--count", "-n")
        {
            Description = "Messages to send (default 1000; for a file all its lines; 0: until Ctrl-C).",
        };
        var lateShare = new Option<double>("--late-share") { Description = "web-traffic: share of late events (0..1).", DefaultValueFactory = _ => 0.05 };
        var seed = new Option<long?>("--seed") { Description = "Seed for generated kinds: the same seed (and --start) gives the same messages (default: random)." };
        var start = new Option<DateTimeOffset?>("--start")
        {
            Description = "Event time of the first generated event (default: now, so that a real-time job's windows fire).",
        };
        var command = new Command("produce", "Send generated events (web-traffic, test-data, taxi) or a JSON-lines file to a Kafka topic.")
        {
            bootstrap, topic, events, rate, count, lateShare, seed, start,
        };
        command.SetAction(async (result, cancel) =>
        {
            string kindText = result.GetValue(events)!;
            double? perSecond = result.GetValue(rate);
            long? wanted = result.GetValue(count);
            double late = result.GetValue(lateShare);
            if (perSecond is { } r && !(r > 0 && double.IsFinite(r)))
            {
                stderr.WriteLine($"error: --rate {r}: must be a positive number of messages per second");
                return 1;
            }
            if (wanted is < 0)
            {
                stderr.WriteLine($"error: --count {wanted}: must be 0 (unbounded) or more");
                return 1;
            }
            if (late is < 0 or > 1)
            {
                stderr.WriteLine($"error: --late-share {late}: must be within 0..1");
                return 1;
            }
            var startTime = result.GetValue(start) ?? DateTimeOffset.UtcNow;
            long seedValue = result.GetValue(seed) ?? Random.Shared.NextInt64();
            IEnumerable<(string? Key, string Value)> messages;
            long? limit;
            if (kindText.StartsWith("file:", StringComparison.Ordinal))
            {
                string path = kindText["file:".Length..];
                if (!File.Exists(path))
                {
                    stderr.WriteLine($"error: --events {kindText}: no such file '{Path.GetFullPath(path)}'");
                    return 1;
                }
                messages = FileLines(path);
                // A file is finite: 0 or no --count both mean all of its lines.
                limit = wanted is null or 0 ? null : wanted;
            }
            else
            {
                IEnumerable<(string? Key, string Value)>? generated = kindText switch
                {
                    "web-traffic" => WebTraffic(seedValue, startTime, late, perSecond),
                    "test-data" => TestData(),
                    "taxi" => Taxi(seedValue, startTime, perSecond),
                    _ => null,
                };
                if (generated is null)
                {
                    stderr.WriteLine($"error: --events {kindText}: expected web-traffic, test-data, taxi or file:PATH.jsonl");
                    return 1;
                }
                messages = generated;
                limit = wanted switch { null => 1000, 0 => null, var n => n };
            }
            try
            {
                // Before any Confluent type is touched: librdkafka is the OS's, found by Eddy (see KafkaNative).
                KafkaNative.EnsureLoaded();
            }
            catch (DllNotFoundException e)
            {
                stderr.WriteLine("error: " + e.Message);
                return 1;
            }
            var settings = new Settings(result.GetValue(bootstrap)!, result.GetValue(topic)!, perSecond, limit);
            return await Task.Run(() => Produce(settings, messages, stdout, stderr, cancel), CancellationToken.None);
        });
        return command;
    }

    internal sealed record Settings(string Bootstrap, string Topic, double? Rate, long? Count);

    /// <summary>How long to wait for the broker's metadata before reporting it unreachable.</summary>
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Sends the messages; kept apart from the action so that Confluent types are loaded after librdkafka.</summary>
    private static int Produce(Settings settings, IEnumerable<(string? Key, string Value)> messages, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        string? brokerError = null;
        bool allBrokersDown = false;
        var config = new ProducerConfig
        {
            BootstrapServers = settings.Bootstrap,
            // Small batches travel soon: an interactive producer should show up in a running job at once.
            LingerMs = 5,
            // A broker that goes away mid-run fails the messages in a minute rather than librdkafka's five.
            MessageTimeoutMs = 60_000,
            // Unkeyed messages each go to a random partition instead of librdkafka's sticky bursts (one partition per
            // linger window), which left partitions of one file between 3 k and 110 k messages: the dev broker keeps
            // about 5 MB per partition and silently dropped the oldest records of the fullest ones.
            StickyPartitioningLingerMs = 0,
        };
        IProducer<string?, string> built;
        try
        {
            built = new ProducerBuilder<string?, string>(config)
                .SetErrorHandler((_, e) =>
                {
                    // "All brokers are down" follows the error that says why (refused, unknown host): keep the latter.
                    if (e.Code == ErrorCode.Local_AllBrokersDown) allBrokersDown = true;
                    if (e.Code != ErrorCode.Local_AllBrokersDown || brokerError is null) brokerError = e.Reason;
                })
                // librdkafka's own log lines (connection refused, ...) would repeat what the error handler reports.
                .SetLogHandler((_, _) => { })
                .Build();
        }
        catch (Exception e) when (e is KafkaException or ArgumentException or InvalidOperationException)
        {
            // librdkafka refuses the configuration (a malformed bootstrap list, ...).
            stderr.WriteLine($"error: cannot create a Kafka producer for {settings.Bootstrap}: {e.Message}");
            return 1;
        }
        using var producer = built;

        if (!Reachable(producer, settings, () => allBrokersDown, cancel, out string? metadataError, out int partitions))
        {
            if (cancel.IsCancellationRequested) return 0;
            stderr.WriteLine($"error: cannot reach the Kafka broker at {settings.Bootstrap}: {brokerError ?? metadataError ?? "no answer"}");
            return 1;
        }

        long produced = 0, delivered = 0, errors = 0, messageBytes = 0;
        bool retentionTold = !settings.Rate.HasValue || !IsLoopback(settings.Bootstrap);
        void TellRetention()
        {
            // Once enough messages show their size: how much the dev broker ('eddy kafka', on loopback) holds at this rate.
            if (retentionTold || produced < 50) return;
            retentionTold = true;
            double average = (double)messageBytes / produced;
            var holds = MockRetentionWatch.Holds(settings.Rate!.Value, average, partitions);
            stderr.WriteLine($"note: if {settings.Bootstrap} is 'eddy kafka' (its mock broker keeps about {MockRetentionWatch.PartitionCapacityBytes / (1024 * 1024)} MB per partition), "
                + $"at {settings.Rate.Value:0.##}/s of ~{average:N0} B over {Math.Max(1, partitions)} partition{(partitions == 1 ? "" : "s")} it holds about the last "
                + $"{holds.TotalMinutes.ToString(holds.TotalMinutes < 10 ? "0.0" : "N0", CultureInfo.InvariantCulture)} minutes; older records are dropped and a job reading from the earliest offset misses them");
        }
        string? lastError = null;
        void OnDelivery(DeliveryReport<string?, string> report)
        {
            // Delivery reports come on librdkafka's polling thread; the counters are read by the progress line.
            if (report.Error.IsError)
            {
                Interlocked.Increment(ref errors);
                lastError = report.Error.Reason;
            }
            else
            {
                Interlocked.Increment(ref delivered);
            }
        }

        var clock = Stopwatch.StartNew();
        TimeSpan nextProgress = TimeSpan.FromSeconds(1);
        long deliveredAtLastProgress = 0;
        TimeSpan lastProgress = TimeSpan.Zero;
        void Progress()
        {
            var now = clock.Elapsed;
            if (now < nextProgress) return;
            long d = Interlocked.Read(ref delivered);
            double recent = (d - deliveredAtLastProgress) / Math.Max(1e-3, (now - lastProgress).TotalSeconds);
            stderr.WriteLine($"sent {d:N0} ({recent:N0}/s), errors {Interlocked.Read(ref errors):N0}");
            TellRetention();
            deliveredAtLastProgress = d;
            lastProgress = now;
            nextProgress = now + TimeSpan.FromSeconds(1);
        }

        bool interrupted = false;
        using (var source = messages.GetEnumerator())
        {
            while (settings.Count is not { } n || produced < n)
            {
                if (cancel.IsCancellationRequested)
                {
                    interrupted = true;
                    break;
                }
                if (settings.Rate is { } rate)
                {
                    // Message i is due i/rate seconds after the start: pacing by schedule, not by gaps, keeps the
                    // average exact even though sleeps overshoot.
                    var due = TimeSpan.FromSeconds(produced / rate);
                    var ahead = due - clock.Elapsed;
                    if (ahead > TimeSpan.FromMilliseconds(2))
                    {
                        cancel.WaitHandle.WaitOne(ahead < TimeSpan.FromMilliseconds(200) ? ahead : TimeSpan.FromMilliseconds(200));
                        Progress();
                        continue;
                    }
                }
                if (!source.MoveNext()) break;
                var (key, value) = source.Current;
                while (true)
                {
                    try
                    {
                        producer.Produce(settings.Topic, new Message<string?, string> { Key = key, Value = value }, OnDelivery);
                        if (!retentionTold) messageBytes += (key is null ? 0 : Encoding.UTF8.GetByteCount(key)) + Encoding.UTF8.GetByteCount(value);
                        break;
                    }
                    catch (ProduceException<string?, string> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                    {
                        // librdkafka's queue is full: let it send (and report deliveries) before trying again.
                        producer.Poll(TimeSpan.FromMilliseconds(50));
                        Progress();
                        if (cancel.IsCancellationRequested) break;
                    }
                    catch (ProduceException<string?, string> e)
                    {
                        // Refused before sending (a line above message.max.bytes, ...): counted as an error, and the
                        // run goes on, as failed deliveries do.
                        Interlocked.Increment(ref errors);
                        lastError = e.Error.Reason;
                        break;
                    }
                }
                if (cancel.IsCancellationRequested)
                {
                    interrupted = true;
                    break;
                }
                produced++;
                Progress();
            }
        }

        // Everything handed to librdkafka is sent (or failed by its timeout) before the summary, also after Ctrl-C.
        while (producer.Flush(TimeSpan.FromSeconds(1)) > 0)
            Progress();
        TellRetention();
        var elapsed = clock.Elapsed;
        long ok = Interlocked.Read(ref delivered), failed = Interlocked.Read(ref errors);
        stderr.WriteLine($"{(interrupted ? "stopped: " : "done: ")}sent {ok:N0} message{(ok == 1 ? "" : "s")} to '{settings.Topic}' in {elapsed.TotalSeconds:F1} s "
            + $"({ok / Math.Max(1e-3, elapsed.TotalSeconds):N0}/s), errors {failed:N0}"
            + (lastError is null ? "" : $" (last: {lastError})"));
        stdout.Flush();
        return failed == 0 ? 0 : 1;
    }

    /// <summary>
    /// Whether the broker answers a metadata request for the topic. A producer alone would queue messages for an
    /// unreachable broker until they time out; asking first gives a clear error at once.
    /// </summary>
    private static bool Reachable(IProducer<string?, string> producer, Settings settings, Func<bool> allBrokersDown, CancellationToken cancel,
        out string? error, out int partitions)
    {
        error = null;
        partitions = 0;
        using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
        var deadline = DateTime.UtcNow + ConnectTimeout;
        while (DateTime.UtcNow < deadline && !cancel.IsCancellationRequested)
        {
            try
            {
                // Short requests, so that "all brokers down" (reported by the error handler) ends the wait early.
                var metadata = admin.GetMetadata(settings.Topic, TimeSpan.FromMilliseconds(500));
                if (metadata.Brokers.Count > 0)
                {
                    partitions = metadata.Topics.FirstOrDefault(t => t.Topic == settings.Topic)?.Partitions.Count ?? 0;
                    return true;
                }
            }
            catch (KafkaException e)
            {
                error = e.Error.Reason;
            }
            if (allBrokersDown()) return false;
        }
        return false;
    }

    /// <summary>Whether every bootstrap address is on this machine (where a dev broker would be).</summary>
    private static bool IsLoopback(string bootstrap) => bootstrap.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).All(a =>
    {
        int colon = a.LastIndexOf(':');
        string host = (colon > 0 ? a[..colon] : a).Trim('[', ']');
        return host.Equals("localhost", StringComparison.OrdinalIgnoreCase) || (System.Net.IPAddress.TryParse(host, out var ip) && System.Net.IPAddress.IsLoopback(ip));
    });

    private static IEnumerable<(string? Key, string Value)> FileLines(string path)
    {
        foreach (var line in File.ReadLines(path))
        {
            // Blank lines (a trailing newline, separators) are not records of a JSON-lines file.
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return (null, line);
        }
    }

    /// <summary>The lab's web-traffic events, keyed by ip; event time advances with the send rate from the start time.</summary>
    internal static IEnumerable<(string? Key, string Value)> WebTraffic(long seed, DateTimeOffset start, double lateShare, double? rate)
    {
        var options = new WebTrafficOptions
        {
            Seed = seed,
            Start = start,
            LateShare = lateShare,
            // Event time keeps pace with the wall clock when a rate is given; as fast as possible, a thousand events
            // per second of event time keeps a default run (1000 events) within a second of now.
            EventsPerSecond = rate ?? 1000,
        };
        var generator = new WebTrafficGenerator(options, seed);
        var buffer = new ArrayBufferWriter();
        while (generator.TryNext(out var e, out _))
        {
            using (var json = new Utf8JsonWriter(buffer.Reset()))
            {
                json.WriteStartObject();
                json.WriteString("url", e.Url);
                if (e.Referrer is null) json.WriteNull("referrer");
                else json.WriteString("referrer", e.Referrer);
                json.WriteString("user_agent", e.UserAgent);
                json.WriteString("host", e.Host);
                json.WriteString("ip", e.Ip);
                // The lab's headers field is a JSON object; the generator makes it as JSON text.
                json.WritePropertyName("headers");
                json.WriteRawValue(e.Headers);
                json.WriteString("event_time", e.EventTime);
                json.WriteEndObject();
            }
            yield return (e.Ip, buffer.Text);
        }
    }

    /// <summary>The zoomcamp's test messages: a counter and the send time in epoch milliseconds.</summary>
    private static IEnumerable<(string? Key, string Value)> TestData()
    {
        for (long i = 0; ; i++)
            yield return (null, $"{{\"test_data\": {i}, \"event_timestamp\": {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}}}");
    }

    /// <summary>
    /// Green-taxi trips with the homework's columns. Pick-ups advance with the send rate from the start time; the
    /// rest is drawn from the seed: the same seed and start give the same trips.
    /// </summary>
    internal static IEnumerable<(string? Key, string Value)> Taxi(long seed, DateTimeOffset start, double? rate)
    {
        var random = new FastRandom(seed);
        double perSecond = rate ?? 1000;
        var buffer = new ArrayBufferWriter();
        for (long i = 0; ; i++)
        {
            var pickup = start.UtcDateTime.AddSeconds(i / perSecond);
            pickup = new DateTime(pickup.Ticks - pickup.Ticks % TimeSpan.TicksPerSecond, DateTimeKind.Utc);
            // Trips of 0.3 to 25 miles, mostly short (squared uniform), at 6 to 25 mph in city traffic.
            double u = random.NextDouble();
            double distance = Math.Round(0.3 + u * u * 24.7, 2);
            double mph = 6 + random.NextDouble() * 19;
            var dropoff = pickup.AddSeconds(Math.Max(60, Math.Round(distance / mph * 3600)));
            // Location ids are the 265 TLC zones; passengers mostly 1, sometimes up to 6.
            int pu = (int)random.NextLong(1, 265), dos = (int)random.NextLong(1, 265);
            double p = random.NextDouble();
            int passengers = p < 0.75 ? 1 : p < 0.9 ? 2 : (int)random.NextLong(3, 6);
            // About half the trips are paid by card with a 10-25 % tip on a fare of ~$2.50 + $2.50/mile; cash shows none.
            double tip = random.NextBool() ? Math.Round((2.5 + distance * 2.5) * (0.10 + random.NextDouble() * 0.15), 2) : 0;
            using (var json = new Utf8JsonWriter(buffer.Reset()))
            {
                json.WriteStartObject();
                json.WriteString("lpep_pickup_datetime", pickup.ToString(TaxiTimeFormat, CultureInfo.InvariantCulture));
                json.WriteString("lpep_dropoff_datetime", dropoff.ToString(TaxiTimeFormat, CultureInfo.InvariantCulture));
                json.WriteNumber("PULocationID", pu);
                json.WriteNumber("DOLocationID", dos);
                json.WriteNumber("passenger_count", passengers);
                json.WriteNumber("trip_distance", distance);
                json.WriteNumber("tip_amount", tip);
                json.WriteEndObject();
            }
            yield return (null, buffer.Text);
        }
    }

    /// <summary>A reusable buffer for one JSON message at a time.</summary>
    private sealed class ArrayBufferWriter
    {
        private readonly System.Buffers.ArrayBufferWriter<byte> inner = new(512);

        public System.Buffers.ArrayBufferWriter<byte> Reset()
        {
            inner.ResetWrittenCount();
            return inner;
        }

        public string Text => Encoding.UTF8.GetString(inner.WrittenSpan);
    }
}
