namespace Eddy.Runtime;

/// <summary>
/// A function over a keyed stream with keyed state and timers, as Flink's KeyedProcessFunction. Register state in
/// <see cref="Open"/>; it is scoped to <see cref="KeyedContext{TKey}.CurrentKey"/> in every call.
/// </summary>
public abstract class KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    public virtual void Open(KeyedContext<TKey> context) { }

    public abstract void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output);

    public virtual void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output) { }

    /// <summary>
    /// The input has ended (after the final watermark fired every event-time timer): emit what still waits for
    /// processing time, as Flink SQL's processing-time operators do with a bounded input. Visit the keys with
    /// <see cref="KeyedContext{TKey}.ForEachKey{T}"/>.
    /// </summary>
    public virtual void OnEndOfInput(KeyedContext<TKey> context, Collector<TOut> output) { }

    /// <summary>
    /// A checkpoint is taken: called before the keyed state is written (Flink's CheckpointedFunction.snapshotState), for
    /// a function that keeps some of its state outside its keyed state to write it there. Set each key with
    /// <see cref="KeyedContext{TKey}.ForKey"/>.
    /// </summary>
    public virtual void OnCheckpoint(KeyedContext<TKey> context) { }

    public virtual void Close() { }
}

public sealed class KeyedContext<TKey> : ProcessContext where TKey : notnull
{
    private readonly KeyedStateBackend<TKey> state;
    private readonly KeyedTimers<TKey> timers;

    internal KeyedContext(StreamOperator owner, KeyedStateBackend<TKey> state, KeyedTimers<TKey> timers) : base(owner)
    {
        this.state = state;
        this.timers = timers;
    }

    public TKey CurrentKey => state.CurrentKey;

    /// <summary>The change the current record makes (+I, -U, +U, -D) when the input is a changelog; +I otherwise.</summary>
    public RowKind RowKind { get; internal set; }

    /// <summary>The domain of the timer being fired, inside <c>OnTimer</c>.</summary>
    public TimeDomain TimeDomain { get; internal set; }

    public ValueState<TKey, T> GetValueState<T>(string name) => state.GetValueState<T>(name);

    public ListState<TKey, T> GetListState<T>(string name) => state.GetListState<T>(name);

    public MapState<TKey, TMapKey, TValue> GetMapState<TMapKey, TValue>(string name) where TMapKey : notnull =>
        state.GetMapState<TMapKey, TValue>(name);

    /// <summary>
    /// Calls <paramref name="action"/> once for every key holding a value in <paramref name="state"/>, with that key
    /// current (Flink's applyToAllKeys). The action may change or clear that state.
    /// </summary>
    public void ForEachKey<T>(ValueState<TKey, T> state, Action<TKey> action)
    {
        var saved = this.state.CurrentKey;
        foreach (var key in state.Keys.ToList())
        {
            this.state.CurrentKey = key;
            action(key);
        }
        this.state.CurrentKey = saved;
    }

    /// <summary>Runs <paramref name="action"/> with <paramref name="key"/> current (Flink's setCurrentKey), then restores the current key.</summary>
    public void ForKey(TKey key, Action action)
    {
        var saved = state.CurrentKey;
        state.CurrentKey = key;
        try
        {
            action();
        }
        finally
        {
            state.CurrentKey = saved;
        }
    }

    public void RegisterEventTimeTimer(long time) => timers.RegisterEventTime(CurrentKey, time);

    public void DeleteEventTimeTimer(long time) => timers.DeleteEventTime(CurrentKey, time);

    public void RegisterProcessingTimeTimer(long time) => timers.RegisterProcessingTime(CurrentKey, time);

    public void DeleteProcessingTimeTimer(long time) => timers.DeleteProcessingTime(CurrentKey, time);
}

public sealed class KeyedProcessOperator<TKey, TIn, TOut>(
    Func<TIn, TKey> keySelector,
    KeyedProcessFunction<TKey, TIn, TOut> function) : StreamOperator<TIn, TOut> where TKey : notnull
{
    private readonly KeyedStateBackend<TKey> state = new();
    private KeyedTimers<TKey>? timers;
    private KeyedContext<TKey>? context;

    public KeyedStateBackend<TKey> State => state;

    public override void Open()
    {
        timers = new KeyedTimers<TKey>(Context.ProcessingTimers, FireTimer);
        context = new KeyedContext<TKey>(this, state, timers);
        function.Open(context);
        if (Context.CheckpointingEnabled) ValidateState();
    }

    private const byte StateVersion = 1;
    private const byte StateSection = 1;
    private const byte EventTimerSection = 2;
    private const byte ProcessingTimerSection = 3;

    private void ValidateState()
    {
        try
        {
            StateSerializers.Validate("the key", typeof(TKey));
            state.ValidateSerializers();
        }
        catch (StateSerializationException e)
        {
            throw new StateSerializationException($"operator '{Context.OperatorName}': {e.Message}");
        }
    }

    public override bool HasState => true;

    public override void SnapshotState(long checkpointId, OperatorStateWriter writer)
    {
        function.OnCheckpoint(context!);
        var sections = new KeyGroupSectionWriter(writer, Context.MaxParallelism);
        state.Snapshot(sections, StateSection);
        timers!.Snapshot(sections, EventTimerSection, ProcessingTimerSection);
        sections.Complete();
        OperatorStateFormat.WriteVersion(writer.OperatorState, StateVersion);
        writer.OperatorState.Write(CurrentWatermark);
    }

    public override void RestoreState(OperatorStateReader reader)
    {
        long watermark = long.MaxValue;
        foreach (var r in reader.OperatorStates)
        {
            OperatorStateFormat.CheckVersion(r, StateVersion, Context.OperatorName);
            watermark = Math.Min(watermark, r.ReadInt64());
        }
        if (reader.OperatorStates.Count > 0) RestoreCurrentWatermark(watermark);
        KeyGroupSections.Read(reader, (_, tag, r) =>
        {
            switch (tag)
            {
                case StateSection: state.RestoreSection(r); break;
                case EventTimerSection: timers!.RestoreTimer(r, TimeDomain.EventTime); break;
                case ProcessingTimerSection: timers!.RestoreTimer(r, TimeDomain.ProcessingTime); break;
                default: throw new InvalidDataException($"operator '{Context.OperatorName}': unknown state section {tag}");
            }
        });
    }

    public override void OnBatch(Batch<TIn> batch)
    {
        var ctx = context!;
        var output = Out;
        for (int i = 0; i < batch.Count; i++)
        {
            var value = batch.Values[i];
            state.CurrentKey = keySelector(value);
            long ts = batch.Timestamps[i];
            ctx.Timestamp = ts;
            ctx.RowKind = batch.KindAt(i);
            output.CurrentTimestamp = ts;
            function.ProcessElement(value, ctx, output);
        }
        BatchPool<TIn>.Return(batch);
    }

    protected override void ProcessWatermark(long watermark) => timers!.AdvanceWatermark(watermark);

    private void FireTimer(TKey key, long time, TimeDomain domain)
    {
        var ctx = context!;
        state.CurrentKey = key;
        ctx.TimeDomain = domain;
        // Event-time timers give their output the timer's time; processing-time ones have no event time.
        long ts = domain == TimeDomain.EventTime ? time : EventTime.None;
        ctx.Timestamp = ts;
        Out.CurrentTimestamp = ts;
        function.OnTimer(time, ctx, Out);
    }

    protected override void Finish()
    {
        var ctx = context!;
        ctx.Timestamp = EventTime.None;
        Out.CurrentTimestamp = EventTime.None;
        function.OnEndOfInput(ctx, Out);
    }

    public override void Close() => function.Close();
}
