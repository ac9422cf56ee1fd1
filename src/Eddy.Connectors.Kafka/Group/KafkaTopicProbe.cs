using Confluent.Kafka;

namespace Eddy.Connectors.Kafka.Group;

/// <summary>
/// Metadata a worker asks of the cluster: the partition counts of its input topics (co-partitioned inputs must agree)
/// and the end offsets of its partitions (for lag). One client for the worker's lifetime.
/// </summary>
public sealed class KafkaTopicProbe : IDisposable
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private readonly IConsumer<Ignore, Ignore> consumer;
    private readonly IAdminClient admin;
    private readonly string bootstrap;

    public KafkaTopicProbe(string bootstrapServers, IReadOnlyDictionary<string, string> properties)
    {
        KafkaNative.EnsureLoaded();
        bootstrap = bootstrapServers;
        var config = new ConsumerConfig(properties.ToDictionary(p => p.Key, p => p.Value))
        {
            BootstrapServers = bootstrapServers,
            GroupId = "eddy-worker-probe",
            EnableAutoCommit = false,
        };
        consumer = new ConsumerBuilder<Ignore, Ignore>(config).SetLogHandler((_, _) => { }).Build();
        admin = new DependentAdminClientBuilder(consumer.Handle).Build();
    }

    /// <summary>The partition count of each topic; a topic that does not exist is an error naming it.</summary>
    public IReadOnlyDictionary<string, int> PartitionCounts(IReadOnlyList<string> topics)
    {
        Metadata all;
        try
        {
            all = admin.GetMetadata(Timeout);
        }
        catch (KafkaException e)
        {
            throw new InvalidOperationException($"no answer from '{bootstrap}' within {Timeout.TotalSeconds:0} s: {e.Error.Reason}", e);
        }
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var topic in topics)
        {
            var t = all.Topics.FirstOrDefault(m => m.Topic == topic && !m.Error.IsError)
                ?? throw new InvalidOperationException($"topic '{topic}' does not exist at '{bootstrap}'");
            counts[topic] = t.Partitions.Count;
        }
        return counts;
    }

    /// <summary>The offset after the last record of the partition, or null when the broker does not answer in time.</summary>
    public long? EndOffset(string topic, int partition)
    {
        try
        {
            return consumer.QueryWatermarkOffsets(new TopicPartition(topic, partition), TimeSpan.FromSeconds(2)).High.Value;
        }
        catch (KafkaException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        admin.Dispose();
        consumer.Dispose();
    }
}
