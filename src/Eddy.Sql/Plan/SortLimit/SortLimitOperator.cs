using Eddy.Runtime;

namespace Eddy.Sql.Plan.SortLimit;

/// <summary>ORDER BY ... LIMIT over a bounded input: keeps everything, sorts at the end, emits the requested rows.</summary>
public sealed class SortLimitOperator<T>(IComparer<T>? comparer, long? limit, long offset) : StreamOperator<T, T>
{
    private readonly List<(T Value, long Timestamp)> rows = [];

    private long seen;

    private const byte StateVersion = 1;
    private StateSerializer<T>? serializer;

    public override void Open()
    {
        if (Context.CheckpointingEnabled && comparer is not null) ResolveSerializer();
    }

    private StateSerializer<T> ResolveSerializer()
    {
        try
        {
            return serializer ??= StateSerializers.For<T>();
        }
        catch (StateSerializationException e)
        {
            throw new StateSerializationException($"operator '{Context.OperatorName}': {e.Message}");
        }
    }

    public override bool HasState => true;

    /// <summary>Operator state (it runs at parallelism 1): rows seen, then the rows held for the final sort.</summary>
    public override void SnapshotState(long checkpointId, OperatorStateWriter state)
    {
        var w = state.OperatorState;
        OperatorStateFormat.WriteVersion(w, StateVersion);
        w.Write(seen);
        w.Write(rows.Count);
        if (rows.Count == 0) return;
        var values = ResolveSerializer();
        foreach (var (value, ts) in rows)
        {
            values.Write(w, value);
            w.Write(ts);
        }
    }

    /// <summary>The rows of every old subtask together (a restore at another parallelism keeps them all).</summary>
    public override void RestoreState(OperatorStateReader state)
    {
        foreach (var r in state.OperatorStates)
        {
            OperatorStateFormat.CheckVersion(r, StateVersion, Context.OperatorName);
            seen += r.ReadInt64();
            int n = r.ReadInt32();
            if (n == 0) continue;
            var values = ResolveSerializer();
            for (int i = 0; i < n; i++)
            {
                var value = values.Read(r);
                rows.Add((value, r.ReadInt64()));
            }
        }
    }

    public override void OnBatch(Batch<T> batch)
    {
        if (comparer is null)
        {
            // Without ORDER BY the first rows pass at once, so that LIMIT works on unbounded input too.
            for (int i = 0; i < batch.Count; i++, seen++)
                if (seen >= offset && (limit is not { } l || seen < offset + l)) Out.Collect(batch.Values[i], batch.Timestamps[i]);
        }
        else
        {
            for (int i = 0; i < batch.Count; i++)
            {
                if (batch.KindAt(i).IsAccumulate()) rows.Add((batch.Values[i], batch.Timestamps[i]));
                else
                {
                    // A retraction removes the row it retracts: the sort sees the final table.
                    var value = batch.Values[i];
                    int at = rows.FindIndex(r => EqualityComparer<T>.Default.Equals(r.Value, value));
                    if (at >= 0) rows.RemoveAt(at);
                }
            }
        }
        BatchPool<T>.Return(batch);
    }

    protected override void Finish()
    {
        if (comparer is null) return;
        var sorted = rows.OrderBy(r => r.Value, comparer).Skip((int)Math.Min(offset, int.MaxValue));
        if (limit is { } l) sorted = sorted.Take((int)Math.Min(l, int.MaxValue));
        foreach (var (value, ts) in sorted) Out.Collect(value, ts);
    }
}
