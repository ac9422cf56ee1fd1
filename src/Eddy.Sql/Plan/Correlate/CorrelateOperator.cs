using Eddy.Sql.Codegen;
using Eddy.Runtime;

namespace Eddy.Sql.Plan.Correlate;

/// <summary>LATERAL TABLE: each input row followed by the rows its table function returns (or NULLs, for LEFT).</summary>
public sealed class CorrelateOperator<TIn, TElem, TOut>(
    Func<TIn, IEnumerable<TElem>?> call,
    Func<TIn, TElem, TOut> build,
    Func<TIn, TOut>? emptyRow,
    Func<Exception, TIn, Exception> failure,
    UserFunctionInstances? functions = null) : StreamOperator<TIn, TOut>
{
    public override void Open() => functions?.Open(Context);

    public override void Close() => functions?.Close();

    public override void OnBatch(Batch<TIn> batch)
    {
        var output = Out;
        for (int i = 0; i < batch.Count; i++)
        {
            var row = batch.Values[i];
            long ts = batch.Timestamps[i];
            var kind = batch.KindAt(i);
            bool any = false;
            IEnumerator<TElem>? elements;
            try
            {
                elements = call(row)?.GetEnumerator();
            }
            catch (Exception e)
            {
                throw failure(e, row);
            }
            if (elements is not null)
            {
                using (elements)
                {
                    while (true)
                    {
                        // Only the function's own code runs inside the try: a failure downstream is not the function's.
                        TElem element;
                        try
                        {
                            if (!elements.MoveNext()) break;
                            element = elements.Current;
                        }
                        catch (Exception e)
                        {
                            throw failure(e, row);
                        }
                        output.Collect(build(row, element), ts, kind);
                        any = true;
                    }
                }
            }
            if (!any && emptyRow is not null) output.Collect(emptyRow(row), ts, kind);
        }
        BatchPool<TIn>.Return(batch);
    }
}
