namespace Eddy.Runtime;

/// <summary>A destination for a stream, written in parallel by one <see cref="SinkWriter{T}"/> per subtask.</summary>
public abstract class Sink<T>
{
    public abstract SinkWriter<T> CreateWriter(SinkWriterContext context);
}

public sealed record SinkWriterContext(int SubtaskIndex, int Parallelism, TimeProvider Clock, SubtaskMetrics Metrics)
{
    /// <summary>The job's stable name (<c>pipeline.name</c>): what survives a process restart (progress rows, transactional ids).</summary>
    public string JobName { get; init; } = "job";

    /// <summary>The sink operator's stable id in the plan.</summary>
    public string OperatorId { get; init; } = "";

    /// <summary>Whether the job takes checkpoints: exactly-once sinks then commit on <see cref="SinkWriter{T}.NotifyCheckpointComplete"/>.</summary>
    public bool CheckpointingEnabled { get; init; }

    /// <summary>The state to resume from, or null on a fresh start.</summary>
    public RestoredState? Restored { get; init; }

    /// <summary>Cancelled when the job is cancelled: a writer that waits inside <c>Write</c> stops waiting.</summary>
    public CancellationToken Cancellation { get; init; }

    /// <summary>
    /// Under <c>eddy worker</c>: the partition this pipeline instance owns. Exactly-once writers key their bookkeeping
    /// by it instead of by subtask, so that a partition's epochs commit once whichever worker runs it.
    /// </summary>
    public Distributed.PartitionTaskScope? PartitionTask { get; init; }
}

public abstract class SinkWriter<T> : IDisposable
{
    /// <summary>Writes a batch; the batch is returned to the pool after the call, so keep no reference to it.</summary>
    public abstract void Write(Batch<T> batch);

    /// <summary>
    /// Makes what was written so far durable and visible (end of input; at-least-once sinks at every barrier). For a
    /// writer that <see cref="CommitsAtCheckpoints"/>, the end of input stages the rest as a final epoch first, and
    /// Flush comes only after the checkpoint holding it completed: it then only releases what is left.
    /// </summary>
    public virtual void Flush() { }

    /// <summary>
    /// Whether this writer makes records visible only when a checkpoint completes (exactly-once). Then the end of its
    /// input is not a commit: the rest is staged by <see cref="SnapshotState"/> in the task's final state and committed
    /// by <see cref="NotifyCheckpointComplete"/> of the checkpoint that holds it (as Flink's final checkpoint), so a
    /// process killed between the end of input and that checkpoint repeats nothing when it restores an earlier one.
    /// </summary>
    public virtual bool CommitsAtCheckpoints => false;

    /// <summary>
    /// A checkpoint barrier reached this sink: every record before it has been given to <see cref="Write"/>. The
    /// default makes it durable now (at-least-once). An exactly-once writer stages those records under
    /// <paramref name="checkpointId"/> (a transaction, a staging table, or the records themselves in
    /// <paramref name="state"/>) and writes what it needs to finish that commit after a crash.
    /// </summary>
    public virtual void SnapshotState(long checkpointId, BinaryWriter state) => Flush();

    /// <summary>
    /// Checkpoint <paramref name="checkpointId"/> completed everywhere: commit everything staged up to it. Must be
    /// idempotent: after a restore the same commit may be asked for again (see <see cref="SinkWriterContext.Restored"/>).
    /// </summary>
    public virtual void NotifyCheckpointComplete(long checkpointId) { }

    public virtual void OnWatermark(long watermark) { }

    /// <summary>
    /// The stream into this writer turned idle (<paramref name="idle"/>: no watermark will come from it until it
    /// turns active again, as Flink's WatermarkStatus.IDLE) or active. Called only when the status changes, after
    /// every record before the change and before every record after it; a stream starts active.
    /// </summary>
    public virtual void OnWatermarkStatus(bool idle) { }

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>
/// A writer in front of another (converting or pacing its records): everything but <see cref="SinkWriter{T}.Write"/>
/// is the inner writer's, so a wrapper cannot turn an exactly-once sink's staging into a flush by forgetting a call.
/// </summary>
public abstract class ForwardingSinkWriter<T, TInner>(SinkWriter<TInner> inner) : SinkWriter<T>
{
    protected SinkWriter<TInner> Inner { get; } = inner;

    public override void Flush() => Inner.Flush();

    public override void SnapshotState(long checkpointId, BinaryWriter state) => Inner.SnapshotState(checkpointId, state);

    public override void NotifyCheckpointComplete(long checkpointId) => Inner.NotifyCheckpointComplete(checkpointId);

    public override bool CommitsAtCheckpoints => Inner.CommitsAtCheckpoints;

    public override void OnWatermark(long watermark) => Inner.OnWatermark(watermark);

    public override void OnWatermarkStatus(bool idle) => Inner.OnWatermarkStatus(idle);

    public override void Dispose()
    {
        Inner.Dispose();
        base.Dispose();
    }
}

/// <summary>The type of a sink's (absent) output.</summary>
public readonly record struct NoOutput;

/// <summary>An operator that hosts a connector and hands it the job name and restored state before it opens.</summary>
internal interface IConnectorCheckpointing
{
    void Configure(string jobName, bool checkpointingEnabled, RestoredState? restored, Distributed.PartitionTaskScope? partitionTask);
}

/// <summary>
/// An operator whose end of input waits for a checkpoint (see <see cref="SinkWriter{T}.CommitsAtCheckpoints"/>): its
/// task stays until a checkpoint holding its final state completed, then finishes it.
/// </summary>
internal interface IFinalCommit
{
    /// <summary>The input ended and the rest waits, staged by the final snapshot, for a checkpoint to complete.</summary>
    bool AwaitsFinalCommit { get; }

    /// <summary>After the checkpoint that committed the rest: releases what is left (end-of-input flush).</summary>
    void FinishAfterFinalCommit();
}

/// <summary>
/// An operator of a chain that learns when its task's output turns idle or active. The status is the task's: the
/// task tells it directly (no per-record cost, no element kind of its own), after flushing the chain when it turns idle.
/// </summary>
internal interface IWatermarkStatusListener
{
    void OnWatermarkStatus(bool idle);
}

public sealed class SinkOperator<T>(Sink<T> sink) : StreamOperator<T, NoOutput>, IConnectorCheckpointing, IWatermarkStatusListener, IFinalCommit
{
    private SinkWriter<T>? writer;
    private bool awaitingFinalCommit;
    private string jobName = "job";
    private bool checkpointingEnabled;
    private RestoredState? restored;
    private Distributed.PartitionTaskScope? partitionTask;

    void IConnectorCheckpointing.Configure(string jobName, bool checkpointingEnabled, RestoredState? restored, Distributed.PartitionTaskScope? partitionTask)
    {
        this.partitionTask = partitionTask;
        this.jobName = jobName;
        this.checkpointingEnabled = checkpointingEnabled;
        this.restored = restored;
    }

    public override void Open() => writer = sink.CreateWriter(new SinkWriterContext(
        Context.SubtaskIndex, Context.Parallelism, Context.ProcessingTimers.Clock, Context.Metrics)
    {
        JobName = jobName,
        OperatorId = StateId ?? Context.OperatorName,
        CheckpointingEnabled = checkpointingEnabled,
        Restored = restored,
        Cancellation = Context.Cancellation,
        PartitionTask = partitionTask,
    });

    /// <summary>A sink's state is its writer's (pending commits): always part of a checkpoint.</summary>
    public override bool HasState => true;

    public override void SnapshotState(long checkpointId, OperatorStateWriter state) =>
        writer!.SnapshotState(checkpointId, state.OperatorState);

    public override void NotifyCheckpointComplete(long checkpointId) => writer!.NotifyCheckpointComplete(checkpointId);

    public override void OnBatch(Batch<T> batch)
    {
        Context.Metrics.RecordsOut += batch.Count;
        writer!.Write(batch);
        BatchPool<T>.Return(batch);
    }

    protected override void ProcessWatermark(long watermark) => writer!.OnWatermark(watermark);

    void IWatermarkStatusListener.OnWatermarkStatus(bool idle) => writer?.OnWatermarkStatus(idle);

    protected override void Finish()
    {
        if (checkpointingEnabled && writer!.CommitsAtCheckpoints) awaitingFinalCommit = true;
        else writer!.Flush();
    }

    bool IFinalCommit.AwaitsFinalCommit => awaitingFinalCommit;

    void IFinalCommit.FinishAfterFinalCommit()
    {
        awaitingFinalCommit = false;
        writer!.Flush();
    }

    public override void Close() => writer?.Dispose();
}

/// <summary>A sink that calls a function per record: for tests and small jobs (the function must be thread-safe
/// when the sink runs at parallelism above 1).</summary>
public sealed class FunctionSink<T>(Action<T, long, RowKind> write) : Sink<T>
{
    public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(write);

    private sealed class Writer(Action<T, long, RowKind> write) : SinkWriter<T>
    {
        public override void Write(Batch<T> batch)
        {
            for (int i = 0; i < batch.Count; i++) write(batch.Values[i], batch.Timestamps[i], batch.KindAt(i));
        }
    }
}

/// <summary>A thread-safe in-memory sink that keeps every record: for tests and examples.</summary>
public sealed class CollectSink<T> : Sink<T>
{
    private readonly List<(T Value, long Timestamp, RowKind Kind)> records = [];

    public IReadOnlyList<(T Value, long Timestamp, RowKind Kind)> Records
    {
        get
        {
            lock (records) return records.ToList();
        }
    }

    public List<T> Values
    {
        get
        {
            lock (records) return records.Select(r => r.Value).ToList();
        }
    }

    public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(records);

    private sealed class Writer(List<(T, long, RowKind)> records) : SinkWriter<T>
    {
        public override void Write(Batch<T> batch)
        {
            lock (records)
            {
                for (int i = 0; i < batch.Count; i++) records.Add((batch.Values[i], batch.Timestamps[i], batch.KindAt(i)));
            }
        }
    }
}
