using Eddy.Runtime;
using Eddy.Sql.Codegen;

namespace Eddy.Sql.Plan.Over;

/// <summary>An ORDER BY key of a batch OVER window: its value, direction and where NULLs go.</summary>
public sealed record BatchOverKey<TIn>(Func<TIn, object?> Get, bool Descending, bool NullsFirst);

/// <summary>
/// Batch OVER, as Flink's batch over aggregation: each key's rows are kept until the end of the input (a timer at the
/// end of time, which the final watermark fires), then sorted by the ORDER BY (ties keep arrival order) and emitted
/// once each with its functions: ROW_NUMBER, RANK, DENSE_RANK, PERCENT_RANK ((rank - 1) / (n - 1), 0 for one row),
/// CUME_DIST (rows up to the last peer / n), NTILE (the first n mod b buckets one row larger), LAG / LEAD (the row
/// offset back / ahead, else the current row's default) and aggregates over the frame. A frame that starts unbounded
/// is accumulated as it grows; any other is accumulated per row.
/// </summary>
public sealed class BatchOverFunction<TIn, TKey, TAcc, TOut>(
    BatchOverKey<TIn>[] order,
    BatchOverCall[] functions,
    Func<TIn, object?>?[] values,
    Func<TIn, object?>?[] defaults,
    CompiledAggregate<TIn, TAcc> aggregate,
    Func<TAcc, object?>[] results,
    BatchOverFrame? frame,
    Func<TIn, object?[], TOut> output) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, List<TIn>>? state;

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<List<TIn>>("rows");
    }

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var rows = state!.Value;
        if (rows is null)
        {
            state.Value = rows = [];
            context.RegisterEventTimeTimer(long.MaxValue);
        }
        rows.Add(value);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> collector)
    {
        var rows = state!.Value;
        if (rows is null) return;
        state.Clear();
        int n = rows.Count;
        var keys = new object?[n][];
        for (int i = 0; i < n; i++)
        {
            var key = new object?[order.Length];
            for (int o = 0; o < order.Length; o++) key[o] = order[o].Get(rows[i]);
            keys[i] = key;
        }
        var index = new int[n];
        for (int i = 0; i < n; i++) index[i] = i;
        // Ties keep arrival order: the original position decides last.
        Array.Sort(index, (a, b) =>
        {
            int c = Compare(keys[a], keys[b]);
            return c != 0 ? c : a.CompareTo(b);
        });

        // Peer groups: rows with equal ORDER BY values (without ORDER BY, the whole partition).
        var peerStart = new int[n];
        var peerEnd = new int[n];
        var dense = new long[n];
        for (int i = 0, group = 0; i < n;)
        {
            int j = i + 1;
            while (j < n && Compare(keys[index[i]], keys[index[j]]) == 0) j++;
            group++;
            for (int p = i; p < j; p++)
            {
                peerStart[p] = i;
                peerEnd[p] = j - 1;
                dense[p] = group;
            }
            i = j;
        }

        // RANGE n PRECEDING / FOLLOWING: each row's first and last row whose ORDER BY value is within the distances.
        long[]? valueLo = null, valueHi = null;
        if (frame is { Rows: false } f0 && (f0.StartValue is not null || f0.EndValue is not null))
            (valueLo, valueHi) = ValueBounds(keys, index, n, peerStart, peerEnd);

        TAcc running = aggregate.CreateAccumulator();
        int added = 0;
        for (int i = 0; i < n; i++)
        {
            var row = rows[index[i]];
            var fields = new object?[functions.Length];
            TAcc acc = default!;
            bool accReady = false;
            for (int f = 0; f < functions.Length; f++)
            {
                var function = functions[f];
                switch (function.Kind)
                {
                    case BatchOverKind.RowNumber:
                        fields[f] = (long)(i + 1);
                        break;
                    case BatchOverKind.Rank:
                        fields[f] = (long)(peerStart[i] + 1);
                        break;
                    case BatchOverKind.DenseRank:
                        fields[f] = dense[i];
                        break;
                    case BatchOverKind.PercentRank:
                        fields[f] = n == 1 ? 0.0 : (double)peerStart[i] / (n - 1);
                        break;
                    case BatchOverKind.CumeDist:
                        fields[f] = (double)(peerEnd[i] + 1) / n;
                        break;
                    case BatchOverKind.Ntile:
                        fields[f] = Ntile(i, n, function.Offset);
                        break;
                    case BatchOverKind.Lag or BatchOverKind.Lead:
                    {
                        long j = function.Kind == BatchOverKind.Lag ? i - function.Offset : i + function.Offset;
                        fields[f] = j >= 0 && j < n ? values[f]!(rows[index[j]]) : defaults[f]?.Invoke(row);
                        break;
                    }
                    default:
                        if (!accReady)
                        {
                            acc = FrameAccumulator(rows, index, i, n, peerStart, peerEnd, valueLo, valueHi, ref running, ref added);
                            accReady = true;
                        }
                        fields[f] = results[function.Aggregate](acc);
                        break;
                }
            }
            collector.Collect(output(row, fields));
        }
    }

    /// <summary>The accumulator of the current row's frame.</summary>
    private TAcc FrameAccumulator(List<TIn> rows, int[] index, int i, int n, int[] peerStart, int[] peerEnd, long[]? valueLo, long[]? valueHi,
        ref TAcc running, ref int added)
    {
        var (lo, hi) = Bounds(i, n, peerStart, peerEnd);
        if (frame!.StartValue is not null) lo = valueLo![i];
        if (frame.EndValue is not null) hi = valueHi![i];
        if (frame!.Start is null)
        {
            // The frame only grows: add the rows that entered it.
            while (added <= hi)
            {
                running = aggregate.Add(rows[index[added]], running);
                added++;
            }
            return running;
        }
        var acc = aggregate.CreateAccumulator();
        for (long j = Math.Max(lo, 0); j <= Math.Min(hi, n - 1); j++) acc = aggregate.Add(rows[index[j]], acc);
        return acc;
    }

    private (long Lo, long Hi) Bounds(int i, int n, int[] peerStart, int[] peerEnd)
    {
        var f = frame!;
        long lo = f.Start switch
        {
            null => 0,
            { } s when f.Rows => i + s,
            _ => peerStart[i],
        };
        long hi = f.End switch
        {
            null => n - 1,
            { } e when f.Rows => i + e,
            _ => peerEnd[i],
        };
        return (lo, Math.Min(hi, n - 1));
    }

    /// <summary>
    /// For RANGE with distances: per sorted row, the first row at or after the start distance and the last row at or
    /// before the end distance, measured in the sort's direction. NULL values are their own peers only (they are at
    /// one end of the sort). The order value only grows along the sort, so both ends only move forward.
    /// </summary>
    private (long[] Lo, long[] Hi) ValueBounds(object?[][] keys, int[] index, int n, int[] peerStart, int[] peerEnd)
    {
        var lo = new long[n];
        var hi = new long[n];
        var f = frame!;
        decimal sign = order[0].Descending ? -1 : 1;
        var values = new decimal?[n];
        for (int i = 0; i < n; i++) values[i] = OrderValue(keys[index[i]][0]);
        int a = 0, b = 0;
        for (int i = 0; i < n; i++)
        {
            if (values[i] is not { } v)
            {
                lo[i] = f.Start is null ? 0 : peerStart[i];
                hi[i] = f.End is null ? n - 1 : peerEnd[i];
                continue;
            }
            // Position of a value along the sort: sign * (value - v); the frame is [StartValue, EndValue] there.
            decimal? Along(int j) => values[j] is { } w ? sign * (w - v) : null;
            if (f.StartValue is { } sv)
            {
                while (a < n && (Along(a) is not { } x ? a < i : x < sv)) a++;
                lo[i] = a;
            }
            if (f.EndValue is { } ev)
            {
                while (b < n && (Along(b) is not { } y ? b < i : y <= ev)) b++;
                hi[i] = b - 1;
            }
        }
        return (lo, hi);
    }

    private static decimal? OrderValue(object? key) => key switch
    {
        null => null,
        DateTime t => t.Ticks / TimeSpan.TicksPerMillisecond,
        DateTimeOffset t => t.UtcTicks / TimeSpan.TicksPerMillisecond,
        decimal d => d,
        IConvertible c => c.ToDecimal(System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException($"an ORDER BY value of type {key.GetType().Name} has no distance"),
    };

    private static long Ntile(int i, int n, long buckets)
    {
        long size = n / buckets;
        long larger = n % buckets;
        long inLarger = larger * (size + 1);
        return i < inLarger ? i / (size + 1) + 1 : (i - inLarger) / size + larger + 1;
    }

    private int Compare(object?[] x, object?[] y)
    {
        for (int o = 0; o < order.Length; o++)
        {
            var a = x[o];
            var b = y[o];
            int c;
            if (a is null || b is null) c = a is null && b is null ? 0 : (a is null) == order[o].NullsFirst ? -1 : 1;
            else
            {
                c = a is string sa ? string.CompareOrdinal(sa, (string)b) : Comparer<object>.Default.Compare(a, b);
                if (order[o].Descending) c = -c;
            }
            if (c != 0) return c;
        }
        return 0;
    }
}
