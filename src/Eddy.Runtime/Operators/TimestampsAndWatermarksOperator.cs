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

    private void EmitIfAdvanced()
    {
        long wm = generator.Current;
        if (wm <= lastEmitted) return;
        lastEmitted = wm;
        EmitWatermark(wm);
    }
}
