using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Over;

namespace Eddy.Sql.Planning;

// OVER window aggregates: SELECT agg(x) OVER (PARTITION BY ... ORDER BY time ...) and WINDOW w AS (...), as Flink's
// Over Aggregation: ORDER BY an ascending time attribute, frames from n or UNBOUNDED PRECEDING to CURRENT ROW, one
// window for all OVER aggregates of a query.
public sealed partial class Binder
{
    // The OVER calls of the SELECT being bound, each read as a column of its OverPlan (by reference: the same call
    // text twice is two calls of the syntax tree, both mapped).
    private Dictionary<FunctionCall, BoundExpr>? overColumns;

    private static readonly HashSet<string> RankingFunctions = new(StringComparer.OrdinalIgnoreCase)
    {
        "ROW_NUMBER", "RANK", "DENSE_RANK", "PERCENT_RANK", "CUME_DIST", "NTILE", "LAG", "LEAD", "NTH_VALUE",
    };

    private static bool HasOver(SelectQuery s) => s.Items.OfType<SelectExpr>().Any(i => OverCalls(i.Expression).Any());

    /// <summary>The OVER calls inside <paramref name="root"/>, left to right; iterative, as expressions may be thousands deep.</summary>
    private static List<FunctionCall> OverCalls(SqlNode root)
    {
        var calls = new List<FunctionCall>();
        var pending = new Stack<SqlNode>();
        pending.Push(root);
        while (pending.TryPop(out var node))
        {
            IEnumerable<SqlNode?> children = node switch
            {
                FunctionCall { Over: not null } f => AddAndStop(calls, f),
                FunctionCall f => f.Arguments,
                BinaryExpr b => [b.Left, b.Right],
                UnaryExpr u => [u.Operand],
                CastExpr c => [c.Operand],
                CaseExpr c => [c.Operand, .. c.Whens.SelectMany(w => new SqlNode[] { w.Condition, w.Result }), c.Else],
                IsExpr i => [i.Operand],
                BetweenExpr b => [b.Operand, b.Low, b.High],
                InListExpr i => [i.Operand, .. i.Values],
                RowConstructor r => r.Fields,
                JsonObjectExpr o => o.Entries.Select(e => e.Value),
                JsonArrayExpr a => a.Elements,
                OverlapsExpr o => [o.Left, o.Right],
                _ => [],
            };
            foreach (var child in children.Reverse())
                if (child is not null) pending.Push(child);
        }
        return calls;

        static SqlNode?[] AddAndStop(List<FunctionCall> calls, FunctionCall f)
        {
            calls.Add(f);
            return [];
        }
    }

    /// <summary>A SELECT with OVER aggregates: an <see cref="OverPlan"/> over the input, the select list above it.</summary>
    private (LogicalPlan, Scope) BindOverSelect(SelectQuery s, LogicalPlan input, Scope scope, WindowedInput? windowed)
    {
        var calls = s.Items.OfType<SelectExpr>().SelectMany(i => OverCalls(i.Expression)).ToList();
        if (windowed is not null) throw Error(calls[0], "OVER aggregates over a window table function are not supported by Eddy yet");
        RefuseUpdatingOverInput(input, calls[0]);
        if (s.GroupBy.Count > 0 || s.Items.OfType<SelectExpr>().Any(i => ContainsAggregate(i.Expression)))
            throw Error(calls[0], "OVER aggregates in a grouped query are not supported by Eddy yet");
        if (s.Having is not null) throw Error(s.Having, "HAVING needs GROUP BY or an aggregate");

        OverWindow? window = null;
        var aggregates = new List<AggregateCall>();
        var columns = new Dictionary<FunctionCall, BoundExpr>(ReferenceEqualityComparer.Instance);
        var schemaColumns = input.Schema.Columns.ToList();
        foreach (var call in calls)
        {
            var spec = ResolveWindow(call.Over!, s);
            var bound = BindOverWindow(spec, input, scope, call);
            if (call.UpperName is "ROW_NUMBER" or "RANK" or "DENSE_RANK" or "LAG")
            {
                // Calcite: ranking functions and LAG take no frame and see every row up to the current one (ROWS).
                if (spec.Frame is not null)
                    throw Error(spec.Frame, call.UpperName == "LAG" ? "ROW/RANGE not allowed with LAG (it reads the rows before the current one)"
                        : "ROW/RANGE not allowed with RANK, DENSE_RANK or ROW_NUMBER functions");
                bound = bound with { Rows = true, Preceding = null };
            }
            if (window is null) window = bound;
            else if (!SameWindow(window, bound))
                throw Error(call, "all OVER aggregates of a query must be computed on the same window (Flink: \"Over Agg: Unsupported use of OVER windows. "
                    + "All aggregates must be computed on the same window.\")");
            var aggregate = BindOverAggregate(call, scope, bound);
            columns[call] = AggregateValue(aggregate, new InputRef(schemaColumns.Count, $"$over{aggregates.Count}", aggregate.Type));
            schemaColumns.Add(new Column($"$over{aggregates.Count}", aggregate.Type));
            aggregates.Add(aggregate);
        }
        long ttl = batchMode ? 0 : StateTtlMs;
        if (ttl > 0 && window!.ProcessingTime && window.Preceding is null
            && aggregates.FirstOrDefault(a => a.Distinct || a.Kind is not (AggregateKind.Count or AggregateKind.CountStar or AggregateKind.Sum
                or AggregateKind.Avg or AggregateKind.Min or AggregateKind.Max or AggregateKind.FirstValue or AggregateKind.LastValue
                or AggregateKind.ListAgg or AggregateKind.WelfordM2 or AggregateKind.RowNumber or AggregateKind.Rank or AggregateKind.DenseRank)) is { } view)
        {
            // ProcTimeUnboundedPrecedingFunction gives its accumulator the TTL but opens the aggregates' data views
            // (DISTINCT, ARRAY_AGG, the JSON aggregates, PERCENTILE, LAG, user aggregates) without it: they outlive it.
            throw Error(calls[0], $"'table.exec.state.ttl' is set, but Eddy does not expire the state of {view} in an unbounded OVER on processing time: "
                + "Flink expires its accumulator but keeps that aggregate's data view, which Eddy does not reproduce; remove the option (or set it to 0) to keep that state");
        }
        var over = new OverPlan(input, window!, aggregates, new Schema(schemaColumns.ToArray())) { StateTtlMs = ttl };

        var outer = overColumns;
        overColumns = columns;
        try
        {
            var (projections, names) = BindSelectItems(s.Items, scope, null);
            var output = MakeSchema(projections, names);
            LogicalPlan plan = new CalcPlan(over, projections, null, output, RowtimeAfter(projections, over.Rowtime));
            if (s.Distinct) plan = Distinct(plan, s);
            return (plan, Scope.Of(output, null));
        }
        finally
        {
            overColumns = outer;
        }
    }

    /// <summary>
    /// Flink's over aggregation reads only inserts ("OverAggregate doesn't support consuming update and delete
    /// changes"); taking -U/-D rows as rows would give wrong answers, so an updating input is refused.
    /// </summary>
    private void RefuseUpdatingOverInput(LogicalPlan input, FunctionCall at)
    {
        if (input.IsUpdating)
            throw Error(at, "OVER over an updating input (a changelog such as upsert-kafka or a non-windowed GROUP BY) is not supported "
                + "(as in Flink: \"OverAggregate doesn't support consuming update and delete changes\")");
    }

    /// <summary>The column an OVER call reads in the SELECT list being bound; elsewhere OVER is refused.</summary>
    private BoundExpr BindOverCall(FunctionCall call) =>
        overColumns is not null && overColumns.TryGetValue(call, out var column) ? column
            : throw Error(call, "OVER aggregates are supported only in the SELECT list");

    private WindowSpec ResolveWindow(WindowSpec spec, SelectQuery s)
    {
        if (spec.BaseWindow is not { } name) return spec;
        if (spec.PartitionBy.Count > 0 || spec.OrderBy.Count > 0 || spec.Frame is not null)
            throw Error(spec, $"extending the named window '{name.Value}' is not supported by Eddy yet");
        var named = s.Windows.FirstOrDefault(w => string.Equals(w.Name.Value, name.Value, StringComparison.OrdinalIgnoreCase))
            ?? throw Error(name, $"unknown window '{name.Value}'" + SqlErrors.Suggest(name.Value, s.Windows.Select(w => w.Name.Value)));
        if (named.Spec.BaseWindow is not null) throw Error(named.Spec, "a named window based on another window is not supported by Eddy yet");
        return named.Spec;
    }

    private OverWindow BindOverWindow(WindowSpec spec, LogicalPlan input, Scope scope, FunctionCall call)
    {
        var keys = spec.PartitionBy.Select(p => Bind(p, scope)).ToList();
        if (spec.OrderBy.Count == 0) throw Error(spec, "an OVER window needs ORDER BY a time attribute (Flink orders OVER windows by time)");
        if (spec.OrderBy.Count > 1) throw Error(spec.OrderBy[1], "an OVER window can only be ordered by a single time attribute");
        var order = spec.OrderBy[0];
        if (order.Descending) throw Error(order, "an OVER window can only be ordered in ASCENDING mode");
        var orderBy = Bind(order.Expression, scope);
        bool eventTime = orderBy is InputRef r && r.Index == input.Rowtime;
        bool processingTime = orderBy is InputRef p && p.Index == input.Proctime;
        if (!eventTime && !processingTime)
            throw Error(order.Expression, "OVER windows' ordering in stream mode must be defined on a time attribute (a WATERMARK column or PROCTIME())");
        var frame = spec.Frame;
        bool rows = frame?.Unit == FrameUnit.Rows;
        if (frame?.End is { } end && end.Kind != FrameBoundKind.CurrentRow)
            throw Error(end, "an OVER window must end at CURRENT ROW (FOLLOWING is not supported, as in Flink)");
        long? preceding = null;
        if (frame is not null)
        {
            var start = frame.Start;
            switch (start.Kind)
            {
                case FrameBoundKind.UnboundedPreceding:
                    break;
                case FrameBoundKind.CurrentRow:
                    preceding = 0;
                    break;
                case FrameBoundKind.Preceding when rows:
                    preceding = start.Offset is NumericLiteral { Kind: NumericKind.Integer } ? LongLiteral(start.Offset)
                        : throw Error(start.Offset ?? (SqlNode)start, "ROWS n PRECEDING takes a whole number of rows");
                    break;
                case FrameBoundKind.Preceding:
                    preceding = start.Offset is not null && Bind(start.Offset, scope) is IntervalExpr { Months: 0, Millis: >= 0 } interval ? interval.Millis
                        : throw Error(start.Offset ?? (SqlNode)start, "RANGE n PRECEDING over a time attribute takes a day-time INTERVAL");
                    break;
                default:
                    throw Error(start, "an OVER window must start at n PRECEDING or UNBOUNDED PRECEDING");
            }
        }
        return new OverWindow(keys, ((InputRef)orderBy).Index, processingTime, rows, preceding);
    }

    private static bool SameWindow(OverWindow a, OverWindow b) =>
        a.PartitionKeys.SequenceEqual(b.PartitionKeys) && a.OrderColumn == b.OrderColumn && a.ProcessingTime == b.ProcessingTime
        && a.Rows == b.Rows && a.Preceding == b.Preceding;

    /// <summary>
    /// LAG(value [, offset [, default]]) as Flink's LagAggFunction: the value <c>offset</c> rows (1 when not written)
    /// before the current row of the partition, or the current row's default (NULL when not written) before there
    /// are that many rows.
    /// </summary>
    private AggregateCall BindLag(FunctionCall call, Scope scope)
    {
        if (call.Star || call.Arguments.Count is 0 or > 3) throw Error(call, "LAG takes (value [, offset [, default]])");
        if (call.Distinct) throw Error(call, "LAG(DISTINCT ...) is not valid");
        if (call.Filter is not null) throw Error(call.Filter, "FILTER on LAG is not supported by Eddy yet");
        var value = Bind(call.Arguments[0], scope);
        if (value.Type.Kind == TypeKind.Null) throw Error(call.Arguments[0], "LAG of an untyped NULL: CAST it to a type");
        int offset = 1;
        if (call.Arguments.Count >= 2)
        {
            var o = call.Arguments[1];
            if (o is UnaryExpr { Operator: UnaryOperator.Negate, Operand: NumericLiteral { Kind: NumericKind.Integer } negative })
                throw Error(o, $"Offset(-{negative.Text}) should be positive.");
            if (o is not NumericLiteral { Kind: NumericKind.Integer } literal || !int.TryParse(literal.Text, out offset))
                throw Error(o, "LAG's offset must be an integer literal in Eddy");
            // Eddy keeps the last offset + 1 values of each partition in an array made with the partition's state.
            if (offset > 100_000) throw Error(o, "a LAG offset above 100000 is not supported by Eddy");
        }
        BoundExpr? fallback = null;
        if (call.Arguments.Count == 3)
        {
            var d = Bind(call.Arguments[2], scope);
            if (d.Type.Kind == TypeKind.Null) fallback = null;
            else if (d.Type.Kind == value.Type.Kind && (d.Type.Kind != TypeKind.Decimal || d.Type.Scale == value.Type.Scale)) fallback = d;
            else if (d.Type.IsNumeric && value.Type.IsNumeric && d is Literal) fallback = CastIfNeeded(d, value.Type);
            else throw Error(call.Arguments[2], $"Please explicitly cast default value {d.Type} to {value.Type}.");
        }
        bool nullable = value.Type.Nullable || fallback is null || fallback.Type.Nullable;
        return new AggregateCall(AggregateKind.Lag, value, false, null, value.Type with { Nullable = nullable }, call.ToSql())
        {
            Second = fallback,
            Offset = offset,
        };
    }

    private AggregateCall BindOverAggregate(FunctionCall call, Scope scope, OverWindow window)
    {
        string name = call.UpperName;
        if (name is "ROW_NUMBER" or "RANK" or "DENSE_RANK")
        {
            if (call.Arguments.Count > 0 || call.Star) throw Error(call, $"{name} takes no arguments");
            if (name != "ROW_NUMBER" && window.ProcessingTime)
                throw Error(call, $"{name} over a processing-time order is not supported by Eddy (ties would depend on the clock)");
            var kind = name switch { "ROW_NUMBER" => AggregateKind.RowNumber, "RANK" => AggregateKind.Rank, _ => AggregateKind.DenseRank };
            var orderKey = new InputRef(window.OrderColumn, scope.Columns[window.OrderColumn].Name, scope.Columns[window.OrderColumn].Type);
            return new AggregateCall(kind, kind == AggregateKind.RowNumber ? null : orderKey, false, null, DataType.BigInt.NotNull(), call.ToSql());
        }
        // Flink's streaming planner has no CUME_DIST, PERCENT_RANK, NTILE or LEAD over aggregate (AggFunctionFactory).
        if (name is "CUME_DIST" or "PERCENT_RANK" or "NTILE" or "LEAD")
            throw Error(call, $"{name} is not supported in stream mode (as in Flink: \"{name} Function is not supported in stream mode.\")");
        if (name == "LAG") return BindLag(call, scope);
        if (RankingFunctions.Contains(name))
        {
            throw Error(call, $"{name} OVER is not supported by Eddy yet (ROW_NUMBER, RANK, DENSE_RANK and LAG are)");
        }
        if (!IsAggregate(call with { Over = null })) throw Error(call, $"{name} is not an aggregate function and cannot be used with OVER");
        if (name is "JSON_ARRAYAGG" or "JSON_OBJECTAGG")
            throw Error(call, $"{name} in an OVER window is not supported (as in Flink: \"This function is currently not supported in OVER windows, unbounded session windows, or hop windows.\")");
        if (IsVarianceFunction(name)) throw Error(call, $"{name} in an OVER window is not supported by Eddy yet");
        if (call.Distinct) throw Error(call, $"{name}(DISTINCT ...) OVER is not supported by Eddy yet");
        if (call.Filter is not null) throw Error(call.Filter, $"FILTER on the OVER aggregate {name} is not supported by Eddy yet");
        var aggregate = BindAggregate(call with { Over = null }, scope);
        if (aggregate.Kind is not (AggregateKind.Count or AggregateKind.CountStar or AggregateKind.Sum or AggregateKind.Avg or AggregateKind.Min
            or AggregateKind.Max or AggregateKind.ArrayAgg or AggregateKind.Percentile or AggregateKind.FirstValue or AggregateKind.LastValue
            or AggregateKind.ListAgg))
            throw Error(call, $"{name} in an OVER window is not supported by Eddy yet (COUNT, SUM, AVG, MIN, MAX, FIRST_VALUE, LAST_VALUE, LISTAGG, ARRAY_AGG and PERCENTILE are)");
        return aggregate;
    }
}
