using Eddy.Runtime;
using Eddy.Sql.Codegen;

namespace Eddy.Sql.Operators;

/// <summary>
/// Projection and filter of a SQL query in one pass: a compiled <see cref="RowFunction{TIn,TOut}"/> per record,
/// writing straight into the output batch. Row kinds and timestamps follow their records.
/// </summary>
public sealed class CalcOperator<TIn, TOut>(RowFunction<TIn, TOut> function, Func<TOut, long>? rowtime = null)
    : StreamOperator<TIn, TOut>
{
    public override void OnBatch(Batch<TIn> batch)
    {
        var output = BatchPool<TOut>.Rent();
        var values = batch.Values;
        var outValues = output.Values;
        long now = Context.ProcessingTimers.Now;
        int kept = 0;
        for (int i = 0; i < batch.Count; i++)
        {
            if (!function(ref values[i], out outValues[kept], now)) continue;
            output.Timestamps[kept] = rowtime is null ? batch.Timestamps[i] : rowtime(outValues[kept]);
            if (batch.HasKinds) output.SetKind(kept, batch.KindAt(i));
            kept++;
        }
        output.Count = kept;
        BatchPool<TIn>.Return(batch);
        if (kept == 0)
        {
            BatchPool<TOut>.Return(output);
            return;
        }
        Output.OnBatch(output);
    }
}
