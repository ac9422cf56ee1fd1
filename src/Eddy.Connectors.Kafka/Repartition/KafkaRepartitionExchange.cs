using Confluent.Kafka;
using Confluent.Kafka.Admin;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka.Repartition;

/// <summary>
/// Repartition topics on a Kafka cluster: the transport of a distributed job's keyed exchanges
/// (<see cref="StageSplitter"/>). Writers create their topic when it is absent.
/// </summary>
public sealed class KafkaRepartitionExchange(string bootstrapServers, IReadOnlyDictionary<string, string>? properties = null) : IRepartitionExchange
{
    public string BootstrapServers { get; } = bootstrapServers;

    /// <summary>How long metadata look-ups, topic creation and the final delivery may take.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public Sink<T> CreateWriter<T>(RepartitionTopic topic, Func<T, int> keyHash, int maxParallelism) =>
        new RepartitionSink<T>(this, topic, keyHash, maxParallelism);

    public Source<T> CreateReader<T>(RepartitionTopic topic) => new RepartitionSource<T>(this, topic);

    internal ProducerConfig ProducerConfig()
    {
        var config = new ProducerConfig(Properties())
        {
            BootstrapServers = BootstrapServers,
            // Records and the watermarks after them must reach each partition in the order they were sent.
            EnableIdempotence = true,
            LingerMs = 5,
        };
        return config;
    }

    internal ConsumerConfig ConsumerConfig(string groupId) => new(KafkaProperties.WithConsumerDefaults(Properties()))
    {
        BootstrapServers = BootstrapServers,
        GroupId = groupId,
        EnableAutoCommit = false,
        EnableAutoOffsetStore = false,
        EnablePartitionEof = false,
        AutoOffsetReset = AutoOffsetReset.Earliest,
    };

    private Dictionary<string, string> Properties() => properties is null ? [] : new Dictionary<string, string>(properties);

    /// <summary>
    /// The partition count of <paramref name="name"/>, creating it with <paramref name="partitions"/> when absent; a
    /// topic that exists with another count fails the job (its key groups would land elsewhere).
    /// </summary>
    public void EnsureTopic(string name, int partitions)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(Properties()) { BootstrapServers = BootstrapServers })
            .SetLogHandler((_, _) => { }).Build();
        int existing = PartitionsOf(admin, name);
        if (existing == 0)
        {
            // The dev broker (librdkafka's mock cluster, in this process) has no CreateTopics: it is created in the mock.
            if (!MockKafkaCluster.TryCreateTopic(BootstrapServers, name, partitions))
            {
                try
                {
                    admin.CreateTopicsAsync([new TopicSpecification { Name = name, NumPartitions = partitions, ReplicationFactor = -1 }],
                        new CreateTopicsOptions { RequestTimeout = RequestTimeout }).GetAwaiter().GetResult();
                }
                catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code == ErrorCode.TopicAlreadyExists))
                {
                    // Another partition task created it at the same time.
                }
                catch (KafkaException e) when (e is not CreateTopicsException || PartitionsOf(admin, name) == 0)
                {
                    // The dev broker run as its own process ('eddy kafka') has no CreateTopics either.
                    throw new InvalidOperationException(
                        $"repartition topic '{name}' does not exist at '{BootstrapServers}' and could not be created ({e.Error.Reason}): create it with "
                        + $"{partitions} partitions (with the dev broker: eddy kafka --partitions {partitions} --topic {name})", e);
                }
            }
            var deadline = DateTime.UtcNow + RequestTimeout;
            while ((existing = PartitionsOf(admin, name)) == 0)
            {
                if (DateTime.UtcNow > deadline)
                    throw new InvalidOperationException($"repartition topic '{name}' at '{BootstrapServers}' did not appear within {RequestTimeout.TotalSeconds:F0} s of its creation");
                Thread.Sleep(50);
            }
        }
        if (existing != partitions)
        {
            throw new InvalidOperationException(
                $"repartition topic '{name}' at '{BootstrapServers}' has {existing} partitions, the job needs {partitions} " +
                "('table.exec.repartition.partitions', default: the source topic's count): delete the topic or set the option to match");
        }
    }

    /// <summary>Asks for every topic (asking for one by name would make a broker that auto-creates topics create it).</summary>
    private int PartitionsOf(IAdminClient admin, string name)
    {
        var metadata = admin.GetMetadata(RequestTimeout);
        var t = metadata.Topics.FirstOrDefault(t => t.Topic == name);
        return t is null || t.Error.IsError ? 0 : t.Partitions.Count;
    }
}
