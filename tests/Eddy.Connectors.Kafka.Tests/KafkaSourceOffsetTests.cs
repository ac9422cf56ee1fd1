using System.Text;
using System.Text.RegularExpressions;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary>
/// The source's side of checkpointing (snapshot, restore from the union of old subtasks' states, commit at completion),
/// group offsets, the other bounded modes, topic patterns and bad records: readers are driven directly, as the
/// checkpoint coordinator would drive them.
/// </summary>
public class KafkaSourceOffsetTests
{
    private const long T0 = 1_700_000_000_000;

    private static List<(int Partition, string Value, long Timestamp)> Records(int partitions, int perPartition, int from = 0) =>
        [.. Enumerable.Range(from, perPartition).SelectMany(i => Enumerable.Range(0, partitions).Select(p => (p, $"p{p}-{i}", T0 + i * 1000L)))];

    private static List<string> Values(IEnumerable<(int Partition, string Value, long Timestamp)> records) => [.. records.Select(r => r.Value).Order(StringComparer.Ordinal)];

    private static List<string> Texts(IEnumerable<Read<string>> read) => [.. read.Select(r => r.Value).Order(StringComparer.Ordinal)];

    [Fact]
    public void A_restored_reader_resumes_after_the_checkpointed_offsets_whatever_the_startup_mode_and_parallelism()
    {
        using var kafka = new KafkaFixture(partitions: 3);
        var first = Records(3, 10);
        kafka.Produce(first);
        var source = new KafkaSource<string>(kafka.Options(KafkaStartupMode.EarliestOffset, KafkaBoundedMode.Unbounded), KafkaFixture.Text);
        byte[] state;
        using (var reader = Reading.Reader(source, 0, 1, new SubtaskMetrics("k", 0), restored: null))
        {
            Assert.Equal(Values(first), Texts(Reading.AtLeast(reader, first.Count)));
            state = Reading.Snapshot(reader, checkpointId: 1);
        }
        var later = Records(3, 5, from: 10);
        kafka.Produce(later);

        // Restored at parallelism 2: each new subtask takes its partitions' offsets from the one old state.
        var restored = new RestoredState(1, [state], OldParallelism: 1);
        var read = new List<Read<string>>();
        for (int s = 0; s < 2; s++)
        {
            using var reader = Reading.Reader(source, s, 2, new SubtaskMetrics("k", s), restored);
            read.AddRange(Reading.AtLeast(reader, s == 0 ? 10 : 5));
        }
        Assert.Equal(Values(later), Texts(read));
    }

    [Fact]
    public void Partitions_missing_from_the_checkpoint_start_by_the_startup_mode()
    {
        using var kafka = new KafkaFixture(partitions: 3);
        var first = Records(3, 4);
        kafka.Produce(first);
        var source = new KafkaSource<string>(kafka.Options(KafkaStartupMode.EarliestOffset, KafkaBoundedMode.Unbounded), KafkaFixture.Text);
        // The old job ran at parallelism 2; only subtask 0 (partitions 0 and 2) is in the checkpoint given here.
        byte[] state;
        using (var reader = Reading.Reader(source, 0, 2, new SubtaskMetrics("k", 0), restored: null))
        {
            Assert.Equal(8, Reading.AtLeast(reader, 8).Count);
            state = Reading.Snapshot(reader, 7);
        }
        using var restoredReader = Reading.Reader(source, 0, 1, new SubtaskMetrics("k", 0), new RestoredState(7, [state, []], 2));
        Assert.Equal(Values(first.Where(r => r.Partition == 1)), Texts(Reading.AtLeast(restoredReader, 4)));
    }

    [Fact]
    public void A_completed_checkpoint_commits_its_offsets_to_the_group_and_group_offsets_start_there()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Produce(Records(2, 6));
        var options = kafka.Options(KafkaStartupMode.EarliestOffset, KafkaBoundedMode.Unbounded) with { GroupId = "lag" };
        var source = new KafkaSource<string>(options, KafkaFixture.Text);
        using (var reader = Reading.Reader(source, 0, 1, new SubtaskMetrics("k", 0), restored: null))
        {
            Reading.AtLeast(reader, 12);
            Reading.Snapshot(reader, 3);
            // Nothing is committed before the checkpoint completes.
            Assert.All(kafka.Committed("lag", 2), o => Assert.True(o < 0));
            reader.NotifyCheckpointComplete(3);
            Assert.Equal([6L, 6L], kafka.Committed("lag", 2));
        }
        var later = Records(2, 3, from: 6);
        kafka.Produce(later);
        var fromGroup = options with { StartupMode = KafkaStartupMode.GroupOffsets, BoundedMode = KafkaBoundedMode.LatestOffset };
        using var groupReader = Reading.Reader(new KafkaSource<string>(fromGroup, KafkaFixture.Text));
        Assert.Equal(Values(later), Texts(Reading.ToEnd(groupReader)));
    }

    [Fact]
    public void Without_checkpoints_consumed_offsets_are_committed_periodically_and_on_close()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Produce(Records(2, 5));
        var options = kafka.Options() with { GroupId = "auto", AutoCommitInterval = TimeSpan.FromMilliseconds(100) };
        using (var reader = Reading.Reader(new KafkaSource<string>(options, KafkaFixture.Text), 0, 1, new SubtaskMetrics("k", 0), null, checkpointing: false))
            Assert.Equal(10, Reading.ToEnd(reader).Count);
        Assert.Equal([5L, 5L], kafka.Committed("auto", 2));

        using (var reader = Reading.Reader(new KafkaSource<string>(options with { GroupId = "off", AutoCommit = false }, KafkaFixture.Text), 0, 1, new SubtaskMetrics("k", 0), null, checkpointing: false))
            Assert.Equal(10, Reading.ToEnd(reader).Count);
        Assert.All(kafka.Committed("off", 2), o => Assert.True(o < 0));
    }

    [Fact]
    public void Group_offsets_without_a_committed_offset_fail_naming_the_partition_unless_a_reset_is_given()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Produce(Records(2, 3));
        kafka.Commit("g", (0, 2));
        var options = kafka.Options(KafkaStartupMode.GroupOffsets) with { GroupId = "g" };
        var e = Assert.Throws<InvalidOperationException>(() => Reading.Reader(new KafkaSource<string>(options, KafkaFixture.Text)));
        Assert.Contains("group 'g' has no committed offset for topic 'events' partition 1", e.Message);
        Assert.Contains("properties.auto.offset.reset", e.Message);

        using var earliest = Reading.Reader(new KafkaSource<string>(options with { GroupOffsetsReset = KafkaOffsetReset.Earliest }, KafkaFixture.Text));
        Assert.Equal(["p0-2", "p1-0", "p1-1", "p1-2"], Texts(Reading.ToEnd(earliest)));
        using var latest = Reading.Reader(new KafkaSource<string>(options with { GroupOffsetsReset = KafkaOffsetReset.Latest }, KafkaFixture.Text));
        Assert.Equal(["p0-2"], Texts(Reading.ToEnd(latest)));
    }

    [Fact]
    public void Bounded_by_timestamp_stops_each_partition_before_its_first_record_at_or_after_it()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Produce(Records(2, 10));
        var options = kafka.Options(bounded: KafkaBoundedMode.Timestamp) with { BoundedTimestamp = T0 + 2500 };
        using var reader = Reading.Reader(new KafkaSource<string>(options, KafkaFixture.Text));
        Assert.Equal(["p0-0", "p0-1", "p0-2", "p1-0", "p1-1", "p1-2"], Texts(Reading.ToEnd(reader)));
    }

    [Fact]
    public void Bounded_by_specific_offsets_and_by_group_offsets()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Produce(Records(2, 6));
        kafka.Commit("bound", (0, 1), (1, 4));
        var specific = kafka.Options(bounded: KafkaBoundedMode.SpecificOffsets) with
        {
            GroupId = "bound",
            AutoCommit = false, // the group's offsets are the other bound tested below
            BoundedSpecificOffsets = new Dictionary<(string, int), long> { [("events", 0)] = 2 },
        };
        // Partition 1 is not listed: it stops at the group's committed offset, as in Flink.
        using (var reader = Reading.Reader(new KafkaSource<string>(specific, KafkaFixture.Text)))
            Assert.Equal(["p0-0", "p0-1", "p1-0", "p1-1", "p1-2", "p1-3"], Texts(Reading.ToEnd(reader)));

        var group = kafka.Options(bounded: KafkaBoundedMode.GroupOffsets) with { GroupId = "bound" };
        using (var reader = Reading.Reader(new KafkaSource<string>(group, KafkaFixture.Text)))
            Assert.Equal(["p0-0", "p1-0", "p1-1", "p1-2", "p1-3"], Texts(Reading.ToEnd(reader)));
    }

    [Fact]
    public void A_bounded_restore_keeps_the_original_bounds()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        kafka.Produce(Records(1, 4));
        var source = new KafkaSource<string>(kafka.Options(), KafkaFixture.Text);
        byte[] state;
        using (var reader = Reading.Reader(source, 0, 1, new SubtaskMetrics("k", 0), null))
        {
            Reading.ToEnd(reader);
            state = Reading.Snapshot(reader, 1);
        }
        kafka.Produce(Records(1, 4, from: 4));
        // The end offset was 4 when the job started; the restored reader keeps it, so it has nothing left to read.
        using var restored = Reading.Reader(source, 0, 1, new SubtaskMetrics("k", 0), new RestoredState(1, [state], 1));
        Assert.Empty(Reading.ToEnd(restored));
    }

    [Fact]
    public void A_topic_pattern_reads_every_matching_topic()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "web-a");
        kafka.Cluster.CreateTopic("web-b", 2);
        kafka.Cluster.CreateTopic("other", 1);
        kafka.Produce([(0, "a", T0)]);
        using (var producer = new Confluent.Kafka.ProducerBuilder<byte[]?, byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap }).Build())
        {
            producer.Produce(new Confluent.Kafka.TopicPartition("web-b", 1), new() { Value = "b"u8.ToArray() });
            producer.Produce(new Confluent.Kafka.TopicPartition("other", 0), new() { Value = "o"u8.ToArray() });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        var options = kafka.Options() with { Topics = [], TopicPattern = new Regex("web-.*") };
        var source = new KafkaSource<KafkaMessage>(options, m => m);
        using var reader = Reading.Reader(source);
        Assert.Equal(3, reader.SplitCount);
        Assert.Equal(["web-a:a", "web-b:b"], Reading.ToEnd(reader).Select(r => r.Value.Topic + ":" + KafkaFixture.Text(r.Value)).Order().ToList());
        // The whole name must match, as Java's Pattern.matches.
        var partial = options with { TopicPattern = new Regex("web") };
        using var none = Reading.Reader(new KafkaSource<string>(partial, KafkaFixture.Text));
        Assert.Equal(0, none.SplitCount);
    }

    private static string Strict(KafkaMessage m)
    {
        var text = KafkaFixture.Text(m);
        return text.StartsWith("bad", StringComparison.Ordinal) ? throw new FormatException($"'{text}' is not good") : text;
    }

    private static void ProduceWithBadRecords(KafkaFixture kafka) =>
        kafka.Produce([(0, "ok-1", T0), (1, "ok-2", T0), (1, "bad-1", T0 + 1), (1, "ok-3", T0 + 2), (0, "bad-2", T0 + 3)]);

    [Fact]
    public void A_bad_record_fails_the_read_naming_topic_partition_offset_and_problem()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        ProduceWithBadRecords(kafka);
        using var reader = Reading.Reader(new KafkaSource<string>(kafka.Options(), Strict));
        var e = Assert.Throws<FormatException>(() => Reading.ToEnd(reader));
        Assert.Matches(@"topic 'events' partition (1 at offset 1: 'bad-1'|0 at offset 1: 'bad-2') is not good", e.Message);
    }

    [Fact]
    public void Skipped_bad_records_are_counted()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        ProduceWithBadRecords(kafka);
        var metrics = new SubtaskMetrics("k", 0);
        using var reader = Reading.Reader(new KafkaSource<string>(kafka.Options() with { BadRecords = KafkaBadRecordMode.Skip }, Strict), 0, 1, metrics, null);
        Assert.Equal(["ok-1", "ok-2", "ok-3"], Texts(Reading.ToEnd(reader)));
        Assert.Equal(2, metrics.RecordsSkipped);
    }

    [Fact]
    public void Bad_records_go_to_the_dead_letter_topic_with_the_problem_and_their_origin_in_headers()
    {
        using var kafka = new KafkaFixture(partitions: 2);
        kafka.Cluster.CreateTopic("dead", 1);
        ProduceWithBadRecords(kafka);
        var metrics = new SubtaskMetrics("k", 0);
        var options = kafka.Options(bounded: KafkaBoundedMode.Unbounded) with { BadRecords = KafkaBadRecordMode.DeadLetter, DeadLetterTopic = "dead" };
        using (var reader = Reading.Reader(new KafkaSource<string>(options, Strict), 0, 1, metrics, null))
        {
            Assert.Equal(["ok-1", "ok-2", "ok-3"], Texts(Reading.AtLeast(reader, 3)));
            // The checkpoint barrier waits until the dead letters are stored.
            Reading.Snapshot(reader, 1);
        }
        Assert.Equal(2, metrics.RecordsSkipped);
        var dead = kafka.ReadAll("dead", 1, expected: 2);
        string Header(Confluent.Kafka.ConsumeResult<byte[]?, byte[]?> r, string name) => Encoding.UTF8.GetString(r.Message.Headers.GetLastBytes(name));
        Assert.Equal(["bad-1 events 1 1 'bad-1' is not good", "bad-2 events 0 1 'bad-2' is not good"],
            dead.Select(r => $"{Encoding.UTF8.GetString(r.Message.Value!)} {Header(r, "eddy.topic")} {Header(r, "eddy.partition")} {Header(r, "eddy.offset")} {Header(r, "eddy.error")}")
                .Order(StringComparer.Ordinal).ToList());
        Assert.All(dead, r => Assert.Equal("k-" + Encoding.UTF8.GetString(r.Message.Value!), Encoding.UTF8.GetString(r.Message.Key!)));
    }

    [Fact]
    public void A_dead_letter_larger_than_the_producer_takes_goes_with_its_value_cut_and_its_size_in_a_header()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        kafka.Cluster.CreateTopic("dead", 1);
        // 1.1 MB: above librdkafka's default 'message.max.bytes' (1,000,000), which the dead-letter producer keeps.
        var big = new byte[1_100_000];
        big.AsSpan().Fill((byte)'b');
        "bad"u8.CopyTo(big);
        using (var producer = new Confluent.Kafka.ProducerBuilder<byte[]?, byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap, MessageMaxBytes = 2_000_000 }).Build())
        {
            producer.Produce("events", new() { Value = "ok-1"u8.ToArray() });
            producer.Produce("events", new() { Value = big });
            producer.Produce("events", new() { Value = "ok-2"u8.ToArray() });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }
        var metrics = new SubtaskMetrics("k", 0);
        var options = kafka.Options() with { BadRecords = KafkaBadRecordMode.DeadLetter, DeadLetterTopic = "dead" };
        using (var reader = Reading.Reader(new KafkaSource<string>(options, m => m.Value!.Length > 100 ? throw new FormatException("too big") : KafkaFixture.Text(m)), 0, 1, metrics, null))
        {
            Assert.Equal(["ok-1", "ok-2"], Texts(Reading.ToEnd(reader)));
            Reading.Snapshot(reader, 1);
        }
        Assert.Equal(1, metrics.RecordsSkipped);
        var dead = Assert.Single(kafka.ReadAll("dead", 1, expected: 1));
        Assert.Equal("1100000", Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes("eddy.value-truncated-from")));
        Assert.Equal("1", Encoding.UTF8.GetString(dead.Message.Headers.GetLastBytes("eddy.offset")));
        Assert.InRange(dead.Message.Value!.Length, 900_000, 1_000_000);
        Assert.Equal(big.AsSpan(0, dead.Message.Value.Length).ToArray(), dead.Message.Value);
    }

    [Fact]
    public void Messages_carry_their_headers()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        using (var producer = new Confluent.Kafka.ProducerBuilder<byte[]?, byte[]>(new Confluent.Kafka.ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap }).Build())
        {
            producer.Produce("events", new() { Value = "v"u8.ToArray(), Headers = new() { { "origin", "eu"u8.ToArray() }, { "n", [1, 2] } } });
            producer.Produce("events", new() { Value = "w"u8.ToArray() });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        using var reader = Reading.Reader(new KafkaSource<string>(kafka.Options(),
            m => KafkaFixture.Text(m) + ":" + string.Join(",", m.Headers?.Select(h => h.Key + "=" + Convert.ToHexString(h.GetValueBytes())) ?? [])));
        Assert.Equal(["v:origin=6575,n=0102", "w:"], Texts(Reading.ToEnd(reader)));
    }
}
