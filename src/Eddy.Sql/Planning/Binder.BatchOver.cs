using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Over;

namespace Eddy.Sql.Planning;

// OVER in batch mode (Flink's BatchExecOverAggregate): every partition sorted by any ORDER BY, the ranking and offset
// functions Flink's streaming planner refuses (LEAD, NTILE, CUME_DIST, PERCENT_RANK), FIRST_VALUE / LAST_VALUE and
// frames that end after the current row.
public sealed partial class Binder
{
    private (LogicalPlan, Scope) BindBatchOverSelect(SelectQuery s, LogicalPlan input, Scope scope, WindowedInput? windowed)
    {
        var calls = s.Items.OfType<SelectExpr>().SelectMany(i => OverCalls(i.Expression)).ToList();
        if (windowed is not null) throw Error(calls[0], "OVER aggregates over a window table function are not supported by Eddy yet");
        RefuseUpdatingOverInput(input, calls[0]);
        if (s.GroupBy.Count > 0 || s.Items.OfType<SelectExpr>().Any(i => ContainsAggregate(i.Expression)))
            throw Error(calls[0], "OVER aggregates in a grouped query are not supported by Eddy yet");
        if (s.Having is not null) throw Error(s.Having, "HAVING needs GROUP BY or an aggregate");

        IReadOnlyList<BoundExpr>? keys = null;
        IReadOnlyList<BatchOverOrder>? order = null;
        BatchOverFrame? frame = null;
        WindowSpec? frameSite = null;
        var functions = new List<BatchOverCall>();
        var aggregates = new List<AggregateCall>();
        var columns = new Dictionary<FunctionCall, BoundExpr>(ReferenceEqualityComparer.Instance);
        var schemaColumns = input.Schema.Columns.ToList();
        foreach (var call in calls)
        {
            var spec = ResolveWindow(call.Over!, s);
            var callKeys = spec.PartitionBy.Select(p =>
            {
                var bound = Bind(p, scope);
                return bound is IntervalExpr ? throw Error(p, "cannot partition by an INTERVAL") : bound;
            }).ToList();
            var callOrder = spec.OrderBy.Select(o =>
            {
                var bound = Bind(o.Expression, scope);
                if (bound is IntervalExpr) throw Error(o, "cannot order by an INTERVAL");
                // Flink orders NULL as the smallest value: first when ascending, last when descending.
                bool nullsFirst = o.Nulls == NullOrdering.First || (o.Nulls == NullOrdering.Default && !o.Descending);
                return new BatchOverOrder(bound, o.Descending, nullsFirst);
            }).ToList();
            if (keys is null)
            {
                keys = callKeys;
                order = callOrder;
            }
            else if (!keys.SequenceEqual(callKeys) || !order!.SequenceEqual(callOrder))
            {
                throw Error(call, "all OVER functions of a query must use the same PARTITION BY and ORDER BY in Eddy (several windows are not supported yet)");
            }
            var function = BindBatchOverCall(call, scope, spec, callOrder.Count > 0, aggregates);
            if (function.Kind == BatchOverKind.Aggregate)
            {
                var callFrame = BindBatchFrame(spec, callOrder, scope);
                if (frame is null)
                {
                    frame = callFrame;
                    frameSite = spec;
                }
                else if (frame != callFrame)
                {
                    throw Error(call, "all OVER aggregates of a query must use the same frame in Eddy (several frames are not supported yet)");
                }
            }
            int column = schemaColumns.Count;
            columns[call] = function.Kind == BatchOverKind.Aggregate
                ? AggregateValue(aggregates[function.Aggregate], new InputRef(column, $"$over{functions.Count}", function.Type))
                : new InputRef(column, $"$over{functions.Count}", function.Type);
            schemaColumns.Add(new Column($"$over{functions.Count}", function.Type));
            functions.Add(function);
        }
        var over = new BatchOverPlan(input, keys!, order!, frame, functions, aggregates, new Schema(schemaColumns.ToArray()));

        var outer = overColumns;
        overColumns = columns;
        try
        {
            var (projections, names) = BindSelectItems(s.Items, scope, null);
            var output = MakeSchema(projections, names);
            LogicalPlan plan = new CalcPlan(over, projections, null, output, null);
            if (s.Distinct) plan = Distinct(plan, s);
            return (plan, Scope.Of(output, null));
        }
        finally
        {
            overColumns = outer;
        }
    }

    private BatchOverCall BindBatchOverCall(FunctionCall call, Scope scope, WindowSpec spec, bool ordered, List<AggregateCall> aggregates)
    {
        string name = call.UpperName;
        if (name is "ROW_NUMBER" or "RANK" or "DENSE_RANK" or "PERCENT_RANK" or "CUME_DIST" or "NTILE" or "LAG" or "LEAD")
        {
            if (spec.Frame is not null) throw Error(spec.Frame, $"ROW/RANGE not allowed with {name}");
            if (!ordered) throw Error(spec, $"{name} needs an ORDER BY in its window");
            if (call.Distinct || call.Star) throw Error(call, $"{name} takes no DISTINCT or *");
            if (call.Filter is not null) throw Error(call.Filter, $"FILTER on {name} is not valid");
        }
        switch (name)
        {
            case "ROW_NUMBER" or "RANK" or "DENSE_RANK" or "PERCENT_RANK" or "CUME_DIST":
            {
                if (call.Arguments.Count > 0) throw Error(call, $"{name} takes no arguments");
                var kind = name switch
                {
                    "ROW_NUMBER" => BatchOverKind.RowNumber,
                    "RANK" => BatchOverKind.Rank,
                    "DENSE_RANK" => BatchOverKind.DenseRank,
                    "PERCENT_RANK" => BatchOverKind.PercentRank,
                    _ => BatchOverKind.CumeDist,
                };
                var type = kind is BatchOverKind.PercentRank or BatchOverKind.CumeDist ? DataType.Double.NotNull() : DataType.BigInt.NotNull();
                return new BatchOverCall(kind, type);
            }
            case "NTILE":
            {
                if (call.Arguments.Count != 1) throw Error(call, "NTILE takes the number of buckets");
                if (call.Arguments[0] is not NumericLiteral { Kind: NumericKind.Integer } n || !long.TryParse(n.Text, out long buckets) || buckets <= 0)
                    throw Error(call.Arguments[0], "NTILE's number of buckets must be a positive integer literal in Eddy");
                return new BatchOverCall(BatchOverKind.Ntile, DataType.BigInt.NotNull()) { Offset = buckets };
            }
            case "LAG" or "LEAD":
            {
                // The same arguments and rules as the streaming LAG (Flink's LagAggFunction; LEAD mirrors it).
                var lag = BindLag(call, scope);
                return new BatchOverCall(name == "LAG" ? BatchOverKind.Lag : BatchOverKind.Lead, lag.Type)
                {
                    Value = lag.Argument,
                    Default = lag.Second,
                    Offset = lag.Offset,
                };
            }
        }
        if (!IsAggregate(call with { Over = null })) throw Error(call, $"{name} is not an aggregate function and cannot be used with OVER");
        if (call.Distinct) throw Error(call, $"{name}(DISTINCT ...) OVER is not supported by Eddy yet");
        if (call.Filter is not null) throw Error(call.Filter, $"FILTER on the OVER aggregate {name} is not supported by Eddy yet");
        if (IsVarianceFunction(name)) throw Error(call, $"{name} in an OVER window is not supported by Eddy yet");
        var aggregate = BindAggregate(call with { Over = null }, scope);
        if (name is "JSON_ARRAYAGG" or "JSON_OBJECTAGG")
            throw Error(call, $"{name} in an OVER window is not supported (as in Flink: \"This function is currently not supported in OVER windows, unbounded session windows, or hop windows.\")");
        if (aggregate.Kind is not (AggregateKind.Count or AggregateKind.CountStar or AggregateKind.Sum or AggregateKind.Avg or AggregateKind.Min
            or AggregateKind.Max or AggregateKind.FirstValue or AggregateKind.LastValue or AggregateKind.ArrayAgg or AggregateKind.Percentile
            or AggregateKind.ListAgg))
            throw Error(call, $"{name} in an OVER window is not supported by Eddy yet (COUNT, SUM, AVG, MIN, MAX, FIRST_VALUE, LAST_VALUE, LISTAGG, ARRAY_AGG and PERCENTILE are)");
        aggregates.Add(aggregate);
        return new BatchOverCall(BatchOverKind.Aggregate, aggregate.Type) { Aggregate = aggregates.Count - 1 };
    }

    /// <summary>
    /// The frame of the aggregates: ROWS with n PRECEDING / FOLLOWING, CURRENT ROW and UNBOUNDED bounds; RANGE with
    /// UNBOUNDED and CURRENT ROW (the row's peers). Without a frame: RANGE UNBOUNDED PRECEDING to CURRENT ROW when
    /// ordered, the whole partition when not (SQL's defaults).
    /// </summary>
    private BatchOverFrame BindBatchFrame(WindowSpec spec, IReadOnlyList<BatchOverOrder> order, Scope scope)
    {
        bool ordered = order.Count > 0;
        if (spec.Frame is not { } frame)
            return ordered ? new BatchOverFrame(false, null, 0) : new BatchOverFrame(false, null, null);
        bool rows = frame.Unit == FrameUnit.Rows;
        decimal? startValue = null, endValue = null;
        long? Bound(FrameBound b, bool isEnd)
        {
            if (!rows && b.Kind is FrameBoundKind.Preceding or FrameBoundKind.Following)
            {
                decimal distance = RangeDistance(b, order, scope);
                if (isEnd) endValue = b.Kind == FrameBoundKind.Preceding ? -distance : distance;
                else startValue = b.Kind == FrameBoundKind.Preceding ? -distance : distance;
                return 0;
            }
            switch (b.Kind)
            {
                case FrameBoundKind.UnboundedPreceding when !isEnd:
                case FrameBoundKind.UnboundedFollowing when isEnd:
                    return null;
                case FrameBoundKind.CurrentRow:
                    return 0;
                case FrameBoundKind.Preceding or FrameBoundKind.Following when rows:
                {
                    if (b.Offset is not NumericLiteral { Kind: NumericKind.Integer } n || !long.TryParse(n.Text, out long count))
                        throw Error(b.Offset ?? (SqlNode)b, "ROWS n PRECEDING / FOLLOWING takes a whole number of rows");
                    return b.Kind == FrameBoundKind.Preceding ? -count : count;
                }
                default:
                    throw Error(b, isEnd ? "a frame cannot end at UNBOUNDED PRECEDING" : "a frame cannot start at UNBOUNDED FOLLOWING");
            }
        }
        var start = Bound(frame.Start, false);
        var end = frame.End is null ? 0 : Bound(frame.End, true);
        if (start is { } s0 && end is { } e0 && s0 > e0 && rows) throw Error(frame, "the frame starts after it ends");
        if (!ordered && !rows && (start is not null || end is not null))
            throw Error(frame, "RANGE with CURRENT ROW needs an ORDER BY in the window");
        return new BatchOverFrame(rows, start, end) { StartValue = startValue, EndValue = endValue };
    }

    /// <summary>
    /// RANGE n PRECEDING / FOLLOWING over the one ORDER BY value: an integer or DECIMAL value takes a numeric literal,
    /// a TIMESTAMP a day-time INTERVAL (in milliseconds).
    /// </summary>
    private decimal RangeDistance(FrameBound b, IReadOnlyList<BatchOverOrder> order, Scope scope)
    {
        if (order.Count != 1) throw Error(b, "RANGE n PRECEDING / FOLLOWING needs exactly one ORDER BY expression");
        var key = order[0].Expression.Type;
        var offset = b.Offset ?? throw Error(b, "RANGE n PRECEDING / FOLLOWING needs a distance");
        if (key.Kind is TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt or TypeKind.Decimal)
        {
            if (offset is not NumericLiteral { Kind: NumericKind.Integer or NumericKind.Decimal } n)
                throw Error(offset, $"RANGE over a {key} ORDER BY takes a numeric literal distance");
            return decimal.Parse(n.Text, System.Globalization.NumberStyles.Number, System.Globalization.CultureInfo.InvariantCulture);
        }
        if (key.Kind is TypeKind.Timestamp or TypeKind.TimestampLtz)
        {
            return Bind(offset, scope) is IntervalExpr { Months: 0, Millis: >= 0 } interval ? interval.Millis
                : throw Error(offset, "RANGE over a TIMESTAMP ORDER BY takes a day-time INTERVAL distance");
        }
        throw Error(b, $"RANGE n PRECEDING / FOLLOWING over a {key} ORDER BY is not supported by Eddy yet (integers, DECIMAL and TIMESTAMP are)");
    }
}
