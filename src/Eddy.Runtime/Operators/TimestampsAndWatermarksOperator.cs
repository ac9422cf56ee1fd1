namespace Eddy.Runtime;

/// <summary>
/// Assigns event timestamps in the middle of a stream and generates watermarks from them, replacing upstream
/// watermarks (except the final one), as Flink's <c>assignTimestampsAndWatermarks</c>. Watermarks go out
/// periodically, and after every batch when the job's inputs are bounded (deterministic tests).
/// </summary>
public sealed class TimestampsAndWatermarksOperator<T>(WatermarkStrategy<T> strategy, TimeSpan interval, bool emitPerBatch)
    : StreamOperator<T, T>
{
    private readonly WatermarkGenerator generator = strategy.CreateGenerator();
    private long lastEmitted = EventTime.MinWatermark;

    protected override bool ForwardsWatermarks => false;

    public override void Open()
    {
        if (!emitPerBatch) SchedulePeriodic(Context.ProcessingTimers.Now);
    }

    private void SchedulePeriodic(long now)
    {
        long period = Math.Max(1, EventTime.Millis(interval));
        Context.ProcessingTimers.Register(now + period, t =>
        {
            EmitIfAdvanced();
            SchedulePeriodic(t);
        });
    }

    public override void OnBatch(Batch<T> batch)
    {
        var assign = strategy.TimestampAssigner;
        var ts = batch.Timestamps;
        if (assign is not null)
        {
            var values = batch.Values;
            for (int i = 0; i < batch.Count; i++) ts[i] = assign(values[i]);
        }
        for (int i = 0; i < batch.Count; i++) generator.OnTimestamp(ts[i]);
        Output.OnBatch(batch);
        if (emitPerBatch) EmitIfAdvanced();
    }

    private const byte StateVersion = 1;

    public override bool HasState => true;

    /// <summary>Operator state: the largest timestamp seen and the last watermark emitted, so that none goes backwards.</summary>
    public override void SnapshotState(long checkpointId, OperatorStateWriter state)
    {
        var w = state.OperatorState;
        OperatorStateFormat.WriteVersion(w, StateVersion);
        w.Write(generator.MaxTimestamp);
        w.Write(lastEmitted);
    }

    /// <summary>
    /// At the same parallelism each subtask takes its own old state; at another, the minimum over all (records are
    /// not keyed here, so no subtask knows which of the old ones its input comes from).
    /// </summary>
    public override void RestoreState(OperatorStateReader state)
    {
        var olds = state.OperatorStates;
        if (olds.Count == 0) return;
        var values = olds.Select(r =>
        {
            OperatorStateFormat.CheckVersion(r, StateVersion, Context.OperatorName);
            return (Max: r.ReadInt64(), Emitted: r.ReadInt64());
        }).ToList();
        var mine = values.Count == Context.Parallelism
            ? values[Context.SubtaskIndex]
            : (Max: values.Min(v => v.Max), Emitted: values.Min(v => v.Emitted));
        generator.Restore(mine.Max);
        lastEmitted = mine.Emitted;
    }

    private void EmitIfAdvanced()
    {
        long wm = generator.Current;
        if (wm <= lastEmitted) return;
        lastEmitted = wm;
        EmitWatermark(wm);
    }
}
