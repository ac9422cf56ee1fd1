using Confluent.Kafka;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka;

/// <summary>How a Kafka sink picks the partition of a record (Flink's <c>sink.partitioner</c>).</summary>
public enum KafkaSinkPartitioner
{
    /// <summary>By the key's hash (murmur2, as the Java client) when the record has a key, else round-robin.</summary>
    Default,
    /// <summary>Each subtask cycles through all partitions.</summary>
    RoundRobin,
    /// <summary>Subtask i writes only to partition i mod the partition count.</summary>
    Fixed,
}

/// <summary>What a Kafka sink promises about delivery (Flink's <c>sink.delivery-guarantee</c>).</summary>
public enum KafkaDeliveryGuarantee
{
    /// <summary>Records are sent; failed deliveries are not reported.</summary>
    None,
    /// <summary>At the end of input every record is confirmed by the broker, or the job fails naming where.</summary>
    AtLeastOnce,
}

/// <summary>A record's key and value bytes; false skips the record (an upsert sink's -U). A null value is a tombstone.</summary>
public delegate bool KafkaRecordSerializer<T>(T value, RowKind kind, out byte[]? key, out byte[]? message, out long timestamp);

public sealed record KafkaSinkOptions
{
    public required string Topic { get; init; }

    public required string BootstrapServers { get; init; }

    public KafkaSinkPartitioner Partitioner { get; init; } = KafkaSinkPartitioner.Default;

    public KafkaDeliveryGuarantee DeliveryGuarantee { get; init; } = KafkaDeliveryGuarantee.AtLeastOnce;

    /// <summary>Further librdkafka producer properties (already in librdkafka's names).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>How long the partition look-up and the final flush may take before the job fails.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(60);

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Topic) || Topic.Contains(';'))
            throw new ArgumentException("Kafka sink: 'topic' needs exactly one topic name");
        if (string.IsNullOrWhiteSpace(BootstrapServers)) throw new ArgumentException("Kafka sink: 'properties.bootstrap.servers' is required");
    }

    internal ProducerConfig ProducerConfig()
    {
        var config = new ProducerConfig(Properties.ToDictionary(p => p.Key, p => p.Value)) { BootstrapServers = BootstrapServers };
        // The Java client hashes keys with murmur2; the same partitioner puts a key where Flink would.
        if (!Properties.ContainsKey("partitioner")) config.Partitioner = Confluent.Kafka.Partitioner.Murmur2Random;
        if (!Properties.ContainsKey("linger.ms")) config.LingerMs = 5;
        return config;
    }
}

/// <summary>
/// Writes records to one Kafka topic, one producer per subtask. Partitions are chosen by
/// <see cref="KafkaSinkOptions.Partitioner"/>; a -U immediately followed in a batch by a +U with the same key is not
/// written (the +U replaces it); with at-least-once, <see cref="SinkWriter{T}.Flush"/> waits for every
/// delivery report and fails on the first failed delivery, naming topic and partition.
/// </summary>
public sealed class KafkaSink<T> : Sink<T>
{
    private readonly KafkaSinkOptions options;
    private readonly Func<KafkaRecordSerializer<T>> createSerializer;

    /// <param name="createSerializer">Called once per writer, so that a serializer may keep buffers without locking.</param>
    public KafkaSink(KafkaSinkOptions options, Func<KafkaRecordSerializer<T>> createSerializer)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(createSerializer);
        options.Validate();
        this.options = options;
        this.createSerializer = createSerializer;
    }

    public KafkaSinkOptions Options => options;

    public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(options, createSerializer(), context.SubtaskIndex);

    private sealed class Writer : SinkWriter<T>
    {
        private readonly KafkaSinkOptions options;
        private readonly KafkaRecordSerializer<T> serialize;
        private readonly IProducer<byte[]?, byte[]?> producer;
        private readonly Action<DeliveryReport<byte[]?, byte[]?>> onDelivery;
        private readonly int partitions;
        private readonly int subtask;
        private long next;
        private string? firstFailure;

        public Writer(KafkaSinkOptions options, KafkaRecordSerializer<T> serialize, int subtask)
        {
            this.options = options;
            this.serialize = serialize;
            this.subtask = subtask;
            KafkaNative.EnsureLoaded();
            producer = new ProducerBuilder<byte[]?, byte[]?>(options.ProducerConfig()).SetLogHandler((_, _) => { }).Build();
            try
            {
                partitions = PartitionCount();
            }
            catch
            {
                producer.Dispose();
                throw;
            }
            // Round-robin starts at the subtask's own partition so that parallel writers do not all begin at 0.
            next = subtask;
            onDelivery = report =>
            {
                if (report.Error.IsError)
                    Interlocked.CompareExchange(ref firstFailure,
                        $"Kafka sink: delivery to topic '{report.Topic}' partition {report.Partition.Value} failed: {report.Error.Reason}", null);
            };
        }

        private int PartitionCount()
        {
            using var admin = new DependentAdminClientBuilder(producer.Handle).Build();
            var deadline = DateTime.UtcNow + options.RequestTimeout;
            while (true)
            {
                var metadata = admin.GetMetadata(options.Topic, options.RequestTimeout);
                var topic = metadata.Topics.FirstOrDefault(t => t.Topic == options.Topic);
                if (topic is not null && !topic.Error.IsError && topic.Partitions.Count > 0) return topic.Partitions.Count;
                // A topic created by the request itself (auto-creation) answers with its leader unknown at first.
                if (DateTime.UtcNow > deadline)
                    throw new InvalidOperationException($"Kafka sink: topic '{options.Topic}' has no partitions: {topic?.Error.Reason ?? "not in the metadata"}");
                Thread.Sleep(100);
            }
        }

        private (bool Write, byte[]? Key, byte[]? Value, long Timestamp) Serialize(Batch<T> batch, int i)
        {
            bool write = serialize(batch.Values[i], batch.KindAt(i), out var key, out var value, out long timestamp);
            return (write, key, value, timestamp);
        }

        public override void Write(Batch<T> batch)
        {
            ThrowOnFailure();
            (bool Write, byte[]? Key, byte[]? Value, long Timestamp) lookahead = default;
            bool haveLookahead = false;
            for (int i = 0; i < batch.Count; i++)
            {
                var (write, key, value, timestamp) = haveLookahead ? lookahead : Serialize(batch, i);
                haveLookahead = false;
                if (!write) continue;
                if (batch.KindAt(i) == RowKind.UpdateBefore && i + 1 < batch.Count && batch.KindAt(i + 1) == RowKind.UpdateAfter)
                {
                    // A -U directly followed by the +U of the same key needs no record of its own: the +U replaces
                    // the value. A -U without one (a filter dropped the +U) is written, so the old value goes.
                    lookahead = Serialize(batch, i + 1);
                    haveLookahead = true;
                    if (lookahead.Write && key is not null && lookahead.Key is not null && key.AsSpan().SequenceEqual(lookahead.Key)) continue;
                }
                var message = new Message<byte[]?, byte[]?> { Key = key, Value = value };
                if (timestamp != EventTime.None) message.Timestamp = new Timestamp(timestamp, TimestampType.CreateTime);
                int partition = options.Partitioner switch
                {
                    KafkaSinkPartitioner.Fixed => subtask % partitions,
                    KafkaSinkPartitioner.Default when key is not null => -1,
                    _ => (int)(next++ % partitions),
                };
                Produce(partition, message);
            }
        }

        private void Produce(int partition, Message<byte[]?, byte[]?> message)
        {
            while (true)
            {
                try
                {
                    if (partition < 0) producer.Produce(options.Topic, message, onDelivery);
                    else producer.Produce(new TopicPartition(options.Topic, partition), message, onDelivery);
                    return;
                }
                catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
                {
                    // librdkafka's queue is full: wait for deliveries to free room (back-pressure on the job).
                    producer.Poll(TimeSpan.FromMilliseconds(50));
                }
            }
        }

        public override void Flush()
        {
            var deadline = DateTime.UtcNow + options.RequestTimeout;
            while (producer.Flush(TimeSpan.FromSeconds(1)) > 0)
            {
                if (DateTime.UtcNow > deadline)
                {
                    if (options.DeliveryGuarantee == KafkaDeliveryGuarantee.None) return;
                    throw new TimeoutException($"Kafka sink: records to topic '{options.Topic}' not confirmed within {options.RequestTimeout.TotalSeconds:F0} s");
                }
            }
            ThrowOnFailure();
        }

        private void ThrowOnFailure()
        {
            if (options.DeliveryGuarantee == KafkaDeliveryGuarantee.AtLeastOnce && Volatile.Read(ref firstFailure) is { } failure)
                throw new InvalidOperationException(failure);
        }

        public override void Dispose()
        {
            producer.Dispose();
            base.Dispose();
        }
    }
}
