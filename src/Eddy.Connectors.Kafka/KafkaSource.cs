using Confluent.Kafka;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka;

/// <summary>Where a Kafka source starts in each partition (Flink's <c>scan.startup.mode</c>).</summary>
public enum KafkaStartupMode
{
    /// <summary>The earliest offset still in the partition.</summary>
    EarliestOffset,
    /// <summary>The end of the partition when the reader starts: only records produced afterwards.</summary>
    LatestOffset,
    /// <summary>The first record whose timestamp is at or after <see cref="KafkaSourceOptions.StartupTimestamp"/>.</summary>
    Timestamp,
    /// <summary>The offsets in <see cref="KafkaSourceOptions.SpecificOffsets"/>; other partitions from the earliest offset.</summary>
    SpecificOffsets,
}

/// <summary>Where a Kafka source stops (Flink's <c>scan.bounded.mode</c>).</summary>
public enum KafkaBoundedMode
{
    /// <summary>Never: the source reads until the job is cancelled.</summary>
    Unbounded,
    /// <summary>At the end offsets of the partitions when the source started: a backfill that finishes.</summary>
    LatestOffset,
}

/// <summary>One Kafka record as read, for a deserializer.</summary>
/// <param name="Timestamp">Milliseconds since the epoch, or <see cref="EventTime.None"/> when the record has none.</param>
public readonly record struct KafkaMessage(byte[]? Key, byte[]? Value, string Topic, int Partition, long Offset, long Timestamp);

/// <summary>Turns a Kafka record into a value; false skips the record (a tombstone, a bad record being ignored).</summary>
public delegate bool KafkaRecordDecoder<T>(in KafkaMessage message, out T value);

public sealed record KafkaSourceOptions
{
    public required IReadOnlyList<string> Topics { get; init; }

    public required string BootstrapServers { get; init; }

    /// <summary>The consumer group. Partitions are assigned by Eddy, not by the group, so it only names the client.</summary>
    public string GroupId { get; init; } = "eddy";

    public KafkaStartupMode StartupMode { get; init; } = KafkaStartupMode.EarliestOffset;

    /// <summary>For <see cref="KafkaStartupMode.Timestamp"/>: milliseconds since the epoch.</summary>
    public long? StartupTimestamp { get; init; }

    /// <summary>For <see cref="KafkaStartupMode.SpecificOffsets"/>: the offset of the first record to read per partition.</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> SpecificOffsets { get; init; } = new Dictionary<(string, int), long>();

    public KafkaBoundedMode BoundedMode { get; init; } = KafkaBoundedMode.Unbounded;

    /// <summary>Further librdkafka consumer properties (Flink's <c>properties.*</c> without the prefix).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>How long metadata and offset look-ups may take before the job fails.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (Topics.Count == 0 || Topics.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Kafka source: 'topic' needs at least one topic name");
        if (string.IsNullOrWhiteSpace(BootstrapServers)) throw new ArgumentException("Kafka source: 'properties.bootstrap.servers' is required");
        if (StartupMode == KafkaStartupMode.Timestamp && StartupTimestamp is null)
            throw new ArgumentException("Kafka source: startup mode 'timestamp' needs 'scan.startup.timestamp-millis'");
        if (StartupMode == KafkaStartupMode.SpecificOffsets && SpecificOffsets.Count == 0)
            throw new ArgumentException("Kafka source: startup mode 'specific-offsets' needs 'scan.startup.specific-offsets'");
    }

    internal ConsumerConfig ConsumerConfig()
    {
        var config = new ConsumerConfig(Properties.ToDictionary(p => p.Key, p => p.Value))
        {
            BootstrapServers = BootstrapServers,
            GroupId = GroupId,
            // Eddy decides where to start and does not store progress in Kafka.
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = false,
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        return config;
    }
}

/// <summary>
/// Reads Kafka topics. The topics' partitions are the splits: spread round-robin over the subtasks, each with its
/// own watermark; a subtask left without partitions is idle. The record timestamp is the source timestamp.
/// Partitions are assigned directly (no group rebalancing), so a job starts without waiting for a group join.
/// </summary>
public sealed class KafkaSource<T> : Source<T>
{
    private readonly KafkaSourceOptions options;
    private readonly KafkaRecordDecoder<T> decode;
    private readonly Lock gate = new();
    private List<TopicPartition>? partitions;

    public KafkaSource(KafkaSourceOptions options, Func<KafkaMessage, T> deserializer)
        : this(options, Wrap(deserializer))
    {
    }

    public KafkaSource(KafkaSourceOptions options, KafkaRecordDecoder<T> decoder)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(decoder);
        options.Validate();
        this.options = options;
        decode = decoder;
    }

    private static KafkaRecordDecoder<T> Wrap(Func<KafkaMessage, T> deserializer)
    {
        ArgumentNullException.ThrowIfNull(deserializer);
        return (in KafkaMessage m, out T value) =>
        {
            value = deserializer(m);
            return true;
        };
    }

    public KafkaSourceOptions Options => options;

    public override bool IsBounded => options.BoundedMode != KafkaBoundedMode.Unbounded;

    /// <summary>
    /// Every partition of the topics, looked up once per source so that all subtasks split the same list (partitions
    /// added later are not picked up).
    /// </summary>
    internal IReadOnlyList<TopicPartition> Partitions()
    {
        lock (gate)
        {
            if (partitions is not null) return partitions;
            KafkaNative.EnsureLoaded();
            // Through a consumer built like the readers' so that the same properties (security, timeouts) apply.
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(options.ConsumerConfig()).SetLogHandler((_, _) => { }).Build();
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var found = new List<TopicPartition>();
            foreach (var topic in options.Topics)
            {
                var metadata = admin.GetMetadata(topic, options.RequestTimeout);
                var t = metadata.Topics.Single(m => m.Topic == topic);
                if (t.Error.IsError) throw new InvalidOperationException($"Kafka topic '{topic}': {t.Error.Reason}");
                found.AddRange(t.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)));
            }
            partitions = found.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition.Value).ToList();
            return partitions;
        }
    }

    public override SourceReader<T> CreateReader(SourceReaderContext context)
    {
        var all = Partitions();
        var mine = all.Where((_, i) => i % context.Parallelism == context.SubtaskIndex).ToList();
        return new KafkaSourceReader<T>(options, mine, decode);
    }
}

internal sealed class KafkaSourceReader<T> : SourceReader<T>
{
    // Read() may wait this long for the first record; the rest of a batch is taken only if already fetched.
    private static readonly TimeSpan FirstRecordWait = TimeSpan.FromMilliseconds(20);

    private readonly KafkaRecordDecoder<T> decode;
    private readonly IConsumer<byte[]?, byte[]?>? consumer;
    private readonly Dictionary<TopicPartition, int> splitOf = [];
    private readonly TopicPartition[] splits;
    /// <summary>Per split, the offset to stop before (bounded), or long.MaxValue.</summary>
    private readonly long[] endOffsets;
    private readonly bool[] finished;
    /// <summary>Per split, records older than this are skipped until the first that is not (timestamp startup).</summary>
    private readonly long[] skipBefore;
    private readonly bool bounded;
    private int unfinished;

    public KafkaSourceReader(KafkaSourceOptions options, List<TopicPartition> partitions, KafkaRecordDecoder<T> decoder)
    {
        decode = decoder;
        splits = [.. partitions];
        endOffsets = new long[splits.Length];
        finished = new bool[splits.Length];
        skipBefore = new long[splits.Length];
        Array.Fill(skipBefore, long.MinValue);
        bounded = options.BoundedMode != KafkaBoundedMode.Unbounded;
        Array.Fill(endOffsets, long.MaxValue);
        for (int i = 0; i < splits.Length; i++) splitOf[splits[i]] = i;
        if (splits.Length == 0) return;

        consumer = new ConsumerBuilder<byte[]?, byte[]?>(options.ConsumerConfig())
            .SetKeyDeserializer(Deserializers.ByteArray)
            .SetValueDeserializer(Deserializers.ByteArray)
            .SetLogHandler((_, _) => { })
            .Build();
        try
        {
            var starts = StartOffsets(options);
            if (bounded)
            {
                for (int i = 0; i < splits.Length; i++)
                {
                    var marks = consumer.QueryWatermarkOffsets(splits[i], options.RequestTimeout);
                    endOffsets[i] = marks.High.Value;
                    // A partition already at its end (or starting there) has nothing to read.
                    long low = marks.Low.Value;
                    long start = starts[i].Offset.Value;
                    long effective = start == Offset.Beginning.Value ? low : start;
                    if (effective >= endOffsets[i]) finished[i] = true;
                }
            }
            unfinished = finished.Count(f => !f);
            consumer.Assign(starts.Where((_, i) => !finished[i]));
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    public override int SplitCount => splits.Length;

    private List<TopicPartitionOffset> StartOffsets(KafkaSourceOptions options)
    {
        var c = consumer!;
        switch (options.StartupMode)
        {
            case KafkaStartupMode.EarliestOffset:
                return splits.Select(s => new TopicPartitionOffset(s, Offset.Beginning)).ToList();
            case KafkaStartupMode.LatestOffset:
                // Resolved now, not at the first fetch: "latest" means the end when the job started.
                return splits.Select(s => new TopicPartitionOffset(s, c.QueryWatermarkOffsets(s, options.RequestTimeout).High)).ToList();
            case KafkaStartupMode.Timestamp:
            {
                var ts = new Timestamp(options.StartupTimestamp!.Value, TimestampType.CreateTime);
                var found = c.OffsetsForTimes(splits.Select(s => new TopicPartitionTimestamp(s, ts)), options.RequestTimeout);
                return found.Select(f =>
                {
                    if (f.Offset != Offset.End) return new TopicPartitionOffset(f.TopicPartition, f.Offset);
                    // "No record at or after the timestamp" is also what brokers without a time index answer
                    // (librdkafka's mock cluster always does): the partition is read from its start and records
                    // are skipped up to the first one at or after the timestamp, which is the offset Kafka's
                    // look-up gives. On a real broker this costs one scan of a partition with no such record yet.
                    skipBefore[splitOf[f.TopicPartition]] = options.StartupTimestamp.Value;
                    return new TopicPartitionOffset(f.TopicPartition, Offset.Beginning);
                }).OrderBy(f => splitOf[f.TopicPartition]).ToList();
            }
            case KafkaStartupMode.SpecificOffsets:
                return splits.Select(s => new TopicPartitionOffset(s,
                    options.SpecificOffsets.TryGetValue((s.Topic, s.Partition.Value), out long o) ? new Offset(o) : Offset.Beginning)).ToList();
            default:
                throw new ArgumentOutOfRangeException(nameof(options), options.StartupMode, "unknown startup mode");
        }
    }

    public override SourceStatus Read(SourceOutput<T> output)
    {
        if (consumer is null || (bounded && unfinished == 0))
            return bounded ? SourceStatus.EndOfInput : SourceStatus.NothingAvailable;

        var first = consumer.Consume(FirstRecordWait);
        if (first is null)
        {
            if (bounded) CheckPositions();
            return bounded && unfinished == 0 ? SourceStatus.EndOfInput : SourceStatus.NothingAvailable;
        }
        int before = output.Count;
        for (var r = first; r is not null; r = output.IsFull ? null : consumer.Consume(TimeSpan.Zero))
        {
            int split = splitOf[r.TopicPartition];
            long offset = r.Offset.Value;
            if (offset >= endOffsets[split]) continue; // fetched before the partition was paused
            var m = r.Message;
            long ts = m.Timestamp.Type == TimestampType.NotAvailable ? EventTime.None : m.Timestamp.UnixTimestampMs;
            if (skipBefore[split] != long.MinValue)
            {
                if (ts < skipBefore[split])
                {
                    if (offset + 1 >= endOffsets[split]) Finish(split);
                    continue;
                }
                skipBefore[split] = long.MinValue;
            }
            output.Bytes += (m.Key?.Length ?? 0) + (m.Value?.Length ?? 0);
            if (decode(new KafkaMessage(m.Key, m.Value, r.Topic, r.Partition.Value, offset, ts), out var value)) output.Add(value, ts, split);
            if (offset + 1 >= endOffsets[split]) Finish(split);
        }
        if (bounded && unfinished == 0) return SourceStatus.EndOfInput;
        // Records read now suggest more are fetched: the driver asks again at once instead of pausing.
        return output.Count > before ? SourceStatus.MoreAvailable : SourceStatus.NothingAvailable;
    }

    /// <summary>
    /// A partition can end without a record at its last offset (transaction markers, pruned logs): its consume
    /// position tells then.
    /// </summary>
    private void CheckPositions()
    {
        for (int i = 0; i < splits.Length; i++)
        {
            if (finished[i]) continue;
            var position = consumer!.Position(splits[i]);
            if (position != Offset.Unset && position.Value >= endOffsets[i]) Finish(i);
        }
    }

    private void Finish(int split)
    {
        if (finished[split]) return;
        finished[split] = true;
        unfinished--;
        consumer!.Pause([splits[split]]);
    }

    public override void Dispose()
    {
        consumer?.Close();
        consumer?.Dispose();
        base.Dispose();
    }
}
