using System.Reflection;
using System.Text;
using Confluent.Kafka;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary>
/// Binds Confluent.Kafka to the bundled librdkafka when the test assembly loads: tests that use Confluent's client
/// before anything of Eddy's Kafka connector runs would otherwise let Confluent's own loader pick a librdkafka (the
/// operating system's, when installed), once for the whole process.
/// </summary>
internal static class BundledLibrdkafkaFirst
{
#pragma warning disable CA2255 // a test assembly's start-up, not a library's
    [System.Runtime.CompilerServices.ModuleInitializer]
    internal static void Load() => KafkaNative.EnsureLoaded();
#pragma warning restore CA2255
}

/// <summary>A mock cluster with one topic, and helpers to fill it and to drive readers.</summary>
public sealed class KafkaFixture : IDisposable
{
    public KafkaFixture(int partitions, string topic = "events")
    {
        Topic = topic;
        Cluster.CreateTopic(topic, partitions);
    }

    public MockKafkaCluster Cluster { get; } = new();

    public string Topic { get; }

    /// <summary>Produces values with the given timestamps to the given partitions, and waits until all are stored.</summary>
    public void Produce(IEnumerable<(int Partition, string Value, long Timestamp)> records)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = Cluster.Bootstrap, LingerMs = 2 }).Build();
        foreach (var (p, v, ts) in records)
            producer.Produce(new TopicPartition(Topic, p), new Message<byte[]?, byte[]>
            {
                Key = Encoding.UTF8.GetBytes("k-" + v), Value = Encoding.UTF8.GetBytes(v), Timestamp = new Timestamp(ts, TimestampType.CreateTime),
            });
        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("records were not delivered");
    }

    /// <summary>Produces raw values (bytes that need not be text) to partition 0, and waits until all are stored.</summary>
    public void ProduceBytes(params byte[][] values)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = Cluster.Bootstrap, LingerMs = 2 }).Build();
        foreach (var v in values) producer.Produce(new TopicPartition(Topic, 0), new Message<byte[]?, byte[]> { Value = v });
        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("records were not delivered");
    }

    public KafkaSourceOptions Options(KafkaStartupMode startup = KafkaStartupMode.EarliestOffset, KafkaBoundedMode bounded = KafkaBoundedMode.LatestOffset) =>
        new() { Topics = [Topic], BootstrapServers = Cluster.Bootstrap, GroupId = "tests", StartupMode = startup, BoundedMode = bounded };

    public static string Text(KafkaMessage m) => Encoding.UTF8.GetString(m.Value!);

    /// <summary>The offsets group <paramref name="group"/> has committed for the topic's partitions (negative: none).</summary>
    public long[] Committed(string group, int partitions)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Cluster.Bootstrap, GroupId = group }).Build();
        var committed = consumer.Committed(Enumerable.Range(0, partitions).Select(p => new TopicPartition(Topic, p)), TimeSpan.FromSeconds(30));
        return [.. committed.OrderBy(c => c.Partition.Value).Select(c => c.Offset.Value)];
    }

    /// <summary>Commits offsets for a group, as another consumer of it would have.</summary>
    public void Commit(string group, params (int Partition, long Offset)[] offsets)
    {
        using var consumer = new ConsumerBuilder<byte[], byte[]>(new ConsumerConfig { BootstrapServers = Cluster.Bootstrap, GroupId = group }).Build();
        consumer.Commit(offsets.Select(o => new TopicPartitionOffset(Topic, o.Partition, o.Offset)));
    }

    /// <summary>Every record of a topic (all partitions, from the start), read with a plain consumer.</summary>
    public List<ConsumeResult<byte[]?, byte[]?>> ReadAll(string topic, int partitions, int expected)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = Cluster.Bootstrap, GroupId = "check" }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        var all = new List<ConsumeResult<byte[]?, byte[]?>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (all.Count < expected && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } r) all.Add(r);
        }
        return all;
    }

    public void Dispose() => Cluster.Dispose();
}

public readonly record struct Read<T>(T Value, long Timestamp, int Split);

/// <summary>Drives a reader without a job; the records it put out are internal to the runtime and read by reflection.</summary>
public static class Reading
{
    public static SourceReader<T> Reader<T>(Source<T> source, int subtask = 0, int parallelism = 1) =>
        source.CreateReader(new SourceReaderContext(subtask, parallelism, TimeProvider.System, new SubtaskMetrics("test", subtask)));

    /// <summary>A reader of a job that takes checkpoints, optionally restored from the given subtask states.</summary>
    public static SourceReader<T> Reader<T>(Source<T> source, int subtask, int parallelism, SubtaskMetrics metrics, RestoredState? restored, bool checkpointing = true) =>
        source.CreateReader(new SourceReaderContext(subtask, parallelism, TimeProvider.System, metrics)
        {
            CheckpointingEnabled = checkpointing,
            Restored = restored,
        });

    /// <summary>What the reader writes at a checkpoint barrier.</summary>
    public static byte[] Snapshot<T>(SourceReader<T> reader, long checkpointId)
    {
        var bytes = new MemoryStream();
        using (var writer = new BinaryWriter(bytes, System.Text.Encoding.UTF8, leaveOpen: true)) reader.SnapshotState(checkpointId, writer);
        return bytes.ToArray();
    }

    public static List<Read<T>> Drain<T>(SourceOutput<T> output)
    {
        var batch = (Batch<T>)typeof(SourceOutput<T>).GetProperty("Batch", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(output)!;
        var splits = (int[])typeof(SourceOutput<T>).GetField("splits", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(output)!;
        var records = new List<Read<T>>(batch.Count);
        for (int i = 0; i < batch.Count; i++) records.Add(new(batch.Values[i], batch.Timestamps[i], splits[i]));
        batch.Clear();
        return records;
    }

    /// <summary>Reads until the end of input (bounded readers), checking that no call blocks for long.</summary>
    public static List<Read<T>> ToEnd<T>(SourceReader<T> reader, TimeSpan? timeout = null)
    {
        var output = new SourceOutput<T>();
        var all = new List<Read<T>>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var status = TimedRead(reader, output);
            all.AddRange(Drain(output));
            if (status == SourceStatus.EndOfInput) return all;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the reader did not end; {all.Count} records so far");
        }
    }

    /// <summary>Reads until <paramref name="count"/> records came (unbounded readers), then a little longer to catch extras.</summary>
    public static List<Read<T>> AtLeast<T>(SourceReader<T> reader, int count, TimeSpan? linger = null)
    {
        var output = new SourceOutput<T>();
        var all = new List<Read<T>>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (all.Count < count && DateTime.UtcNow < deadline)
        {
            Assert.NotEqual(SourceStatus.EndOfInput, TimedRead(reader, output));
            all.AddRange(Drain(output));
        }
        var lingerEnd = DateTime.UtcNow + (linger ?? TimeSpan.FromMilliseconds(500));
        while (DateTime.UtcNow < lingerEnd)
        {
            TimedRead(reader, output);
            all.AddRange(Drain(output));
        }
        return all;
    }

    private static SourceStatus TimedRead<T>(SourceReader<T> reader, SourceOutput<T> output)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var status = reader.Read(output);
        var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
        // The contract is ~50 ms; the margin absorbs a slow CI machine's scheduling, not a blocking read.
        Assert.True(took < TimeSpan.FromMilliseconds(250), $"Read() blocked for {took.TotalMilliseconds:F0} ms");
        return status;
    }
}
