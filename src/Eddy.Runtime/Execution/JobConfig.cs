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

    /// <summary><c>state.checkpoints.num-retained</c>.</summary>
    public int CheckpointsRetained { get; init; } = 3;
}
