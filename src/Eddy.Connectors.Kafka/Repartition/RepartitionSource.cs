using Confluent.Kafka;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka.Repartition;

/// <summary>
/// The reading end of a repartition topic. Its splits are the upstream source partitions (their count from the
/// source topic's metadata), so the watermark is the minimum over all of them, each split's watermark coming from
/// the writers' control messages, and a source partition that sends nothing for the idle timeout is left out as in
/// one process. Records at or below the highest offset already applied for their source partition (kept per topic
/// partition in the checkpoint) are dropped: a replayed upstream doubles nothing, whatever the broker's transactions do.
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
    /// <summary>Version 2 adds, per source partition, whether its writer was ever heard from (version 1 is still read).</summary>
    private const byte StateVersion = 2;

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
    /// <summary>Per owned partition and source partition: the last watermark received.</summary>
    private readonly long[,] watermarks;
    private readonly bool[] activity;
    /// <summary>
    /// Per owned partition and source partition: whether that source partition's writer has sent anything (its task
    /// sends a watermark of −∞ when it starts). One never heard from is never idle: its task may not have started yet
    /// (another worker, a group still assigning), and in one process every source partition starts with the job.
    /// </summary>
    private readonly bool[,] heard;
    /// <summary>Per owned partition: the offset of the last message consumed (−1: none yet).</summary>
    private readonly long[] consumed;
    private readonly TopicPartition[] topicPartitions;
    private int endedCells;

    // A records message being emitted across reads (the output filled up).
    private BinaryReader? pending;
    private int pendingIndex, pendingCount, pendingPartition;
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
        consumed = new long[owned.Length];
        Array.Fill(consumed, -1);
        topicPartitions = [.. owned.Select(q => new TopicPartition(topicName, new Partition(q)))];
        applied = new long[owned.Length, upstream];
        watermarks = new long[owned.Length, upstream];
        for (int i = 0; i < owned.Length; i++)
        {
            for (int s = 0; s < upstream; s++)
            {
                applied[i, s] = -1;
                watermarks[i, s] = EventTime.MinWatermark;
            }
        }
        activity = new bool[upstream];
        heard = new bool[owned.Length, upstream];
        Restore(context.Restored);
        for (int i = 0; i < owned.Length; i++) if (next[i] > 0) consumed[i] = next[i] - 1;
        if (owned.Length == 0) return;
        exchange.EnsureTopic(topicName, partitions);
        consumer = new ConsumerBuilder<Ignore, byte[]>(exchange.ConsumerConfig($"{context.JobName}-{topicName}-reader"))
            .SetLogHandler((_, _) => { }).Build();
        consumer.Assign(owned.Select((q, i) => new TopicPartitionOffset(topicName, new Partition(q), new Offset(next[i]))));
    }

    public override int SplitCount => upstream;

    public override string? SplitName(int split) => $"{topicName} from source partition {split}";

    public bool TakeActivity(int split)
    {
        bool a = activity[split];
        activity[split] = false;
        for (int i = 0; i < owned.Length; i++)
            if (!heard[i, split]) return true;
        // An upstream partition that has ended holds +∞: never idle, so it cannot leave the others all idle (and
        // the watermark stuck) once it falls silent.
        return a || SplitWatermark(split) == EventTime.MaxWatermark;
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
            consumed[i] = offset;
            var bytes = r.Message.Value;
            output.Bytes += bytes.Length;
            if (bytes.Length == 0) throw Bad(r.Partition.Value, offset, "empty message");
            if (bytes[0] == RepartitionFormat.Watermark)
            {
                if (bytes.Length != 13) throw Bad(r.Partition.Value, offset, "watermark message of the wrong size");
                int s = BitConverter.ToInt32(bytes, 1);
                long wm = BitConverter.ToInt64(bytes, 5);
                CheckSource(s, r.Partition.Value, offset);
                activity[s] = true;
                heard[i, s] = true;
                if (wm > watermarks[i, s])
                {
                    if (wm == EventTime.MaxWatermark) endedCells++;
                    watermarks[i, s] = wm;
                }
                next[i] = offset + 1;
            }
            else if (bytes[0] == RepartitionFormat.Records)
            {
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
        // Upstream partitions share the topic's partitions, so one's records can wait behind another's: while the
        // reader is behind, no split counts as idle (a split is idle when the reader has caught up and it sent nothing).
        // The loop ends when the output is full or librdkafka has nothing more at hand (drained).
        if (Behind(drained: !output.IsFull)) Array.Fill(activity, true);
        return output.Count > before || pending is not null ? SourceStatus.MoreAvailable : SourceStatus.NothingAvailable;
    }

    /// <summary>
    /// Whether the reader may be behind the topic: a message is being emitted, the last read stopped with messages
    /// still coming, or a partition has shown nothing yet and the broker has not told its end (librdkafka's cached
    /// high watermark, set by fetch answers).
    /// </summary>
    private bool Behind(bool drained)
    {
        if (pending is not null || !drained) return true;
        for (int i = 0; i < owned.Length; i++)
        {
            if (consumed[i] >= 0) continue;
            var w = consumer!.GetWatermarkOffsets(topicPartitions[i]);
            if (w.High.Value < 0 || w.High.Value > 0 && next[i] < w.High.Value) return true;
        }
        return false;
    }

    private void Emit(SourceOutput<T> output)
    {
        var r = pending!;
        int i = pendingPartition;
        int q = owned[i];
        while (pendingIndex < pendingCount && !output.IsFull)
        {
            long position = r.ReadInt64();
            long timestamp = r.ReadInt64();
            var kind = (RowKind)r.ReadByte();
            var value = serializer.Read(r);
            int index = pendingIndex++;
            int s = SourcePositions.PartitionOf(position);
            long offset = SourcePositions.OffsetOf(position);
            CheckSource(s, q, pendingOffset);
            activity[s] = true;
            heard[i, s] = true;
            if (offset <= applied[i, s])
            {
                metrics.RecordsSkipped++;
                continue;
            }
            applied[i, s] = offset;
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
                state.Write(watermarks[i, s]);
                state.Write(heard[i, s]);
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
            if (version is not (1 or StateVersion))
                throw new InvalidDataException($"repartition topic '{topicName}': checkpoint state version {version} is not 1 or {StateVersion}");
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
                    long a = r.ReadInt64(), wm = r.ReadInt64();
                    bool h = version >= 2 ? r.ReadBoolean() : a >= 0 || wm > EventTime.MinWatermark;
                    if (!mine) continue;
                    if (s >= upstream)
                        throw new InvalidDataException($"repartition topic '{topicName}': the checkpoint knows source partition {s}, the source topic has {upstream} partitions");
                    applied[i, s] = a;
                    watermarks[i, s] = wm;
                    heard[i, s] = h;
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
            if (version is not (1 or 2)) throw new InvalidDataException("not a repartition reader's state (version)");
            int count = r.ReadInt32();
            for (int k = 0; k < count; k++)
            {
                int q = r.ReadInt32();
                long next = r.ReadInt64();
                int sources = r.ReadInt32();
                if (sources < 0 || sources > SourcePositions.MaxPartition + 1) throw new InvalidDataException("not a repartition reader's state (sources)");
                r.BaseStream.Seek((version == 1 ? 16L : 17L) * sources, SeekOrigin.Current);
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
