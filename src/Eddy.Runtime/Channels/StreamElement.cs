namespace Eddy.Runtime;

/// <summary>The closed set of things that travel on an edge between tasks, in order.</summary>
public enum ElementKind : byte
{
    Batch,
    Watermark,
    /// <summary>A checkpoint barrier: <see cref="StreamElement.Value"/> is the checkpoint id.</summary>
    Barrier,
    /// <summary>The upstream subtask has no data for a while: leave it out of the watermark minimum.</summary>
    Idle,
    /// <summary>The upstream subtask has data again.</summary>
    Active,
    EndOfInput,
}

/// <summary>One element on a channel: a batch (payload), or a control event with its value.</summary>
public readonly record struct StreamElement(ElementKind Kind, long Value, object? Payload)
{
    public static StreamElement ForBatch(object batch) => new(ElementKind.Batch, 0, batch);

    public static StreamElement ForWatermark(long watermark) => new(ElementKind.Watermark, watermark, null);

    public static StreamElement ForBarrier(CheckpointBarrier barrier) => new(ElementKind.Barrier, barrier.CheckpointId, barrier);

    public static readonly StreamElement Idle = new(ElementKind.Idle, 0, null);
    public static readonly StreamElement Active = new(ElementKind.Active, 0, null);
    public static readonly StreamElement End = new(ElementKind.EndOfInput, 0, null);
}

/// <summary>Marks the cut of a checkpoint in the stream: state before it belongs to checkpoint <see cref="CheckpointId"/>.</summary>
public sealed record CheckpointBarrier(long CheckpointId, long TriggerTimestamp);
