using Eddy.Runtime;

namespace Eddy.Sql.Plan.Correlate;

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
