namespace Eddy.Runtime;

public enum CheckpointStatus
{
    InProgress,
    Completed,
    Failed,
}

/// <summary>One checkpoint's figures, kept in <see cref="JobExecution.Checkpoints"/> (for the REST API and the CLI).</summary>
public sealed class CheckpointStats
{
    internal CheckpointStats(long id, DateTimeOffset triggerTime)
    {
        Id = id;
        TriggerTime = triggerTime;
    }

    public long Id { get; }

    public DateTimeOffset TriggerTime { get; }

    public CheckpointStatus Status { get; internal set; } = CheckpointStatus.InProgress;

    /// <summary>From the trigger to the checkpoint being stored (or failing).</summary>
    public TimeSpan Duration { get; internal set; }

    /// <summary>The longest barrier alignment of any task (time from its first barrier to its last).</summary>
    public TimeSpan AlignmentTime { get; internal set; }

    /// <summary>
    /// The longest synchronous snapshot phase of any task: how long its thread stood still for the snapshot at the
    /// barrier (Flink's "sync duration").
    /// </summary>
    public TimeSpan SyncDuration { get; internal set; }

    /// <summary>
    /// The longest asynchronous snapshot phase of any task: state written on a pool thread after the barrier went on,
    /// while the task processed records (Flink's "async duration"; zero when no operator has one).
    /// </summary>
    public TimeSpan AsyncDuration { get; internal set; }

    /// <summary>Bytes of state (all operators, before framing).</summary>
    public long StateSize { get; internal set; }

    /// <summary>State bytes per operator, by state id.</summary>
    public IReadOnlyDictionary<string, long> StateSizeByOperator { get; internal set; } = new Dictionary<string, long>();

    /// <summary>Where the checkpoint was stored.</summary>
    public string? Path { get; internal set; }

    public string? FailureReason { get; internal set; }

    /// <summary>Where a savepoint goes (null for a checkpoint).</summary>
    public string? SavepointFolder { get; internal init; }

    public bool IsSavepoint => SavepointFolder is not null;

    public override string ToString() => Status switch
    {
        CheckpointStatus.Completed => $"checkpoint {Id}: completed in {Duration.TotalMilliseconds:F0} ms, {StateSize} bytes, alignment {AlignmentTime.TotalMilliseconds:F1} ms",
        CheckpointStatus.Failed => $"checkpoint {Id}: failed after {Duration.TotalMilliseconds:F0} ms: {FailureReason}",
        _ => $"checkpoint {Id}: in progress",
    };
}

/// <summary>A task failure as the job records it (the REST API's exception history).</summary>
public sealed record JobExceptionEntry(DateTimeOffset Timestamp, string Task, string Message, string StackTrace, int Attempt);

/// <summary>One operator subtask's state as a task acknowledges it.</summary>
internal readonly record struct TaskStateEntry(string StateId, int Parallelism, SubtaskSnapshot Snapshot);
