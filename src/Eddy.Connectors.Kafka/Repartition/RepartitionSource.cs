using Confluent.Kafka;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka.Repartition;

/// <summary>
/// The reading end of a repartition topic. Its splits are the upstream source partitions (their count from the
/// source topic's metadata), so the watermark is the minimum over all of them, each split's watermark and watermark
/// status (idle / active) coming from the writers' control messages: a source partition is left out while its
/// upstream task says it is idle, as a task's idle input channel is in one process. Records at or below the highest
/// (source offset, ordinal) already applied for their source partition (kept per topic partition in the checkpoint)
/// are dropped: a replayed upstream doubles nothing, whatever the broker's transactions do. The ordinal numbers the
/// records one source record made (a HOP window table function's windows; 0 for the others), so that a checkpoint
/// between two records of one source offset keeps the second.
/// </summary>
internal sealed class RepartitionSource<T>(KafkaRepartitionExchange exchange, RepartitionTopic topic) : Source<T>, IPartitionedSource
{
    public override bool IsBounded => false;

    public int PartitionCount() => topic.ResolvePartitions();

    public string Describe() => $"'{topic.Name}'";

    public IReadOnlyList<string> Topics() => [topic.Name];

    public override SourceReader<T> CreateReader(SourceReaderContext context) => new RepartitionReader<T>(exchange, topic, context);
}

internal sealed class RepartitionReader<T> : SourceReader<T>, IInBandWatermarks
{
    private static readonly TimeSpan FirstRecordWait = TimeSpan.FromMilliseconds(20);
    /// <summary>
    /// Version 4 keeps, per owned partition and source partition, the applied offset and ordinal, the watermark and
    /// whether the writer said IDLE last. Version 3 (no ordinal: 0) and versions 1 and 2 (2 added whether the writer
    /// was heard from, which the status replaces) are still read, those two with every source partition active.
    /// </summary>
    private const byte StateVersion = 4;

    private readonly string topicName;
    private readonly StateSerializer<T> serializer = StateSerializers.For<T>();
    private readonly IConsumer<Ignore, byte[]>? consumer;
    private readonly SubtaskMetrics metrics;
    /// <summary>The topic partitions this reader owns, and the index of each.</summary>
    private readonly int[] owned;
    private readonly Dictionary<int, int> indexOf = [];
    private readonly int upstream;
    /// <summary>Per owned partition: the offset to resume at (a message partly emitted is read again; its emitted records are then dropped).</summary>
    private readonly long[] next;
    /// <summary>Per owned partition and source partition: the highest source offset applied (−1: none).</summary>
    private readonly long[,] applied;
    /// <summary>Per owned partition and source partition: the highest ordinal applied of the source offset in <see cref="applied"/>.</summary>
    private readonly long[,] appliedOrdinal;
    /// <summary>Per owned partition and source partition: the last watermark received.</summary>
    private readonly long[,] watermarks;
    /// <summary>
    /// Per owned partition and source partition: whether the writer's last word there was IDLE (a record or ACTIVE
    /// since makes it active). A source partition whose writer was never heard from is active: its task may not have
    /// started yet (another worker, a group still assigning), and in one process every source partition starts with
    /// the job. A source partition is idle only when it is idle in every owned partition: its IDLE follows its records
    /// in each, so none of them is still on its way.
    /// </summary>
    private readonly bool[,] idle;
    /// <summary>Whether a watermark or status changed since the driver last asked.</summary>
    private bool changed = true;
    private int endedCells;

    // A records message being emitted across reads (the output filled up).
    private BinaryReader? pending;
    private int pendingIndex, pendingCount, pendingPartition;
    private bool pendingOrdinals;
    private long pendingOffset;

    public RepartitionReader(KafkaRepartitionExchange exchange, RepartitionTopic topic, SourceReaderContext context)
    {
        topicName = topic.Name;
        metrics = context.Metrics;
        KafkaNative.EnsureLoaded();
        int partitions = topic.ResolvePartitions();
        upstream = topic.UpstreamSourcePartitions();
        owned = context.PartitionTask is { } task ? (task.Partition < partitions ? [task.Partition] : [])
            : [.. Enumerable.Range(0, partitions).Where(q => q % context.Parallelism == context.SubtaskIndex)];
        for (int i = 0; i < owned.Length; i++) indexOf[owned[i]] = i;
        next = new long[owned.Length];
        Array.Fill(next, Offset.Beginning.Value);
        applied = new long[owned.Length, upstream];
        appliedOrdinal = new long[owned.Length, upstream];
        watermarks = new long[owned.Length, upstream];
        for (int i = 0; i < owned.Length; i++)
        {
            for (int s = 0; s < upstream; s++)
            {
                applied[i, s] = -1;
                watermarks[i, s] = EventTime.MinWatermark;
            }
        }
        idle = new bool[owned.Length, upstream];
        Restore(context.Restored);
        if (owned.Length == 0) return;
        exchange.EnsureTopic(topicName, partitions);
        consumer = new ConsumerBuilder<Ignore, byte[]>(exchange.ConsumerConfig($"{context.JobName}-{topicName}-reader"))
            .SetLogHandler((_, _) => { }).Build();
        consumer.Assign(owned.Select((q, i) => new TopicPartitionOffset(topicName, new Partition(q), new Offset(next[i]))));
    }

    public override int SplitCount => upstream;

    public override string? SplitName(int split) => $"{topicName} from source partition {split}";

    public bool TakeChanges()
    {
        bool c = changed;
        changed = false;
        return c;
    }

    public bool SplitIdle(int split)
    {
        // A reader without partitions has no input: idle, as a source subtask without splits.
        if (owned.Length == 0) return true;
        for (int i = 0; i < owned.Length; i++)
            if (!idle[i, split] || watermarks[i, split] == EventTime.MaxWatermark) return false;
        return true;
    }

    public long SplitWatermark(int split)
    {
        long min = long.MaxValue;
        for (int i = 0; i < owned.Length; i++) min = Math.Min(min, watermarks[i, split]);
        return owned.Length == 0 ? EventTime.MinWatermark : min;
    }

    private bool Ended => owned.Length > 0 && endedCells == owned.Length * upstream && pending is null;

    public override SourceStatus Read(SourceOutput<T> output)
    {
        if (consumer is null) return SourceStatus.NothingAvailable;
        int before = output.Count;
        if (pending is not null) Emit(output);
        if (output.IsFull) return SourceStatus.MoreAvailable;
        long waitStart = System.Diagnostics.Stopwatch.GetTimestamp();
        var r = consumer.Consume(FirstRecordWait);
        metrics.IdleTicks += System.Diagnostics.Stopwatch.GetTimestamp() - waitStart;
        for (; r is not null; r = output.IsFull ? null : consumer.Consume(TimeSpan.Zero))
        {
            int i = indexOf[r.Partition.Value];
            long offset = r.Offset.Value;
            var bytes = r.Message.Value;
            output.Bytes += bytes.Length;
            if (bytes.Length == 0) throw Bad(r.Partition.Value, offset, "empty message");
            if (bytes[0] == RepartitionFormat.Watermark)
            {
                if (bytes.Length != RepartitionFormat.WatermarkLength) throw Bad(r.Partition.Value, offset, "watermark message of the wrong size");
                int s = BitConverter.ToInt32(bytes, 1);
                long wm = BitConverter.ToInt64(bytes, 5);
                CheckSource(s, r.Partition.Value, offset);
                if (wm > watermarks[i, s])
                {
                    if (wm == EventTime.MaxWatermark) endedCells++;
                    watermarks[i, s] = wm;
                    changed = true;
                }
                next[i] = offset + 1;
            }
            else if (bytes[0] == RepartitionFormat.Status)
            {
                if (bytes.Length != RepartitionFormat.StatusLength) throw Bad(r.Partition.Value, offset, "status message of the wrong size");
                int s = BitConverter.ToInt32(bytes, 1);
                CheckSource(s, r.Partition.Value, offset);
                bool isIdle = bytes[5] switch
                {
                    RepartitionFormat.Idle => true,
                    RepartitionFormat.Active => false,
                    _ => throw Bad(r.Partition.Value, offset, $"unknown watermark status {bytes[5]}"),
                };
                if (idle[i, s] != isIdle)
                {
                    idle[i, s] = isIdle;
                    changed = true;
                }
                next[i] = offset + 1;
            }
            else if (bytes[0] is RepartitionFormat.Records or RepartitionFormat.OrdinalRecords)
            {
                pendingOrdinals = bytes[0] == RepartitionFormat.OrdinalRecords;
                pending = new BinaryReader(new MemoryStream(bytes, 1, bytes.Length - 1, writable: false));
                pendingCount = pending.ReadInt32();
                pendingIndex = 0;
                pendingPartition = i;
                pendingOffset = offset;
                // Until the message is wholly emitted, a checkpoint resumes at it (what was emitted is dropped then).
                next[i] = offset;
                Emit(output);
            }
            else throw Bad(r.Partition.Value, offset, $"unknown message type {bytes[0]}");
        }
        if (Ended) return SourceStatus.EndOfInput;
        return output.Count > before || pending is not null ? SourceStatus.MoreAvailable : SourceStatus.NothingAvailable;
    }

    private void Emit(SourceOutput<T> output)
    {
        var r = pending!;
        int i = pendingPartition;
        int q = owned[i];
        while (pendingIndex < pendingCount && !output.IsFull)
        {
            long position = r.ReadInt64();
            long ordinal = pendingOrdinals ? r.ReadInt64() : 0;
            long timestamp = r.ReadInt64();
            var kind = (RowKind)r.ReadByte();
            var value = serializer.Read(r);
            int index = pendingIndex++;
            int s = SourcePositions.PartitionOf(position);
            long offset = SourcePositions.OffsetOf(position);
            CheckSource(s, q, pendingOffset);
            // A record of an idle source partition: its task is active again (its ACTIVE comes first anyway).
            if (idle[i, s])
            {
                idle[i, s] = false;
                changed = true;
            }
            if (IsApplied(offset, ordinal, applied[i, s], appliedOrdinal[i, s]))
            {
                metrics.RecordsSkipped++;
                continue;
            }
            applied[i, s] = offset;
            appliedOrdinal[i, s] = ordinal;
            // Records of one message are numbered from its offset, so a writer after this reader has positions too.
            long mine = SourcePositions.Pack(q, pendingOffset * RepartitionFormat.MaxRecords + index);
            if (kind == RowKind.Insert) output.AddPositioned(value, timestamp, s, mine);
            else output.AddPositioned(value, timestamp, s, mine, kind);
        }
        if (pendingIndex == pendingCount)
        {
            next[i] = pendingOffset + 1;
            r.Dispose();
            pending = null;
        }
    }

    /// <summary>
    /// Whether a record was applied before: its source offset and ordinal (its number among the records of that
    /// offset, in the order they were made) are at or below the highest applied, compared offset first.
    /// </summary>
    internal static bool IsApplied(long offset, long ordinal, long appliedOffset, long appliedOrdinal) =>
        offset < appliedOffset || (offset == appliedOffset && ordinal <= appliedOrdinal);

    private void CheckSource(int s, int q, long offset)
    {
        if ((uint)s >= (uint)upstream)
            throw Bad(q, offset, $"source partition {s}, but the source topic has {upstream} partitions (was it re-created with fewer?)");
    }

    private InvalidDataException Bad(int q, long offset, string problem) =>
        new($"repartition topic '{topicName}' partition {q} at offset {offset}: {problem}");

    public override void SnapshotState(long checkpointId, BinaryWriter state)
    {
        state.Write(StateVersion);
        state.Write(owned.Length);
        for (int i = 0; i < owned.Length; i++)
        {
            state.Write(owned[i]);
            state.Write(next[i]);
            state.Write(upstream);
            for (int s = 0; s < upstream; s++)
            {
                state.Write(applied[i, s]);
                state.Write(appliedOrdinal[i, s]);
                state.Write(watermarks[i, s]);
                state.Write(idle[i, s]);
            }
        }
    }

    /// <summary>Takes the partitions it owns from every old subtask's state (the old parallelism may differ).</summary>
    private void Restore(RestoredState? restored)
    {
        if (restored is null) return;
        foreach (var bytes in restored.SubtaskStates)
        {
            if (bytes.Length == 0) continue;
            using var r = new BinaryReader(new MemoryStream(bytes));
            byte version = r.ReadByte();
            if (version is not (1 or 2 or 3 or StateVersion))
                throw new InvalidDataException($"repartition topic '{topicName}': checkpoint state version {version} is not 1 to {StateVersion}");
            int count = r.ReadInt32();
            for (int k = 0; k < count; k++)
            {
                int q = r.ReadInt32();
                long offset = r.ReadInt64();
                int sources = r.ReadInt32();
                bool mine = indexOf.TryGetValue(q, out int i);
                if (mine) next[i] = offset;
                for (int s = 0; s < sources; s++)
                {
                    long a = r.ReadInt64();
                    long ordinal = version >= 4 ? r.ReadInt64() : 0;
                    long wm = r.ReadInt64();
                    // The byte after them: version 2's "heard from" (no successor: see idle), version 3's and 4's IDLE.
                    bool flag = version >= 2 && r.ReadBoolean();
                    bool isIdle = version >= 3 && flag;
                    if (!mine) continue;
                    if (s >= upstream)
                        throw new InvalidDataException($"repartition topic '{topicName}': the checkpoint knows source partition {s}, the source topic has {upstream} partitions");
                    applied[i, s] = a;
                    appliedOrdinal[i, s] = ordinal;
                    watermarks[i, s] = wm;
                    idle[i, s] = isIdle;
                    if (wm == EventTime.MaxWatermark) endedCells++;
                }
            }
        }
    }

    public override void Dispose()
    {
        pending?.Dispose();
        consumer?.Close();
        consumer?.Dispose();
        base.Dispose();
    }
}

/// <summary>What a repartition reader's checkpointed state says, for tools outside the reader (the worker's lag).</summary>
public static class RepartitionReaderState
{
    /// <summary>
    /// The offset each repartition topic partition resumes at in a reader's checkpointed state (negative: from the
    /// beginning). Throws <see cref="InvalidDataException"/> for state of another format.
    /// </summary>
    public static IReadOnlyList<(int Partition, long NextOffset)> CheckpointedOffsets(byte[] readerState)
    {
        var offsets = new List<(int, long)>();
        try
        {
            using var r = new BinaryReader(new MemoryStream(readerState));
            byte version = r.ReadByte();
            if (version is not (1 or 2 or 3 or 4)) throw new InvalidDataException("not a repartition reader's state (version)");
            int count = r.ReadInt32();
            for (int k = 0; k < count; k++)
            {
                int q = r.ReadInt32();
                long next = r.ReadInt64();
                int sources = r.ReadInt32();
                if (sources < 0 || sources > SourcePositions.MaxPartition + 1) throw new InvalidDataException("not a repartition reader's state (sources)");
                r.BaseStream.Seek(version switch { 1 => 16L, 2 or 3 => 17L, _ => 25L } * sources, SeekOrigin.Current);
                offsets.Add((q, next));
            }
            if (r.BaseStream.Position != r.BaseStream.Length) throw new InvalidDataException("not a repartition reader's state (length)");
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException("not a repartition reader's state (truncated)", e);
        }
        return offsets;
    }
}
