namespace Eddy.Runtime;

/// <summary>The part of an operator the task drives without knowing its record types.</summary>
public abstract class StreamOperator
{
    private OperatorContext? context;
    private readonly List<Action> flushers = [];
    private readonly List<Action<long>> sideWatermarks = [];
    private readonly List<Action> sideEnds = [];
    private readonly Dictionary<string, object> sideCollectors = [];

    public OperatorContext Context => context ?? throw new InvalidOperationException("the operator is not open yet");

    /// <summary>The watermark this operator has last seen (and forwarded).</summary>
    public long CurrentWatermark { get; private set; } = EventTime.MinWatermark;

    internal void Setup(OperatorContext ctx) => context = ctx;

    /// <summary>Called once on the task's thread before any input.</summary>
    public virtual void Open() { }

    /// <summary>Called once after the end of input or on cancellation; releases resources.</summary>
    public virtual void Close() { }

    /// <summary>
    /// A stable id of this operator in the plan (derived from the plan, overridable by a name), under which its state
    /// is stored in checkpoints and savepoints.
    /// </summary>
    public string? StateId { get; set; }

    /// <summary>Whether the operator has state to snapshot (timers count as state).</summary>
    public virtual bool HasState => false;

    /// <summary>At a barrier, after every element before it was processed: write the state (keyed state per key group).</summary>
    public virtual void SnapshotState(long checkpointId, OperatorStateWriter state) { }

    /// <summary>
    /// At a barrier, in place of <see cref="SnapshotState"/>: the synchronous phase of a two-phase snapshot. Return a
    /// <see cref="DeferredSnapshot"/> holding a cheap, consistent view of the state as of the barrier; the task then
    /// forwards the barrier and goes on with the next records while a pool thread writes it, and the checkpoint
    /// completes only when it is written. Null (the default) means "no asynchronous phase": the task calls
    /// <see cref="SnapshotState"/> on its thread as before.
    /// </summary>
    public virtual DeferredSnapshot? SnapshotStateDeferred(long checkpointId) => null;

    /// <summary>After <see cref="Open"/> and before any input, when the job resumes from a checkpoint.</summary>
    public virtual void RestoreState(OperatorStateReader state) { }

    /// <summary>Checkpoint <paramref name="checkpointId"/> completed everywhere.</summary>
    public virtual void NotifyCheckpointComplete(long checkpointId) { }

    /// <summary>The end of input has been reached: emit whatever is still held (after the final watermark).</summary>
    protected virtual void Finish() { }

    /// <summary>Fire what the new watermark makes due (timers, windows). Emit through collectors.</summary>
    protected virtual void ProcessWatermark(long watermark) { }

    /// <summary>Whether upstream watermarks go downstream (operators that generate their own say no).</summary>
    protected virtual bool ForwardsWatermarks => true;

    /// <summary>A side output of this operator, flushed and given watermarks together with the main output.</summary>
    protected internal Collector<T> SideOutput<T>(OutputTag<T> tag)
    {
        if (sideCollectors.TryGetValue(tag.Id, out var existing)) return (Collector<T>)existing;
        var target = Context.SideOutput(tag);
        var collector = new Collector<T>(target);
        flushers.Add(collector.Flush);
        sideWatermarks.Add(target.OnWatermark);
        sideEnds.Add(target.OnEndOfInput);
        flushers.Add(target.Flush);
        sideCollectors[tag.Id] = collector;
        return collector;
    }

    /// <summary>
    /// On restore: the watermark the operator had at the snapshot (the minimum over the old subtasks whose state it
    /// takes), so that what was late stays late. Nothing is fired or forwarded.
    /// </summary>
    protected void RestoreCurrentWatermark(long watermark)
    {
        if (watermark > CurrentWatermark) CurrentWatermark = watermark;
    }

    private protected void AdvanceWatermark(long watermark)
    {
        if (watermark <= CurrentWatermark) return;
        CurrentWatermark = watermark;
        ProcessWatermark(watermark);
        if (!ForwardsWatermarks && watermark != EventTime.MaxWatermark) return;
        FlushOwn();
        EmitWatermarkDownstream(watermark);
        foreach (var s in sideWatermarks) s(watermark);
    }

    /// <summary>Lets a watermark-generating operator emit its own watermark downstream.</summary>
    protected void EmitWatermark(long watermark)
    {
        FlushOwn();
        EmitWatermarkDownstream(watermark);
        foreach (var s in sideWatermarks) s(watermark);
    }

    private protected void EndInput()
    {
        Finish();
        FlushOwn();
        EndDownstream();
        foreach (var e in sideEnds) e();
    }

    private protected void FlushAll()
    {
        FlushOwn();
        FlushDownstream();
    }

    private void FlushOwn()
    {
        FlushMain();
        foreach (var f in flushers) f();
    }

    private protected abstract void FlushMain();

    private protected abstract void FlushDownstream();

    private protected abstract void EmitWatermarkDownstream(long watermark);

    private protected abstract void EndDownstream();
}

/// <summary>
/// An operator of a chain: it receives batches of <typeparamref name="TIn"/> and emits <typeparamref name="TOut"/>
/// to <see cref="Output"/>, either as whole batches or one record at a time through <see cref="Out"/>.
/// </summary>
public abstract class StreamOperator<TIn, TOut> : StreamOperator, IBatchInput<TIn>
{
    private IBatchInput<TOut>? output;
    private Collector<TOut>? collector;

    /// <summary>The next operator of the chain or the task's writer.</summary>
    protected IBatchInput<TOut> Output => output ?? throw new InvalidOperationException("the operator has no output yet");

    /// <summary>One-record-at-a-time emission into pooled batches.</summary>
    protected Collector<TOut> Out => collector ??= new Collector<TOut>(Output);

    internal void SetOutput(IBatchInput<TOut> target) => output = target;

    public abstract void OnBatch(Batch<TIn> batch);

    public void OnWatermark(long watermark) => AdvanceWatermark(watermark);

    public void Flush() => FlushAll();

    public void OnEndOfInput() => EndInput();

    private protected override void FlushMain() => collector?.Flush();

    private protected override void FlushDownstream() => output?.Flush();

    private protected override void EmitWatermarkDownstream(long watermark) => output?.OnWatermark(watermark);

    private protected override void EndDownstream() => output?.OnEndOfInput();
}
