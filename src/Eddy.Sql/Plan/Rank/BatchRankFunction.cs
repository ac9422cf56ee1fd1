using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>The rank function of a Top-N.</summary>
public enum RankFunction
{
    /// <summary>ROW_NUMBER(): 1, 2, 3, ... (ties in arrival order).</summary>
    RowNumber,
    /// <summary>RANK(): 1 + the number of rows that sort strictly before (ties share a rank, gaps follow).</summary>
    Rank,
    /// <summary>DENSE_RANK(): 1 + the number of distinct sort keys before (ties share a rank, no gaps).</summary>
    DenseRank,
}

/// <summary>
/// Top-N in batch mode (Flink's batch Rank / OVER + filter): every row of a key is kept until the end of input, then
/// the key's rows are sorted (a stable sort: ties in arrival order) and those whose rank lies in [start, end] are
/// emitted once, as +I, in rank order. Only final rows, as Flink's batch jobs give.
/// </summary>
public sealed class BatchRankFunction<TIn, TKey, TOut>(
    Comparison<TIn> compare,
    RankFunction function,
    long rankStart,
    long rankEnd,
    Func<TIn, long, TOut> output) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, List<TIn>>? state;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<List<TIn>>("batch-rank");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        var rows = state!.Value;
        if (rows is null)
        {
            state.Value = rows = [];
            // The final watermark of a bounded input (+∞) fires this timer once every row is in.
            context.RegisterEventTimeTimer(EventTime.MaxWatermark);
        }
        rows.Add(value);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        if (state!.Value is not { } rows) return;
        var sorted = rows.Select((row, index) => (Row: row, Index: index)).ToList();
        sorted.Sort((a, b) => compare(a.Row, b.Row) is var c and not 0 ? c : a.Index.CompareTo(b.Index));
        long rank = 0, dense = 0;
        for (int i = 0; i < sorted.Count; i++)
        {
            bool peer = i > 0 && compare(sorted[i - 1].Row, sorted[i].Row) == 0;
            if (!peer) dense++;
            rank = function switch
            {
                RankFunction.RowNumber => i + 1,
                RankFunction.Rank => peer ? rank : i + 1,
                _ => dense,
            };
            if (rank > rankEnd) break;
            if (rank >= rankStart) collector.Collect(output(sorted[i].Row, rank), EventTime.None, RowKind.Insert);
        }
        state.Clear();
    }
}
