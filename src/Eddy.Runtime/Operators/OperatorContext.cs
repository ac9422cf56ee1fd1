namespace Eddy.Runtime;

/// <summary>What an operator instance knows of where it runs: its subtask, time services, side outputs, metrics.</summary>
public sealed class OperatorContext
{
    private readonly ISideOutputResolver? sideOutputs;

    public OperatorContext(
        string operatorName,
        int subtaskIndex,
        int parallelism,
        int maxParallelism,
        ProcessingTimers processingTimers,
        SubtaskMetrics metrics,
        ISideOutputResolver? sideOutputs = null)
    {
        OperatorName = operatorName;
        SubtaskIndex = subtaskIndex;
        Parallelism = parallelism;
        MaxParallelism = maxParallelism;
        ProcessingTimers = processingTimers;
        Metrics = metrics;
        this.sideOutputs = sideOutputs;
    }

    public string OperatorName { get; }

    public int SubtaskIndex { get; }

    public int Parallelism { get; }

    public int MaxParallelism { get; }

    public ProcessingTimers ProcessingTimers { get; }

    /// <summary>
    /// Whether the job takes checkpoints: stateful operators then check in <c>Open</c> that their state types can be
    /// serialized, so that an unsupported type fails the job at its start rather than at its first checkpoint.
    /// </summary>
    public bool CheckpointingEnabled { get; init; }

    public SubtaskMetrics Metrics { get; }

    /// <summary>Cancelled when the job is cancelled: for an operator that waits inside a call (a slow sink), so that it stops waiting.</summary>
    public CancellationToken Cancellation { get; internal set; }

    /// <summary>The consumer of side output <paramref name="tag"/>, or a discarding one when nothing consumes it.</summary>
    public IBatchInput<T> SideOutput<T>(OutputTag<T> tag) =>
        sideOutputs?.Resolve(tag) ?? DiscardingInput<T>.Instance;
}

/// <summary>Finds the consumers of an operator's side outputs (the task wires them; the test harness collects them).</summary>
public interface ISideOutputResolver
{
    IBatchInput<T>? Resolve<T>(OutputTag<T> tag);
}
