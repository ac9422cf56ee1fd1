using Eddy.Runtime;

namespace Eddy.Testing;

/// <summary>
/// The subtasks of one keyed operator at some parallelism, driven as a job would: each record goes to the subtask
/// owning its key's key group, watermarks and processing time go to all. Snapshot all of them and restore at another
/// parallelism to test rescaling; <see cref="Records"/> is the union of the subtasks' outputs.
/// </summary>
public sealed class KeyedOperatorHarnesses<TKey, TIn, TOut> where TKey : notnull
{
    private readonly Func<TIn, TKey> keyOf;
    private readonly int maxParallelism;

    public KeyedOperatorHarnesses(Func<StreamOperator<TIn, TOut>> create, Func<TIn, TKey> keyOf, int parallelism,
        IReadOnlyList<SubtaskSnapshot>? restoreFrom = null, long startProcessingTime = 0,
        int maxParallelism = KeyGroups.DefaultMaxParallelism)
    {
        this.keyOf = keyOf;
        this.maxParallelism = maxParallelism;
        Subtasks = Enumerable.Range(0, parallelism).Select(i => restoreFrom is null
            ? new OperatorHarness<TIn, TOut>(create(), startProcessingTime, i, parallelism, maxParallelism, checkpointing: true)
            : OperatorHarness<TIn, TOut>.Restored(create(), restoreFrom, startProcessingTime, i, parallelism, maxParallelism)).ToList();
    }

    public IReadOnlyList<OperatorHarness<TIn, TOut>> Subtasks { get; }

    /// <summary>Each subtask's records, concatenated in subtask order.</summary>
    public List<Emitted<TOut>> Records => Subtasks.SelectMany(s => s.Output.Records).ToList();

    public KeyedOperatorHarnesses<TKey, TIn, TOut> Elements(IEnumerable<(TIn Value, long Timestamp)> records)
    {
        int p = Subtasks.Count;
        var routed = Enumerable.Range(0, p).Select(_ => new List<(TIn, long)>()).ToList();
        foreach (var r in records)
            routed[KeyGroups.SubtaskFor(KeyGroups.ForKey(keyOf(r.Value), maxParallelism), maxParallelism, p)].Add(r);
        for (int i = 0; i < p; i++)
            if (routed[i].Count > 0) Subtasks[i].Elements(routed[i]);
        return this;
    }

    /// <summary>Routes a changelog (records with row kinds) to the subtasks owning their keys, in order per subtask.</summary>
    public KeyedOperatorHarnesses<TKey, TIn, TOut> Elements(IEnumerable<(TIn Value, long Timestamp, RowKind Kind)> records)
    {
        int p = Subtasks.Count;
        var routed = Enumerable.Range(0, p).Select(_ => new List<(TIn, long, RowKind)>()).ToList();
        foreach (var r in records)
            routed[KeyGroups.SubtaskFor(KeyGroups.ForKey(keyOf(r.Value), maxParallelism), maxParallelism, p)].Add(r);
        for (int i = 0; i < p; i++)
            if (routed[i].Count > 0) Subtasks[i].Elements(routed[i]);
        return this;
    }

    public KeyedOperatorHarnesses<TKey, TIn, TOut> Watermark(long watermark)
    {
        foreach (var s in Subtasks) s.Watermark(watermark);
        return this;
    }

    public KeyedOperatorHarnesses<TKey, TIn, TOut> SetProcessingTime(long ms)
    {
        foreach (var s in Subtasks) s.SetProcessingTime(ms);
        return this;
    }

    public KeyedOperatorHarnesses<TKey, TIn, TOut> EndInput()
    {
        foreach (var s in Subtasks) s.EndInput();
        return this;
    }

    public List<SubtaskSnapshot> Snapshot(long checkpointId = 1) => Subtasks.Select(s => s.Snapshot(checkpointId)).ToList();
}
