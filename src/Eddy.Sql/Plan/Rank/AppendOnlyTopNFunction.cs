using Eddy.Runtime;

namespace Eddy.Sql.Plan.Rank;

/// <summary>
/// Top-N per key over an append-only input, with the changelog of Flink's AppendOnlyTopNFunction. The state per key is
/// the current top <c>end</c> rows in rank order (rows whose sort keys tie keep their arrival order, a later one
/// ranking after); a row that does not sort before the N-th is dropped without output.
/// <list type="bullet">
/// <item>Without the row number in the output (and ranks from 1): -D for the row pushed out of the top N, then +I for
/// the new one.</item>
/// <item>With the row number (or a range not starting at 1): every rank from the new row's down to N changes its row:
/// -U (the old row with that rank) and +U (the new row with that rank), in rank order; +I for a rank that had no row.
/// Only ranks inside [start, end] are emitted.</item>
/// </list>
/// </summary>
public sealed class AppendOnlyTopNFunction<TIn, TKey, TOut>(
    Comparison<TIn> compare,
    long rankStart,
    long rankEnd,
    bool withRowNumber,
    Func<TIn, long, TOut> output) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, List<TIn>>? state;

    public override void Open(KeyedContext<TKey> context) => state = context.GetValueState<List<TIn>>("top-n");

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        var rows = state!.Value;
        if (rows is null) state.Value = rows = new List<TIn>((int)Math.Min(rankEnd, 16));
        // Flink's checkSortKeyInBufferRange: before the worst row, or a free place.
        if (rows.Count > 0 && compare(value, rows[^1]) >= 0 && rows.Count >= rankEnd) return;
        int position = UpperBound(rows, value);
        rows.Insert(position, value);
        long ts = context.Timestamp;
        if (!withRowNumber)
        {
            if (rows.Count > rankEnd)
            {
                var retired = rows[^1];
                rows.RemoveAt(rows.Count - 1);
                collector.Collect(output(retired, 0), ts, RowKind.Delete);
            }
            collector.Collect(output(value, 0), ts, RowKind.Insert);
            return;
        }
        int before = rows.Count - 1;
        // Rank q (1-based) now holds rows[q - 1] and held rows[q] (the old row there, shifted down by one).
        long last = Math.Min(before, rankEnd);
        for (long rank = position + 1; rank <= last; rank++)
        {
            if (rank < rankStart) continue;
            collector.Collect(output(rows[(int)rank], rank), ts, RowKind.UpdateBefore);
            collector.Collect(output(rows[(int)rank - 1], rank), ts, RowKind.UpdateAfter);
        }
        if (before + 1 <= rankEnd && before + 1 >= rankStart) collector.Collect(output(rows[before], before + 1), ts, RowKind.Insert);
        if (rows.Count > rankEnd) rows.RemoveRange((int)rankEnd, rows.Count - (int)rankEnd);
    }

    /// <summary>The index after every row that sorts before or equal to <paramref name="value"/>.</summary>
    private int UpperBound(List<TIn> rows, TIn value)
    {
        int lo = 0, hi = rows.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (compare(rows[mid], value) <= 0) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }
}
