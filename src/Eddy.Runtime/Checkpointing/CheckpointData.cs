namespace Eddy.Runtime;

/// <summary>The state one subtask of one operator wrote at a barrier: its operator state and its key groups' state.</summary>
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
    internal OperatorStateReader ReaderFor(long checkpointId, int start, int end)
    {
        var groups = new List<(int, byte[])>();
        foreach (var s in Subtasks)
            foreach (var (kg, bytes) in s.KeyGroups)
                if (kg >= start && kg < end) groups.Add((kg, bytes));
        groups.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return new SnapshotStateReader(checkpointId, groups, Subtasks.OrderBy(s => s.Subtask).Select(s => s.OperatorState).ToList());
    }
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

/// <summary>
/// Collects what one operator subtask writes at a barrier, in memory: one buffer per key group and one for operator
/// state. (The task's own writer; the storage frames and checksums the bytes afterwards.)
/// </summary>
internal sealed class SnapshotStateWriter : OperatorStateWriter
{
    private readonly Dictionary<int, (MemoryStream Stream, BinaryWriter Writer)> groups = [];
    private readonly MemoryStream operatorStream = new();
    private BinaryWriter? operatorWriter;
    private readonly int keyGroupStart;
    private readonly int keyGroupEnd;

    public SnapshotStateWriter(int keyGroupStart, int keyGroupEnd)
    {
        this.keyGroupStart = keyGroupStart;
        this.keyGroupEnd = keyGroupEnd;
    }

    public override BinaryWriter KeyGroup(int keyGroup)
    {
        if (keyGroup < keyGroupStart || keyGroup >= keyGroupEnd)
        {
            throw new ArgumentOutOfRangeException(nameof(keyGroup), keyGroup,
                $"key group {keyGroup} is outside this subtask's range [{keyGroupStart}, {keyGroupEnd})");
        }
        if (!groups.TryGetValue(keyGroup, out var g))
        {
            var ms = new MemoryStream();
            groups[keyGroup] = g = (ms, new BinaryWriter(ms));
        }
        return g.Writer;
    }

    public override BinaryWriter OperatorState => operatorWriter ??= new BinaryWriter(operatorStream);

    public SubtaskSnapshot ToSnapshot(int subtask)
    {
        operatorWriter?.Flush();
        var kgs = new Dictionary<int, byte[]>(groups.Count);
        foreach (var (kg, (stream, writer)) in groups)
        {
            writer.Flush();
            kgs[kg] = stream.ToArray();
        }
        return new SubtaskSnapshot(subtask, keyGroupStart, keyGroupEnd, operatorStream.ToArray(), kgs);
    }
}

/// <summary>Reads one new subtask's part of an operator's snapshot.</summary>
internal sealed class SnapshotStateReader(long checkpointId, List<(int, byte[])> groups, List<byte[]> operatorStates) : OperatorStateReader
{
    public override long CheckpointId => checkpointId;

    public override IEnumerable<(int KeyGroup, BinaryReader Reader)> KeyGroups =>
        groups.Select(g => (g.Item1, new BinaryReader(new MemoryStream(g.Item2, writable: false))));

    public override IReadOnlyList<BinaryReader> OperatorStates { get; } =
        operatorStates.Select(b => new BinaryReader(new MemoryStream(b, writable: false))).ToList();
}
