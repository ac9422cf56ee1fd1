namespace Eddy.Runtime;

/// <summary>Job-wide settings, with Flink's option names where Flink has one.</summary>
public sealed record JobConfig
{
    /// <summary><c>parallelism.default</c>.</summary>
    public int DefaultParallelism { get; init; } = 1;

    /// <summary><c>pipeline.max-parallelism</c>: the number of key groups.</summary>
    public int MaxParallelism { get; init; } = KeyGroups.DefaultMaxParallelism;

    /// <summary><c>pipeline.auto-watermark-interval</c>.</summary>
    public TimeSpan AutoWatermarkInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary><c>table.exec.source.idle-timeout</c> for sources whose strategy sets none (null: never idle).</summary>
    public TimeSpan? SourceIdleTimeout { get; init; }

    /// <summary>Elements (batches or control events) each input channel holds before its producer waits.</summary>
    public int ChannelCapacity { get; init; } = InputGate.DefaultChannelCapacity;

    /// <summary>Whether forward-connected operators of equal parallelism run in one task (<c>pipeline.operator-chaining</c>).</summary>
    public bool Chaining { get; init; } = true;

    /// <summary>Processing time for every timer and every periodic action of the job.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>
    /// Emit watermarks after every source batch instead of periodically. Default: when every source is bounded,
    /// so that a bounded job's results do not depend on thread timing.
    /// </summary>
    public bool? WatermarkPerBatch { get; init; }

    /// <summary><c>pipeline.name</c>: the job's stable name, under which its checkpoints are found after a restart.</summary>
    public string? JobName { get; init; }

    /// <summary><c>execution.checkpointing.interval</c> (null: no checkpoints).</summary>
    public TimeSpan? CheckpointInterval { get; init; }

    /// <summary><c>execution.checkpointing.dir</c> (null: under the job's data folder).</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>
    /// <c>s3.endpoint</c>, <c>s3.access-key</c>, <c>s3.secret-key</c>, <c>s3.path.style.access</c>,
    /// <c>s3.endpoint.region</c>: how to reach the store of an <c>s3://</c> checkpoint directory or savepoint path.
    /// </summary>
    public S3Settings? S3 { get; init; }

    /// <summary><c>state.checkpoints.num-retained</c>.</summary>
    public int CheckpointsRetained { get; init; } = 3;

    /// <summary><c>execution.checkpointing.timeout</c>: a checkpoint not complete by then fails (Flink's default: 10 min).</summary>
    public TimeSpan CheckpointTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// <c>restart-strategy.type</c> and its options. Null: <see cref="RestartStrategy.DefaultWithCheckpointing"/> when
    /// checkpointing is on, <see cref="RestartStrategy.None"/> otherwise.
    /// </summary>
    public RestartStrategy? RestartStrategy { get; init; }

    /// <summary>
    /// Resume from the job's latest completed checkpoint in <see cref="CheckpointDirectory"/> when there is one (what
    /// <c>eddy run</c> does unless <c>--fresh</c>). Off by default in the C# API, so that tests start fresh.
    /// </summary>
    public bool ResumeFromLatestCheckpoint { get; init; }

    /// <summary><c>execution.savepoint.path</c> (<c>--from-savepoint</c>): a checkpoint or savepoint folder to restore from.</summary>
    public string? RestorePath { get; init; }

    /// <summary>
    /// <c>execution.savepoint.ignore-unclaimed-state</c> (<c>--allow-non-restored-state</c>): state in the checkpoint
    /// that matches no operator of the job is dropped instead of failing the restore.
    /// </summary>
    public bool AllowNonRestoredState { get; init; }

    /// <summary>
    /// A test hook that holds source readers at chosen record counts (<see cref="Eddy.Runtime.SourceHold"/>). Null (the
    /// default): sources read freely and the driver does not look at it.
    /// </summary>
    public SourceHold? SourceHold { get; init; }

    /// <summary>
    /// A test hook: called on the pool thread of each task's asynchronous snapshot phase, with the checkpoint id, before
    /// it writes anything (a test holds the phase there while the task goes on; an exception fails the checkpoint).
    /// </summary>
    internal Action<long>? BeforeAsyncSnapshot { get; init; }

    /// <summary>Where the job reports warnings as they happen (a checkpoint failed, a restart, a damaged checkpoint skipped).</summary>
    public Action<string>? Diagnostics { get; init; }

    /// <summary>
    /// Set by <c>eddy worker</c>: this pipeline instance runs one partition of a distributed job's stage (its sources
    /// read only that partition; its sinks key exactly-once bookkeeping by it). Null: an ordinary job.
    /// </summary>
    public Distributed.PartitionTaskScope? PartitionTask { get; init; }

    /// <summary>Whether the job takes checkpoints.</summary>
    public bool CheckpointingEnabled => CheckpointInterval is { } i && i > TimeSpan.Zero;
}
