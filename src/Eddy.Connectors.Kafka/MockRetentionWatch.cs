using Confluent.Kafka;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// Notices when a partition of librdkafka's mock cluster starts dropping its oldest records. The mock keeps at most
/// <see cref="PartitionCapacityBytes"/> of record batches per partition (a fixed limit in librdkafka's
/// <c>rd_kafka_mock_partition_init</c>, not configurable) and then prunes from the start without telling anyone: a
/// partition's low watermark above 0 is the only sign.
/// </summary>
public sealed class MockRetentionWatch : IDisposable
{
    /// <summary>What the mock keeps per partition: record batches as produced (framing included), oldest dropped first.</summary>
    public const long PartitionCapacityBytes = 5L * 1024 * 1024;

    /// <summary>
    /// Record-batch bytes the mock stores per message besides its key and value, for a producer that sends about one
    /// message per batch (a paced producer such as <c>eddy produce --rate</c>): a batch header of 61 bytes and the
    /// record's own framing.
    /// </summary>
    public const int StoredBytesPerMessage = 70;

    private readonly IConsumer<byte[]?, byte[]?> consumer;
    private readonly IAdminClient admin;
    private readonly HashSet<(string Topic, int Partition)> reported = [];
    private readonly TimeSpan timeout;

    public MockRetentionWatch(string bootstrap, TimeSpan? timeout = null)
    {
        KafkaNative.EnsureLoaded();
        this.timeout = timeout ?? TimeSpan.FromSeconds(5);
        consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "eddy-retention-watch" })
            .SetLogHandler((_, _) => { }).Build();
        admin = new DependentAdminClientBuilder(consumer.Handle).Build();
    }

    /// <summary>Partitions that began dropping records since the last call, each with the first offset it still holds.</summary>
    public IReadOnlyList<(string Topic, int Partition, long FirstKept)> NewlyPruned()
    {
        var found = new List<(string, int, long)>();
        foreach (var topic in admin.GetMetadata(timeout).Topics)
        {
            if (topic.Error.IsError || topic.Topic.StartsWith("__", StringComparison.Ordinal)) continue;
            foreach (var p in topic.Partitions)
            {
                if (reported.Contains((topic.Topic, p.PartitionId))) continue;
                long low = consumer.QueryWatermarkOffsets(new TopicPartition(topic.Topic, p.PartitionId), timeout).Low.Value;
                if (low > 0 && reported.Add((topic.Topic, p.PartitionId))) found.Add((topic.Topic, p.PartitionId, low));
            }
        }
        return found;
    }

    /// <summary>
    /// How long the mock holds a producer's messages before it starts dropping: its capacity over the bytes a
    /// partition receives per second, the messages spread evenly over the partitions.
    /// </summary>
    public static TimeSpan Holds(double messagesPerSecond, double averageMessageBytes, int partitions) =>
        TimeSpan.FromSeconds(PartitionCapacityBytes * (double)Math.Max(1, partitions) / (messagesPerSecond * (averageMessageBytes + StoredBytesPerMessage)));

    public void Dispose()
    {
        admin.Dispose();
        consumer.Close();
        consumer.Dispose();
    }
}
