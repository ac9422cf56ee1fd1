using System.Diagnostics;

namespace Eddy.Runtime;

/// <summary>
/// A function whose result arrives later (a call to a remote service), as Flink's AsyncFunction. The operator calls
/// <see cref="InvokeAsync"/> on the task thread and never waits for one call before starting the next, up to its
/// capacity.
/// </summary>
public interface IAsyncFunction<TIn, TOut>
{
    /// <summary>Starts the computation for <paramref name="input"/>; <paramref name="cancellation"/> fires at the element's timeout.</summary>
    Task<TOut> InvokeAsync(TIn input, CancellationToken cancellation);

    /// <summary>The result of an element whose call did not finish within the timeout (Flink's <c>timeout()</c>).</summary>
    TOut Timeout(TIn input);
}

/// <summary>
/// An <see cref="IAsyncFunction{TIn, TOut}"/> that can answer without a task when the result is there at once: the
/// operator calls <see cref="InvokeValueAsync"/> instead, so that a call completing synchronously allocates nothing
/// for its result.
/// </summary>
public interface IValueAsyncFunction<TIn, TOut> : IAsyncFunction<TIn, TOut>
{
    ValueTask<TOut> InvokeValueAsync(TIn input, CancellationToken cancellation);
}

/// <summary>
/// An <see cref="IAsyncFunction{TIn, TOut}"/> that sets up per operator instance (Flink's RichAsyncFunction): opened on
/// the task's thread before the first call (and before in-flight elements of a checkpoint start again), closed when
/// the operator closes: at the end of the input, and when the job fails or is cancelled.
/// </summary>
public interface IAsyncFunctionLifecycle
{
    void Open(OperatorContext context);

    void Close();
}

/// <summary>Whether results leave in input order or as they complete (watermarks are never overtaken either way).</summary>
public enum AsyncOutputMode
{
    Ordered,
    Unordered,
}

/// <summary>How an <see cref="AsyncWaitOperator{TIn, TOut}"/> runs: Flink's <c>capacity</c>, <c>timeout</c> and output mode.</summary>
public sealed record AsyncOptions
{
    /// <summary>Elements in flight at most; a full operator makes its task wait (backpressure).</summary>
    public int Capacity { get; init; } = 100;

    /// <summary>Per element, from the start of its call.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    public AsyncOutputMode Mode { get; init; } = AsyncOutputMode.Ordered;

    /// <summary>How often a task with nothing to read comes back to emit finished results.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(2);
}

/// <summary>
/// Flink's async I/O operator: each input starts an asynchronous call; results are emitted on the task thread, in
/// input order (<see cref="AsyncOutputMode.Ordered"/>) or as they finish (<see cref="AsyncOutputMode.Unordered"/>,
/// still never across a watermark). At most <see cref="AsyncOptions.Capacity"/> elements are in flight; a full
/// operator blocks its task until one finishes, which is backpressure upstream. An element whose call takes longer
/// than the timeout gets <see cref="IAsyncFunction{TIn, TOut}.Timeout"/>'s result; a call that fails fails the job.
/// In a checkpoint the operator writes the inputs of every element not yet emitted (and the watermarks between them);
/// a restored operator starts their calls again before any new input, so nothing is lost.
/// <para>
/// A full operator waits on the task thread (<see cref="WaitForProgress"/>) rather than yielding to the task's mailbox
/// as Flink's operator does, because here a yield would not let a checkpoint through: a barrier is not a mailbox
/// action but an element of the input, behind the batch being admitted (aligned checkpoints), or, in a source task,
/// polled by the source driver between two reads. Taking it mid-batch would need the rest of the batch in this
/// operator's state, the gate handing out a barrier ahead of the records of its channel, and a snapshot of chained
/// operators upstream that are in the middle of emitting: unaligned-checkpoint machinery Eddy does not have. The
/// mailbox itself only carries checkpoint-complete and abort notices, which wait until the batch is admitted. So a
/// barrier behind a full operator waits until the current batch's elements are admitted (each admission needs one
/// element to finish or time out); a capacity above the elements usually in flight keeps barriers from waiting.
/// </para>
/// </summary>
public sealed class AsyncWaitOperator<TIn, TOut> : StreamOperator<TIn, TOut>
{
    private readonly Func<IAsyncFunction<TIn, TOut>> functionFactory;
    private readonly AsyncOptions options;
    private Action<BinaryWriter, TIn>? writeInput;
    private Func<BinaryReader, TIn>? readInput;
    private readonly LinkedList<Entry> queue = new();
    // Emitted entries (with their list nodes and timeout sources) for the next elements: the per-element bookkeeping
    // allocates nothing once the operator has reached its usual number of elements in flight.
    private readonly Stack<LinkedListNode<Entry>> free = new();
    private readonly ManualResetEventSlim progress = new(false);
    private long timeoutTicks;
    // Stopwatch ticks before a timeout's due time within which a timeout source is not reused (its timer may be firing).
    private long reuseMarginTicks;
    private IAsyncFunction<TIn, TOut>? function;
    private int inFlight;
    private int completedNotEmitted;
    private bool pollScheduled;
    private bool emitting;

    private sealed class Entry(AsyncWaitOperator<TIn, TOut> owner)
    {
        public readonly AsyncWaitOperator<TIn, TOut> Owner = owner;
        public TIn Input = default!;
        public long Timestamp;
        public RowKind Kind;
        public bool IsWatermark;
        public TOut Result = default!;
        public Exception? Error;
        public int Done; // 0 running, 1 being finished (claimed once), 2 finished: result or error written
        public CancellationTokenSource? Timeout;
        // Stopwatch timestamp at which the call is out of time; the operator times it out on the task thread.
        public long Deadline;
        // Whether the call's task ended (its continuation ran, or it was complete at once): nothing of this element
        // runs any more, so the entry may be reused.
        public bool CallEnded;
    }

    /// <param name="writeInput">
    /// writes one input into a checkpoint; without it (and <paramref name="readInput"/>) a job that takes checkpoints
    /// uses <see cref="StateSerializers.For{T}"/> for the input type, and fails at start, naming the operator, when
    /// the type has none (in-flight elements are never left out of a checkpoint silently).
    /// </param>
    public AsyncWaitOperator(Func<IAsyncFunction<TIn, TOut>> function, AsyncOptions? options = null,
        Action<BinaryWriter, TIn>? writeInput = null, Func<BinaryReader, TIn>? readInput = null)
    {
        functionFactory = function;
        this.options = options ?? new AsyncOptions();
        if (this.options.Capacity < 1) throw new ArgumentException($"async capacity must be at least 1, got {this.options.Capacity}");
        if (this.options.Timeout <= TimeSpan.Zero) throw new ArgumentException($"async timeout must be positive, got {this.options.Timeout}");
        if ((writeInput is null) != (readInput is null)) throw new ArgumentException("give both the input writer and reader, or neither");
        this.writeInput = writeInput;
        this.readInput = readInput;
    }

    /// <summary>Elements started and not yet emitted.</summary>
    public int InFlight => inFlight;

    /// <summary>How many times a full queue made the task wait.</summary>
    public long BackpressureWaits { get; private set; }

    public long TimedOut;

    public override void Open()
    {
        if (writeInput is null && Context.CheckpointingEnabled)
        {
            StateSerializer<TIn> serializer;
            try
            {
                serializer = StateSerializers.For<TIn>();
            }
            catch (StateSerializationException e)
            {
                throw new StateSerializationException(
                    $"operator '{Context.OperatorName}': its in-flight elements cannot go into a checkpoint: {e.Message}");
            }
            writeInput = serializer.Write;
            readInput = serializer.Read;
        }
        function = functionFactory();
        valueFunction = function as IValueAsyncFunction<TIn, TOut>;
        timeoutTicks = (long)(options.Timeout.TotalSeconds * Stopwatch.Frequency);
        reuseMarginTicks = Stopwatch.Frequency / 10;
        if (function is IAsyncFunctionLifecycle lifecycle) lifecycle.Open(Context);
    }

    private IValueAsyncFunction<TIn, TOut>? valueFunction;

    public override bool HasState => writeInput is not null;

    public override void OnBatch(Batch<TIn> batch)
    {
        var values = batch.Values;
        var timestamps = batch.Timestamps;
        int n = batch.Count;
        for (int i = 0; i < n; i++) Start(values[i], timestamps[i], batch.KindAt(i));
        BatchPool<TIn>.Return(batch);
        EmitFinished();
    }

    private void Start(TIn input, long timestamp, RowKind kind)
    {
        while (inFlight >= options.Capacity) WaitForProgress();
        LinkedListNode<Entry> node;
        if (free.TryPop(out var reused))
        {
            node = reused;
        }
        else
        {
            node = new LinkedListNode<Entry>(new Entry(this));
        }
        var entry = node.Value;
        entry.Input = input;
        entry.Timestamp = timestamp;
        entry.Kind = kind;
        queue.AddLast(node);
        inFlight++;
        Launch(entry);
        SchedulePoll();
    }

    private void Launch(Entry entry)
    {
        var f = function ?? throw new InvalidOperationException("the operator is not open");
        // The source cancels the call at its timeout (the function's token); the operator itself times the element out
        // on the task thread when it sees the deadline pass (TimeOutOverdue), or when the cancelled call ends.
        var cts = entry.Timeout ??= new CancellationTokenSource();
        cts.CancelAfter(options.Timeout);
        entry.Deadline = Stopwatch.GetTimestamp() + timeoutTicks;
        if (valueFunction is { } v)
        {
            ValueTask<TOut> pending;
            try
            {
                pending = v.InvokeValueAsync(entry.Input, cts.Token);
            }
            catch (Exception e)
            {
                pending = ValueTask.FromException<TOut>(e);
            }
            if (pending.IsCompletedSuccessfully)
            {
                entry.CallEnded = true;
                Finish(entry, pending.Result, null);
                return;
            }
            Await(entry, pending.AsTask());
            return;
        }
        Task<TOut> call;
        try
        {
            call = f.InvokeAsync(entry.Input, cts.Token);
        }
        catch (Exception e)
        {
            call = Task.FromException<TOut>(e);
        }
        Await(entry, call);
    }

    private static void Await(Entry entry, Task<TOut> call)
    {
        if (call.IsCompleted)
        {
            entry.CallEnded = true;
            entry.Owner.Complete(entry, call);
            return;
        }
        call.ContinueWith(static (t, state) =>
        {
            var e = (Entry)state!;
            e.Owner.Complete(e, t);
            Volatile.Write(ref e.CallEnded, true);
        }, entry, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    /// <summary>Times out, on the task thread, the elements whose deadline has passed (they started in queue order, so their deadlines ascend).</summary>
    private void TimeOutOverdue()
    {
        if (queue.First is null) return;
        long now = Stopwatch.GetTimestamp();
        for (var node = queue.First; node is not null; node = node.Next)
        {
            var e = node.Value;
            if (e.IsWatermark || Volatile.Read(ref e.Done) != 0) continue;
            if (e.Deadline > now) break;
            TimeOut(e);
        }
    }

    /// <summary>How long the task may wait for progress before the first running element is overdue.</summary>
    private int MillisecondsToFirstDeadline()
    {
        long now = Stopwatch.GetTimestamp();
        foreach (var e in queue)
        {
            if (e.IsWatermark || Volatile.Read(ref e.Done) != 0) continue;
            return (int)Math.Clamp((e.Deadline - now) * 1000 / Stopwatch.Frequency + 1, 1, int.MaxValue);
        }
        return Timeout.Infinite;
    }

    /// <summary>An emitted element's entry back into the pool, when nothing of its call can touch it any more.</summary>
    private void Recycle(LinkedListNode<Entry> node)
    {
        var e = node.Value;
        // A call still running (it was timed out) keeps its entry; so does a timeout source that was cancelled, or whose
        // timer may be firing right now (reset too close to its due time).
        if (!Volatile.Read(ref e.CallEnded) || e.Timeout is not { } cts) return;
        if (Stopwatch.GetTimestamp() + reuseMarginTicks >= e.Deadline || !cts.TryReset())
        {
            cts.Dispose();
            e.Timeout = null;
        }
        e.Input = default!;
        e.Result = default!;
        e.Error = null;
        e.Done = 0;
        e.CallEnded = false;
        free.Push(node);
    }

    private void TimeOut(Entry e)
    {
        if (Volatile.Read(ref e.Done) != 0) return;
        TOut result;
        Exception? error = null;
        try
        {
            result = function!.Timeout(e.Input);
        }
        catch (Exception ex)
        {
            result = default!;
            error = ex;
        }
        if (Interlocked.CompareExchange(ref e.Done, 1, 0) != 0) return;
        e.Result = result;
        e.Error = error;
        // Ready only once the result is written: the task thread emits on 2, never a result still being set.
        Volatile.Write(ref e.Done, 2);
        Interlocked.Increment(ref TimedOut);
        Finished();
    }

    /// <summary>A call that ended at once with its result (no task to look at).</summary>
    private void Finish(Entry e, TOut result, Exception? error)
    {
        if (Interlocked.CompareExchange(ref e.Done, 1, 0) != 0) return;
        e.Result = result;
        e.Error = error;
        // Ready only once the result is written: the task thread emits on 2, never a result still being set.
        Volatile.Write(ref e.Done, 2);
        Finished();
    }

    private void Complete(Entry e, Task<TOut> call)
    {
        if (Volatile.Read(ref e.Done) != 0) return;
        TOut result = default!;
        Exception? error = null;
        if (call.IsCompletedSuccessfully) result = call.Result;
        // Cancelled by its timeout source (however the function ended on it): the element is out of time.
        else if (call.IsCanceled || e.Timeout?.IsCancellationRequested == true) { TimeOut(e); return; }
        else error = call.Exception!.InnerExceptions is [var single] ? single : call.Exception;
        if (Interlocked.CompareExchange(ref e.Done, 1, 0) != 0) return;
        e.Result = result;
        e.Error = error;
        // Ready only once the result is written: the task thread emits on 2, never a result still being set.
        Volatile.Write(ref e.Done, 2);
        Finished();
    }

    private void Finished()
    {
        Interlocked.Increment(ref completedNotEmitted);
        progress.Set();
    }

    /// <summary>Blocks the task until some element finishes, then emits what can go.</summary>
    private void WaitForProgress()
    {
        BackpressureWaits++;
        long start = Stopwatch.GetTimestamp();
        while (true)
        {
            progress.Reset();
            if (EmitFinished() > 0) break;
            if (inFlight == 0) break;
            progress.Wait(MillisecondsToFirstDeadline());
        }
        Context.Metrics.BackPressuredTicks += Stopwatch.GetTimestamp() - start;
    }

    /// <summary>Emits every element that may leave now; returns how many records and watermarks left.</summary>
    private int EmitFinished()
    {
        // Emitting a watermark flushes this operator, which comes back here: the outer call carries on.
        if (emitting) return 0;
        TimeOutOverdue();
        if (Volatile.Read(ref completedNotEmitted) == 0 && (queue.First is null || !queue.First.Value.IsWatermark)) return 0;
        emitting = true;
        try
        {
            return EmitFinishedNow();
        }
        finally
        {
            emitting = false;
        }
    }

    private int EmitFinishedNow()
    {
        int emitted = 0;
        if (options.Mode == AsyncOutputMode.Ordered)
        {
            while (queue.First is { } head && (head.Value.IsWatermark || Volatile.Read(ref head.Value.Done) == 2))
            {
                queue.RemoveFirst();
                Emit(head);
                emitted++;
            }
        }
        else
        {
            // Unordered: any finished element before the first watermark; a watermark leaves once nothing precedes it.
            var node = queue.First;
            while (node is not null)
            {
                var next = node.Next;
                if (node.Value.IsWatermark)
                {
                    if (node != queue.First) break;
                    queue.RemoveFirst();
                    Emit(node);
                    emitted++;
                }
                else if (Volatile.Read(ref node.Value.Done) == 2)
                {
                    queue.Remove(node);
                    Emit(node);
                    emitted++;
                }
                node = next;
            }
        }
        return emitted;
    }

    private void Emit(LinkedListNode<Entry> node)
    {
        var e = node.Value;
        if (e.IsWatermark)
        {
            EmitWatermark(e.Timestamp);
            return;
        }
        Interlocked.Decrement(ref completedNotEmitted);
        inFlight--;
        if (e.Error is not null)
            throw new InvalidOperationException($"async call of operator '{Context.OperatorName}' failed: {e.Error.Message}", e.Error);
        var result = e.Result;
        long timestamp = e.Timestamp;
        var kind = e.Kind;
        Recycle(node);
        Out.Collect(result, timestamp, kind);
    }

    protected override bool ForwardsWatermarks => false;

    protected override void ProcessWatermark(long watermark)
    {
        if (watermark == EventTime.MaxWatermark)
        {
            // The end: every call must finish first; the base class then forwards the final watermark.
            DrainAll();
            return;
        }
        if (queue.Count == 0)
        {
            EmitWatermark(watermark);
            return;
        }
        queue.AddLast(new Entry(this) { IsWatermark = true, Timestamp = watermark });
        EmitFinished();
    }

    private void DrainAll()
    {
        while (queue.Count > 0)
        {
            progress.Reset();
            if (EmitFinished() == 0 && queue.Count > 0) progress.Wait(MillisecondsToFirstDeadline());
        }
    }

    protected override void Finish() => DrainAll();

    private protected override void FlushMain()
    {
        EmitFinished();
        base.FlushMain();
    }

    // The task sleeps until input or a timer: while calls run, a timer brings it back to emit their results.
    private void SchedulePoll()
    {
        if (pollScheduled) return;
        pollScheduled = true;
        var timers = Context.ProcessingTimers;
        timers.Register(timers.Now + Math.Max(1, (long)options.PollInterval.TotalMilliseconds), _ =>
        {
            pollScheduled = false;
            EmitFinished();
            if (queue.Count > 0) SchedulePoll();
        });
    }

    public override void SnapshotState(long checkpointId, OperatorStateWriter state)
    {
        if (writeInput is null) return;
        var w = state.OperatorState;
        w.Write(queue.Count);
        foreach (var e in queue)
        {
            w.Write(e.IsWatermark);
            w.Write(e.Timestamp);
            if (e.IsWatermark) continue;
            w.Write((byte)e.Kind);
            writeInput(w, e.Input);
        }
    }

    public override void RestoreState(OperatorStateReader state)
    {
        if (readInput is null) return;
        // Every old subtask's in-flight elements are started again here; in subtask order, each in its own order.
        // Watermarks of other old subtasks are dropped: the task's own input brings the current watermark.
        bool own = true;
        foreach (var r in state.OperatorStates)
        {
            int count = r.ReadInt32();
            for (int i = 0; i < count; i++)
            {
                bool isWatermark = r.ReadBoolean();
                long timestamp = r.ReadInt64();
                if (isWatermark)
                {
                    if (own && state.OperatorStates.Count == 1) queue.AddLast(new Entry(this) { IsWatermark = true, Timestamp = timestamp });
                    continue;
                }
                var kind = (RowKind)r.ReadByte();
                Start(readInput(r), timestamp, kind);
            }
            own = false;
        }
    }

    public override void Close()
    {
        // Calls still running (the job failed or was cancelled) are told to stop and finish into entries nobody reads.
        foreach (var e in queue)
        {
            if (e.IsWatermark) continue;
            if (Interlocked.Exchange(ref e.Done, 1) == 0)
            {
                try
                {
                    e.Timeout?.Cancel();
                }
                catch (AggregateException)
                {
                    // A callback on the token threw: the function is being closed anyway.
                }
            }
            e.Timeout?.Dispose();
        }
        while (free.TryPop(out var node)) node.Value.Timeout?.Dispose();
        if (function is IAsyncFunctionLifecycle lifecycle) lifecycle.Close();
    }
}
