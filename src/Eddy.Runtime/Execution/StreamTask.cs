using System.Collections.Concurrent;
using System.Diagnostics;

namespace Eddy.Runtime;

/// <summary>
/// One parallel instance of a chain of operators, run on its own thread: it takes elements from its input gate (or
/// reads its source), drives the chain, and forwards control events in order. Watermarks of its input channels are
/// combined by a <see cref="WatermarkValve"/>.
/// </summary>
internal sealed class StreamTask
{
    private readonly List<StreamOperator> operators;
    private readonly List<IChannelWriter> writers;
    private readonly Action<object>[] dispatchers;
    private readonly IBatchInput head;
    private readonly ISourceDriver? source;
    private bool outputIdle;
    /// <summary>The operators of the chain told when the task's output turns idle or active (its sinks).</summary>
    private readonly IWatermarkStatusListener[] statusListeners;

    // Checkpointing: the mailbox of actions other threads ask this task to run between elements (checkpoint
    // completion, abort), the barrier a source is asked to emit, and the alignment in progress.
    private readonly ConcurrentQueue<Action> mailbox = new();
    private volatile int mailboxCount;
    private CheckpointBarrier? requestedBarrier;
    private CheckpointBarrier? aligning;
    private bool[] barrierArrived = [];
    private bool[] channelEnded = [];
    private int arrivedCount;
    private long alignmentStart;
    private long lastBarrierId;
    // The epoch a sink waiting for its final commit staged the rest under; a checkpoint at or past it committed it.
    private long finalEpoch = long.MaxValue;
    private bool finalCommitted;
    private Func<long, byte[]>? snapshotReader;
    private Action<long>? notifyReader;

    public StreamTask(
        string name,
        int subtask,
        InputGate? gate,
        Action<object>[] dispatchers,
        ISourceDriver? source,
        List<StreamOperator> operators,
        List<IChannelWriter> writers,
        SubtaskMetrics metrics,
        ProcessingTimers timers,
        IBatchInput head)
    {
        Name = name;
        Subtask = subtask;
        Gate = gate;
        this.dispatchers = dispatchers;
        this.source = source;
        this.operators = operators;
        this.writers = writers;
        Metrics = metrics;
        Timers = timers;
        this.head = head;
        statusListeners = [.. operators.OfType<IWatermarkStatusListener>()];
        if (gate is not null) metrics.QueueFill = () => gate.Fill;
    }

    public string Name { get; }

    public int Subtask { get; }

    public InputGate? Gate { get; }

    public SubtaskMetrics Metrics { get; }

    public ProcessingTimers Timers { get; }

    public string DisplayName => $"{Name} ({Subtask + 1})";

    public bool IsSource => source is not null;

    /// <summary>For a source task: the source's state id (also its operator id in reader contexts).</summary>
    internal string? SourceStateId { get; set; }

    /// <summary>The checkpoint this task's operators and reader start from (null: a fresh start).</summary>
    internal CheckpointData? Restore { get; set; }

    /// <summary>The key groups this subtask owns.</summary>
    internal (int Start, int End) KeyGroupRange { get; set; }

    /// <summary>Set by the plan when the job takes checkpoints.</summary>
    internal TaskCheckpointing? Checkpointing { get; set; }

    /// <summary>The operators of the chain (not the source), head first.</summary>
    internal IReadOnlyList<StreamOperator> Operators => operators;

    public void Run(CancellationToken cancel)
    {
        // Open from the tail so that every operator's consumers are ready before it emits.
        for (int i = operators.Count - 1; i >= 0; i--)
        {
            operators[i].Context.Cancellation = cancel;
            operators[i].Open();
        }
        if (Restore is { } restore)
        {
            // Checkpoint ids go on from the restored one: the final epoch of a task that sees no barrier is above it.
            lastBarrierId = restore.Id;
            foreach (var op in operators)
            {
                if (op.StateId is { } id && restore.Find(id) is { } snapshot)
                {
                    var (start, end) = KeyGroupRange;
                    op.RestoreState(snapshot.ReaderFor(restore.Id, start, end));
                }
            }
        }
        try
        {
            if (source is not null) source.Run(this, cancel);
            else
            {
                RunInput(cancel);
                ReportFinished(cancel);
            }
        }
        finally
        {
            foreach (var op in operators) op.Close();
        }
    }

    private void RunInput(CancellationToken cancel)
    {
        var gate = Gate!;
        var valve = new WatermarkValve(gate.ChannelCount, flushWhenAllIdle: true);
        int ended = 0;
        barrierArrived = new bool[gate.ChannelCount];
        channelEnded = new bool[gate.ChannelCount];
        while (ended < gate.ChannelCount)
        {
            cancel.ThrowIfCancellationRequested();
            if (mailboxCount != 0) DrainMailbox();
            if (!gate.TryTake(out var element, out int channel, 0))
            {
                // Nothing queued: spin briefly first (a busy producer delivers within microseconds), then hand
                // partial batches on before sleeping, so that thin traffic is not delayed. Both count as idle.
                long spinStart = Stopwatch.GetTimestamp();
                bool got = gate.TrySpinTake(out element, out channel);
                Metrics.IdleTicks += Stopwatch.GetTimestamp() - spinStart;
                if (!got)
                {
                    head.FlushAll();
                    long waitStart = Stopwatch.GetTimestamp();
                    got = gate.TryTake(out element, out channel, WaitMs(), spin: false);
                    Metrics.IdleTicks += Stopwatch.GetTimestamp() - waitStart;
                }
                if (!got)
                {
                    FireTimers();
                    continue;
                }
            }
            switch (element.Kind)
            {
                case ElementKind.Batch:
                    Metrics.LastRecordTimestamp = Stopwatch.GetTimestamp();
                    dispatchers[channel](element.Payload!);
                    break;
                case ElementKind.Watermark:
                    if (valve.OnWatermark(channel, element.Value, out long wm)) AdvanceWatermark(wm);
                    UpdateIdle(valve.AllIdle);
                    break;
                case ElementKind.Idle:
                case ElementKind.Active:
                    if (valve.OnStatus(channel, element.Kind == ElementKind.Idle, out long wm2)) AdvanceWatermark(wm2);
                    UpdateIdle(valve.AllIdle);
                    break;
                case ElementKind.Barrier:
                    OnBarrier(channel, (CheckpointBarrier)element.Payload!);
                    break;
                case ElementKind.EndOfInput:
                    ended++;
                    channelEnded[channel] = true;
                    if (valve.OnEnd(channel, out long wm3)) AdvanceWatermark(wm3);
                    // An ended channel will bring no barrier: it counts as aligned.
                    TryCompleteAlignment();
                    break;
            }
            FireTimers();
        }
        head.EndAll();
    }

    /// <summary>
    /// Aligns a barrier: the channel that delivered it is blocked (its later records belong to the next epoch) until
    /// every channel delivered it or ended; then the chain snapshots and the barrier goes on.
    /// </summary>
    private void OnBarrier(int channel, CheckpointBarrier barrier)
    {
        long id = barrier.CheckpointId;
        if (id <= lastBarrierId) return; // a barrier of a checkpoint this task already took or saw aborted
        if (Checkpointing is null)
        {
            lastBarrierId = id;
            foreach (var w in writers) w.Broadcast(StreamElement.ForBarrier(barrier));
            return;
        }
        if (aligning is null || id > aligning.CheckpointId)
        {
            // A newer barrier while aligning an older one: the older checkpoint was given up upstream.
            if (aligning is not null) Gate!.UnblockAll();
            aligning = barrier;
            Array.Clear(barrierArrived);
            arrivedCount = 0;
            alignmentStart = Stopwatch.GetTimestamp();
        }
        if (!barrierArrived[channel])
        {
            barrierArrived[channel] = true;
            arrivedCount++;
            Gate!.Block(channel);
        }
        TryCompleteAlignment();
    }

    private void TryCompleteAlignment()
    {
        if (aligning is not { } barrier) return;
        for (int c = 0; c < barrierArrived.Length; c++)
            if (!barrierArrived[c] && !channelEnded[c]) return;
        long alignment = Stopwatch.GetTimestamp() - alignmentStart;
        aligning = null;
        lastBarrierId = barrier.CheckpointId;
        Gate!.UnblockAll();
        PerformCheckpoint(barrier, alignment, readerState: null);
    }

    /// <summary>
    /// Snapshots the chain and sends the barrier on: everything before the barrier has gone through the chain (partial
    /// batches are flushed first so that no record of this epoch is held behind the barrier). Operators with an
    /// asynchronous phase hand back a deferred snapshot: it is written on a pool thread while this task goes on, and
    /// the task acknowledges only when it is written.
    /// </summary>
    private void PerformCheckpoint(CheckpointBarrier barrier, long alignmentTicks, byte[]? readerState)
    {
        var ck = Checkpointing!;
        head.FlushAll();
        long syncStart = Stopwatch.GetTimestamp();
        var deferred = new List<(string StateId, DeferredSnapshot Snapshot)>();
        var states = SnapshotChain(barrier.CheckpointId, readerState, deferred: deferred);
        long syncTicks = Stopwatch.GetTimestamp() - syncStart;
        var element = StreamElement.ForBarrier(barrier);
        foreach (var w in writers) w.Broadcast(element);
        if (deferred.Count == 0)
        {
            ck.Coordinator.Acknowledge(this, barrier.CheckpointId, states, alignmentTicks, syncTicks, asyncTicks: 0);
            return;
        }
        long id = barrier.CheckpointId;
        ThreadPool.UnsafeQueueUserWorkItem(_ => WriteDeferred(ck, id, states, deferred, alignmentTicks, syncTicks), null);
    }

    /// <summary>The asynchronous phase, on a pool thread: writes the deferred snapshots, then acknowledges (or declines).</summary>
    private void WriteDeferred(TaskCheckpointing ck, long id, List<TaskStateEntry> states,
        List<(string StateId, DeferredSnapshot Snapshot)> deferred, long alignmentTicks, long syncTicks)
    {
        long start = Stopwatch.GetTimestamp();
        string? failure = null;
        var (kgStart, kgEnd) = ck.KeyGroupRange;
        try
        {
            ck.Coordinator.BeforeAsyncSnapshot?.Invoke(id);
        }
        catch (Exception e)
        {
            failure = $"the asynchronous snapshot phase of task '{DisplayName}' failed: {e.Message}";
        }
        foreach (var (stateId, snapshot) in deferred)
        {
            try
            {
                if (failure is not null) continue;
                using var writer = new MemoryOperatorStateWriter(kgStart, kgEnd);
                snapshot.Write(writer);
                states.Add(new TaskStateEntry(stateId, ck.Parallelism, writer.ToSnapshot(Subtask)));
            }
            // Whatever the operator's asynchronous phase throws fails this checkpoint, never the job: the task's
            // records and state are untouched by it.
            catch (Exception e)
            {
                failure = $"the asynchronous snapshot of operator '{stateId}' in task '{DisplayName}' failed: {e.GetType().Name}: {e.Message}";
            }
            finally
            {
                snapshot.Release();
            }
        }
        long asyncTicks = Stopwatch.GetTimestamp() - start;
        if (failure is not null) ck.Coordinator.Decline(this, id, failure);
        else ck.Coordinator.Acknowledge(this, id, states, alignmentTicks, syncTicks, asyncTicks);
    }

    private List<TaskStateEntry> SnapshotChain(long checkpointId, byte[]? readerState, bool final = false,
        List<(string StateId, DeferredSnapshot Snapshot)>? deferred = null)
    {
        var ck = Checkpointing!;
        var (start, end) = ck.KeyGroupRange;
        var states = new List<TaskStateEntry>();
        if (readerState is not null)
        {
            states.Add(new TaskStateEntry(ck.SourceStateId!, ck.Parallelism,
                new SubtaskSnapshot(Subtask, start, end, readerState, new Dictionary<int, byte[]>())));
        }
        foreach (var op in operators)
        {
            if (!op.HasState || op.StateId is null) continue;
            if (deferred is not null && op.SnapshotStateDeferred(checkpointId) is { } later)
            {
                deferred.Add((op.StateId, later));
                continue;
            }
            var writer = new MemoryOperatorStateWriter(start, end);
            // At the end of input a sink either flushed everything (it has nothing to stage, and is not asked to
            // stage under an old checkpoint id) or waits for a final commit: it stages the rest under the next id,
            // which every checkpoint holding this final state reaches.
            if (!final || op is not IConnectorCheckpointing) op.SnapshotState(checkpointId, writer);
            else if (op is IFinalCommit { AwaitsFinalCommit: true }) op.SnapshotState(checkpointId + 1, writer);
            states.Add(new TaskStateEntry(op.StateId, ck.Parallelism, writer.ToSnapshot(Subtask)));
        }
        return states;
    }

    /// <summary>Called by a source driver between two reads: emits the barrier the coordinator asked for, if any.</summary>
    internal void PollSourceCheckpoint(bool barrierAllowed = true)
    {
        if (mailboxCount != 0) DrainMailbox();
        // A reader that cannot write its position yet keeps the request for a later poll.
        if (!barrierAllowed || Volatile.Read(ref requestedBarrier) is not { } barrier) return;
        Volatile.Write(ref requestedBarrier, null);
        if (barrier.CheckpointId <= lastBarrierId) return;
        lastBarrierId = barrier.CheckpointId;
        var readerState = snapshotReader!(barrier.CheckpointId);
        PerformCheckpoint(barrier, 0, readerState);
    }

    /// <summary>A source driver hands over its reader's checkpoint hooks.</summary>
    internal void AttachReader(Func<long, byte[]> snapshot, Action<long> notify)
    {
        snapshotReader = snapshot;
        notifyReader = notify;
    }

    /// <summary>
    /// The task's input ended and the end went downstream: its state now stands for it in every later checkpoint.
    /// A source calls this before it disposes its reader.
    /// </summary>
    internal void ReportFinished(CancellationToken cancel)
    {
        if (Checkpointing is not { } ck) return;
        // A job without periodic checkpoints does not pay for (or risk) a final snapshot of every finished task; it
        // only tells the coordinator, which then refuses savepoints (see CheckpointCoordinator.TaskFinished).
        var states = ck.Coordinator.SnapshotsFinishedTasks
            ? SnapshotChain(lastBarrierId, snapshotReader?.Invoke(lastBarrierId), final: true)
            : null;
        var awaiting = operators.OfType<IFinalCommit>().Where(op => op.AwaitsFinalCommit).ToList();
        if (awaiting.Count > 0) finalEpoch = lastBarrierId + 1;
        ck.Coordinator.TaskFinished(this, states, lastBarrierId, awaitsCommit: awaiting.Count > 0);
        if (awaiting.Count == 0) return;
        FaultInjection.Reached(FaultInjection.SinkEndOfInput);
        // The task stays (with its reader, for its offsets' commit) until a checkpoint holding the final state completed.
        while (!finalCommitted)
        {
            cancel.ThrowIfCancellationRequested();
            if (mailboxCount != 0) DrainMailbox();
            else cancel.WaitHandle.WaitOne(1);
        }
        foreach (var op in awaiting) op.FinishAfterFinalCommit();
    }

    /// <summary>Asks a source task to emit a barrier at its next chance (from the coordinator's thread).</summary>
    internal void RequestBarrier(CheckpointBarrier barrier) => Volatile.Write(ref requestedBarrier, barrier);

    /// <summary>Runs <paramref name="action"/> on this task's thread between two elements (or two reads).</summary>
    internal void Post(Action action)
    {
        mailbox.Enqueue(action);
        Interlocked.Increment(ref mailboxCount);
    }

    private void DrainMailbox()
    {
        while (mailbox.TryDequeue(out var action))
        {
            Interlocked.Decrement(ref mailboxCount);
            action();
        }
    }

    /// <summary>On the task thread: checkpoint <paramref name="id"/> is stored; operators, reader and sink writers may commit.</summary>
    internal void NotifyCheckpointComplete(long id)
    {
        notifyReader?.Invoke(id);
        foreach (var op in operators) op.NotifyCheckpointComplete(id);
        if (id >= finalEpoch) finalCommitted = true;
    }

    /// <summary>On the task thread: checkpoint <paramref name="id"/> failed; stop aligning it.</summary>
    internal void AbortCheckpoint(long id)
    {
        if (aligning is { } a && a.CheckpointId == id)
        {
            aligning = null;
            Gate!.UnblockAll();
        }
        lastBarrierId = Math.Max(lastBarrierId, id);
    }

    internal void AdvanceWatermark(long watermark)
    {
        Metrics.InputWatermark = watermark;
        head.Watermark(watermark);
    }

    internal void UpdateIdle(bool idle)
    {
        if (idle == outputIdle) return;
        outputIdle = idle;
        Metrics.IsIdle = idle;
        // Going idle: what the chain holds goes out first, so that the status follows every record before it.
        if (idle) head.FlushAll();
        foreach (var l in statusListeners) l.OnWatermarkStatus(idle);
        foreach (var w in writers) w.Broadcast(idle ? StreamElement.Idle : StreamElement.Active);
    }

    internal void FireTimers()
    {
        if (Timers.Pending > 0 && Timers.Next <= Timers.Now) Timers.FireDue();
    }

    /// <summary>How long the task may wait for input before a processing-time timer is due (at most 100 ms).</summary>
    internal int WaitMs()
    {
        long next = Timers.Next;
        if (next == long.MaxValue) return 100;
        return (int)Math.Clamp(next - Timers.Now, 0, 100);
    }
}

/// <summary>The untyped view of a chain's head that the task drives.</summary>
internal interface IBatchInput
{
    void Watermark(long watermark);

    void FlushAll();

    void EndAll();
}

/// <summary>Adapts a typed chain head to <see cref="IBatchInput"/>.</summary>
internal sealed class HeadAdapter<T>(IBatchInput<T> head) : IBatchInput
{
    public void Watermark(long watermark) => head.OnWatermark(watermark);

    public void FlushAll() => head.Flush();

    public void EndAll() => head.OnEndOfInput();
}
