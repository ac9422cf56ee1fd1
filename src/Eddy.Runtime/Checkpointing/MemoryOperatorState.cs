namespace Eddy.Runtime;

/// <summary>
/// What one operator subtask wrote at a barrier: the bytes of each key group it had state for, and its operator
/// state. The unit the storage persists per subtask (and what tests hand from one operator instance to another).
/// </summary>
public sealed class SubtaskStateSnapshot(long checkpointId, IReadOnlyDictionary<int, byte[]> keyGroups, byte[] operatorState)
{
    public long CheckpointId { get; } = checkpointId;

    /// <summary>Key group → its state; key groups without state are absent.</summary>
    public IReadOnlyDictionary<int, byte[]> KeyGroups { get; } = keyGroups;

    public byte[] OperatorState { get; } = operatorState;

    public long Size => OperatorState.LongLength + KeyGroups.Values.Sum(b => b.LongLength);
}

/// <summary>An <see cref="OperatorStateWriter"/> into memory: a buffer per key group and one for operator state.</summary>
public sealed class MemoryOperatorStateWriter : OperatorStateWriter, IDisposable
{
    private readonly int maxParallelism;
    private readonly Dictionary<int, (MemoryStream Stream, BinaryWriter Writer)> keyGroups = [];
    private readonly MemoryStream operatorStream = new();
    private readonly BinaryWriter operatorWriter;

    public MemoryOperatorStateWriter(int maxParallelism = Eddy.KeyGroups.DefaultMaxParallelism)
    {
        this.maxParallelism = maxParallelism;
        operatorWriter = new BinaryWriter(operatorStream);
    }

    public override BinaryWriter KeyGroup(int keyGroup)
    {
        if ((uint)keyGroup >= (uint)maxParallelism)
            throw new ArgumentOutOfRangeException(nameof(keyGroup), keyGroup, $"key groups are 0..{maxParallelism - 1}");
        if (keyGroups.ContainsKey(keyGroup)) throw new InvalidOperationException($"key group {keyGroup} was written twice in one snapshot");
        var stream = new MemoryStream();
        var writer = new BinaryWriter(stream);
        keyGroups[keyGroup] = (stream, writer);
        return writer;
    }

    public override BinaryWriter OperatorState => operatorWriter;

    /// <summary>The written bytes (the writer can be disposed afterwards).</summary>
    public SubtaskStateSnapshot ToSnapshot(long checkpointId)
    {
        var groups = new Dictionary<int, byte[]>(keyGroups.Count);
        foreach (var (kg, (stream, writer)) in keyGroups)
        {
            writer.Flush();
            groups[kg] = stream.ToArray();
        }
        operatorWriter.Flush();
        return new SubtaskStateSnapshot(checkpointId, groups, operatorStream.ToArray());
    }

    public void Dispose()
    {
        foreach (var (stream, writer) in keyGroups.Values)
        {
            writer.Dispose();
            stream.Dispose();
        }
        operatorWriter.Dispose();
    }
}

/// <summary>
/// An <see cref="OperatorStateReader"/> over the snapshots of every old subtask: the key groups of the new subtask's
/// range (whichever old subtask wrote them) and every old subtask's operator state.
/// </summary>
public sealed class MemoryOperatorStateReader : OperatorStateReader
{
    private readonly List<(int, BinaryReader)> keyGroups = [];
    private readonly List<BinaryReader> operatorStates = [];

    public MemoryOperatorStateReader(IReadOnlyList<SubtaskStateSnapshot> oldSubtasks, int keyGroupStart, int keyGroupEnd)
    {
        CheckpointId = oldSubtasks.Count > 0 ? oldSubtasks[0].CheckpointId : 0;
        var seen = new HashSet<int>();
        foreach (var snapshot in oldSubtasks)
        {
            foreach (var (kg, bytes) in snapshot.KeyGroups.OrderBy(e => e.Key))
            {
                if (kg < keyGroupStart || kg >= keyGroupEnd) continue;
                if (!seen.Add(kg)) throw new InvalidDataException($"key group {kg} is in the state of two subtasks");
                keyGroups.Add((kg, new BinaryReader(new MemoryStream(bytes, writable: false))));
            }
            operatorStates.Add(new BinaryReader(new MemoryStream(snapshot.OperatorState, writable: false)));
        }
        keyGroups.Sort((a, b) => a.Item1.CompareTo(b.Item1));
    }

    /// <summary>The reader of subtask <paramref name="subtask"/> of <paramref name="parallelism"/> (its key-group range).</summary>
    public static MemoryOperatorStateReader ForSubtask(IReadOnlyList<SubtaskStateSnapshot> oldSubtasks, int subtask, int parallelism,
        int maxParallelism = Eddy.KeyGroups.DefaultMaxParallelism)
    {
        var (start, end) = Eddy.KeyGroups.RangeOf(subtask, maxParallelism, parallelism);
        return new MemoryOperatorStateReader(oldSubtasks, start, end);
    }

    public override long CheckpointId { get; }

    public override IEnumerable<(int KeyGroup, BinaryReader Reader)> KeyGroups => keyGroups;

    public override IReadOnlyList<BinaryReader> OperatorStates => operatorStates;
}
