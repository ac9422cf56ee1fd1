using Eddy.Runtime;

namespace Eddy.Windows;

/// <summary>How much a window operator holds: for tests that check state is cleaned up.</summary>
internal interface IWindowState
{
    /// <summary>Slices, sessions or open global windows.</summary>
    int HeldState { get; }
}

/// <summary>What every window operator shares: late-data handling, result emission with retractions.</summary>
internal abstract class WindowOperatorBase<T, TOut> : StreamOperator<T, TOut>, IWindowState
{
    private readonly OutputTag<T>? lateTag;
    private Collector<T>? lateOutput;
    private WindowOutput<TOut>? windowOutput;
    private readonly List<TOut> recording = [];

    private readonly IFunctionLifecycle? lifecycle;

    /// <param name="lifecycle">the aggregate function when it sets up per operator instance (opened with the operator, closed with it).</param>
    protected WindowOperatorBase(long allowedLateness, OutputTag<T>? lateTag, IFunctionLifecycle? lifecycle = null)
    {
        this.lifecycle = lifecycle;
        if (allowedLateness < 0) throw new ArgumentOutOfRangeException(nameof(allowedLateness));
        AllowedLateness = allowedLateness;
        this.lateTag = lateTag;
    }

    protected long AllowedLateness { get; }

    /// <summary>Whether windows fire on the watermark (shown to monitoring).</summary>
    protected virtual bool IsEventTime => true;

    public abstract int HeldState { get; }

    protected WindowOutput<TOut> WindowOut => windowOutput ??= new WindowOutput<TOut>(Out);

    public override void Open()
    {
        Context.Metrics.HasEventTimeWindows = IsEventTime;
        if (lateTag is not null) lateOutput = SideOutput(lateTag);
        if (Context.CheckpointingEnabled) ResolveSerializers();
        lifecycle?.Open(Context);
    }

    public override void Close() => lifecycle?.Close();

    public override bool HasState => true;

    private const byte StateVersion = 1;

    /// <summary>Resolves the serializers of the state types, naming the operator when one is not supported.</summary>
    protected void ResolveSerializers()
    {
        try
        {
            ResolveStateSerializers();
        }
        catch (StateSerializationException e)
        {
            throw new StateSerializationException($"operator '{Context.OperatorName}': {e.Message}");
        }
    }

    /// <summary>Looks up (and so checks) the serializers the operator's snapshot uses.</summary>
    protected abstract void ResolveStateSerializers();

    /// <summary>Writes the keyed state into its key groups (the writer is completed by the caller).</summary>
    protected abstract void SnapshotKeyed(KeyGroupSectionWriter sections);

    /// <summary>Non-keyed state after the watermark (the latest time every window up to which has fired).</summary>
    protected virtual void SnapshotOperator(BinaryWriter w) { }

    /// <summary>Reads the non-keyed state of every old subtask (before the key groups).</summary>
    protected virtual void RestoreOperator(IReadOnlyList<BinaryReader> oldSubtasks) { }

    protected abstract void RestoreSection(int keyGroup, byte tag, BinaryReader r);

    /// <summary>After every section was read: timers and caches.</summary>
    protected virtual void AfterRestore() { }

    public override void SnapshotState(long checkpointId, OperatorStateWriter writer)
    {
        ResolveSerializers();
        var sections = new KeyGroupSectionWriter(writer, Context.MaxParallelism);
        SnapshotKeyed(sections);
        sections.Complete();
        var w = writer.OperatorState;
        WriteHeader(w, CurrentWatermark);
        SnapshotOperator(w);
    }

    /// <summary>The operator state's start: format version and watermark (also for a deferred snapshot, with the barrier's watermark).</summary>
    protected static void WriteHeader(BinaryWriter w, long watermark)
    {
        OperatorStateFormat.WriteVersion(w, StateVersion);
        w.Write(watermark);
    }

    public override void RestoreState(OperatorStateReader reader)
    {
        ResolveSerializers();
        long watermark = long.MaxValue;
        foreach (var r in reader.OperatorStates)
        {
            OperatorStateFormat.CheckVersion(r, StateVersion, Context.OperatorName);
            watermark = Math.Min(watermark, r.ReadInt64());
        }
        // Old subtasks of a keyed operator saw the same watermarks before an aligned barrier; the minimum is safe otherwise.
        if (reader.OperatorStates.Count > 0) RestoreCurrentWatermark(watermark);
        RestoreOperator(reader.OperatorStates);
        KeyGroupSections.Read(reader, RestoreSection);
        AfterRestore();
    }

    protected InvalidDataException UnknownSection(byte tag) =>
        new($"operator '{Context.OperatorName}': unknown state section {tag}");

    /// <summary>When the state of a window whose last timestamp is <paramref name="maxTimestamp"/> goes.</summary>
    protected long CleanupTime(long maxTimestamp) =>
        maxTimestamp > long.MaxValue - AllowedLateness ? long.MaxValue : maxTimestamp + AllowedLateness;

    protected static void ThrowNoTimestamp() => throw new InvalidOperationException(
        "a record has no event-time timestamp: assign timestamps and watermarks before an event-time window");

    /// <summary>A record whose every window is past its allowed lateness: dropped or sent to the late-data output.</summary>
    protected void OnLateRecord(T value, long timestamp)
    {
        var metrics = Context.Metrics;
        metrics.LastLateRecordLag = CurrentWatermark - timestamp;
        if (lateOutput is not null)
        {
            metrics.LateRecordsToSideOutput++;
            lateOutput.Collect(value, timestamp);
        }
        else
        {
            metrics.LateRecordsDropped++;
        }
    }

    /// <summary>
    /// Prepares the output for one window's results: +I when nothing was emitted for it before, else -U of each earlier
    /// result now and +U for what follows. With allowed lateness the results are recorded for a later retraction.
    /// </summary>
    protected WindowOutput<TOut> BeginWindow(long maxTimestamp, EmittedResult<TOut>[]? previous)
    {
        var o = WindowOut;
        o.Timestamp = maxTimestamp;
        if (previous is null)
        {
            o.Kind = RowKind.Insert;
        }
        else
        {
            o.Retract(previous);
            o.Kind = RowKind.UpdateAfter;
        }
        if (AllowedLateness > 0)
        {
            recording.Clear();
            o.Recording = recording;
        }
        return o;
    }

    /// <summary>Ends a window begun with <see cref="BeginWindow"/>: what it emitted, when that must be remembered.</summary>
    protected EmittedResult<TOut>[]? EndWindow()
    {
        var o = WindowOut;
        if (o.Recording is null) return null;
        o.Recording = null;
        var results = new EmittedResult<TOut>[recording.Count];
        for (int i = 0; i < results.Length; i++) results[i] = new(recording[i], o.Timestamp);
        return results;
    }
}
