using Eddy.Runtime;
using Eddy.Runtime.Distributed;
using Eddy.Sql.Codegen;

namespace Eddy.Sql.Plan.Calc;

/// <summary>
/// Projection and filter of a SQL query in one pass: a compiled <see cref="BatchFunction{TIn,TOut}"/> per batch
/// (one loop with the filter and projections inlined, writing straight into the output batch). Row kinds and
/// timestamps follow their records. The user functions with a lifecycle that it calls (<c>functions</c>)
/// are its own instances, opened and closed with it.
/// </summary>
public sealed class CalcOperator<TIn, TOut>(Compiled<BatchFunction<TIn, TOut>> compiled, Func<TOut, long>? rowtime = null, UserFunctionInstances? functions = null)
    : StreamOperator<TIn, TOut>
{
    private BatchFunction<TIn, TOut> function = null!;

    public override void Open()
    {
        function = compiled.Value;
        functions?.Open(Context);
    }

    public override void Close() => functions?.Close();

    // Which input row each kept output row came from (the batch function fills it).
    private readonly int[] selected = new int[Batch<TIn>.DefaultCapacity];

    public override void OnBatch(Batch<TIn> batch)
    {
        var output = BatchPool<TOut>.Rent();
        int count = batch.Count;
        var sel = count <= selected.Length ? selected : new int[count];
        int kept = function(batch.Values, count, output.Values, sel, Context.ProcessingTimers.Now, CurrentWatermark);
        var outTs = output.Timestamps;
        if (rowtime is not null)
        {
            var outValues = output.Values;
            for (int j = 0; j < kept; j++) outTs[j] = rowtime(outValues[j]);
        }
        else if (kept == count)
        {
            // Nothing filtered out: row j came from row j.
            Array.Copy(batch.Timestamps, outTs, count);
        }
        else
        {
            var ts = batch.Timestamps;
            for (int j = 0; j < kept; j++) outTs[j] = ts[sel[j]];
        }
        if (batch.HasKinds)
            for (int j = 0; j < kept; j++) output.SetKind(j, batch.KindAt(sel[j]));
        output.Count = kept;
        var inPositions = SourcePositions.Of(batch);
        var inOrdinals = SourcePositions.OrdinalsOf(batch);
        BatchPool<TIn>.Return(batch);
        if (kept == 0)
        {
            BatchPool<TOut>.Return(output);
            return;
        }
        if (inPositions is null)
        {
            Output.OnBatch(output);
            return;
        }
        // Row j came from row sel[j]: a repartition writer downstream tags it with that row's source position (and ordinal).
        if (positions.Length < kept) positions = new long[kept];
        for (int j = 0; j < kept; j++) positions[j] = inPositions[sel[j]];
        long[]? ordinals = null;
        if (inOrdinals is not null)
        {
            if (this.ordinals.Length < kept) this.ordinals = new long[kept];
            ordinals = this.ordinals;
            for (int j = 0; j < kept; j++) ordinals[j] = inOrdinals[sel[j]];
        }
        var previous = SourcePositions.Relay(output, positions, ordinals);
        try
        {
            Output.OnBatch(output);
        }
        finally
        {
            SourcePositions.Restore(previous);
        }
    }

    // The relayed source positions and ordinals of an output batch (read downstream during the call that hands it on).
    private long[] positions = [];
    private long[] ordinals = [];
}
