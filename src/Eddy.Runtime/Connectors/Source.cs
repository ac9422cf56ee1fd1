using System.Runtime.InteropServices;
using Eddy.Runtime.Distributed;

namespace Eddy.Runtime;

public enum SourceStatus
{
    /// <summary>Records were read and more may be read at once.</summary>
    MoreAvailable,
    /// <summary>Nothing to read right now (an unbounded source waiting for data).</summary>
    NothingAvailable,
    /// <summary>The input is exhausted: the reader will never return records again.</summary>
    EndOfInput,
}

/// <summary>
/// A source of records: bounded or not, read in parallel by one <see cref="SourceReader{T}"/> per subtask.
/// Each reader reads some splits (files, partitions); watermarks are tracked per split.
/// </summary>
public abstract class Source<T>
{
    public abstract bool IsBounded { get; }

    public abstract SourceReader<T> CreateReader(SourceReaderContext context);
}

public sealed record SourceReaderContext(int SubtaskIndex, int Parallelism, TimeProvider Clock, SubtaskMetrics Metrics)
{
    /// <summary>The job's stable name (<c>pipeline.name</c>): what survives a process restart.</summary>
    public string JobName { get; init; } = "job";

    /// <summary>The source operator's stable id in the plan.</summary>
    public string OperatorId { get; init; } = "";

    /// <summary>Whether the job takes checkpoints (<c>execution.checkpointing.interval</c> is set).</summary>
    public bool CheckpointingEnabled { get; init; }

    /// <summary>Tells the job's user something worth knowing that is no error (the CLI prints it; the server lists it with the job's warnings).</summary>
    public Action<string>? Report { get; init; }

    /// <summary>The state to resume from, or null on a fresh start (then the startup mode applies).</summary>
    public RestoredState? Restored { get; init; }

    /// <summary>Under <c>eddy worker</c>: the one partition number this reader reads (<see cref="JobConfig.PartitionTask"/>).</summary>
    public Distributed.PartitionTaskScope? PartitionTask { get; init; }
}

public abstract class SourceReader<T> : IDisposable
{
    /// <summary>How many splits this reader has; records name theirs in <see cref="SourceOutput{T}.Add"/>. 0: idle from the start.</summary>
    public virtual int SplitCount => 1;

    /// <summary>
    /// A name for split <paramref name="split"/> that people recognise (a Kafka reader: <c>topic-partition</c>), shown
    /// by the dashboard and the diagnosis; asked once per split when the reader starts. Null: "split N".
    /// </summary>
    public virtual string? SplitName(int split) => null;

    /// <summary>
    /// Reads what is available into <paramref name="output"/> (up to its free room). May wait briefly (≤ 50 ms) for
    /// data; longer waits return <see cref="SourceStatus.NothingAvailable"/> so that the task stays responsive.
    /// </summary>
    public abstract SourceStatus Read(SourceOutput<T> output);

    /// <summary>
    /// A checkpoint barrier leaves this source now (between two <see cref="Read"/> calls): write the position that
    /// follows every record read so far (a Kafka reader: the next offset of each partition it owns).
    /// </summary>
    public virtual void SnapshotState(long checkpointId, BinaryWriter state) { }

    /// <summary>
    /// Whether a checkpoint barrier may leave now. A reader whose position cannot be written yet (a database source
    /// in the middle of a snapshot that cannot be resumed) says no: the barrier waits, between reads, until it may,
    /// as Flink's CDC sources hold checkpoints during their snapshot.
    /// </summary>
    public virtual bool ReadyForBarrier => true;

    /// <summary>Checkpoint <paramref name="checkpointId"/> completed everywhere (a Kafka reader commits its offsets to the group).</summary>
    public virtual void NotifyCheckpointComplete(long checkpointId) { }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>Where a reader puts records: a batch being filled, with the split of each record.</summary>
public sealed class SourceOutput<T>
{
    private readonly int[] splits = new int[Batch<T>.DefaultCapacity];

    // Where each record of the batch came from (partition and offset, SourcePositions.Pack), for readers that know it;
    // read only when hasPositions, so other readers pay nothing.
    private readonly long[] positions = new long[Batch<T>.DefaultCapacity];
    private bool hasPositions;

    internal Batch<T> Batch { get; set; } = BatchPool<T>.Rent();

    internal ReadOnlySpan<int> Splits => splits.AsSpan(0, Batch.Count);

    /// <summary>Whether the records added so far carry their source positions (<see cref="AddPositioned"/>).</summary>
    public bool HasPositions => hasPositions;

    /// <summary>The source position of each record added so far (meaningful when <see cref="HasPositions"/>).</summary>
    public ReadOnlySpan<long> PositionsSoFar => positions.AsSpan(0, Batch.Count);

    internal long[] PositionArray => positions;

    /// <summary>The driver took the batch: the next one starts without positions.</summary>
    internal void ResetPositions() => hasPositions = false;

    public int Count => Batch.Count;

    public int Room => Math.Min(Batch.Capacity, Limit) - Batch.Count;

    public bool IsFull => Batch.IsFull || Batch.Count >= Limit;

    /// <summary>
    /// At most this many records in the batch (default: no limit beyond its capacity). Set by the driver of a held
    /// source (<see cref="JobConfig.SourceHold"/>); a reader that reads another reader into a buffer of its own passes
    /// its <see cref="Room"/> on as the buffer's limit.
    /// </summary>
    public int Limit { get; set; } = int.MaxValue;

    /// <summary>Bytes read from outside for these records (files, Kafka), for the metrics.</summary>
    public long Bytes { get; set; }

    /// <summary>
    /// Takes the records added so far (and their splits) and starts a new batch: for readers that wrap another
    /// reader and convert its records. The caller owns the returned batch.
    /// </summary>
    public Batch<T> DrainBatch(List<int> splitsOut)
    {
        hasPositions = false;
        splitsOut.Clear();
        for (int i = 0; i < Batch.Count; i++) splitsOut.Add(splits[i]);
        var taken = Batch;
        Batch = BatchPool<T>.Rent();
        return taken;
    }

    /// <summary>The split of each record added so far (readers that convert another reader's batch carry them over).</summary>
    public ReadOnlySpan<int> SplitsSoFar => splits.AsSpan(0, Batch.Count);

    /// <summary>
    /// Makes room for <paramref name="count"/> (at most <see cref="Room"/>) records that the caller writes itself into
    /// <paramref name="values"/> and <paramref name="timestamps"/> from the returned index on: for readers that
    /// convert records a batch at a time (compiled loops). Their splits are taken from <paramref name="splitsOf"/>.
    /// </summary>
    public int Reserve(int count, ReadOnlySpan<int> splitsOf, out T[] values, out long[] timestamps)
    {
        var b = Batch;
        int start = b.Count;
        if (count > b.Capacity - start) throw new ArgumentException($"{count} records do not fit the {b.Capacity - start} free slots", nameof(count));
        if (splitsOf.Length != count) throw new ArgumentException("one split per record", nameof(splitsOf));
        splitsOf.CopyTo(splits.AsSpan(start, count));
        b.Count = start + count;
        values = b.Values;
        timestamps = b.Timestamps;
        return start;
    }

    /// <summary>
    /// After <see cref="Reserve"/>: the caller wrote only <paramref name="kept"/> records from <paramref name="start"/>
    /// on, the j-th taken from reserved slot <paramref name="start"/> + <c>selected[j]</c> (increasing): keeps those
    /// records' splits and drops the rest of the reservation.
    /// </summary>
    public void Compact(int start, int kept, ReadOnlySpan<int> selected)
    {
        for (int j = 0; j < kept; j++) splits[start + j] = splits[start + selected[j]];
        if (hasPositions)
            for (int j = 0; j < kept; j++) positions[start + j] = positions[start + selected[j]];
        Batch.Count = start + kept;
    }

    /// <summary>Takes the records added so far and starts a new batch (read their splits first from <see cref="SplitsSoFar"/>).</summary>
    public Batch<T> TakeBatch()
    {
        hasPositions = false;
        var taken = Batch;
        Batch = BatchPool<T>.Rent();
        return taken;
    }

    /// <summary>Adds a record read from split <paramref name="split"/> with its source timestamp (or none).</summary>
    public void Add(T value, long timestamp = EventTime.None, int split = 0)
    {
        splits[Batch.Count] = split;
        Batch.Add(value, timestamp);
    }

    /// <summary>
    /// After a conversion of <paramref name="from"/> into the slots from <paramref name="start"/> on: gives the
    /// <paramref name="count"/> records written there the kinds of their inputs (input <c>selected[j]</c>, or j without
    /// a selection).
    /// </summary>
    public void CopyKinds<TIn>(Batch<TIn> from, int start, int count, int[]? selected)
    {
        if (!from.HasKinds) return;
        for (int j = 0; j < count; j++) Batch.SetKind(start + j, from.KindAt(selected is null ? j : selected[j]));
    }

    /// <summary>
    /// Adds a record with its source position (<see cref="SourcePositions.Pack"/>: partition and offset), which a
    /// repartition writer right after the source sends along so that a replay can be recognised downstream.
    /// </summary>
    public void AddPositioned(T value, long timestamp, int split, long position)
    {
        int i = Batch.Count;
        splits[i] = split;
        positions[i] = position;
        hasPositions = true;
        Batch.Add(value, timestamp);
    }

    /// <summary>As <see cref="AddPositioned(T, long, int, long)"/>, for a change of a changelog.</summary>
    public void AddPositioned(T value, long timestamp, int split, long position, RowKind kind)
    {
        int i = Batch.Count;
        splits[i] = split;
        positions[i] = position;
        hasPositions = true;
        Batch.Add(value, timestamp, kind);
    }

    /// <summary>
    /// After <see cref="Reserve"/>: the records reserved from <paramref name="start"/> on take the positions
    /// <paramref name="from"/> (a converting reader carries its inner reader's positions over).
    /// </summary>
    public void CopyPositions(int start, ReadOnlySpan<long> from)
    {
        from.CopyTo(positions.AsSpan(start, from.Length));
        hasPositions = true;
    }

    /// <summary>Adds a change (-U/+U/-D or +I) read from split <paramref name="split"/>: for changelog sources.</summary>
    public void Add(T value, long timestamp, int split, RowKind kind)
    {
        splits[Batch.Count] = split;
        Batch.Add(value, timestamp, kind);
    }

    /// <summary>
    /// Adds <paramref name="values"/> (at most <see cref="Room"/>) read from split <paramref name="split"/>, all with
    /// <paramref name="timestamp"/>: a bulk copy, for readers that hold records in memory.
    /// </summary>
    public void AddRange(ReadOnlySpan<T> values, long timestamp = EventTime.None, int split = 0)
    {
        var b = Batch;
        int start = b.Count;
        int n = values.Length;
        if (n > b.Capacity - start) throw new ArgumentException($"{n} records do not fit the {b.Capacity - start} free slots", nameof(values));
        values.CopyTo(b.Values.AsSpan(start, n));
        b.Timestamps.AsSpan(start, n).Fill(timestamp);
        splits.AsSpan(start, n).Fill(split);
        b.Count = start + n;
    }

    /// <summary>As <see cref="AddRange(ReadOnlySpan{T}, long, int)"/>, with each record's timestamp from <paramref name="timestamps"/>.</summary>
    public void AddRange(ReadOnlySpan<T> values, Func<T, long> timestamps, int split = 0)
    {
        ArgumentNullException.ThrowIfNull(timestamps);
        var b = Batch;
        int start = b.Count;
        AddRange(values, EventTime.None, split);
        var v = b.Values;
        var ts = b.Timestamps;
        for (int i = start; i < b.Count; i++) ts[i] = timestamps(v[i]);
    }
}

/// <summary>
/// A bounded source over records held in memory, split evenly over the subtasks. Its checkpoint state is the
/// remaining index range of its share; a restored reader takes over the ranges of the old subtasks whose index
/// modulo the new parallelism is its own, so a restore at another parallelism reads every remaining record once.
/// </summary>
public sealed class CollectionSource<T>(IReadOnlyList<T> items, Func<T, long>? timestamps = null) : Source<T>
{
    public override bool IsBounded => true;

    public override SourceReader<T> CreateReader(SourceReaderContext context)
    {
        var ranges = new Queue<(int Next, int End)>();
        if (context.Restored is { } restored)
        {
            for (int old = context.SubtaskIndex; old < restored.SubtaskStates.Count; old += context.Parallelism)
            {
                var bytes = restored.SubtaskStates[old];
                if (bytes.Length == 0) continue;
                using var r = new BinaryReader(new MemoryStream(bytes));
                int count = r.ReadInt32();
                for (int i = 0; i < count; i++)
                {
                    int next = r.ReadInt32(), end = r.ReadInt32();
                    if (next < 0 || end > items.Count || next > end)
                    {
                        throw new InvalidDataException(
                            $"collection source '{context.OperatorId}': restored range [{next}, {end}) does not fit the {items.Count} records");
                    }
                    ranges.Enqueue((next, end));
                }
            }
        }
        else
        {
            ranges.Enqueue(((int)((long)items.Count * context.SubtaskIndex / context.Parallelism),
                (int)((long)items.Count * (context.SubtaskIndex + 1) / context.Parallelism)));
        }
        return new Reader(items, timestamps, ranges);
    }

    private sealed class Reader : SourceReader<T>
    {
        private readonly IReadOnlyList<T> items;
        private readonly Func<T, long>? timestamps;
        private readonly Queue<(int Next, int End)> pending;

        // Contiguous ranges keep each subtask's share in its original order.
        private int next;
        private int end;

        // Arrays and lists are copied a batch-sized segment at a time instead of record by record. (A read-only span
        // over a covariant array is safe: it is only read.)
        private readonly T[]? array;

        public Reader(IReadOnlyList<T> items, Func<T, long>? timestamps, Queue<(int Next, int End)> ranges)
        {
            this.items = items;
            this.timestamps = timestamps;
            array = items as T[];
            pending = ranges;
            (next, end) = pending.Count > 0 ? pending.Dequeue() : (0, 0);
        }

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            state.Write(1 + pending.Count);
            state.Write(next);
            state.Write(end);
            foreach (var (n, e) in pending)
            {
                state.Write(n);
                state.Write(e);
            }
        }

        public override SourceStatus Read(SourceOutput<T> output)
        {
            while (next >= end && pending.Count > 0) (next, end) = pending.Dequeue();
            ReadOnlySpan<T> all = array is not null ? new ReadOnlySpan<T>(array)
                : items is List<T> list ? CollectionsMarshal.AsSpan(list)
                : default;
            if (all.Length >= end)
            {
                int n = Math.Min(end - next, output.Room);
                if (n > 0)
                {
                    var segment = all.Slice(next, n);
                    if (timestamps is null) output.AddRange(segment);
                    else output.AddRange(segment, timestamps);
                    next += n;
                }
                return next < end || pending.Count > 0 ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
            }
            while (next < end && !output.IsFull)
            {
                var item = items[next++];
                output.Add(item, timestamps is null ? EventTime.None : timestamps(item));
            }
            return next < end || pending.Count > 0 ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
        }
    }
}
