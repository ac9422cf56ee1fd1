using Eddy.Runtime;
using Eddy.Sql.Codegen;

namespace Eddy.Sql.Plan.Expand;

/// <summary>
/// Emits each input batch once per projection list: one output batch per list, each row with its input row's
/// timestamp and row kind. Stateless.
/// </summary>
public sealed class ExpandOperator<TIn, TOut>(Compiled<BatchFunction<TIn, TOut>>[] compiled) : StreamOperator<TIn, TOut>
{
    private BatchFunction<TIn, TOut>[] functions = [];

    // Which input row each output row came from (the batch functions fill it; without a filter, row j from row j).
    private readonly int[] selected = new int[Batch<TIn>.DefaultCapacity];

    public override void Open() => functions = compiled.Select(c => c.Value).ToArray();

    public override void OnBatch(Batch<TIn> batch)
    {
        int count = batch.Count;
        var sel = count <= selected.Length ? selected : new int[count];
        long now = Context.ProcessingTimers.Now;
        foreach (var function in functions)
        {
            if (count == 0) break;
            var output = BatchPool<TOut>.Rent();
            int produced = function(batch.Values, count, output.Values, sel, now, CurrentWatermark);
            Array.Copy(batch.Timestamps, output.Timestamps, produced);
            if (batch.HasKinds)
                for (int j = 0; j < produced; j++) output.SetKind(j, batch.KindAt(j));
            output.Count = produced;
            Output.OnBatch(output);
        }
        BatchPool<TIn>.Return(batch);
    }
}
