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
        if (gate is not null) metrics.QueueFill = () => gate.Fill;
    }

    public string Name { get; }

    public int Subtask { get; }

    public InputGate? Gate { get; }

    public SubtaskMetrics Metrics { get; }

    public ProcessingTimers Timers { get; }

    public string DisplayName => $"{Name} ({Subtask + 1})";

    public void Run(CancellationToken cancel)
    {
        // Open from the tail so that every operator's consumers are ready before it emits.
        for (int i = operators.Count - 1; i >= 0; i--) operators[i].Open();
        try
        {
            if (source is not null) source.Run(this, cancel);
            else RunInput(cancel);
        }
        finally
        {
            foreach (var op in operators) op.Close();
        }
    }

    private void RunInput(CancellationToken cancel)
    {
        var gate = Gate!;
        var valve = new WatermarkValve(gate.ChannelCount);
        int ended = 0;
        while (ended < gate.ChannelCount)
        {
            cancel.ThrowIfCancellationRequested();
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
                    // Checkpointing aligns barriers here; until it exists a barrier passes straight through.
                    foreach (var w in writers) w.Broadcast(element);
                    break;
                case ElementKind.EndOfInput:
                    ended++;
                    if (valve.OnEnd(channel, out long wm3)) AdvanceWatermark(wm3);
                    break;
            }
            FireTimers();
        }
        head.EndAll();
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
        if (idle) head.FlushAll();
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
