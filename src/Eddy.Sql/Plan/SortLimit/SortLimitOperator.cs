using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Windows;

namespace Eddy.Sql.Operators;

/// <summary>
/// A connector's source seen as a source of row structs: each batch (of generic rows, or of the connector's own
/// structs) is converted in the reader by one compiled loop (<see cref="ConvertBatch{TIn,TOut}"/>), so that split
/// ids (per-partition watermarks) and source timestamps pass through and event time can be computed from computed
/// columns at the source, in the same loop (as can a filter and projection right above the scan).
/// </summary>
public sealed class ConvertingSource<TIn, T>(Source<TIn> inner, Compiled<ConvertBatch<TIn, T>> convert) : Source<T>
{
    public override bool IsBounded => inner.IsBounded;

    public override SourceReader<T> CreateReader(SourceReaderContext context) =>
        new Reader(inner.CreateReader(context), convert.Value, context.Clock);

    private sealed class Reader(SourceReader<TIn> reader, ConvertBatch<TIn, T> convert, TimeProvider clock) : SourceReader<T>
    {
        private readonly SourceOutput<TIn> buffer = new();
        private int[] selected = new int[Batch<TIn>.DefaultCapacity];

        public override int SplitCount => reader.SplitCount;

        public override string? SplitName(int split) => reader.SplitName(split);

        public override SourceStatus Read(SourceOutput<T> output)
        {
            // Read no more than the output has room for, so that the whole buffer converts in one go.
            int room = output.Room;
            if (room == 0) return SourceStatus.MoreAvailable;
            buffer.Limit = room;
            var status = reader.Read(buffer);
            int n = buffer.Count;
            if (n > 0)
            {
                if (selected.Length < n) selected = new int[n];
                int start = output.Reserve(n, buffer.SplitsSoFar, out var values, out var timestamps);
                var batch = buffer.TakeBatch();
                long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                int kept = convert(batch.Values, batch.Timestamps, n, values, timestamps, start, now, selected);
                if (kept < n) output.Compact(start, kept, selected);
                // A changelog source's kinds (-U/+U/-D) stay with their records.
                if (batch.HasKinds) output.CopyKinds(batch, start, kept, kept < n ? selected : null);
                BatchPool<TIn>.Return(batch);
            }
            output.Bytes += buffer.Bytes;
            buffer.Bytes = 0;
            return status;
        }

        // The conversion holds nothing between reads: a checkpoint is the wrapped reader's (offsets, positions).
        public override void SnapshotState(long checkpointId, BinaryWriter state) => reader.SnapshotState(checkpointId, state);

        public override void NotifyCheckpointComplete(long checkpointId) => reader.NotifyCheckpointComplete(checkpointId);

        public override void Dispose()
        {
            reader.Dispose();
            base.Dispose();
        }
    }
}

/// <summary>
/// Non-windowed GROUP BY: one accumulator per key in keyed state; every input row updates it and emits the change:
/// +I for a new key, then -U (old result) and +U (new result), as Flink's GroupAggFunction. Without aggregates
/// (DISTINCT) a key is emitted once. In batch mode only the final result of each key is emitted, at the end of input.
/// </summary>
public sealed class GroupAggregateFunction<TIn, TKey, TAcc, TOut>(
    IAggregateFunction<TIn, TAcc, TAcc> aggregate,
    Func<TKey, TAcc, TOut> result,
    bool emitsUpdates,
    bool finalOnly = false) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, Holder>? state;

    private sealed class Holder
    {
        public TAcc Accumulator = default!;
    }

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<Holder>("acc");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var holder = state!.Value;
        if (finalOnly)
        {
            if (holder is null)
            {
                state.Value = holder = new Holder { Accumulator = aggregate.CreateAccumulator() };
                // The final watermark of a bounded input (+∞) fires this timer once every row is in.
                context.RegisterEventTimeTimer(EventTime.MaxWatermark);
            }
            holder.Accumulator = aggregate.Add(value, holder.Accumulator);
            return;
        }
        if (holder is null)
        {
            holder = new Holder { Accumulator = aggregate.Add(value, aggregate.CreateAccumulator()) };
            state.Value = holder;
            output.Collect(result(context.CurrentKey, holder.Accumulator), context.Timestamp, RowKind.Insert);
            return;
        }
        if (!emitsUpdates) return;
        var before = result(context.CurrentKey, holder.Accumulator);
        holder.Accumulator = aggregate.Add(value, holder.Accumulator);
        var after = result(context.CurrentKey, holder.Accumulator);
        if (EqualityComparer<TOut>.Default.Equals(before, after)) return;
        output.Collect(before, context.Timestamp, RowKind.UpdateBefore);
        output.Collect(after, context.Timestamp, RowKind.UpdateAfter);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (state!.Value is { } holder) output.Collect(result(context.CurrentKey, holder.Accumulator), EventTime.None, RowKind.Insert);
    }
}

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

/// <summary>LATERAL TABLE: each input row followed by the rows its table function returns (or NULLs, for LEFT).</summary>
public sealed class CorrelateOperator<TIn, TElem, TOut>(
    Func<TIn, IEnumerable<TElem>?> call,
    Func<TIn, TElem, TOut> build,
    Func<TIn, TOut>? emptyRow) : StreamOperator<TIn, TOut>
{
    public override void OnBatch(Batch<TIn> batch)
    {
        var output = Out;
        for (int i = 0; i < batch.Count; i++)
        {
            var row = batch.Values[i];
            long ts = batch.Timestamps[i];
            var kind = batch.KindAt(i);
            bool any = false;
            if (call(row) is { } elements)
            {
                foreach (var e in elements)
                {
                    output.Collect(build(row, e), ts, kind);
                    any = true;
                }
            }
            if (!any && emptyRow is not null) output.Collect(emptyRow(row), ts, kind);
        }
        BatchPool<TIn>.Return(batch);
    }
}
