using System.Globalization;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Plan.Scan;

namespace Eddy.Sql.Planning;

// Top-N and deduplication: SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY k ORDER BY c) AS rn FROM t)
// WHERE rn <= N, recognised as Flink's FlinkLogicalRankRule and RankUtil.canConvertToDeduplicate do.
public sealed partial class Binder
{
    // Derived tables already bound as a rank (by reference); BindQuery takes them from here.
    private readonly Dictionary<QueryExpr, (LogicalPlan Plan, Scope Scope)> boundRanks = new(ReferenceEqualityComparer.Instance);

    private bool TryTakeBoundRank(QueryExpr query, out (LogicalPlan Plan, Scope Scope) bound) => boundRanks.TryGetValue(query, out bound);

    /// <summary>
    /// The outer SELECT of a Top-N: its FROM is a subquery whose select list has <c>ROW_NUMBER() OVER (...)</c>, and
    /// its WHERE bounds that column. The bounds become the rank range, the rest of the WHERE stays a filter above, and
    /// the row number is an output column only when the outer query reads it (Flink's "no ranking output").
    /// </summary>
    private (LogicalPlan, Scope)? TryBindRank(SelectQuery outer)
    {
        // In the statement's outermost query nothing can filter the number: an OVER aggregate, as Flink plans it. In
        // a derived table an outer filter would make it a Top-N for Flink, which Eddy recognises only in FROM.
        if (derivedDepth > 0
            && outer.Items.OfType<SelectExpr>().FirstOrDefault(i => i.Expression is FunctionCall { Over: not null, UpperName: "ROW_NUMBER" or "RANK" or "DENSE_RANK" })
            is { Expression: FunctionCall misplaced })
        {
            throw Error(misplaced, $"{misplaced.UpperName}() OVER (...) is supported only as Top-N or deduplication: SELECT ... FROM (SELECT ..., "
                + "ROW_NUMBER() OVER (PARTITION BY k ORDER BY c) AS rn FROM t) WHERE rn <= N, or in the outermost query as an OVER aggregate");
        }
        if (outer.From is not SubqueryRef { Lateral: false, Query: SelectQuery inner } sub || boundRanks.ContainsKey(inner)) return null;
        var overItems = inner.Items.Select((item, index) => (item, index))
            .Where(x => x.item is SelectExpr { Expression: FunctionCall { Over: not null } }).ToList();
        if (overItems.Count == 0) return null;
        var (rankItem, rankIndex) = overItems[0];
        var select = (SelectExpr)rankItem;
        var call = (FunctionCall)select.Expression;
        if (call.UpperName is "RANK" or "DENSE_RANK" && !batchMode)
        {
            throw Error(call, $"{call.UpperName}() Top-N on a streaming table is not supported: Flink refuses it too (\"{call.UpperName}() on streaming table is not "
                + "supported currently\"; its window Top-N takes only ROW_NUMBER() as well); use ROW_NUMBER(), or batch mode");
        }
        var function = call.UpperName switch { "RANK" => RankFunction.Rank, "DENSE_RANK" => RankFunction.DenseRank, _ => RankFunction.RowNumber };
        if (call.UpperName is not ("ROW_NUMBER" or "RANK" or "DENSE_RANK")) throw Error(call, "OVER window aggregates are not supported by Eddy yet");
        if (overItems.Count > 1) throw Error(overItems[1].item, "a Top-N query takes one ROW_NUMBER() OVER (...) (Eddy supports no other OVER window)");
        var over = call.Over!;
        if (call.Arguments.Count > 0) throw Error(call, $"{call.UpperName}() takes no arguments");
        if (over.BaseWindow is not null) throw Error(over, "named OVER windows are not supported by Eddy yet");
        if (over.Frame is not null) throw Error(over.Frame, $"{call.UpperName}() takes no window frame (ROWS/RANGE)");
        if (over.OrderBy.Count == 0) throw Error(over, $"{call.UpperName}() OVER (...) needs ORDER BY: it numbers the rows of each partition in that order");
        if (select.Alias is null)
            throw Error(call, $"{call.UpperName}() OVER (...) needs a name that the outer query filters on: SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (...) AS rn FROM t) WHERE rn <= N");
        string rn = select.Alias.Value;
        string? qualifier = sub.Alias?.Value;

        var conjuncts = new List<Expr>();
        SplitConjuncts(outer.Where, conjuncts);
        long start = 1, end = long.MaxValue;
        var rest = new List<Expr>();
        foreach (var c in conjuncts)
        {
            if (RankBounds(c, rn, qualifier) is { } b)
            {
                start = Math.Max(start, b.Low);
                end = Math.Min(end, b.High);
            }
            else rest.Add(c);
        }
        if (end == long.MaxValue)
        {
            throw Error(outer.Where ?? (SqlNode)call, $"ROW_NUMBER() is supported as Top-N only: the outer WHERE must bound '{rn}' from above "
                + $"({rn} <= N, {rn} < N, {rn} = N or {rn} BETWEEN M AND N); a row number over all rows is an OVER aggregation, not supported by Eddy yet");
        }
        if (end < start) throw Error(outer.Where!, $"the conditions on '{rn}' keep no row (rank {start} to {end})");

        if (inner.GroupBy.Count > 0 || inner.Having is not null || inner.Items.OfType<SelectExpr>().Any(i => ContainsAggregate(i.Expression)))
            throw Error(call, "ROW_NUMBER() in a grouped query is not supported by Eddy yet: aggregate in a subquery and rank its rows");
        if (inner.Distinct) throw Error(inner, "SELECT DISTINCT with ROW_NUMBER() is not supported by Eddy yet");
        if (inner.Windows.Count > 0) throw Error(inner.Windows[0], "named OVER windows are not supported by Eddy yet");
        if (inner.From is null) throw Error(inner, "a SELECT without FROM is not supported: use VALUES");

        // A comma list in FROM joins on the WHERE's equalities (then WHERE is used up), as in a plain SELECT (Nexmark q9).
        var (input, scope, windowed, whereUsed) = BindFromWithWhere(inner.From, inner.Where, inner.Hints);
        // Window Top-N directly on a window TVF: its rows, with window_start/window_end to partition by.
        if (windowed is not null) input = WindowedRelation(windowed, inner.From);
        bool updatingInput = input.IsUpdating;
        if (inner.Where is not null && !whereUsed)
        {
            var filter = RequireBoolean(Bind(inner.Where, scope), inner.Where);
            input = new CalcPlan(input, input.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList(), filter, input.Schema, input.Rowtime);
        }

        var (before, beforeNames) = BindSelectItems(new NodeList<SelectItem>(inner.Items.Take(rankIndex).ToList()), scope, null);
        var (after, afterNames) = BindSelectItems(new NodeList<SelectItem>(inner.Items.Skip(rankIndex + 1).ToList()), scope, null);
        var projections = before.Concat(after).ToList();
        var names = beforeNames.Concat(afterNames).ToList();
        int items = projections.Count;
        int Column(BoundExpr e, string name)
        {
            int found = projections.IndexOf(e);
            if (found >= 0) return found;
            projections.Add(e);
            names.Add(name);
            return projections.Count - 1;
        }
        var partition = over.PartitionBy.Select((p, i) =>
        {
            var bound = Bind(p, scope);
            if (bound is IntervalExpr) throw Error(p, "cannot partition by an INTERVAL");
            return (Expr: p, Bound: bound);
        }).ToList();
        // Window Top-N: the partition has the window start and end of the window aggregation below.
        var windowProperties = partition.Select(p => p.Bound is InputRef r ? WindowProperty(input, r.Index) : null).ToList();
        bool windowRank = windowProperties.Any(w => w is { Property: 0 }) && windowProperties.Any(w => w is { Property: 1 });
        if (windowRank && windowProperties.First(w => w is not null)!.Value.Window.ProcessingTime)
            throw Error(over, "Window Top-N over a processing-time window aggregation is not supported by Eddy yet");
        var partitionColumns = partition.Select((p, i) => Column(p.Bound, p.Bound is InputRef r ? r.Name : $"$partition{i}")).ToList();
        var order = over.OrderBy.Select((o, i) =>
        {
            var bound = Bind(o.Expression, scope);
            if (bound is IntervalExpr) throw Error(o, "cannot order by an INTERVAL");
            bool nullsFirst = o.Nulls == NullOrdering.First || (o.Nulls == NullOrdering.Default && !o.Descending);
            return (Bound: bound, o.Descending, NullsFirst: nullsFirst);
        }).ToList();
        var orderColumns = order.Select((o, i) => (Column(o.Bound, o.Bound is InputRef r ? r.Name : $"$order{i}"), o.Descending, o.NullsFirst)).ToList();

        var preSchema = MakeSchema(projections, names);
        var pre = new CalcPlan(input, projections, null, preSchema, RowtimeAfter(projections, input.Rowtime));

        bool outputRank = Mentions(outer.Items, rn, qualifier) || rest.Any(r => Mentions(r, rn, qualifier))
            || outer.GroupBy.Any(g => Mentions(g, rn, qualifier)) || Mentions(outer.Having, rn, qualifier);
        var strategy = windowRank ? RankStrategy.WindowTopN : RankStrategy.AppendOnlyTopN;
        if (function != RankFunction.RowNumber && windowRank)
            throw Error(call, $"{call.UpperName}() is not supported in a window Top-N: Flink's window Top-N takes only ROW_NUMBER()");
        // Batch mode: final rows only, whatever the pattern (Flink's batch rank gives each key's final top N).
        bool finalOnly = batchMode && !windowRank;
        if (finalOnly && updatingInput)
            throw Error(over, "a Top-N of an updating input in batch mode is not supported by Eddy yet: run it in streaming mode");
        // Flink deduplicates when the row number is not read, only rank 1 is kept, and the order is one time attribute.
        if (!finalOnly && function == RankFunction.RowNumber && !outputRank && start == 1 && end == 1 && order.Count == 1 && order[0].Bound is InputRef timeColumn)
        {
            bool desc = order[0].Descending;
            if (timeColumn.Index == input.Proctime) strategy = desc ? RankStrategy.KeepLastProctime : RankStrategy.KeepFirstProctime;
            else if (timeColumn.Index == input.Rowtime) strategy = desc ? RankStrategy.KeepLastRowtime : RankStrategy.KeepFirstRowtime;
            if (windowRank)
            {
                int windowEndColumn = partition[windowProperties.FindIndex(w => w is { Property: 1 })].Bound is InputRef endRef ? endRef.Index : -1;
                bool onRowtime = IsWindowTableFunctionTime(input, timeColumn.Index) || WindowProperty(input, timeColumn.Index) is { Property: 2 };
                if (onRowtime && IsWindowTableFunctionEnd(input, windowEndColumn))
                    strategy = desc ? RankStrategy.WindowKeepLast : RankStrategy.WindowKeepFirst;
                else if (onRowtime)
                {
                    throw Error(over, "window deduplication is supported directly on a window TVF only (Flink: \"only supports Window Deduplication follows "
                        + "after Windowing TVF\"), not after a window aggregation");
                }
                else if (strategy != RankStrategy.WindowTopN)
                {
                    throw Error(over, "window deduplication ordered by a processing-time attribute is not supported: Flink orders window "
                        + "deduplication by the event-time attribute only");
                }
            }
        }
        IReadOnlyList<int> rowKey = [];
        if (updatingInput && !finalOnly)
        {
            if (windowRank)
                throw Error(over, "window Top-N takes an append-only input, but this input is updating; Flink refuses it too");
            if (strategy != RankStrategy.AppendOnlyTopN)
            {
                throw Error(over, "deduplication takes an append-only input, but this input is updating; Flink refuses it too "
                    + "(its Deduplicate \"doesn't support consuming update and delete changes\")");
            }
            strategy = RankStrategy.RetractTopN;
            var (updateFastKey, why) = UpdateFastCase(pre, partitionColumns, orderColumns);
            if (why is not null) throw Error(over, $"Top-N over this updating input is not supported by Eddy yet: {why}");
            if (updateFastKey is not null)
            {
                strategy = RankStrategy.UpdateFastTopN;
                rowKey = updateFastKey;
            }
        }
        var rankSchema = outputRank
            ? new Schema([.. preSchema.Columns, new Column(rn, DataType.BigInt.NotNull())])
            : preSchema;
        var rank = new RankPlan(pre, partitionColumns, orderColumns, start, end, outputRank, strategy, rankSchema)
        {
            FinalOnly = finalOnly,
            Function = function,
            StateTtlMs = batchMode ? 0 : StateTtlMs,
            RowKey = rowKey,
            WindowEnd = windowRank ? partitionColumns[windowProperties.FindIndex(w => w is { Property: 1 })] : -1,
        };

        var postProjections = new List<BoundExpr>();
        var postNames = new List<string>();
        for (int i = 0; i < before.Count; i++)
        {
            postProjections.Add(new InputRef(i, preSchema[i].Name, preSchema[i].Type));
            postNames.Add(beforeNames[i]);
        }
        if (outputRank)
        {
            postProjections.Add(new InputRef(preSchema.Count, rn, DataType.BigInt.NotNull()));
            postNames.Add(rn);
        }
        for (int i = before.Count; i < items; i++)
        {
            postProjections.Add(new InputRef(i, preSchema[i].Name, preSchema[i].Type));
            postNames.Add(names[i]);
        }
        var postSchema = MakeSchema(postProjections, postNames);
        LogicalPlan post = new CalcPlan(rank, postProjections, null, postSchema, null);

        boundRanks[inner] = (post, Scope.Of(postSchema, null));
        try
        {
            Expr? where = rest.Count == 0 ? null : rest.Aggregate((l, r) => new BinaryExpr(BinaryOperator.And, l, r) { Span = l.Span });
            return BindSelect(outer with { Where = where });
        }
        finally
        {
            boundRanks.Remove(inner);
        }
    }

    private static void SplitConjuncts(Expr? e, List<Expr> into) => into.AddRange(Conjunction.Terms(e));

    /// <summary>The ranks a condition keeps when it compares the row number with a whole number; null for any other condition.</summary>
    private static (long Low, long High)? RankBounds(Expr e, string rn, string? qualifier)
    {
        switch (e)
        {
            case BetweenExpr { Negated: false } between when IsColumn(between.Operand, rn, qualifier)
                && WholeNumber(between.Low) is { } low && WholeNumber(between.High) is { } high:
                return (low, high);
            case BinaryExpr b when b.Operator is BinaryOperator.Less or BinaryOperator.LessOrEqual or BinaryOperator.Equal
                or BinaryOperator.Greater or BinaryOperator.GreaterOrEqual:
            {
                var op = b.Operator;
                long? n;
                if (IsColumn(b.Left, rn, qualifier) && WholeNumber(b.Right) is { } right) n = right;
                else if (IsColumn(b.Right, rn, qualifier) && WholeNumber(b.Left) is { } left)
                {
                    n = left;
                    op = op switch
                    {
                        BinaryOperator.Less => BinaryOperator.Greater,
                        BinaryOperator.LessOrEqual => BinaryOperator.GreaterOrEqual,
                        BinaryOperator.Greater => BinaryOperator.Less,
                        BinaryOperator.GreaterOrEqual => BinaryOperator.LessOrEqual,
                        _ => op,
                    };
                }
                else return null;
                long v = n.Value;
                return op switch
                {
                    BinaryOperator.Less => (long.MinValue, v - 1),
                    BinaryOperator.LessOrEqual => (long.MinValue, v),
                    BinaryOperator.Equal => (v, v),
                    BinaryOperator.Greater => (v + 1, long.MaxValue),
                    _ => (v, long.MaxValue),
                };
            }
            default:
                return null;
        }
    }

    private static long? WholeNumber(Expr e) => e is NumericLiteral { Kind: NumericKind.Integer } n
        && long.TryParse(n.Text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : null;

    private static bool IsColumn(Expr e, string name, string? qualifier) => e is Parsing.ColumnRef c
        && string.Equals(c.Names[^1].Value, name, StringComparison.OrdinalIgnoreCase)
        && (c.Names.Count == 1 || (c.Names.Count == 2 && qualifier is not null && string.Equals(c.Names[0].Value, qualifier, StringComparison.OrdinalIgnoreCase)));

    /// <summary>
    /// Whether a part of the outer query may read the row number: a column of that name anywhere inside (also in a
    /// nested subquery, to be safe), or a <c>*</c>.
    /// </summary>
    private static bool Mentions(object? node, string name, string? qualifier)
    {
        switch (node)
        {
            case null or string:
                return false;
            case Parsing.ColumnRef c:
                return string.Equals(c.Names[^1].Value, name, StringComparison.OrdinalIgnoreCase);
            case SelectAll:
                return true;
            case SqlNode n:
                foreach (var p in n.GetType().GetProperties())
                {
                    if (p.Name == nameof(SqlNode.Span) || p.GetIndexParameters().Length > 0) continue;
                    var value = p.GetValue(n);
                    if (value is SqlNode or System.Collections.IEnumerable && Mentions(value, name, qualifier)) return true;
                }
                return false;
            case System.Collections.IEnumerable list:
                foreach (var item in list) if (Mentions(item, name, qualifier)) return true;
                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// Which of Flink's strategies ranks this updating input (RankProcessStrategy.analyzeRankProcessStrategies): the
    /// UpdateFastStrategy (the row key returned: the input columns of the upsert key) when the input has an upsert key
    /// holding the partition key and every ORDER BY column only moves towards the top of its order
    /// (FlinkRelMdModifiedMonotonicity: a group key is constant; over an append-only input COUNT and MAX increase, MIN
    /// decreases, SUM depends on the range of its argument, any other aggregate is not monotonic); otherwise the
    /// RetractStrategy (both null). Eddy derives this for a non-windowed GROUP BY of an append-only input under
    /// projections of plain columns, and for a changelog scan (<see cref="ChangelogScanCase"/>); for any other updating
    /// input, or an ORDER BY on a SUM or an expression, it cannot tell which strategy Flink takes and returns the
    /// reason to refuse.
    /// </summary>
    private static (IReadOnlyList<int>? RowKey, string? Refusal) UpdateFastCase(LogicalPlan rankInput, IReadOnlyList<int> partition,
        IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> order)
    {
        var below = rankInput;
        while (below is CalcPlan c) below = c.Input;
        if (below is ScanPlan { IsUpdating: true } scan) return (null, ChangelogScanCase(rankInput, scan, partition));
        if (below is not AggregatePlan { Window: null } aggregate || aggregate.Input.IsUpdating)
        {
            return (null, "Eddy ranks an updating input only when it is a GROUP BY of an append-only input (it cannot yet tell for others whether "
                + "Flink would use its UpdateFastStrategy or its RetractStrategy, whose changelogs differ)");
        }
        int? Source(int column)
        {
            LogicalPlan plan = rankInput;
            while (plan is CalcPlan calc)
            {
                if (calc.Projections[column] is not InputRef r) return null;
                column = r.Index;
                plan = calc.Input;
            }
            return column;
        }
        int keys = aggregate.Keys.Count;
        var sources = Enumerable.Range(0, rankInput.Schema.Count).Select(Source).ToList();
        // Without every group key in its input the ranking has no upsert key; a partition column that is not a key is not in it.
        if (!Enumerable.Range(0, keys).All(k => sources.Contains(k)) || partition.Any(p => Source(p) is not { } k || k >= keys)) return (null, null);
        bool unknown = false;
        foreach (var (column, descending, _) in order)
        {
            if (Source(column) is not { } source)
            {
                unknown = true;
                continue;
            }
            if (source < keys) continue;
            switch (aggregate.Aggregates[source - keys].Kind)
            {
                case AggregateKind.Count or AggregateKind.CountStar or AggregateKind.Max:
                    if (!descending) return (null, null);
                    break;
                case AggregateKind.Min:
                    if (descending) return (null, null);
                    break;
                case AggregateKind.Sum:
                    unknown = true;
                    break;
                default:
                    return (null, null);
            }
        }
        if (unknown)
        {
            return (null, "an ORDER BY column is an expression or a SUM, whose monotonicity Flink derives (from the expression, or from the range "
                + "of the summed values) to choose between its UpdateFastStrategy and its RetractStrategy, which Eddy cannot tell yet");
        }
        return (Enumerable.Range(0, keys).Select(k => sources.IndexOf(k)).ToList(), null);
    }

    /// <summary>
    /// A Top-N straight over a changelog scan (under projections and filters): Flink's upsert key of the scan is the
    /// table's primary key (none without one), kept through projections of its columns. When no upsert key holds the
    /// partition key — the table has no primary key, or a PARTITION BY column is a plain column outside it — Flink takes
    /// its RetractStrategy (null: Eddy's RetractTopN, the same changelog). Otherwise (every PARTITION BY column is a
    /// primary key column or an expression) Flink decides by the ORDER BY's monotonicity over the scan, which Eddy
    /// cannot derive yet: the reason to refuse.
    /// </summary>
    private static string? ChangelogScanCase(LogicalPlan rankInput, ScanPlan scan, IReadOnlyList<int> partition)
    {
        var primaryKey = scan.Table.PrimaryKey.Select(k => scan.Schema.Columns.ToList().FindIndex(c => string.Equals(c.Name, k, StringComparison.OrdinalIgnoreCase))).ToHashSet();
        if (primaryKey.Count == 0) return null;
        int? Source(int column)
        {
            LogicalPlan plan = rankInput;
            while (plan is CalcPlan calc)
            {
                if (calc.Projections[column] is not InputRef r) return null;
                column = r.Index;
                plan = calc.Input;
            }
            return column;
        }
        if (partition.Any(p => Source(p) is { } column && !primaryKey.Contains(column))) return null;
        return $"its PARTITION BY lies within the primary key of table '{scan.Table.Name}' (its upsert key), so Flink chooses between its "
            + "UpdateFastStrategy and its RetractStrategy by the monotonicity of the ORDER BY columns, which Eddy cannot derive for a scan yet "
            + "(a PARTITION BY with a column outside the primary key is ranked by the RetractStrategy)";
    }

    /// <summary>Whether a column is the window end of a window TVF's rows (not of a window aggregation), followed through the projections above it.</summary>
    private static bool IsWindowTableFunctionEnd(LogicalPlan plan, int column) => column >= 0 && DeepStack.Ensure(plan) switch
    {
        CalcPlan c => c.Projections[column] is InputRef r && IsWindowTableFunctionEnd(c.Input, r.Index),
        Plan.WindowTableFunction.WindowTableFunctionPlan w => column == w.WindowStart + 1,
        _ => false,
    };

    /// <summary>
    /// Whether a column is the window start (0), end (1) or time (2) of a window TVF (or its aggregation), followed through the
    /// projections above it.
    /// </summary>
    private static (WindowSpecification Window, int Property)? WindowProperty(LogicalPlan plan, int column) => DeepStack.Ensure(plan) switch
    {
        Plan.WindowTableFunction.WindowTableFunctionPlan w when column >= w.WindowStart && column < w.WindowStart + 3 => (w.Window, column - w.WindowStart),
        CalcPlan c => c.Projections[column] is InputRef r ? WindowProperty(c.Input, r.Index) : null,
        AggregatePlan { Window: { } w, LegacyGroupWindow: false } a when column >= a.Keys.Count && column < a.Keys.Count + 3 => (w, column - a.Keys.Count),
        _ => null,
    };
}
