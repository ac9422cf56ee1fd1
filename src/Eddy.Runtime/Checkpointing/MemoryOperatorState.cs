namespace Eddy.Runtime;

/// <summary>
/// An <see cref="OperatorStateWriter"/> into memory: a buffer per key group and one for operator state. What a task
/// snapshots each operator of its chain into at a barrier (the storage then frames and checksums the bytes), and
/// what the operator harnesses and benchmarks use directly.
/// </summary>
public sealed class MemoryOperatorStateWriter : OperatorStateWriter, IDisposable
{
    private readonly int keyGroupStart;
    private readonly int keyGroupEnd;
    private readonly Dictionary<int, (MemoryStream Stream, BinaryWriter Writer)> keyGroups = [];
    private readonly MemoryStream operatorStream = new();
    private readonly BinaryWriter operatorWriter;

    /// <summary>A writer for the subtask owning key groups [<paramref name="keyGroupStart"/>, <paramref name="keyGroupEnd"/>).</summary>
    public MemoryOperatorStateWriter(int keyGroupStart, int keyGroupEnd)
    {
        this.keyGroupStart = keyGroupStart;
        this.keyGroupEnd = keyGroupEnd;
        operatorWriter = new BinaryWriter(operatorStream);
    }

    /// <summary>A writer that accepts every key group of <paramref name="maxParallelism"/> (a single subtask).</summary>
    public MemoryOperatorStateWriter(int maxParallelism = Eddy.KeyGroups.DefaultMaxParallelism) : this(0, maxParallelism)
    {
    }

    public override BinaryWriter KeyGroup(int keyGroup)
    {
        if (keyGroup < keyGroupStart || keyGroup >= keyGroupEnd)
        {
            throw new ArgumentOutOfRangeException(nameof(keyGroup), keyGroup,
                $"key group {keyGroup} is outside this subtask's range [{keyGroupStart}, {keyGroupEnd})");
        }
        if (keyGroups.ContainsKey(keyGroup)) throw new InvalidOperationException($"key group {keyGroup} was written twice in one snapshot");
        var stream = new MemoryStream();
        var writer = new BinaryWriter(stream);
        keyGroups[keyGroup] = (stream, writer);
        return writer;
    }

    public override BinaryWriter OperatorState => operatorWriter;

    /// <summary>The written bytes as subtask <paramref name="subtask"/>'s snapshot (the writer can be disposed afterwards).</summary>
    public SubtaskSnapshot ToSnapshot(int subtask = 0)
    {
        var groups = new Dictionary<int, byte[]>(keyGroups.Count);
        foreach (var (kg, (stream, writer)) in keyGroups)
        {
            writer.Flush();
            groups[kg] = stream.ToArray();
        }
        operatorWriter.Flush();
        return new SubtaskSnapshot(subtask, keyGroupStart, keyGroupEnd, operatorStream.ToArray(), groups);
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
/// range (whichever old subtask wrote them) and every old subtask's operator state, in old subtask order.
/// </summary>
public sealed class MemoryOperatorStateReader : OperatorStateReader
{
    private readonly List<(int, BinaryReader)> keyGroups = [];
    private readonly List<BinaryReader> operatorStates = [];

    public MemoryOperatorStateReader(long checkpointId, IReadOnlyList<SubtaskSnapshot> oldSubtasks, int keyGroupStart, int keyGroupEnd)
    {
        CheckpointId = checkpointId;
        var seen = new HashSet<int>();
        foreach (var snapshot in oldSubtasks.OrderBy(s => s.Subtask))
        {
            foreach (var (kg, bytes) in snapshot.KeyGroups)
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
    public static MemoryOperatorStateReader ForSubtask(IReadOnlyList<SubtaskSnapshot> oldSubtasks, int subtask, int parallelism,
        int maxParallelism = Eddy.KeyGroups.DefaultMaxParallelism, long checkpointId = 1)
    {
        var (start, end) = Eddy.KeyGroups.RangeOf(subtask, maxParallelism, parallelism);
        return new MemoryOperatorStateReader(checkpointId, oldSubtasks, start, end);
    }

    public override long CheckpointId { get; }

    public override IEnumerable<(int KeyGroup, BinaryReader Reader)> KeyGroups => keyGroups;

    public override IReadOnlyList<BinaryReader> OperatorStates => operatorStates;
}
