using Eddy.Runtime;

namespace Eddy.Testing;

/// <summary>One record as an operator emitted it.</summary>
public readonly record struct Emitted<T>(T Value, long Timestamp, RowKind Kind)
{
    public override string ToString() => $"{Kind.ShortString()}{Value}@{EventTime.Describe(Timestamp)}";
}

/// <summary>Receives a stream in a test and keeps everything: records, watermarks, the end.</summary>
public sealed class CollectingInput<T> : IBatchInput<T>
{
    public List<Emitted<T>> Records { get; } = [];

    public List<long> Watermarks { get; } = [];

    public bool Ended { get; private set; }

    /// <summary>What arrived, in order: records and watermarks interleaved as "W@time".</summary>
    public List<object> Events { get; } = [];

    public void OnBatch(Batch<T> batch)
    {
        for (int i = 0; i < batch.Count; i++)
        {
            var e = new Emitted<T>(batch.Values[i], batch.Timestamps[i], batch.KindAt(i));
            Records.Add(e);
            Events.Add(e);
        }
        BatchPool<T>.Return(batch);
    }

    public void OnWatermark(long watermark)
    {
        Watermarks.Add(watermark);
        Events.Add($"W@{EventTime.Describe(watermark)}");
    }

    public void Flush() { }

    public void OnEndOfInput() => Ended = true;

    public List<T> Values => Records.Select(r => r.Value).ToList();

    public void Clear()
    {
        Records.Clear();
        Watermarks.Clear();
        Events.Clear();
    }
}

/// <summary>
/// Drives one operator as a task would, without threads: push records (in batches), watermarks and the end of input,
/// move a manual processing-time clock, and read what came out, main and side outputs, as Flink's operator harness.
/// </summary>
public sealed class OperatorHarness<TIn, TOut> : ISideOutputResolver
{
    private readonly StreamOperator<TIn, TOut> op;
    private readonly Dictionary<string, object> sides = [];

    /// <param name="checkpointing">Open the operator as in a job that takes checkpoints (it checks its state types).</param>
    public OperatorHarness(StreamOperator<TIn, TOut> op, long startProcessingTime = 0, int subtask = 0, int parallelism = 1,
        int maxParallelism = KeyGroups.DefaultMaxParallelism, bool checkpointing = false)
    {
        this.op = op;
        Clock = new ManualClock(startProcessingTime);
        Timers = new ProcessingTimers(Clock);
        Metrics = new SubtaskMetrics("harness", subtask);
        op.SetOutput(Output);
        op.Setup(new OperatorContext(op.GetType().Name, subtask, parallelism, maxParallelism, Timers, Metrics, this)
        {
            CheckpointingEnabled = checkpointing,
        });
        op.Open();
    }

    /// <summary>
    /// A fresh operator opened as subtask <paramref name="subtask"/> of <paramref name="parallelism"/> and restored from
    /// what the old subtasks wrote (any old parallelism): the key groups of its range and every operator state.
    /// </summary>
    public static OperatorHarness<TIn, TOut> Restored(StreamOperator<TIn, TOut> op, IReadOnlyList<SubtaskSnapshot> snapshots,
        long startProcessingTime = 0, int subtask = 0, int parallelism = 1, int maxParallelism = KeyGroups.DefaultMaxParallelism)
    {
        var harness = new OperatorHarness<TIn, TOut>(op, startProcessingTime, subtask, parallelism, maxParallelism, checkpointing: true);
        harness.Restore(MemoryOperatorStateReader.ForSubtask(snapshots, subtask, parallelism, maxParallelism));
        return harness;
    }

    /// <summary>Restores the operator (before any input, as a task does after <c>Open</c>).</summary>
    public OperatorHarness<TIn, TOut> Restore(OperatorStateReader state)
    {
        op.RestoreState(state);
        return this;
    }

    /// <summary>Takes a snapshot as at a barrier (everything pushed so far is processed) into memory.</summary>
    public SubtaskSnapshot Snapshot(long checkpointId = 1)
    {
        var (start, end) = KeyGroups.RangeOf(op.Context.SubtaskIndex, op.Context.MaxParallelism, op.Context.Parallelism);
        using var writer = new MemoryOperatorStateWriter(start, end);
        op.SnapshotState(checkpointId, writer);
        return writer.ToSnapshot(op.Context.SubtaskIndex);
    }

    public ManualClock Clock { get; }

    public ProcessingTimers Timers { get; }

    public SubtaskMetrics Metrics { get; }

    public CollectingInput<TOut> Output { get; } = new();

    public StreamOperator<TIn, TOut> Operator => op;

    public CollectingInput<T> SideOutput<T>(OutputTag<T> tag) => (CollectingInput<T>)Side(tag);

    IBatchInput<T>? ISideOutputResolver.Resolve<T>(OutputTag<T> tag) => (CollectingInput<T>)Side(tag);

    private object Side<T>(OutputTag<T> tag)
    {
        if (!sides.TryGetValue(tag.Id, out var c)) sides[tag.Id] = c = new CollectingInput<T>();
        return c;
    }

    /// <summary>Pushes one record as a batch of one.</summary>
    public OperatorHarness<TIn, TOut> Element(TIn value, long timestamp = EventTime.None, RowKind kind = RowKind.Insert) =>
        Elements([(value, timestamp)], kind);

    /// <summary>Pushes records as batches of at most the default capacity, then flushes.</summary>
    public OperatorHarness<TIn, TOut> Elements(IEnumerable<(TIn Value, long Timestamp)> records, RowKind kind = RowKind.Insert)
    {
        Batch<TIn>? batch = null;
        foreach (var (value, ts) in records)
        {
            batch ??= BatchPool<TIn>.Rent();
            batch.Add(value, ts, kind);
            if (batch.IsFull)
            {
                op.OnBatch(batch);
                batch = null;
            }
        }
        if (batch is not null) op.OnBatch(batch);
        op.Flush();
        return this;
    }

    /// <summary>Pushes records with their row kinds (a changelog) as batches of at most the default capacity, then flushes.</summary>
    public OperatorHarness<TIn, TOut> Elements(IEnumerable<(TIn Value, long Timestamp, RowKind Kind)> records)
    {
        Batch<TIn>? batch = null;
        foreach (var (value, ts, kind) in records)
        {
            batch ??= BatchPool<TIn>.Rent();
            batch.Add(value, ts, kind);
            if (batch.IsFull)
            {
                op.OnBatch(batch);
                batch = null;
            }
        }
        if (batch is not null) op.OnBatch(batch);
        op.Flush();
        return this;
    }

    public OperatorHarness<TIn, TOut> Watermark(long watermark)
    {
        op.OnWatermark(watermark);
        op.Flush();
        return this;
    }

    /// <summary>Moves processing time forward and fires the timers that became due.</summary>
    public OperatorHarness<TIn, TOut> AdvanceProcessingTime(TimeSpan by)
    {
        Clock.Advance(by);
        Timers.FireDue();
        op.Flush();
        return this;
    }

    public OperatorHarness<TIn, TOut> SetProcessingTime(long ms)
    {
        Clock.SetTo(ms);
        Timers.FireDue();
        op.Flush();
        return this;
    }

    /// <summary>The final watermark and the end of input, as a bounded source gives them.</summary>
    public OperatorHarness<TIn, TOut> EndInput()
    {
        op.OnWatermark(EventTime.MaxWatermark);
        op.OnEndOfInput();
        op.Close();
        return this;
    }
}
