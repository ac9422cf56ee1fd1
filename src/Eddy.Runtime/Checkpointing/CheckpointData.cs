namespace Eddy.Runtime;

/// <summary>
/// The state one subtask of one operator wrote at a barrier: its operator state and its key groups' state (key groups
/// without state are absent). What the storage persists per subtask, and what tests hand from one operator instance
/// to another (<see cref="MemoryOperatorStateWriter"/>, <see cref="MemoryOperatorStateReader"/>).
/// </summary>
public sealed record SubtaskSnapshot(
    int Subtask,
    int KeyGroupStart,
    int KeyGroupEnd,
    byte[] OperatorState,
    IReadOnlyDictionary<int, byte[]> KeyGroups)
{
    public long Size => OperatorState.LongLength + KeyGroups.Values.Sum(v => (long)v.Length);
}

/// <summary>Every subtask's state of one operator (matched on restore by <see cref="StateId"/>).</summary>
public sealed record OperatorSnapshot(string StateId, int Parallelism, IReadOnlyList<SubtaskSnapshot> Subtasks)
{
    public long Size => Subtasks.Sum(s => s.Size);

    /// <summary>
    /// What a source reader or sink writer gets back: every old subtask's operator state, indexed by old subtask
    /// (empty for a subtask that wrote none).
    /// </summary>
    public RestoredState ToRestoredState(long checkpointId)
    {
        var states = new byte[Math.Max(Parallelism, Subtasks.Count == 0 ? 0 : Subtasks.Max(s => s.Subtask) + 1)][];
        Array.Fill(states, []);
        foreach (var s in Subtasks) states[s.Subtask] = s.OperatorState;
        return new RestoredState(checkpointId, states, Parallelism);
    }

    /// <summary>What the new subtask owning key groups [<paramref name="start"/>, <paramref name="end"/>) reads.</summary>
    internal OperatorStateReader ReaderFor(long checkpointId, int start, int end) =>
        new MemoryOperatorStateReader(checkpointId, Subtasks, start, end);
}

/// <summary>A completed checkpoint: what every operator, source and sink of the job wrote at barrier <see cref="Id"/>.</summary>
public sealed record CheckpointData(
    long Id,
    DateTimeOffset Timestamp,
    string JobName,
    int MaxParallelism,
    IReadOnlyList<OperatorSnapshot> Operators)
{
    /// <summary>The folder it was loaded from or written to (null while only in memory).</summary>
    public string? Path { get; init; }

    public long Size => Operators.Sum(o => o.Size);

    public OperatorSnapshot? Find(string stateId) => Operators.FirstOrDefault(o => o.StateId == stateId);
}
