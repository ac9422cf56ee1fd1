using Eddy.Runtime;
using Eddy.Windows;

namespace Eddy.Connectors.Kafka.Tests;

public class KafkaSourceTests
{
    private const long T0 = 1_700_000_000_000;

    /// <summary>n records per partition: value "p{partition}-{i}", timestamp T0 + i seconds.</summary>
    private static List<(int Partition, string Value, long Timestamp)> Records(int partitions, int perPartition, int from = 0) =>
        [.. Enumerable.Range(from, perPartition).SelectMany(i => Enumerable.Range(0, partitions).Select(p => (p, $"p{p}-{i}", T0 + i * 1000L)))];

    [Fact]
    public void Earliest_offset_reads_everything_with_record_timestamps_and_a_split_per_partition()
    {
        using var kafka = new KafkaFixture(partitions: 3);
        var produced = Records(3, 10);
        kafka.Produce(produced);
        var source = new KafkaSource<KafkaMessage>(kafka.Options(), m => m);
        Assert.True(source.IsBounded);
        using var reader = Reading.Reader(source);
        Assert.Equal(3, reader.SplitCount);

        var read = Reading.ToEnd(reader);
        Assert.Equal(produced.Select(r => r.Value).Order(), read.Select(r => KafkaFixture.Text(r.Value)).Order());
        Assert.All(read, r =>
        {
            var (p, v, ts) = produced.Single(x => x.Value == KafkaFixture.Text(r.Value));
            Assert.Equal(ts, r.Timestamp);
            Assert.Equal(ts, r.Value.Timestamp);
            Assert.Equal(p, r.Value.Partition);
            Assert.Equal(r.Split, r.Value.Partition); // one topic: splits in partition order
            Assert.Equal("k-" + v, System.Text.Encoding.UTF8.GetString(r.Value.Key!));
            Assert.Equal(kafka.Topic, r.Value.Topic);
        });
        foreach (var g in read.GroupBy(r => r.Split))
            Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), g.Select(r => r.Value.Offset));
    }

    [Fact]
    public void Latest_offset_reads_only_records_produced_after_the_start()
    {
        using var kafka = new KafkaFixture(partitions: 3);
        kafka.Produce(Records(3, 5));
        var source = new KafkaSource<string>(kafka.Options(KafkaStartupMode.LatestOffset, KafkaBoundedMode.Unbounded), KafkaFixture.Text);
        Assert.False(source.IsBounded);
        using var reader = Reading.Reader(source);
        var later = Records(3, 4, from: 5);
        kafka.Produce(later);
        var read = Reading.AtLeast(reader, later.Count);
        Assert.Equal(later.Select(r => r.Value).Order(), read.Select(r => r.Value).Order());
    }

    [Fact]
    public void Latest_offset_with_the_bounded_mode_ends_at_once_with_nothing()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Produce(Records(2, 5));
        using var reader = Reading.Reader(new KafkaSource<string>(kafka.Options(KafkaStartupMode.LatestOffset), KafkaFixture.Text));
        Assert.Empty(Reading.ToEnd(reader));
    }

    [Fact]
    public void Timestamp_starts_each_partition_at_its_first_record_at_or_after_it()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Produce(Records(2, 10));
        var options = kafka.Options(KafkaStartupMode.Timestamp) with { StartupTimestamp = T0 + 6500 };
        using var reader = Reading.Reader(new KafkaSource<string>(options, KafkaFixture.Text));
        var read = Reading.ToEnd(reader);
        Assert.Equal(new[] { "p0-7", "p0-8", "p0-9", "p1-7", "p1-8", "p1-9" }, read.Select(r => r.Value).Order());
        Assert.All(read, r => Assert.True(r.Timestamp >= T0 + 6500));
    }

    [Fact]
    public void Timestamp_after_every_record_reads_nothing()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Produce(Records(2, 3));
        var options = kafka.Options(KafkaStartupMode.Timestamp) with { StartupTimestamp = T0 + 3_600_000 };
        using var reader = Reading.Reader(new KafkaSource<string>(options, KafkaFixture.Text));
        Assert.Empty(Reading.ToEnd(reader));
    }

    [Fact]
    public void Specific_offsets_start_where_given_and_other_partitions_from_the_earliest()
    {
        using var kafka = new KafkaFixture(partitions: 3);
        kafka.Produce(Records(3, 5));
        var options = kafka.Options(KafkaStartupMode.SpecificOffsets) with
        {
            SpecificOffsets = new Dictionary<(string, int), long> { [("events", 0)] = 3, [("events", 1)] = 5 },
        };
        using var reader = Reading.Reader(new KafkaSource<string>(options, KafkaFixture.Text));
        var read = Reading.ToEnd(reader).Select(r => r.Value).Order().ToList();
        Assert.Equal(new[] { "p0-3", "p0-4", "p2-0", "p2-1", "p2-2", "p2-3", "p2-4" }, read);
    }

    [Fact]
    public void Bounded_read_stops_at_the_end_offsets_taken_at_the_start()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        var before = Records(2, 20);
        kafka.Produce(before);
        using var reader = Reading.Reader(new KafkaSource<string>(kafka.Options(), KafkaFixture.Text));
        kafka.Produce(Records(2, 20, from: 20));
        Assert.Equal(before.Select(r => r.Value).Order(), Reading.ToEnd(reader).Select(r => r.Value).Order());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Bounded_job_over_three_partitions_gives_exactly_the_produced_records(int parallelism)
    {
        using var kafka = new KafkaFixture(partitions: 3);
        var produced = Records(3, 2000);
        kafka.Produce(produced);
        var sink = new CollectSink<string>();
        var env = StreamEnvironment.Create().SetParallelism(parallelism);
        env.FromSource(new KafkaSource<string>(kafka.Options(), KafkaFixture.Text), name: "kafka").SinkTo(sink);
        var result = env.Execute("backfill");
        Assert.Equal(JobStatus.Finished, result.Status);
        Assert.Equal(produced.Select(r => r.Value).Order(StringComparer.Ordinal), sink.Values.Order(StringComparer.Ordinal));
        Assert.Equal(produced.Select(r => r.Timestamp).Order(), sink.Records.Select(r => r.Timestamp).Order());
    }

    [Fact]
    public void Subtasks_get_partitions_round_robin_and_one_without_any_has_no_splits()
    {
        using var kafka = new KafkaFixture(partitions: 3);
        kafka.Produce(Records(3, 2));
        var source = new KafkaSource<KafkaMessage>(kafka.Options(), m => m);
        var byReader = new List<List<int>>();
        for (int s = 0; s < 4; s++)
        {
            using var reader = Reading.Reader(source, s, 4);
            var read = Reading.ToEnd(reader);
            Assert.Equal(s < 3 ? 1 : 0, reader.SplitCount);
            byReader.Add([.. read.Select(r => r.Value.Partition).Distinct()]);
        }
        Assert.Equal(new[] { new[] { 0 }, [1], [2], [] }, byReader.Select(l => l.ToArray()));
    }

    [Fact]
    public async Task One_partition_at_parallelism_three_still_fires_windows_while_unbounded()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        // Five records in the window [T0, T0 + 10 s), then one at T0 + 25 s moves the watermark past its end.
        kafka.Produce([.. Enumerable.Range(0, 5).Select(i => (0, $"a{i}", T0 + i * 1000L)), (0, "late-enough", T0 + 25_000)]);
        var sink = new CollectSink<(long Start, long Count)>();
        var env = StreamEnvironment.Create().SetParallelism(3);
        env.FromSource(new KafkaSource<string>(kafka.Options(bounded: KafkaBoundedMode.Unbounded), KafkaFixture.Text),
                WatermarkStrategy<string>.ForMonotonousTimestamps(), "kafka")
            .KeyBy(_ => "all")
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(10)))
            .Aggregate(Aggregates.Count<string>(), (string _, TimeWindow w, long n) => (w.Start, n), "count")
            .SinkTo(sink);
        var job = env.Start("idle-subtasks");
        try
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (sink.Values.Count == 0 && DateTime.UtcNow < deadline && !job.Completion.IsCompleted) await Task.Delay(50);
            Assert.False(job.Completion.IsCompleted, "an unbounded Kafka job ended by itself");
            Assert.Equal([(T0, 5L)], sink.Values);
        }
        finally
        {
            job.Cancel();
            await job.Completion.WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public void A_bootstrap_address_that_does_not_answer_fails_within_the_timeout_naming_it_and_the_topic()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var options = new KafkaSourceOptions { Topics = ["web"], BootstrapServers = $"127.0.0.1:{port}", RequestTimeout = TimeSpan.FromSeconds(2) };
        var e = Assert.Throws<InvalidOperationException>(() => Reading.Reader(new KafkaSource<string>(options, KafkaFixture.Text)));
        Assert.Contains($"Kafka source (topic 'web'): no answer from 'properties.bootstrap.servers' = '127.0.0.1:{port}' within 2 s", e.Message);
    }

    [Fact]
    public void A_topic_that_does_not_exist_is_reported_with_the_address()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var options = kafka.Options() with { Topics = ["missing"], RequestTimeout = TimeSpan.FromSeconds(5) };
        var e = Assert.Throws<InvalidOperationException>(() => Reading.Reader(new KafkaSource<string>(options, KafkaFixture.Text)));
        Assert.Equal($"Kafka source: topic 'missing' does not exist at '{kafka.Cluster.Bootstrap}'; create it, or let the broker create it on first use "
            + "with 'properties.allow.auto.create.topics' = 'true' (where the broker allows it)", e.Message);
    }

    [Fact]
    public void A_topic_created_on_first_use_is_reported()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var options = kafka.Options(bounded: KafkaBoundedMode.Unbounded) with
        {
            Topics = ["fresh"], Properties = new Dictionary<string, string> { ["allow.auto.create.topics"] = "true" },
        };
        var reported = new List<string>();
        using var reader = new KafkaSource<string>(options, KafkaFixture.Text).CreateReader(
            new SourceReaderContext(0, 1, TimeProvider.System, new SubtaskMetrics("k", 0)) { Report = reported.Add });
        // The mock creates a topic on first use with 4 partitions (librdkafka's default for it).
        Assert.Equal([$"Kafka source: topic 'fresh' did not exist at '{kafka.Cluster.Bootstrap}'; the broker created it on first use, with 4 partitions"], reported);
        Assert.Equal(4, reader.SplitCount);
    }

    [Fact]
    public void Waiting_on_an_empty_topic_counts_as_idle_not_busy()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var metrics = new SubtaskMetrics("kafka", 0);
        using var reader = Reading.Reader(new KafkaSource<string>(kafka.Options(KafkaStartupMode.EarliestOffset, KafkaBoundedMode.Unbounded), KafkaFixture.Text),
            0, 1, metrics, restored: null, checkpointing: false);
        var output = new SourceOutput<string>();
        long idleBefore = metrics.IdleTicks;
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        // Reads with nothing to read: all but bookkeeping is waiting for records that do not come.
        for (int i = 0; i < 20; i++) Assert.Equal(SourceStatus.NothingAvailable, reader.Read(output));
        long elapsed = System.Diagnostics.Stopwatch.GetTimestamp() - start;
        long idle = metrics.IdleTicks - idleBefore;
        Assert.True(idle > elapsed - idle, $"idle {idle} of {elapsed} ticks: waiting for input was counted as busy");
    }

    [Fact]
    public void Options_are_checked_up_front()
    {
        var ok = new KafkaSourceOptions { Topics = ["t"], BootstrapServers = "127.0.0.1:1" };
        Assert.Contains("topic", Assert.Throws<ArgumentException>(() => new KafkaSource<string>(ok with { Topics = [] }, KafkaFixture.Text)).Message);
        Assert.Contains("scan.startup.timestamp-millis", Assert.Throws<ArgumentException>(
            () => new KafkaSource<string>(ok with { StartupMode = KafkaStartupMode.Timestamp }, KafkaFixture.Text)).Message);
        Assert.Contains("bootstrap", Assert.Throws<ArgumentException>(() => new KafkaSource<string>(ok with { BootstrapServers = " " }, KafkaFixture.Text)).Message);
    }
}
