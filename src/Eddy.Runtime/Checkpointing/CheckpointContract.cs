namespace Eddy.Runtime;

// The contract between the checkpointing runtime and what it checkpoints: sources, sinks and stateful operators.
// Everything here is called on the owning task's thread, never concurrently with Read/Write/OnBatch.
// State is written with BinaryWriter/BinaryReader (little endian, length-prefixed strings): connectors need nothing
// more, and the storage adds framing, versions and checksums around these bytes.

/// <summary>
/// What a restored source reader or sink writer gets back: the checkpoint's id and the state every subtask of the same
/// operator wrote in it (the union, in subtask order, whatever the old parallelism was). A reader picks what it now
/// owns (a Kafka reader: the offsets of the partitions assigned to it); a sink writer finishes the commits recorded
/// in its own old subtask's state and in those of subtasks that no longer exist.
/// </summary>
public sealed record RestoredState(long CheckpointId, IReadOnlyList<byte[]> SubtaskStates, int OldParallelism);

/// <summary>
/// Where an operator writes its state at a barrier. Keyed state goes per key group so that a snapshot taken at
/// parallelism p restores at parallelism q; operator state (not keyed) is given back to every new subtask as a list.
/// </summary>
public abstract class OperatorStateWriter
{
    /// <summary>The stream for the state of key group <paramref name="keyGroup"/> (written at most once per snapshot).</summary>
    public abstract BinaryWriter KeyGroup(int keyGroup);

    /// <summary>The stream for state that is not keyed (this subtask's).</summary>
    public abstract BinaryWriter OperatorState { get; }
}

/// <summary>What a restored operator reads: its key groups' state and every old subtask's operator state.</summary>
public abstract class OperatorStateReader
{
    /// <summary>The checkpoint being restored.</summary>
    public abstract long CheckpointId { get; }

    /// <summary>The key groups of the new subtask's range that have state, each with its reader.</summary>
    public abstract IEnumerable<(int KeyGroup, BinaryReader Reader)> KeyGroups { get; }

    /// <summary>The operator state of every old subtask (union), in old subtask order.</summary>
    public abstract IReadOnlyList<BinaryReader> OperatorStates { get; }
}

/// <summary>
/// The second, asynchronous phase of an operator's snapshot (<see cref="StreamOperator.SnapshotStateDeferred"/>): a
/// consistent view of the state as of the barrier, taken cheaply on the task thread (copies of primitive arrays, or
/// tables marked copy-on-write), that is serialized later on a pool thread while the task goes on processing records.
/// </summary>
public abstract class DeferredSnapshot
{
    /// <summary>
    /// Writes the state as of the barrier, as <see cref="StreamOperator.SnapshotState"/> would have written it then.
    /// Runs on a pool thread, concurrently with the operator's task: it may read only what the task no longer changes.
    /// An exception fails this checkpoint (with its message as the reason), not the job.
    /// </summary>
    public abstract void Write(OperatorStateWriter state);

    /// <summary>Called once after <see cref="Write"/>, also when it failed: lets the operator change what was shared again.</summary>
    public virtual void Release() { }
}
