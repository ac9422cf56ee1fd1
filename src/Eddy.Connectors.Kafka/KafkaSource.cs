using System.Text;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;

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
    /// <summary>The group's committed offsets; partitions without one by <see cref="KafkaSourceOptions.GroupOffsetsReset"/>.</summary>
    GroupOffsets,
}

/// <summary>Where a Kafka source stops (Flink's <c>scan.bounded.mode</c>).</summary>
public enum KafkaBoundedMode
{
    /// <summary>Never: the source reads until the job is cancelled.</summary>
    Unbounded,
    /// <summary>At the end offsets of the partitions when the source started: a backfill that finishes.</summary>
    LatestOffset,
    /// <summary>Before the first record whose timestamp is at or after <see cref="KafkaSourceOptions.BoundedTimestamp"/>.</summary>
    Timestamp,
    /// <summary>Before the offsets in <see cref="KafkaSourceOptions.BoundedSpecificOffsets"/>; other partitions at the group's committed offset, else their earliest (as Flink).</summary>
    SpecificOffsets,
    /// <summary>Before the group's committed offsets (a partition without one is an error).</summary>
    GroupOffsets,
}

/// <summary>Where a group-offsets start goes in a partition the group has no committed offset for (<c>auto.offset.reset</c>).</summary>
public enum KafkaOffsetReset
{
    /// <summary>The job fails naming the partition (Flink's default, <c>none</c>).</summary>
    None,
    Earliest,
    Latest,
}

/// <summary>What the source does with a record its decoder rejects (throws a <see cref="FormatException"/> for).</summary>
public enum KafkaBadRecordMode
{
    /// <summary>The job fails; the error names topic, partition, offset and the problem.</summary>
    Fail,
    /// <summary>The record is left out and counted (<see cref="SubtaskMetrics.RecordsSkipped"/>).</summary>
    Skip,
    /// <summary>The record is written unchanged to <see cref="KafkaSourceOptions.DeadLetterTopic"/> with the problem and its origin in headers, and counted.</summary>
    DeadLetter,
}

/// <summary>One Kafka record as read, for a deserializer.</summary>
/// <param name="Timestamp">Milliseconds since the epoch, or <see cref="EventTime.None"/> when the record has none.</param>
/// <param name="Headers">The record's headers (librdkafka's, not copied), or null when it has none.</param>
public readonly record struct KafkaMessage(byte[]? Key, byte[]? Value, string Topic, int Partition, long Offset, long Timestamp, Headers? Headers = null);

/// <summary>
/// Turns a Kafka record into a value; false skips the record (a tombstone). A record that cannot be decoded throws a
/// <see cref="FormatException"/> whose message is the problem: the source then applies <see cref="KafkaSourceOptions.BadRecords"/>.
/// </summary>
public delegate bool KafkaRecordDecoder<T>(in KafkaMessage message, out T value);

public sealed record KafkaSourceOptions
{
    /// <summary>The topics read; empty when <see cref="TopicPattern"/> chooses them.</summary>
    public IReadOnlyList<string> Topics { get; init; } = [];

    /// <summary>Flink's <c>topic-pattern</c>: every topic whose whole name matches, listed when the source starts.</summary>
    public Regex? TopicPattern { get; init; }

    public required string BootstrapServers { get; init; }

    /// <summary>
    /// The consumer group: offsets are committed there (for lag monitoring and <see cref="KafkaStartupMode.GroupOffsets"/>).
    /// Partitions are assigned by Eddy, not by the group.
    /// </summary>
    public string GroupId { get; init; } = "eddy";

    public KafkaStartupMode StartupMode { get; init; } = KafkaStartupMode.EarliestOffset;

    /// <summary>For <see cref="KafkaStartupMode.Timestamp"/>: milliseconds since the epoch.</summary>
    public long? StartupTimestamp { get; init; }

    /// <summary>For <see cref="KafkaStartupMode.SpecificOffsets"/>: the offset of the first record to read per partition.</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> SpecificOffsets { get; init; } = new Dictionary<(string, int), long>();

    /// <summary>For <see cref="KafkaStartupMode.GroupOffsets"/>: partitions without a committed offset.</summary>
    public KafkaOffsetReset GroupOffsetsReset { get; init; } = KafkaOffsetReset.None;

    public KafkaBoundedMode BoundedMode { get; init; } = KafkaBoundedMode.Unbounded;

    /// <summary>For <see cref="KafkaBoundedMode.Timestamp"/>: milliseconds since the epoch.</summary>
    public long? BoundedTimestamp { get; init; }

    /// <summary>For <see cref="KafkaBoundedMode.SpecificOffsets"/>: the offset to stop before per partition.</summary>
    public IReadOnlyDictionary<(string Topic, int Partition), long> BoundedSpecificOffsets { get; init; } = new Dictionary<(string, int), long>();

    /// <summary>
    /// Without checkpoints: whether consumed offsets are committed to the group every <see cref="AutoCommitInterval"/>
    /// (Flink's <c>properties.enable.auto.commit</c>). With checkpoints they are committed when a checkpoint completes.
    /// </summary>
    public bool AutoCommit { get; init; } = true;

    public TimeSpan AutoCommitInterval { get; init; } = TimeSpan.FromSeconds(5);

    public KafkaBadRecordMode BadRecords { get; init; } = KafkaBadRecordMode.Fail;

    /// <summary>For <see cref="KafkaBadRecordMode.DeadLetter"/>: where rejected records go.</summary>
    public string? DeadLetterTopic { get; init; }

    /// <summary>Further librdkafka consumer properties (Flink's <c>properties.*</c> without the prefix).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();

    /// <summary>How long metadata and offset look-ups may take before the job fails.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        if (TopicPattern is null && (Topics.Count == 0 || Topics.Any(string.IsNullOrWhiteSpace)))
            throw new ArgumentException("Kafka source: 'topic' needs at least one topic name (or 'topic-pattern')");
        if (TopicPattern is not null && Topics.Count > 0) throw new ArgumentException("Kafka source: 'topic' and 'topic-pattern' exclude each other");
        if (string.IsNullOrWhiteSpace(BootstrapServers)) throw new ArgumentException("Kafka source: 'properties.bootstrap.servers' is required");
        if (StartupMode == KafkaStartupMode.Timestamp && StartupTimestamp is null)
            throw new ArgumentException("Kafka source: startup mode 'timestamp' needs 'scan.startup.timestamp-millis'");
        if (StartupMode == KafkaStartupMode.SpecificOffsets && SpecificOffsets.Count == 0)
            throw new ArgumentException("Kafka source: startup mode 'specific-offsets' needs 'scan.startup.specific-offsets'");
        if (BoundedMode == KafkaBoundedMode.Timestamp && BoundedTimestamp is null)
            throw new ArgumentException("Kafka source: bounded mode 'timestamp' needs 'scan.bounded.timestamp-millis'");
        if (BoundedMode == KafkaBoundedMode.SpecificOffsets && BoundedSpecificOffsets.Count == 0)
            throw new ArgumentException("Kafka source: bounded mode 'specific-offsets' needs 'scan.bounded.specific-offsets'");
        if (BadRecords == KafkaBadRecordMode.DeadLetter && string.IsNullOrWhiteSpace(DeadLetterTopic))
            throw new ArgumentException("Kafka source: the dead-letter mode needs 'scan.dead-letter.topic'");
        if (AutoCommitInterval <= TimeSpan.Zero) throw new ArgumentException("Kafka source: 'properties.auto.commit.interval.ms' must be positive");
    }

    internal ConsumerConfig ConsumerConfig(bool commitPeriodically = false)
    {
        var config = new ConsumerConfig(KafkaProperties.WithConsumerDefaults(Properties))
        {
            BootstrapServers = BootstrapServers,
            GroupId = GroupId,
            // Eddy decides where each partition starts; the offsets a reader stores are those it has consumed
            // (stored once per read call), and librdkafka commits them in the background when asked to.
            EnableAutoCommit = commitPeriodically,
            AutoCommitIntervalMs = (int)AutoCommitInterval.TotalMilliseconds,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = false,
            // Only reached when a start offset is out of range (pruned since it was recorded).
            AutoOffsetReset = AutoOffsetReset.Earliest,
        };
        return config;
    }

    internal ProducerConfig DeadLetterProducerConfig()
    {
        // The consumer's properties (security, timeouts) apply to the producer too; consumer-only ones are ignored by librdkafka.
        var config = new ProducerConfig(Properties.Where(p => !ConsumerOnly.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value))
        {
            BootstrapServers = BootstrapServers,
            LingerMs = 5,
        };
        return config;
    }

    private static readonly HashSet<string> ConsumerOnly = new(StringComparer.Ordinal)
    {
        "auto.offset.reset", "session.timeout.ms", "heartbeat.interval.ms", "fetch.min.bytes", "fetch.max.bytes", "fetch.wait.max.ms",
        "max.partition.fetch.bytes", "isolation.level", "group.instance.id", "max.poll.interval.ms", "queued.min.messages",
        "queued.max.messages.kbytes", "check.crcs", "partition.assignment.strategy", "fetch.message.max.bytes",
    };
}

/// <summary>
/// Reads Kafka topics. The topics' partitions are the splits: spread round-robin over the subtasks, each with its
/// own watermark; a subtask left without partitions is idle. The record timestamp is the source timestamp.
/// Partitions are assigned directly (no group rebalancing), so a job starts without waiting for a group join.
/// At a checkpoint each reader writes the next offset of its partitions; a restored reader resumes there.
/// </summary>
public sealed class KafkaSource<T> : Source<T>, IPartitionedSource
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
    /// Every partition of the topics (or of the topics matching the pattern), looked up once per source so that all
    /// subtasks split the same list (partitions and topics added later are not picked up).
    /// </summary>
    internal IReadOnlyList<TopicPartition> Partitions(Action<string>? report = null)
    {
        lock (gate)
        {
            if (partitions is not null) return partitions;
            KafkaNative.EnsureLoaded();
            // Through a consumer built like the readers' so that the same properties (security, timeouts) apply.
            using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(options.ConsumerConfig()).SetLogHandler((_, _) => { }).Build();
            using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
            var found = new List<TopicPartition>();
            string what = options.TopicPattern is { } p0 ? $"topic-pattern '{p0}'" : $"topic '{string.Join(";", options.Topics)}'";
            Metadata Ask(Func<Metadata> request)
            {
                try
                {
                    return request();
                }
                catch (KafkaException e)
                {
                    // librdkafka keeps retrying an address that does not answer until the timeout; its error names neither.
                    throw new InvalidOperationException(
                        $"Kafka source ({what}): no answer from 'properties.bootstrap.servers' = '{options.BootstrapServers}' within " +
                        $"{options.RequestTimeout.TotalSeconds:0.#} s: {e.Error.Reason}", e);
                }
            }
            if (options.TopicPattern is { } pattern)
            {
                var metadata = Ask(() => admin.GetMetadata(options.RequestTimeout));
                foreach (var t in metadata.Topics)
                {
                    // As Java's Pattern.matches: the whole name. Internal topics (__consumer_offsets) are never data.
                    if (t.Topic.StartsWith("__", StringComparison.Ordinal) || t.Error.IsError) continue;
                    var m = pattern.Match(t.Topic);
                    if (!m.Success || m.Index != 0 || m.Length != t.Topic.Length) continue;
                    found.AddRange(t.Partitions.Select(p => new TopicPartition(t.Topic, p.PartitionId)));
                }
            }
            // Asking for one topic by name makes a broker that auto-creates topics create it: whether it exists is asked
            // with the list of all topics first. As Flink, a topic that does not exist is an error, unless the table asks
            // for creation on first use.
            HashSet<string>? existing = options.Topics.Count > 0
                ? Ask(() => admin.GetMetadata(options.RequestTimeout)).Topics.Where(t => !t.Error.IsError).Select(t => t.Topic).ToHashSet(StringComparer.Ordinal)
                : null;
            bool autoCreate = options.Properties.TryGetValue("allow.auto.create.topics", out var create) && create.Equals("true", StringComparison.OrdinalIgnoreCase);
            foreach (var topic in options.Topics)
            {
                bool missing = !existing!.Contains(topic);
                if (missing && !autoCreate)
                    throw new InvalidOperationException(
                        $"Kafka source: topic '{topic}' does not exist at '{options.BootstrapServers}'; create it, or let the broker create it on first use " +
                        "with 'properties.allow.auto.create.topics' = 'true' (where the broker allows it)");
                var metadata = Ask(() => admin.GetMetadata(topic, options.RequestTimeout));
                if (metadata.Brokers.Count == 0)
                    throw new InvalidOperationException(
                        $"Kafka source (topic '{topic}'): no broker answered at 'properties.bootstrap.servers' = '{options.BootstrapServers}' within {options.RequestTimeout.TotalSeconds:0.#} s");
                var t = metadata.Topics.Single(m => m.Topic == topic);
                if (t.Error.Code == ErrorCode.UnknownTopicOrPart)
                    throw new InvalidOperationException(
                        $"Kafka source: topic '{topic}' does not exist at '{options.BootstrapServers}'; create it, or let the broker create it on first use " +
                        "with 'properties.allow.auto.create.topics' = 'true' (where the broker allows it)");
                if (t.Error.IsError) throw new InvalidOperationException($"Kafka source: topic '{topic}' at '{options.BootstrapServers}': {t.Error.Reason}");
                if (t.Partitions.Count == 0)
                    throw new InvalidOperationException($"Kafka source: topic '{topic}' at '{options.BootstrapServers}' has no partitions");
                if (missing)
                    report?.Invoke($"Kafka source: topic '{topic}' did not exist at '{options.BootstrapServers}'; the broker created it on first use, with {t.Partitions.Count} partition{(t.Partitions.Count == 1 ? "" : "s")}");
                found.AddRange(t.Partitions.Select(p => new TopicPartition(topic, p.PartitionId)));
            }
            partitions = found.OrderBy(p => p.Topic, StringComparer.Ordinal).ThenBy(p => p.Partition.Value).ToList();
            return partitions;
        }
    }

    /// <summary>
    /// The partition count of the source's topic. A source of several topics has no single one: records of partition
    /// 0 of two topics could not be told apart downstream of a repartition, so it is refused there.
    /// </summary>
    public int PartitionCount()
    {
        var topics = Partitions().GroupBy(p => p.Topic).ToList();
        if (topics.Count != 1)
        {
            throw new InvalidOperationException(
                $"Kafka source {Describe()} reads {topics.Count} topics: a repartition topic tracks the partitions of one source topic");
        }
        return topics[0].Count();
    }

    public IReadOnlyList<string> Topics() => options.Topics;

    public string Describe() => options.Topics.Count > 0 ? $"'{string.Join(";", options.Topics)}'" : $"pattern '{options.TopicPattern}'";

    public override SourceReader<T> CreateReader(SourceReaderContext context)
    {
        var all = Partitions(context.Report);
        // Under eddy worker a pipeline instance reads one partition number of every topic (co-partitioned inputs).
        var mine = context.PartitionTask is { } task
            ? all.Where(p => p.Partition.Value == task.Partition).ToList()
            : all.Where((_, i) => i % context.Parallelism == context.SubtaskIndex).ToList();
        return new KafkaSourceReader<T>(options, mine, decode, context);
    }
}

/// <summary>What a Kafka reader's checkpointed state says, for tools outside the reader.</summary>
public static class KafkaSourceState
{
    /// <summary>
    /// The next offset per partition recorded in a Kafka reader's checkpointed state (what a restore resumes from; the
    /// worker's lag is measured against it), also of the readers that wrap one (a changelog or upsert-kafka table: the
    /// Kafka reader's state length-prefixed before their own). Throws <see cref="InvalidDataException"/> for state of
    /// another format.
    /// </summary>
    public static IReadOnlyList<(string Topic, int Partition, long NextOffset)> CheckpointedOffsets(byte[] readerState)
    {
        try
        {
            return KafkaSourceReader<byte>.ReadOffsets(readerState);
        }
        catch (InvalidDataException) when (readerState.Length >= 4 && BitConverter.ToInt32(readerState, 0) is int length && length >= 0 && length <= readerState.Length - 4)
        {
            return KafkaSourceReader<byte>.ReadOffsets(NormalizingKafkaReader.OffsetState(readerState));
        }
    }
}

internal sealed class KafkaSourceReader<T> : SourceReader<T>
{
    // Read() may wait this long for the first record; the rest of a batch is taken only if already fetched.
    private static readonly TimeSpan FirstRecordWait = TimeSpan.FromMilliseconds(20);
    private const byte StateVersion = 1;

    private readonly KafkaSourceOptions options;
    private readonly KafkaRecordDecoder<T> decode;
    private readonly SubtaskMetrics metrics;
    private readonly IConsumer<byte[]?, byte[]?>? consumer;
    private bool disposed;
    private readonly Dictionary<TopicPartition, int> splitOf = [];
    private readonly TopicPartition[] splits;
    /// <summary>Per split, the offset of the next record to read (a concrete offset, or <see cref="Offset.Beginning"/>'s value before the first record).</summary>
    private readonly long[] nextOffsets;
    /// <summary>Per split, the offset last stored for the periodic commit.</summary>
    private readonly long[] storedOffsets;
    /// <summary>Per split, the offset to stop before (bounded), or long.MaxValue.</summary>
    private readonly long[] endOffsets;
    private readonly bool[] finished;
    /// <summary>Per split, whether it is assigned to the consumer (a partition already at its bound is not).</summary>
    private readonly bool[] assigned;
    /// <summary>Per split, records older than this are skipped until the first that is not (timestamp startup).</summary>
    private readonly long[] skipBefore;
    /// <summary>Per split, the partition ends at its first record at or after this time (timestamp bound), or long.MaxValue.</summary>
    private readonly long[] stopAt;
    private readonly bool bounded;
    private readonly bool commitPeriodically;
    /// <summary>The offsets each checkpoint not yet completed recorded, committed when it completes.</summary>
    private readonly SortedDictionary<long, List<TopicPartitionOffset>> pendingCommits = [];
    private IProducer<byte[]?, byte[]?>? deadLetters;
    private string? deadLetterFailure;
    /// <summary>The dead-letter producer's 'message.max.bytes'.</summary>
    private long deadLetterLimit;
    private int unfinished;

    public KafkaSourceReader(KafkaSourceOptions options, List<TopicPartition> partitions, KafkaRecordDecoder<T> decoder, SourceReaderContext context)
    {
        this.options = options;
        decode = decoder;
        metrics = context.Metrics;
        splits = [.. partitions];
        nextOffsets = new long[splits.Length];
        storedOffsets = new long[splits.Length];
        Array.Fill(storedOffsets, Offset.Unset.Value);
        endOffsets = new long[splits.Length];
        finished = new bool[splits.Length];
        assigned = new bool[splits.Length];
        skipBefore = new long[splits.Length];
        Array.Fill(skipBefore, long.MinValue);
        stopAt = new long[splits.Length];
        Array.Fill(stopAt, long.MaxValue);
        bounded = options.BoundedMode != KafkaBoundedMode.Unbounded;
        Array.Fill(endOffsets, long.MaxValue);
        for (int i = 0; i < splits.Length; i++) splitOf[splits[i]] = i;
        // With checkpoints the offsets are committed when a checkpoint completes (what the job has really processed).
        commitPeriodically = !context.CheckpointingEnabled && options.AutoCommit;
        if (splits.Length == 0) return;

        consumer = new ConsumerBuilder<byte[]?, byte[]?>(options.ConsumerConfig(commitPeriodically))
            .SetKeyDeserializer(Deserializers.ByteArray)
            .SetValueDeserializer(Deserializers.ByteArray)
            .SetLogHandler((_, _) => { })
            .Build();
        try
        {
            var restored = Restore(context.Restored);
            var fresh = Enumerable.Range(0, splits.Length).Where(i => !restored.ContainsKey(splits[i])).ToList();
            var starts = StartOffsets(fresh);
            for (int j = 0; j < fresh.Count; j++) nextOffsets[fresh[j]] = starts[j];
            if (bounded) EndOffsets(fresh);
            foreach (var (tp, state) in restored)
            {
                int i = splitOf[tp];
                nextOffsets[i] = state.Next;
                endOffsets[i] = state.End;
                skipBefore[i] = state.SkipBefore;
                stopAt[i] = state.StopAt;
            }
            if (bounded)
            {
                for (int i = 0; i < splits.Length; i++)
                {
                    long start = nextOffsets[i];
                    if (start == Offset.Beginning.Value) start = consumer.QueryWatermarkOffsets(splits[i], options.RequestTimeout).Low.Value;
                    // A partition already at its bound (or starting there) has nothing to read.
                    if (start >= endOffsets[i]) finished[i] = true;
                }
            }
            unfinished = finished.Count(f => !f);
            for (int i = 0; i < splits.Length; i++) assigned[i] = !finished[i];
            consumer.Assign(Enumerable.Range(0, splits.Length).Where(i => !finished[i]).Select(i => new TopicPartitionOffset(splits[i], new Offset(nextOffsets[i]))));
        }
        catch
        {
            consumer.Dispose();
            throw;
        }
    }

    public override int SplitCount => splits.Length;

    /// <summary>The split of a partition this reader owns, or -1 (for state that travels with partitions).</summary>
    internal int SplitOf(string topic, int partition) =>
        splitOf.TryGetValue(new TopicPartition(topic, new Partition(partition)), out int split) ? split : -1;

    public override string? SplitName(int split) =>
        split >= 0 && split < splits.Length ? $"{splits[split].Topic}-{splits[split].Partition.Value}" : null;

    private readonly record struct SplitState(long Next, long End, long SkipBefore, long StopAt);

    internal static IReadOnlyList<(string Topic, int Partition, long NextOffset)> ReadOffsets(byte[] bytes)
    {
        var result = new List<(string, int, long)>();
        if (bytes.Length == 0) return result;
        try
        {
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            byte version = reader.ReadByte();
            if (version != StateVersion) throw new InvalidDataException($"Kafka reader state version {version}, expected {StateVersion}");
            int count = reader.ReadInt32();
            if (count < 0 || count > bytes.Length) throw new InvalidDataException("not a Kafka reader's state");
            for (int n = 0; n < count; n++)
            {
                string topic = reader.ReadString();
                int partition = reader.ReadInt32();
                long next = reader.ReadInt64();
                reader.ReadInt64();
                reader.ReadInt64();
                reader.ReadInt64();
                result.Add((topic, partition, next));
            }
            if (reader.BaseStream.Position != bytes.Length) throw new InvalidDataException("not a Kafka reader's state");
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("not a Kafka reader's state", e);
        }
        return result;
    }

    /// <summary>
    /// The checkpointed positions of the partitions this reader now owns, from every old subtask's state (the old
    /// parallelism may differ). Partitions absent from the checkpoint (new ones) start by the startup mode.
    /// </summary>
    private Dictionary<TopicPartition, SplitState> Restore(RestoredState? restored)
    {
        var mine = new Dictionary<TopicPartition, SplitState>();
        if (restored is null) return mine;
        foreach (var bytes in restored.SubtaskStates)
        {
            if (bytes.Length == 0) continue;
            using var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
            byte version = reader.ReadByte();
            if (version != StateVersion)
                throw new InvalidDataException($"Kafka source: checkpoint {restored.CheckpointId} has reader state version {version}; this build reads version {StateVersion}");
            int count = reader.ReadInt32();
            for (int n = 0; n < count; n++)
            {
                var tp = new TopicPartition(reader.ReadString(), reader.ReadInt32());
                var state = new SplitState(reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64(), reader.ReadInt64());
                if (splitOf.ContainsKey(tp)) mine[tp] = state;
            }
        }
        return mine;
    }

    /// <summary>The start offset of each split in <paramref name="which"/> by the startup mode (Beginning's value for "earliest").</summary>
    private long[] StartOffsets(List<int> which)
    {
        var c = consumer!;
        var result = new long[which.Count];
        if (which.Count == 0) return result;
        var tps = which.Select(i => splits[i]).ToList();
        switch (options.StartupMode)
        {
            case KafkaStartupMode.EarliestOffset:
                Array.Fill(result, Offset.Beginning.Value);
                break;
            case KafkaStartupMode.LatestOffset:
                // Resolved now, not at the first fetch: "latest" means the end when the job started.
                for (int j = 0; j < tps.Count; j++) result[j] = c.QueryWatermarkOffsets(tps[j], options.RequestTimeout).High.Value;
                break;
            case KafkaStartupMode.Timestamp:
            {
                var found = TimestampOffsets(tps, options.StartupTimestamp!.Value);
                for (int j = 0; j < tps.Count; j++)
                {
                    if (found[j] is { } offset)
                    {
                        result[j] = offset;
                        continue;
                    }
                    // "No record at or after the timestamp" is also what brokers without a time index answer
                    // (librdkafka's mock cluster always does): the partition is read from its start and records
                    // are skipped up to the first one at or after the timestamp, which is the offset Kafka's
                    // look-up gives. On a real broker this costs one scan of a partition with no such record yet.
                    skipBefore[which[j]] = options.StartupTimestamp.Value;
                    result[j] = Offset.Beginning.Value;
                }
                break;
            }
            case KafkaStartupMode.SpecificOffsets:
                for (int j = 0; j < tps.Count; j++)
                    result[j] = options.SpecificOffsets.TryGetValue((tps[j].Topic, tps[j].Partition.Value), out long o) ? o : Offset.Beginning.Value;
                break;
            case KafkaStartupMode.GroupOffsets:
            {
                var committed = Committed(tps);
                for (int j = 0; j < tps.Count; j++)
                {
                    if (committed[j] >= 0)
                    {
                        result[j] = committed[j];
                        continue;
                    }
                    result[j] = options.GroupOffsetsReset switch
                    {
                        KafkaOffsetReset.Earliest => Offset.Beginning.Value,
                        KafkaOffsetReset.Latest => c.QueryWatermarkOffsets(tps[j], options.RequestTimeout).High.Value,
                        _ => throw new InvalidOperationException(
                            $"Kafka source: group '{options.GroupId}' has no committed offset for topic '{tps[j].Topic}' partition {tps[j].Partition.Value}; " +
                            "set 'properties.auto.offset.reset' to 'earliest' or 'latest' to start such partitions there"),
                    };
                }
                break;
            }
            default:
                throw new ArgumentOutOfRangeException(nameof(which), options.StartupMode, "unknown startup mode");
        }
        return result;
    }

    /// <summary>The group's committed offset per partition, or a negative value where there is none.</summary>
    private long[] Committed(List<TopicPartition> tps)
    {
        var committed = consumer!.Committed(tps, options.RequestTimeout);
        var byPartition = committed.ToDictionary(c => c.TopicPartition, c => c.Offset.Value);
        return tps.Select(tp => byPartition.TryGetValue(tp, out long o) ? o : Offset.Unset.Value).ToArray();
    }

    /// <summary>Kafka's offset-for-time look-up: the first offset at or after the time, or null where it finds none.</summary>
    private long?[] TimestampOffsets(List<TopicPartition> tps, long time)
    {
        var ts = new Timestamp(time, TimestampType.CreateTime);
        var found = consumer!.OffsetsForTimes(tps.Select(s => new TopicPartitionTimestamp(s, ts)), options.RequestTimeout)
            .ToDictionary(f => f.TopicPartition, f => f.Offset);
        return tps.Select(tp => found.TryGetValue(tp, out var o) && o != Offset.End && o.Value >= 0 ? o.Value : (long?)null).ToArray();
    }

    /// <summary>The bound of each split in <paramref name="which"/> by the bounded mode, resolved when the reader starts.</summary>
    private void EndOffsets(List<int> which)
    {
        var c = consumer!;
        var tps = which.Select(i => splits[i]).ToList();
        long High(int j) => c.QueryWatermarkOffsets(tps[j], options.RequestTimeout).High.Value;
        switch (options.BoundedMode)
        {
            case KafkaBoundedMode.LatestOffset:
                for (int j = 0; j < tps.Count; j++) endOffsets[which[j]] = High(j);
                break;
            case KafkaBoundedMode.Timestamp:
            {
                var found = TimestampOffsets(tps, options.BoundedTimestamp!.Value);
                for (int j = 0; j < tps.Count; j++)
                {
                    if (found[j] is { } offset) endOffsets[which[j]] = offset;
                    else
                    {
                        // As for the timestamp start: where the look-up finds nothing (or cannot, as on the mock),
                        // read to the current end and stop at the first record at or after the time.
                        endOffsets[which[j]] = High(j);
                        stopAt[which[j]] = options.BoundedTimestamp.Value;
                    }
                }
                break;
            }
            case KafkaBoundedMode.SpecificOffsets:
            {
                List<TopicPartition> unlisted = [.. tps.Where(tp => !options.BoundedSpecificOffsets.ContainsKey((tp.Topic, tp.Partition.Value)))];
                var committed = unlisted.Count > 0 ? Committed(unlisted) : [];
                for (int j = 0; j < tps.Count; j++)
                {
                    if (options.BoundedSpecificOffsets.TryGetValue((tps[j].Topic, tps[j].Partition.Value), out long o))
                    {
                        endOffsets[which[j]] = o;
                        continue;
                    }
                    long c0 = committed[unlisted.IndexOf(tps[j])];
                    endOffsets[which[j]] = c0 >= 0 ? c0 : c.QueryWatermarkOffsets(tps[j], options.RequestTimeout).Low.Value;
                }
                break;
            }
            case KafkaBoundedMode.GroupOffsets:
            {
                var committed = Committed(tps);
                for (int j = 0; j < tps.Count; j++)
                    endOffsets[which[j]] = committed[j] >= 0 ? committed[j]
                        : throw new InvalidOperationException(
                            $"Kafka source: bounded mode 'group-offsets' but group '{options.GroupId}' has no committed offset for topic '{tps[j].Topic}' partition {tps[j].Partition.Value}");
                break;
            }
        }
    }

    public override SourceStatus Read(SourceOutput<T> output)
    {
        if (deadLetterFailure is { } failure) throw new InvalidOperationException(failure);
        if (consumer is null || (bounded && unfinished == 0))
            return bounded ? SourceStatus.EndOfInput : SourceStatus.NothingAvailable;

        // Waiting for the first record is waiting for input: idle time, as the driver's own waits (not busy time).
        long waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
        var first = consumer.Consume(FirstRecordWait);
        metrics.IdleTicks += System.Diagnostics.Stopwatch.GetTimestamp() - waitStart;
        if (first is null)
        {
            if (bounded) CheckPositions();
            return bounded && unfinished == 0 ? SourceStatus.EndOfInput : SourceStatus.NothingAvailable;
        }
        int before = output.Count;
        long bytes = 0;
        // Records come in runs from one partition: the split of the previous record is reused without a look-up
        // (ConsumeResult.TopicPartition would make an object per record).
        string? runTopic = null;
        int runPartition = -1, split = -1;
        for (var r = first; r is not null; r = output.IsFull ? null : consumer.Consume(TimeSpan.Zero))
        {
            int partition = r.Partition.Value;
            if (partition != runPartition || !string.Equals(r.Topic, runTopic, StringComparison.Ordinal))
            {
                runTopic = r.Topic;
                runPartition = partition;
                split = splitOf[r.TopicPartition];
            }
            long offset = r.Offset.Value;
            if (offset >= endOffsets[split] || finished[split]) continue; // fetched before the partition was paused
            nextOffsets[split] = offset + 1;
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
            if (ts >= stopAt[split])
            {
                // The first record at or after the bound's time: the partition ends before it.
                nextOffsets[split] = offset;
                endOffsets[split] = offset;
                Finish(split);
                continue;
            }
            bytes += (m.Key?.Length ?? 0) + (m.Value?.Length ?? 0);
            var message = new KafkaMessage(m.Key, m.Value, runTopic!, partition, offset, ts, m.Headers);
            bool decoded;
            T value;
            try
            {
                decoded = decode(message, out value);
            }
            catch (FormatException e)
            {
                BadRecord(message, e);
                decoded = false;
                value = default!;
            }
            if (decoded) output.AddPositioned(value, ts, split, SourcePositions.Pack(partition, offset));
            if (offset + 1 >= endOffsets[split]) Finish(split);
        }
        output.Bytes += bytes;
        if (commitPeriodically) StoreOffsets();
        if (bounded && unfinished == 0) return SourceStatus.EndOfInput;
        // Records read now suggest more are fetched: the driver asks again at once instead of pausing.
        return output.Count > before ? SourceStatus.MoreAvailable : SourceStatus.NothingAvailable;
    }

    private void BadRecord(in KafkaMessage m, FormatException e)
    {
        switch (options.BadRecords)
        {
            case KafkaBadRecordMode.Skip:
                metrics.RecordsSkipped++;
                return;
            case KafkaBadRecordMode.DeadLetter:
                SendToDeadLetters(m, e.Message);
                metrics.RecordsSkipped++;
                return;
            default:
                throw new FormatException($"Kafka record in topic '{m.Topic}' partition {m.Partition} at offset {m.Offset}: {e.Message}", e);
        }
    }

    /// <summary>Header names a dead-letter record carries besides the original record's headers.</summary>
    internal const string ErrorHeader = "eddy.error", TopicHeader = "eddy.topic", PartitionHeader = "eddy.partition", OffsetHeader = "eddy.offset";

    /// <summary>On a dead-letter record whose value was cut to fit the producer's limit: the value's size in the original record.</summary>
    internal const string OriginalSizeHeader = "eddy.value-truncated-from";

    /// <summary>Room left under the producer's size limit for what it adds around key, value and headers (the record's framing).</summary>
    private const int RecordFraming = 1024;

    private void SendToDeadLetters(in KafkaMessage m, string problem)
    {
        if (deadLetters is null)
        {
            var config = options.DeadLetterProducerConfig();
            deadLetterLimit = config.MessageMaxBytes ?? 1_000_000; // librdkafka's default
            deadLetters = new ProducerBuilder<byte[]?, byte[]?>(config).SetLogHandler((_, _) => { }).Build();
        }
        var headers = new Headers();
        long headerBytes = 0;
        void Add(string name, byte[] value)
        {
            headers.Add(name, value);
            headerBytes += Encoding.UTF8.GetByteCount(name) + value.Length + 8;
        }
        if (m.Headers is not null)
            foreach (var h in m.Headers) Add(h.Key, h.GetValueBytes());
        Add(ErrorHeader, Encoding.UTF8.GetBytes(problem));
        Add(TopicHeader, Encoding.UTF8.GetBytes(m.Topic));
        Add(PartitionHeader, Encoding.UTF8.GetBytes(m.Partition.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        Add(OffsetHeader, Encoding.UTF8.GetBytes(m.Offset.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        string where = $"topic '{m.Topic}' partition {m.Partition} at offset {m.Offset}";
        string topic = options.DeadLetterTopic!;
        var value = m.Value;
        long size = (m.Key?.Length ?? 0) + (value?.Length ?? 0) + headerBytes + RecordFraming;
        if (size > deadLetterLimit && value is not null)
        {
            // A record too large for the producer (or the broker) is one that cannot be decoded either, typically: its
            // value is cut to fit and marked, so that the job goes on and the dead letter still says what and where it
            // was (the whole record stays in its topic at that offset while the topic retains it).
            Add(OriginalSizeHeader, Encoding.UTF8.GetBytes(value.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            long room = deadLetterLimit - (size - value.Length) - (OriginalSizeHeader.Length + 20 + 8);
            if (room < 0)
                throw new InvalidOperationException(
                    $"Kafka source: the rejected record in {where} cannot go to dead-letter topic '{topic}': its key and headers alone exceed the producer's " +
                    $"'message.max.bytes' ({deadLetterLimit} bytes); raise 'properties.message.max.bytes' (and the topic's 'max.message.bytes')");
            value = value.AsSpan(0, (int)room).ToArray();
        }
        var message = new Message<byte[]?, byte[]?> { Key = m.Key, Value = value, Headers = headers };
        if (m.Timestamp != EventTime.None) message.Timestamp = new Timestamp(m.Timestamp, TimestampType.CreateTime);
        while (true)
        {
            try
            {
                deadLetters.Produce(topic, message, report =>
                {
                    if (report.Error.IsError)
                        Interlocked.CompareExchange(ref deadLetterFailure,
                            $"Kafka source: the rejected record in {where} could not be written to dead-letter topic '{topic}': {report.Error.Reason}"
                            + (report.Error.Code == ErrorCode.MsgSizeTooLarge
                                ? $" (the broker's limit is below the producer's 'message.max.bytes' of {deadLetterLimit} bytes: set 'properties.message.max.bytes' to the topic's 'max.message.bytes')"
                                : ""), null);
                });
                return;
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code != ErrorCode.Local_QueueFull)
            {
                throw new InvalidOperationException($"Kafka source: the rejected record in {where} could not be written to dead-letter topic '{topic}': {e.Error.Reason}", e);
            }
            catch (ProduceException<byte[]?, byte[]?> e) when (e.Error.Code == ErrorCode.Local_QueueFull)
            {
                deadLetters.Poll(TimeSpan.FromMilliseconds(50));
            }
        }
    }

    /// <summary>Waits until every dead-letter record is stored, so that the offsets recorded after it never skip one that was lost.</summary>
    private void FlushDeadLetters()
    {
        if (deadLetters is null) return;
        if (deadLetters.Flush(options.RequestTimeout) > 0)
            throw new TimeoutException($"Kafka source: dead-letter records to '{options.DeadLetterTopic}' not confirmed within {options.RequestTimeout.TotalSeconds:F0} s");
        if (Volatile.Read(ref deadLetterFailure) is { } failure) throw new InvalidOperationException(failure);
    }

    /// <summary>Hands the consumed positions to librdkafka, which commits them every auto-commit interval and on close.</summary>
    private void StoreOffsets()
    {
        FlushDeadLetters();
        for (int i = 0; i < splits.Length; i++)
        {
            long next = nextOffsets[i];
            if (next < 0 || next == storedOffsets[i] || !assigned[i]) continue;
            consumer!.StoreOffset(new TopicPartitionOffset(splits[i], new Offset(next)));
            storedOffsets[i] = next;
        }
    }

    public override void SnapshotState(long checkpointId, BinaryWriter state)
    {
        FlushDeadLetters();
        state.Write(StateVersion);
        state.Write(splits.Length);
        var commits = new List<TopicPartitionOffset>(splits.Length);
        for (int i = 0; i < splits.Length; i++)
        {
            state.Write(splits[i].Topic);
            state.Write(splits[i].Partition.Value);
            state.Write(nextOffsets[i]);
            state.Write(endOffsets[i]);
            state.Write(skipBefore[i]);
            state.Write(stopAt[i]);
            if (nextOffsets[i] >= 0) commits.Add(new TopicPartitionOffset(splits[i], new Offset(nextOffsets[i])));
        }
        pendingCommits[checkpointId] = commits;
    }

    /// <summary>
    /// Commits the offsets of the completed checkpoint to the group (for lag monitoring and group-offsets starts;
    /// Eddy resumes from its checkpoint, not from them). A failed commit does not fail the job: the next one repairs it.
    /// </summary>
    public override void NotifyCheckpointComplete(long checkpointId)
    {
        List<TopicPartitionOffset>? commit = null;
        foreach (var id in pendingCommits.Keys.Where(id => id <= checkpointId).ToList())
        {
            // Later checkpoints' offsets supersede earlier ones.
            commit = pendingCommits[id];
            pendingCommits.Remove(id);
        }
        // A completion can arrive after the reader ended (its task finished reading a bounded input): nothing to commit with.
        if (commit is null || commit.Count == 0 || consumer is null || disposed) return;
        try
        {
            consumer.Commit(commit);
            LastCommitError = null;
        }
        catch (KafkaException e)
        {
            LastCommitError = $"Kafka source: committing the offsets of checkpoint {checkpointId} to group '{options.GroupId}' failed: {e.Error.Reason}";
        }
    }

    /// <summary>Why the last commit at a completed checkpoint failed, or null.</summary>
    internal string? LastCommitError { get; private set; }

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
            if (position != Offset.Unset && position.Value >= endOffsets[i])
            {
                nextOffsets[i] = Math.Max(nextOffsets[i], endOffsets[i]);
                Finish(i);
            }
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
        if (disposed) return;
        disposed = true;
        try
        {
            // Dead letters are flushed before the last offsets are stored, so that a commit never passes a lost one.
            if (commitPeriodically && consumer is not null) StoreOffsets();
            else deadLetters?.Flush(options.RequestTimeout);
        }
        finally
        {
            deadLetters?.Dispose();
            // Close commits the stored offsets (periodic mode) and leaves the group.
            consumer?.Close();
            consumer?.Dispose();
            base.Dispose();
        }
    }
}
