using System.Globalization;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Correlate;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.SortLimit;
using Eddy.Sql.Plan.TemporalSort;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Plan.Union;
using Eddy.Sql.Plan.UpsertMaterialize;
using Eddy.Sql.Plan.Values;

namespace Eddy.Sql.Planning;

/// <summary>
/// Turns statements into logical plans: resolves tables, views and columns, types every expression, finds window
/// aggregations and checks what Flink's planner checks (time attributes, grouping, changelog into sinks).
/// </summary>
public sealed partial class Binder
{
    private readonly SqlCatalog catalog;
    private readonly SqlContext context;
    private readonly bool batchMode;
    private readonly Dictionary<string, (LogicalPlan Plan, Scope Scope)> ctes = new(StringComparer.OrdinalIgnoreCase);

    private readonly Func<TableDef, bool> acceptsUpdates;

    private readonly ConnectorRegistry connectors;

    public Binder(SqlCatalog catalog, ConnectorRegistry connectors, SqlContext context, bool batchMode = false, Func<TableDef, bool>? acceptsUpdates = null)
    {
        this.catalog = catalog;
        this.connectors = connectors;
        this.context = context;
        this.batchMode = batchMode;
        this.acceptsUpdates = acceptsUpdates ?? (t => t.PrimaryKey.Count > 0);
    }

    internal SqlParseException Error(SqlNode node, string reason) => SqlErrors.At(node, reason, context);

    /// <summary>A node's place as <c>file: line L, column C</c>, for errors raised when the job runs.</summary>
    internal string Location(SqlNode node) => $"{context.FileName ?? "SQL"}: line {node.Span.Line}, column {node.Span.Column}";

    /// <summary>How event-time window aggregations treat late rows (the session's SET options).</summary>
    public WindowEmitOptions WindowEmit { get; init; } = WindowEmitOptions.None;

    /// <summary>A window TVF in FROM: the input, its window and the scope that adds window_start/end/time.</summary>
    private sealed record WindowedInput(LogicalPlan Input, WindowSpecification Window, IReadOnlyList<BoundExpr> Partition);

    // ---- INSERT ------------------------------------------------------------------------------------------------

    public SinkPlan BindInsert(Insert insert)
    {
        string name = insert.Target.Last.Value;
        if (!catalog.TryGetTable(PartsOf(insert.Target), out var table))
            throw Error(insert.Target, $"unknown table '{insert.Target}'" + SqlErrors.Suggest(name, catalog.AllNames));
        table = WithOptionsHint(table, insert.TargetHints);
        if (insert.Overwrite) throw Error(insert, "INSERT OVERWRITE is not supported by Eddy (Flink runs it in batch mode over filesystem tables); write INSERT INTO");
        if (insert.StaticPartition.Count > 0) throw Error(insert.StaticPartition[0], "INSERT ... PARTITION (...) is not supported by Eddy (it has no partitioned tables)");
        var (plan, _) = BindQuery(insert.Source);
        var sinkSchema = table.SinkSchema;
        IReadOnlyList<int> targetColumns;
        if (insert.Columns.Count > 0)
        {
            targetColumns = insert.Columns.Select(c =>
            {
                int i = sinkSchema.IndexOf(c.Value);
                return i >= 0 ? i : throw Error(c, $"table '{table.Name}' has no column '{c.Value}'" + SqlErrors.Suggest(c.Value, sinkSchema.Columns.Select(x => x.Name)));
            }).ToList();
        }
        else targetColumns = Enumerable.Range(0, sinkSchema.Count).ToList();
        if (plan.Schema.Count != targetColumns.Count)
        {
            throw Error(insert.Source, $"the query gives {plan.Schema.Count} column(s) but '{table.Name}' takes {targetColumns.Count}: "
                + $"query ({string.Join(", ", plan.Schema.Columns.Select(c => $"{c.Name} {c.Type}"))}), "
                + $"sink ({string.Join(", ", targetColumns.Select(i => $"{sinkSchema[i].Name} {sinkSchema[i].Type}"))})");
        }
        // Reorder and cast into the sink's columns; columns not listed get NULL.
        var projections = new BoundExpr[sinkSchema.Count];
        for (int i = 0; i < sinkSchema.Count; i++) projections[i] = new Literal(null, sinkSchema[i].Type);
        for (int q = 0; q < targetColumns.Count; q++)
        {
            var target = sinkSchema[targetColumns[q]];
            var source = plan.Schema[q];
            if (!TypeRules.IsAssignable(source.Type, target.Type))
                throw Error(insert.Source, $"column {q + 1} of the query ({source.Name} {source.Type}) cannot be written into '{table.Name}.{target.Name}' ({target.Type})");
            projections[targetColumns[q]] = CastIfNeeded(new InputRef(q, source.Name, source.Type), target.Type);
        }
        bool identity = projections.Select((p, i) => p is InputRef r && r.Index == i && r.Type.Kind == sinkSchema[i].Type.Kind).All(x => x)
            && plan.Schema.Count == sinkSchema.Count;
        var input = identity ? plan : new CalcPlan(plan, projections, null, sinkSchema, null);
        if (input.IsUpdating && !acceptsUpdates(table) && FindLateFiringWindow(input) is { } lateFiring)
        {
            throw Error(insert, $"table '{table.Name}' ({table.Connector}) is append-only but the query's window aggregation updates its "
                + $"rows: with 'table.exec.emit.allow-lateness' = '{lateFiring.AllowedLatenessMs} ms' a late row re-fires its window as -U/+U. "
                + "Declare PRIMARY KEY (...) NOT ENFORCED on a sink that upserts (jdbc, postgres, upsert-kafka; print shows the changes), "
                + "or RESET 'table.exec.emit.allow-lateness'");
        }
        if (input.IsUpdating && !acceptsUpdates(table))
        {
            throw Error(insert, $"table '{table.Name}' ({table.Connector}) is append-only but the query produces updates "
                + $"({UpdatingCause(input)}): declare PRIMARY KEY (...) NOT ENFORCED on a sink that upserts, or aggregate in a window");
        }
        UpsertMaterializer? materializer;
        try
        {
            materializer = batchMode ? null : UpsertMaterializer.Decide(table, input, UpsertMaterialize, StateTtlMs);
        }
        catch (InvalidOperationException e)
        {
            throw Error(insert, e.Message);
        }
        return new SinkPlan(table, input) { Materializer = materializer };
    }

    /// <summary>Flink's <c>table.exec.sink.upsert-materialize</c> (the session's SET option).</summary>
    public UpsertMaterializeMode UpsertMaterialize { get; init; } = UpsertMaterializeMode.Auto;

    // ---- queries -----------------------------------------------------------------------------------------------

    public (LogicalPlan Plan, Scope Scope) BindQuery(QueryExpr query)
    {
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw DeepStack.TooDeep(query.Span, context);
        if (TryTakeBoundRank(query, out var ranked)) return ranked;
        switch (query)
        {
            case Query q:
                return BindQueryWithClauses(q);
            case SelectQuery s:
                return TryBindRank(s) ?? BindSelect(s);
            case SetOperation set:
                return BindSetOperation(set);
            case ValuesQuery v:
                return BindValues(v);
            default:
                throw Error(query, $"{query.GetType().Name} is not supported");
        }
    }

    // How many derived tables (FROM subqueries, WITH queries, views) enclose the query being bound: a ranking OVER
    // aggregate there might be filtered outside, which Flink would plan as a Top-N instead (see TryBindRank).
    private int derivedDepth;

    private (LogicalPlan Plan, Scope Scope) BindDerived(QueryExpr query)
    {
        derivedDepth++;
        try
        {
            return BindQuery(query);
        }
        finally
        {
            derivedDepth--;
        }
    }

    private (LogicalPlan, Scope) BindQueryWithClauses(Query q)
    {
        var saved = new Dictionary<string, (LogicalPlan, Scope)>(ctes, StringComparer.OrdinalIgnoreCase);
        foreach (var cte in q.With)
        {
            var (plan, _) = BindDerived(cte.Query);
            plan = Rename(plan, cte.Columns, cte);
            ctes[cte.Name.Value] = (plan, Scope.Of(plan.Schema, cte.Name.Value));
        }
        var (body, scope) = BindQuery(q.Body);
        if (q.OrderBy.Count > 0 || q.Limit is not null || q.Offset is not null)
        {
            if (!batchMode && q.OrderBy.Count > 0)
            {
                if (q.Limit is null && q.Offset is null) return BindTemporalSort(q, body, scope, saved);
                throw Error(q.OrderBy.Count > 0 ? q.OrderBy[0] : q.Limit!, "ORDER BY and LIMIT need a bounded input: "
                    + "SET 'execution.runtime-mode' = 'batch' (streaming results have no end to sort)");
            }
            long? limit = q.Limit is null ? null : LongLiteral(q.Limit);
            long offset = q.Offset is null ? 0 : LongLiteral(q.Offset);
            body = BindBatchSort(q, body, scope, limit, offset);
        }
        ctes.Clear();
        foreach (var kv in saved) ctes[kv.Key] = kv.Value;
        return (body, scope);
    }

    /// <summary>ORDER BY / LIMIT in batch mode, on keys of any expression (<see cref="SortInput"/>).</summary>
    private LogicalPlan BindBatchSort(Query q, LogicalPlan body, Scope scope, long? limit, long offset)
    {
        var (input, keys) = SortInput(q, body, scope);
        return DropSortColumns(new SortLimitPlan(input, keys, limit, offset), body);
    }

    /// <summary>
    /// The input of a sort and its keys. A key may be any expression: over the output columns (by name or alias), or,
    /// for a SELECT without DISTINCT, over its FROM clause (a column not selected, an aggregate), as Flink allows. Such
    /// keys are computed as extra columns (appended to the output, or to the SELECT list), which
    /// <see cref="DropSortColumns"/> removes after the sort.
    /// </summary>
    private (LogicalPlan Input, List<(int Index, bool Descending, bool NullsFirst)> Keys) SortInput(Query q, LogicalPlan body, Scope scope)
    {
        int width = body.Schema.Count;
        var keys = new List<(int Index, bool Descending, bool NullsFirst)>();
        var overOutput = new List<BoundExpr>();
        var overFrom = new List<SelectItem>();
        foreach (var o in q.OrderBy)
        {
            bool nullsFirst = o.Nulls == NullOrdering.First || (o.Nulls == NullOrdering.Default && !o.Descending);
            BoundExpr? e;
            try
            {
                e = Bind(o.Expression, scope);
            }
            catch (SqlParseException) when (q.Body is SelectQuery { Distinct: false })
            {
                e = null;
            }
            int index;
            if (e is InputRef r) index = r.Index;
            else if (e is not null)
            {
                index = width + overOutput.Count;
                overOutput.Add(e);
            }
            else
            {
                index = width + overFrom.Count;
                overFrom.Add(new SelectExpr(o.Expression, new Identifier($"$order{overFrom.Count}")) { Span = o.Span });
            }
            keys.Add((index, o.Descending, nullsFirst));
        }
        if (overOutput.Count > 0 && overFrom.Count > 0)
            throw Error(q.OrderBy[0], "ORDER BY keys that are expressions of the output and keys that read columns not selected, in one "
                + "ORDER BY, are not supported by Eddy yet: select the columns the keys read");
        if (overOutput.Count > 0)
        {
            var projections = body.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).Concat(overOutput).ToList();
            var schema = new Schema(body.Schema.Columns.Concat(overOutput.Select((e, i) => new Column($"$order{i}", e.Type))).ToArray());
            return (new CalcPlan(body, projections, null, schema, body.Rowtime), keys);
        }
        if (overFrom.Count > 0)
        {
            var select = (SelectQuery)q.Body;
            return (BindQuery(select with { Items = new NodeList<SelectItem>([.. select.Items, .. overFrom]) }).Plan, keys);
        }
        return (body, keys);
    }

    /// <summary>The sorted rows with the output's columns only (the extra key columns of <see cref="SortInput"/> dropped).</summary>
    private static LogicalPlan DropSortColumns(LogicalPlan sorted, LogicalPlan body)
    {
        if (sorted.Schema.Count == body.Schema.Count) return sorted;
        var kept = body.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList();
        return new CalcPlan(sorted, kept, null, body.Schema, body.Rowtime);
    }

    /// <summary>
    /// ORDER BY in streaming mode, Flink's rule: the first key must be the input's event-time attribute, ascending
    /// (a temporal sort); the other keys are free (keys as in <see cref="SortInput"/>). A processing-time first key
    /// (Flink sorts by arrival) is not implemented; any other first key is refused as Flink refuses it.
    /// </summary>
    private (LogicalPlan, Scope) BindTemporalSort(Query q, LogicalPlan body, Scope scope, Dictionary<string, (LogicalPlan, Scope)> saved)
    {
        var (input, order) = SortInput(q, body, scope);
        var first = q.OrderBy[0];
        if (input.Proctime is { } p && order[0].Index == p)
            throw Error(first, "ORDER BY a processing-time attribute in streaming mode is not supported by Eddy yet (an event-time attribute is)");
        if (input.Rowtime != order[0].Index || order[0].Descending)
        {
            throw Error(first, "Sort on a non-time-attribute field is not supported (Flink's streaming rule: the first ORDER BY key must be "
                + "an event-time attribute, ascending; or SET 'execution.runtime-mode' = 'batch')");
        }
        if (input.IsUpdating) throw Error(first, "ORDER BY in streaming mode takes an append-only input (Flink's temporal sort does not consume updates)");
        ctes.Clear();
        foreach (var kv in saved) ctes[kv.Key] = kv.Value;
        return (DropSortColumns(new TemporalSortPlan(input, order), body), scope);
    }

    private long LongLiteral(Expr e) => e is NumericLiteral { Kind: NumericKind.Integer } n
        ? long.Parse(n.Text, CultureInfo.InvariantCulture)
        : throw Error(e, "expected a whole number");

    private (LogicalPlan, Scope) BindValues(ValuesQuery v)
    {
        var empty = new Scope([]);
        var rows = v.Rows.Select(r => r.Select(e => FoldNegation(Bind(e, empty))).ToList()).ToList();
        int width = rows[0].Count;
        if (rows.Any(r => r.Count != width)) throw Error(v, "every VALUES row needs the same number of columns");
        var types = Enumerable.Range(0, width).Select(i => rows.Select(r => r[i].Type)
            .Aggregate((a, b) => TypeRules.Common(a, b) ?? throw Error(v, $"VALUES column {i + 1} mixes {a} and {b}"))).ToList();
        var schema = new Schema(types.Select((t, i) => new Column($"EXPR${i}", t.Kind == TypeKind.Null ? DataType.String : t with { Nullable = true })).ToArray());
        var values = rows.Select(r => r.Select((e, i) => e is Literal l ? CastValue(l, schema[i].Type)
            : throw Error(v, "VALUES takes literals")).ToArray()).ToList();
        var plan = new ValuesPlan(values, schema);
        return (plan, Scope.Of(schema, null));
    }

    /// <summary>A negated number literal (<c>VALUES (-1)</c>) as the negative literal it stands for.</summary>
    private static BoundExpr FoldNegation(BoundExpr e)
    {
        DeepStack.Ensure();
        if (e is not Unary { Op: UnaryOp.Negate } negate || FoldNegation(negate.Operand) is not Literal { Value: not null } literal) return e;
        object? negated = literal.Value switch
        {
            int i when i != int.MinValue => -i,
            long l when l != long.MinValue => -l,
            decimal d => -d,
            double d => -d,
            float f => -f,
            short s when s != short.MinValue => (short)-s,
            sbyte b when b != sbyte.MinValue => (sbyte)-b,
            _ => null,
        };
        return negated is null ? e : new Literal(negated, literal.Type);
    }

    private static object? CastValue(Literal l, DataType type) => l.Value is null ? null
        : Convert.ChangeType(l.Value, type.ClrType, CultureInfo.InvariantCulture);

    private (LogicalPlan, Scope) BindSetOperation(SetOperation set)
    {
        if (set.Operator != SetOperator.Union) return BindIntersectOrExcept(set);
        var (left, _) = BindQuery(set.Left);
        var (right, _) = BindQuery(set.Right);
        if (left.Schema.Count != right.Schema.Count)
            throw Error(set, $"UNION sides have {left.Schema.Count} and {right.Schema.Count} columns");
        var types = left.Schema.Columns.Zip(right.Schema.Columns, (a, b) => TypeRules.Common(a.Type, b.Type)
            ?? throw Error(set, $"UNION column '{a.Name}' mixes {a.Type} and {b.Type}")).ToList();
        var schema = new Schema(left.Schema.Columns.Select((c, i) => new Column(c.Name, types[i])).ToArray());
        LogicalPlan Align(LogicalPlan p) => p.Schema.Columns.Select((c, i) => c.Type.Kind == types[i].Kind && c.Type.Nullable == types[i].Nullable).All(x => x)
            ? p
            : new CalcPlan(p, p.Schema.Columns.Select((c, i) => CastIfNeeded(new InputRef(i, c.Name, c.Type), types[i])).ToList(), null, schema, p.Rowtime);
        LogicalPlan union = new UnionPlan([Align(left), Align(right)], schema);
        if (!set.All) union = Distinct(union, set);
        return (union, Scope.Of(schema, null));
    }

    private AggregatePlan Distinct(LogicalPlan input, SqlNode at)
    {
        CheckGroupStateTtl(at, input, []);
        return new(input, input.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList(), [], null, input.Schema);
    }

    private LogicalPlan Rename(LogicalPlan plan, NodeList<Identifier> names, SqlNode at)
    {
        if (names.Count == 0) return plan;
        if (names.Count != plan.Schema.Count) throw Error(at, $"{names.Count} column names given for {plan.Schema.Count} columns");
        var schema = new Schema(plan.Schema.Columns.Select((c, i) => c with { Name = names[i].Value }).ToArray());
        return new CalcPlan(plan, plan.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList(), null, schema, plan.Rowtime);
    }

    /// <summary>The column of the rowtime attribute whose watermark CURRENT_WATERMARK may read here (null: none).</summary>
    private int? watermarkRowtime;

    private (LogicalPlan, Scope) BindSelect(SelectQuery s)
    {
        // CURRENT_WATERMARK reads the watermark of the Calc that evaluates this query's WHERE and SELECT list: it is
        // allowed there only, over the input's rowtime attribute (not in the FROM's own queries, nor in aggregations).
        var outerRowtime = watermarkRowtime;
        watermarkRowtime = null;
        try
        {
            return BindSelectCore(s);
        }
        finally
        {
            watermarkRowtime = outerRowtime;
        }
    }

    private (LogicalPlan, Scope) BindSelectCore(SelectQuery s)
    {
        // Without FROM, as in Flink (Calcite's single-row VALUES): the SELECT list is evaluated once over one empty row.
        // WHERE terms with subqueries (IN, EXISTS, scalar comparisons) become joins after the rest of WHERE has filtered.
        var (plainWhere, subqueryTerms) = SplitSubqueryTerms(s.Where);
        bool grouped = s.GroupBy.Count > 0 || s.Items.OfType<SelectExpr>().Any(i => ContainsAggregate(i.Expression))
            || (s.Having is not null && ContainsAggregate(s.Having));
        var (input, scope, windowed, whereUsed) = s.From is null
            ? (new ValuesPlan([Array.Empty<object?>()], new Schema([])), new Scope([]), null, false)
            : BindFromWithWhere(s.From, plainWhere, s.Hints, grouped && !HasOver(s));
        var groupTtlHint = groupStateTtlHint;
        groupStateTtlHint = null;
        // Subqueries next to a window TVF stay refused even when its rows are selected directly: Flink would plan a
        // window semi/anti join for a windowed subquery, which is not wired to IN/EXISTS yet.
        bool overWindowTvf = windowed is not null;
        if (windowed is not null && !grouped && !HasOver(s))
        {
            // A window TVF selected from directly: its rows with the window columns (WHERE may read them).
            input = WindowedRelation(windowed, s.From!);
            windowed = null;
        }
        watermarkRowtime = input.Rowtime;
        BoundExpr? where = plainWhere is null || whereUsed ? null : RequireBoolean(Bind(plainWhere, scope), plainWhere);
        if (where is not null)
        {
            input = new CalcPlan(input, input.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList(), where, input.Schema, input.Rowtime);
        }
        watermarkRowtime = null;
        foreach (var term in subqueryTerms) input = ApplySubqueryTerm(input, scope, term, overWindowTvf);

        if (HasOver(s))
        {
            if (!batchMode) return BindOverSelect(s, input, scope, windowed);
            // Batch mode: the streaming over aggregation where it applies (rows in time order; it answers the same
            // at the end of a bounded input), Flink's batch OVER (any order, frames, LEAD, NTILE, ...) otherwise.
            try
            {
                return BindOverSelect(s, input, scope, windowed);
            }
            catch (SqlParseException)
            {
                return BindBatchOverSelect(s, input, scope, windowed);
            }
        }
        bool hasAggregates = s.Items.OfType<SelectExpr>().Any(i => ContainsAggregate(i.Expression)) || (s.Having is not null && ContainsAggregate(s.Having));
        if (s.GroupBy.Count > 0 || hasAggregates)
            return BindAggregation(s, input, scope, windowed, groupTtlHint);
        watermarkRowtime = input.Rowtime;
        if (s.Having is not null) throw Error(s.Having, "HAVING needs GROUP BY or an aggregate");

        var (projections, names) = BindSelectItems(s.Items, scope, null);
        var output = MakeSchema(projections, names);
        int? rowtime = RowtimeAfter(projections, input.Rowtime);
        LogicalPlan plan = new CalcPlan(input, projections, null, output, rowtime);
        if (s.Distinct) plan = Distinct(plan, s);
        return (plan, Scope.Of(output, null));
    }

    private static int? RowtimeAfter(IReadOnlyList<BoundExpr> projections, int? inputRowtime)
    {
        if (inputRowtime is not { } rt) return null;
        for (int i = 0; i < projections.Count; i++)
            if (projections[i] is InputRef r && r.Index == rt) return i;
        return null;
    }

    private static Schema MakeSchema(IReadOnlyList<BoundExpr> projections, IReadOnlyList<string> names)
    {
        var used = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var cols = new Column[projections.Count];
        for (int i = 0; i < cols.Length; i++)
        {
            string name = names[i];
            int n = 0;
            while (!used.Add(name)) name = $"{names[i]}{n++}";
            var type = projections[i].Type.Kind == TypeKind.Null ? DataType.String : projections[i].Type;
            cols[i] = new Column(name, type);
        }
        return new Schema(cols);
    }

    private (List<BoundExpr> Projections, List<string> Names) BindSelectItems(NodeList<SelectItem> items, Scope scope, GroupContext? group)
    {
        var projections = new List<BoundExpr>();
        var names = new List<string>();
        foreach (var item in items)
        {
            switch (item)
            {
                case SelectAll all:
                {
                    if (group is not null) throw Error(item, "SELECT * is not allowed in a grouped query");
                    var q = all.Qualifier?.Last.Value;
                    var cols = scope.Columns.Where(c => q is null || string.Equals(c.Qualifier, q, StringComparison.OrdinalIgnoreCase)).ToList();
                    if (cols.Count == 0 && all.Qualifier is { } composite && scope.Find(null, composite.Parts[0].Value).Concat(
                            composite.Parts.Count > 1 ? scope.Find(composite.Parts[0].Value, composite.Parts[1].Value) : []).Any())
                    {
                        // tableName.compositeType.*: the fields of a ROW value, named as its fields (Calcite's star expansion).
                        var row = Bind(new Parsing.ColumnRef(composite.Parts) { Span = composite.Span }, scope, group);
                        if (row.Type.Kind != TypeKind.Row) throw Error(composite, $"'{composite}.*' needs a ROW value; this is {row.Type}");
                        foreach (var field in row.Type.Fields!)
                        {
                            projections.Add(RowField(row, new Identifier(field.Name) { Span = composite.Span }));
                            names.Add(field.Name);
                        }
                        break;
                    }
                    if (cols.Count == 0) throw Error(item, $"unknown table or alias '{q}'");
                    foreach (var c in cols)
                    {
                        projections.Add(new InputRef(c.Index, c.Name, c.Type));
                        names.Add(c.Name);
                    }
                    break;
                }
                case SelectExpr se:
                {
                    var bound = Bind(se.Expression, scope, group);
                    if (bound is IntervalExpr) throw Error(se, "an INTERVAL cannot be a result column");
                    projections.Add(bound);
                    names.Add(se.Alias?.Value ?? se.Expression switch
                    {
                        Parsing.ColumnRef c => c.Names[^1].Value,
                        _ when bound is InputRef r && !r.Name.StartsWith('$') => r.Name,
                        _ => $"EXPR${projections.Count - 1}",
                    });
                    break;
                }
            }
        }
        return (projections, names);
    }

    private bool ContainsAggregate(SqlNode node) => WithStack(node) switch
    {
        FunctionCall f when IsAggregate(f) => true,
        FunctionCall f => f.Arguments.Any(ContainsAggregate),
        BinaryExpr b => ContainsAggregate(b.Left) || ContainsAggregate(b.Right),
        UnaryExpr u => ContainsAggregate(u.Operand),
        CastExpr c => ContainsAggregate(c.Operand),
        CaseExpr c => (c.Operand is not null && ContainsAggregate(c.Operand)) || c.Whens.Any(w => ContainsAggregate(w.Condition) || ContainsAggregate(w.Result))
            || (c.Else is not null && ContainsAggregate(c.Else)),
        IsExpr i => ContainsAggregate(i.Operand),
        BetweenExpr b => ContainsAggregate(b.Operand) || ContainsAggregate(b.Low) || ContainsAggregate(b.High),
        InListExpr i => ContainsAggregate(i.Operand) || i.Values.Any(ContainsAggregate),
        RowConstructor r => r.Fields.Any(ContainsAggregate),
        JsonObjectExpr o => o.Entries.Any(e => ContainsAggregate(e.Value)),
        JsonArrayExpr a => a.Elements.Any(ContainsAggregate),
        OverlapsExpr o => ContainsAggregate(o.Left) || ContainsAggregate(o.Right),
        _ => false,
    };

    // ---- aggregation -------------------------------------------------------------------------------------------

    private (LogicalPlan, Scope) BindAggregation(SelectQuery s, LogicalPlan input, Scope scope, WindowedInput? windowed, (long Ms, TableOption At)? ttlHint = null)
    {
        var keyExprs = new List<Expr>();
        var keys = new List<BoundExpr>();
        WindowSpecification? window = windowed?.Window;
        FunctionCall? legacy = null;
        bool sawStart = false, sawEnd = false;
        var groupingElements = new List<Expr>();
        foreach (var g in s.GroupBy)
        {
            if (windowed is not null && g is Parsing.ColumnRef c && c.Names[^1].Value.ToLowerInvariant() is "window_start" or "window_end" or "window_time")
            {
                var n = c.Names[^1].Value.ToLowerInvariant();
                sawStart |= n == "window_start";
                sawEnd |= n == "window_end";
                continue;
            }
            if (g is FunctionCall f && f.UpperName is "TUMBLE" or "HOP" or "SESSION")
            {
                if (windowed is not null || legacy is not null) throw Error(g, "a query can group by one window only");
                legacy = f;
                window = BindGroupWindow(f, scope, input);
                continue;
            }
            if (IsGroupingSetsElement(g))
            {
                if (windowed is { Window.Kind: WindowKind.Session })
                    throw Error(g, "GROUPING SETS, ROLLUP and CUBE in a SESSION window aggregation are not supported by Eddy yet");
                if (windowed is not null) RefuseWindowColumnsIn(g);
                groupingElements.Add(g);
                continue;
            }
            groupingElements.Add(g);
            var bound = Bind(g, scope);
            if (bound is IntervalExpr) throw Error(g, "cannot group by an INTERVAL");
            keyExprs.Add(g);
            keys.Add(bound);
        }
        if (windowed is not null && !(sawStart && sawEnd))
            throw Error(s.GroupBy.Count > 0 ? s.GroupBy[0] : s, "a window aggregation must GROUP BY window_start and window_end (and may add more keys)");
        if (windowed is not null && windowed.Window.Kind == WindowKind.Session)
        {
            foreach (var p in windowed.Partition)
                if (!keys.Any(k => k.Equals(p))) throw Error(s.From!, $"SESSION PARTITION BY column '{p}' must also be in GROUP BY");
        }

        var sets = groupingElements.Any(IsGroupingSetsElement) ? ExpandGroupingSets(s, groupingElements, windowed, legacy) : null;
        if (sets is not null)
        {
            // One copy of each row per grouping set, the keys outside the set NULL, the set's number a key of its own.
            (input, keyExprs, keys) = BindExpand(input, scope, sets);
        }
        var group = new GroupContext(scope, keyExprs, keys, window,
            windowed is not null ? GroupContext.WindowSource.TableFunction : legacy is not null ? GroupContext.WindowSource.GroupWindow : GroupContext.WindowSource.None,
            legacy)
        { GroupingSets = sets?.Membership };
        // Bind the select list and HAVING first: they register the aggregate calls.
        var (projections, names) = BindSelectItems(s.Items, group.InputScope, group);
        BoundExpr? having = s.Having is null ? null : RequireBoolean(Bind(s.Having, group.InputScope, group), s.Having);
        var aggOutput = group.OutputSchema();
        if (input.IsUpdating) RequireRetractable(s, window, group.Aggregates);
        if (window is { Kind: WindowKind.Hop or WindowKind.Session }
            && group.Aggregates.FirstOrDefault(a => a.Kind is AggregateKind.JsonArrayAgg or AggregateKind.JsonObjectAgg) is { } json)
            throw Error(aggregateSites.TryGetValue(json, out var jsonSite) ? jsonSite : s,
                $"{(json.Kind == AggregateKind.JsonArrayAgg ? "JSON_ARRAYAGG" : "JSON_OBJECTAGG")} in a {window.Kind.ToString().ToUpperInvariant()} window is not supported "
                + "(as in Flink: \"This function is currently not supported in OVER windows, unbounded session windows, or hop windows.\")");
        if (window is not null && group.Aggregates.FirstOrDefault(a => a.User is { Merge: null }) is { } noMerge)
            throw Error(s, $"the aggregate function {noMerge.Name} has no Merge method, which window aggregation needs to combine partial results");
        if (ttlHint is { } hinted && window is not null)
            throw Error(hinted.At, "the STATE_TTL hint applies to regular joins and non-windowed GROUP BY, not to a window aggregation (as in Flink)");
        long ttl = ttlHint?.Ms ?? StateTtlMs;
        if (window is null) CheckGroupStateTtl(s, input, group.Aggregates, ttl);
        var aggregate = new AggregatePlan(input, keys, group.Aggregates, window, aggOutput)
        {
            FinalOnly = batchMode, LegacyGroupWindow = legacy is not null, StateTtlMs = window is null && !batchMode ? ttl : 0,
        };
        // Batch mode has no late rows (watermarks are ignored, windows fire at the end of input); processing-time
        // windows have none either.
        if (window is { ProcessingTime: false } && !batchMode)
            aggregate = aggregate with { AllowedLatenessMs = WindowEmit.AllowedLatenessMs, LateData = BindLateData(s, input) };
        var output = MakeSchema(projections, names);
        int? rowtime = RowtimeAfter(projections, aggregate.Rowtime);
        LogicalPlan plan = new CalcPlan(aggregate, projections, having, output, rowtime);
        if (s.Distinct) plan = Distinct(plan, s);
        return (plan, Scope.Of(output, null));
    }

    /// <summary>
    /// Aggregation over a changelog (the result of a non-windowed GROUP BY, or a changelog source such as
    /// upsert-kafka): only a non-windowed GROUP BY whose aggregates all retract exactly. Flink (since 1.19) also
    /// aggregates a changelog in windows, which Eddy does not yet: refused.
    /// </summary>
    private void RequireRetractable(SelectQuery s, WindowSpecification? window, IReadOnlyList<AggregateCall> aggregates)
    {
        const string Source = "the result of a non-windowed GROUP BY, or a changelog source such as upsert-kafka";
        if (window is not null)
            throw Error(s.GroupBy.Count > 0 ? s.GroupBy[0] : s, $"a window aggregation over an updating stream ({Source}) is not supported by Eddy yet");
        foreach (var a in aggregates)
        {
            if (Codegen.AggregateCompiler.CanRetract(a)) continue;
            SqlNode at = aggregateSites.TryGetValue(a, out var site) ? site : s;
            throw Error(at, $"{a.Name} over an updating stream ({Source}) is not supported by Eddy: it cannot retract a row exactly");
        }
    }

    // Where each aggregate call was written, for errors about the call found after binding the whole query.
    private readonly Dictionary<AggregateCall, FunctionCall> aggregateSites = [];

    internal AggregateCall BindAggregate(FunctionCall call, Scope scope)
    {
        var bound = BindAggregateCall(call, scope);
        aggregateSites.TryAdd(bound, call);
        return bound;
    }

    /// <summary>
    /// An aggregate's column as the SQL reads it: SUM of TINYINT/SMALLINT wrapped from its INT sum to its type (see
    /// <see cref="AggregateCall.NarrowTo"/>); every other call as it is.
    /// </summary>
    internal static BoundExpr AggregateValue(AggregateCall aggregate, BoundExpr column) => aggregate.NarrowTo switch
    {
        { Kind: TypeKind.TinyInt } t => new Call("CAST", typeof(Codegen.AggregateResultOps).GetMethod(nameof(Codegen.AggregateResultOps.WrapToTinyInt))!, [column], t),
        { Kind: TypeKind.SmallInt } t => new Call("CAST", typeof(Codegen.AggregateResultOps).GetMethod(nameof(Codegen.AggregateResultOps.WrapToSmallInt))!, [column], t),
        _ => column,
    };

    private AggregateCall BindAggregateCall(FunctionCall call, Scope scope)
    {
        string name = call.UpperName;
        BoundExpr? filter = call.Filter is null ? null : RequireBoolean(Bind(call.Filter, scope), call.Filter);
        if (call.Star)
        {
            if (name != "COUNT") throw Error(call, $"{name}(*) is not valid; only COUNT(*)");
            return new AggregateCall(AggregateKind.CountStar, null, false, filter, DataType.BigInt.NotNull(), "COUNT(*)");
        }
        if (call.Arguments.Any(ContainsAggregate)) throw Error(call, "aggregate functions cannot be nested");
        if (catalog.Functions.TryGetAggregate(name, out var user))
        {
            var userArgs = call.Arguments.Select(a => Bind(a, scope)).ToList();
            var ps = user.Accumulate.GetParameters().Skip(1).ToList();
            if (ps.Count != userArgs.Count)
                throw Error(call, $"aggregate function {name} takes {ps.Count} argument(s), got {userArgs.Count}");
            for (int i = 0; i < ps.Count; i++)
            {
                var want = Nullable.GetUnderlyingType(ps[i].ParameterType) ?? ps[i].ParameterType;
                if (want != typeof(object) && userArgs[i].Type.Kind != TypeKind.Null && want != userArgs[i].Type.ClrType)
                    throw Error(call.Arguments[i], $"argument {i + 1} of {name} is {userArgs[i].Type}, but Accumulate takes {ps[i].ParameterType.Name}");
            }
            var resultType = SqlTypeOf(user.GetValue.ReturnType) ?? throw Error(call, $"{name}.GetValue returns {user.GetValue.ReturnType.Name}, which has no SQL type");
            return new AggregateCall(AggregateKind.User, null, false, filter, resultType with { Nullable = true }, call.ToSql())
            {
                User = user,
                Location = Location(call),
                Arguments = userArgs,
            };
        }
        if (call.Arguments.Count == 0) throw Error(call, $"{name} needs an argument");
        if (name is "ARRAY_AGG" or "JSON_ARRAYAGG" or "JSON_OBJECTAGG" or "PERCENTILE" or "COLLECT")
            return BindCollectingAggregate(call, scope, filter);
        int maxArguments = name switch { "COUNT" => int.MaxValue, "LISTAGG" => 2, _ => 1 };
        if (call.Arguments.Count > maxArguments)
            throw Error(call.Arguments[maxArguments], $"{name} takes {(maxArguments == 1 ? "one argument" : $"at most {maxArguments} arguments")}");
        var arg = Bind(call.Arguments[0], scope);
        switch (name)
        {
            case "COUNT" when call.Arguments.Count > 1:
                // Flink's planner takes COUNT(a, b) but its AggFunctionFactory fails it ("We now only support the count
                // of one field."); COUNT(DISTINCT a, b) Eddy's distinct sets of one value cannot hold.
                throw Error(call.Arguments[1], call.Distinct
                    ? "COUNT(DISTINCT a, b, ...) over several expressions is not supported by Eddy yet"
                    : "COUNT of several expressions is not supported (as in Flink: \"We now only support the count of one field.\")");
            case "COUNT":
                return new AggregateCall(AggregateKind.Count, arg, call.Distinct, filter, DataType.BigInt.NotNull(), call.ToSql());
            case "SUM":
            {
                RequireNumeric(arg, call.Arguments[0]);
                // Flink's SUM has its argument's type (DECIMAL(38, s) for a DECIMAL). TINYINT and SMALLINT are summed
                // as INT and wrapped to their type where the call is read (NarrowTo).
                var type = arg.Type.Kind switch
                {
                    TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int => DataType.Int,
                    TypeKind.Float => DataType.Float,
                    TypeKind.Double => DataType.Double,
                    TypeKind.Decimal => DataType.Decimal(38, arg.Type.Scale),
                    _ => DataType.BigInt,
                };
                return new AggregateCall(AggregateKind.Sum, CastIfNeeded(arg, type), call.Distinct, filter, type, call.ToSql())
                {
                    NarrowTo = arg.Type.Kind is TypeKind.TinyInt or TypeKind.SmallInt ? arg.Type with { Nullable = true } : null,
                };
            }
            case "AVG":
            {
                RequireNumeric(arg, call.Arguments[0]);
                // Flink's AVG keeps the argument's type (integer division for integers); DOUBLE stays DOUBLE.
                var type = arg.Type.Kind is TypeKind.Float or TypeKind.Double ? DataType.Double
                    : arg.Type.Kind == TypeKind.Decimal ? DataType.Decimal(38, Math.Max(arg.Type.Scale, 6))
                    : arg.Type with { Nullable = true };
                return new AggregateCall(AggregateKind.Avg, arg, call.Distinct, filter, type, call.ToSql());
            }
            case "MIN" or "MAX":
                return new AggregateCall(name == "MIN" ? AggregateKind.Min : AggregateKind.Max, arg, false, filter, arg.Type with { Nullable = true }, call.ToSql());
            case "FIRST_VALUE" or "LAST_VALUE":
                return new AggregateCall(name == "FIRST_VALUE" ? AggregateKind.FirstValue : AggregateKind.LastValue, arg, false, filter,
                    arg.Type with { Nullable = true }, call.ToSql());
            case "LISTAGG":
            {
                string separator = ",";
                if (call.Arguments.Count == 2)
                    separator = call.Arguments[1] is StringLiteral sep ? sep.Value : throw Error(call.Arguments[1], "LISTAGG's separator must be a string literal");
                return new AggregateCall(AggregateKind.ListAgg, ToStringExpr(arg), call.Distinct, filter, DataType.String, call.ToSql(), separator);
            }
            default:
                throw Error(call, $"unknown aggregate function {name}");
        }
    }

    // ---- FROM --------------------------------------------------------------------------------------------------

    private (LogicalPlan Plan, Scope Scope, WindowedInput? Windowed) BindFrom(TableRef from)
    {
        if (!System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack()) throw DeepStack.TooDeep(from.Span, context);
        switch (from)
        {
            case NamedTableRef named:
            {
                if (named.SystemTimeAsOf is not null)
                    throw Error(named.SystemTimeAsOf, "FOR SYSTEM_TIME AS OF is only allowed on the right side of a JOIN (a lookup join: "
                        + "FROM orders AS o JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id)");
                string name = named.Name.Last.Value;
                string alias = named.Alias?.Value ?? name;
                LogicalPlan plan;
                if (named.Name.Parts.Count == 1 && ctes.TryGetValue(name, out var cte)) plan = cte.Plan;
                else if (catalog.TryGetTable(PartsOf(named.Name), out var table)) plan = BindScan(table, named.Hints);
                else if (catalog.TryGetView(PartsOf(named.Name), out var view))
                {
                    var inner = new Binder(catalog, connectors, view.Context, batchMode, acceptsUpdates) { StateTtlMs = StateTtlMs, Parallelism = Parallelism, derivedDepth = 1 };
                    plan = inner.BindQuery(view.Query).Plan;
                    if (view.ColumnNames.Count > 0)
                        plan = Rename(plan, new NodeList<Identifier>(view.ColumnNames.Select(n => new Identifier(n)).ToList()), named);
                }
                else
                {
                    throw Error(named.Name, $"unknown table '{named.Name}'" + SqlErrors.Suggest(name, catalog.AllNames.Concat(ctes.Keys)));
                }
                plan = Rename(plan, named.ColumnAliases, named);
                return (plan, Scope.Of(plan.Schema, alias), null);
            }
            case SubqueryRef sub:
            {
                if (sub.Lateral) throw Error(sub, "LATERAL subqueries are not supported by Eddy yet");
                var (plan, _) = BindDerived(sub.Query);
                plan = Rename(plan, sub.ColumnAliases, sub);
                return (plan, Scope.Of(plan.Schema, sub.Alias?.Value), null);
            }
            case TableFunctionRef tf:
                return BindWindowTableFunction(tf);
            case MatchRecognizeRef match:
                return BindMatchRecognize(match);
            case JoinRef { Right: TableFunctionRef { Lateral: true } lateral } join
                when join.Kind is JoinKind.Comma or JoinKind.Cross or JoinKind.Inner or JoinKind.Left:
                return BindLateral(join, lateral);
            case JoinRef { Right: UnnestRef unnest } join when join.Kind is JoinKind.Comma or JoinKind.Cross or JoinKind.Inner or JoinKind.Left:
                return BindUnnest(join, unnest);
            case UnnestRef unnest:
                throw Error(unnest, "UNNEST is supported by Eddy joined to the table whose column it expands: "
                    + "FROM t CROSS JOIN UNNEST(t.arr) AS u(x), or LEFT JOIN UNNEST(t.arr) AS u(x) ON TRUE");
            case JoinRef { Right: NamedTableRef { SystemTimeAsOf: not null } lookupTable } join:
                return BindLookupJoin(join, lookupTable);
            case JoinRef { Kind: JoinKind.Comma or JoinKind.Cross } join:
                return BindCommaJoin(join, null) is { } cross ? (cross.Item1, cross.Item2, null) : throw Error(join, $"{join.Kind} join is not supported");
            case JoinRef join:
                return BindRegularJoin(join);
            default:
                throw Error(from, $"{from.GetType().Name} is not supported by Eddy yet");
        }
    }

    /// <summary>
    /// <c>t, LATERAL TABLE(f(args)) AS alias(cols)</c> (or <c>[LEFT] JOIN LATERAL TABLE(...) ON TRUE</c>): each row of
    /// t joined with every row its table function returns for it.
    /// </summary>
    private (LogicalPlan, Scope, WindowedInput?) BindLateral(JoinRef join, TableFunctionRef lateral)
    {
        if (join.Kind is JoinKind.Inner or JoinKind.Left && join.Condition is not BooleanLiteral { Value: true })
            throw Error(join.Condition ?? (SqlNode)join, "a join with LATERAL TABLE takes ON TRUE");
        var (left, leftScope, windowed) = BindFrom(join.Left);
        if (windowed is not null) throw Error(join.Left, "a window table function cannot be joined with LATERAL TABLE");
        var call = lateral.Call;
        string name = call.UpperName;
        var args = call.Arguments.Select(a => Bind(a, leftScope)).ToList();
        if (catalog.Functions.TryGetAsync(name, out var asyncFunction)) return BindAsyncLateral(join, lateral, left, leftScope, args, asyncFunction);
        var overloads = catalog.Functions.Overloads(name).Where(o => UserFunctions.TableElementType(o.Method) is not null).ToList();
        if (overloads.Count == 0)
            throw Error(call, $"unknown table function '{call.Name}'" + SqlErrors.Suggest(name, catalog.Functions.Names));
        var (method, target) = overloads.FirstOrDefault(o => o.Method.GetParameters().Length == args.Count
            && o.Method.GetParameters().Select((p, i) => (p, i)).All(x => (Nullable.GetUnderlyingType(x.p.ParameterType) ?? x.p.ParameterType) == args[x.i].Type.ClrType
                || x.p.ParameterType == typeof(object) || args[x.i].Type.Kind == TypeKind.Null));
        if (method is null) throw Error(call, $"no overload of table function {name} takes ({string.Join(", ", args.Select(a => a.Type))})");
        var element = UserFunctions.TableElementType(method)!;
        var fieldTypes = UserFunctions.TableColumns(element);
        var types = fieldTypes.Select(t => SqlTypeOf(t.Type) ?? throw Error(call, $"table function {name} returns {t.Type.Name}, which has no SQL type")).ToList();
        var names = lateral.ColumnAliases.Count > 0 ? lateral.ColumnAliases.Select(c => c.Value).ToList() : fieldTypes.Select(t => t.Name).ToList();
        if (names.Count != types.Count) throw Error(lateral, $"table function {name} returns {types.Count} column(s), but {names.Count} name(s) are given");
        var columns = left.Schema.Columns.Concat(names.Select((n, i) => new Column(n, types[i]))).ToList();
        var output = new Schema(columns);
        var plan = new CorrelatePlan(left, new UserCall(name, method, target, args, DataType.NullType) { Location = Location(call), Span = call.Span }, output, join.Kind == JoinKind.Left);
        string? alias = lateral.Alias?.Value;
        var scope = leftScope.Columns.Concat(names.Select((n, i) => new ScopeColumn(alias, n, types[i], left.Schema.Count + i))).ToList();
        return (plan, new Scope(scope), null);
    }

    /// <summary>
    /// LATERAL TABLE of a user's async table function (Eval returning <c>Task&lt;IEnumerable&lt;T&gt;&gt;</c>): a
    /// Correlate whose calls run in an async operator with the <c>table.exec.async-table.*</c> options SET so far.
    /// </summary>
    private (LogicalPlan, Scope, WindowedInput?) BindAsyncLateral(JoinRef join, TableFunctionRef lateral, LogicalPlan left, Scope leftScope,
        List<BoundExpr> args, UserAsyncFunction function)
    {
        var call = lateral.Call;
        string name = call.UpperName;
        foreach (var eval in function.Evals)
        {
            var types = UserAsyncFunction.ArgumentTypes(eval);
            if (types.Length != args.Count) continue;
            if (!types.Select((t, i) => (t, i)).All(x =>
                    (Nullable.GetUnderlyingType(x.t) ?? x.t) == args[x.i].Type.ClrType || x.t == typeof(object) || args[x.i].Type.Kind == TypeKind.Null))
                continue;
            var element = UserFunctions.TableElementType(UserAsyncFunction.ResultType(eval)!)
                ?? throw Error(call, $"async function {name} returns {eval.ReturnType.Name}; in LATERAL TABLE an async table function's Eval returns Task<IEnumerable<T>>");
            var fieldTypes = UserFunctions.TableColumns(element);
            var sqlTypes = fieldTypes.Select(t => SqlTypeOf(t.Type) ?? throw Error(call, $"table function {name} returns {t.Type.Name}, which has no SQL type")).ToList();
            var names = lateral.ColumnAliases.Count > 0 ? lateral.ColumnAliases.Select(c => c.Value).ToList() : fieldTypes.Select(t => t.Name).ToList();
            if (names.Count != sqlTypes.Count) throw Error(lateral, $"table function {name} returns {sqlTypes.Count} column(s), but {names.Count} name(s) are given");
            var jobOptions = catalog.JobOptions();
            Functions.AsyncScalarOptions options;
            try
            {
                options = Functions.AsyncScalarOptions.From(jobOptions, SqlSession.ParseDuration, Functions.AsyncScalarOptions.TablePrefix);
            }
            catch (FormatException e)
            {
                throw Error(call, e.Message);
            }
            var spec = Functions.UserAsyncCallFunction.Spec(function, eval, options, new Dictionary<string, string>(jobOptions, StringComparer.Ordinal));
            var output = new Schema(left.Schema.Columns.Concat(names.Select((n, i) => new Column(n, sqlTypes[i] with { Nullable = true }))).ToList());
            var plan = new CorrelatePlan(left, new UserCall(name, eval, null, args, DataType.NullType) { Location = Location(call), Span = call.Span }, output,
                join.Kind == JoinKind.Left) { Async = spec };
            string? alias = lateral.Alias?.Value;
            var scope = leftScope.Columns.Concat(names.Select((n, i) => new ScopeColumn(alias, n, sqlTypes[i] with { Nullable = true }, left.Schema.Count + i))).ToList();
            return (plan, new Scope(scope), null);
        }
        throw Error(call, $"no overload of async table function {name} takes ({string.Join(", ", args.Select(a => a.Type))})");
    }

    private static IReadOnlyList<string> PartsOf(ObjectName name) => name.Parts.Select(p => p.Value).ToList();

    /// <summary>
    /// Flink's dynamic table options: <c>t /*+ OPTIONS('k' = 'v') */</c> overrides or adds connector options for this
    /// use of the table only (checked by the connector as declared ones). Any other table hint name is refused, as
    /// Flink refuses unknown hints.
    /// </summary>
    private TableDef WithOptionsHint(TableDef table, NodeList<SqlHint> hints)
    {
        if (hints.Count == 0) return table;
        var options = new Dictionary<string, string>(table.Options, StringComparer.Ordinal);
        foreach (var hint in hints)
        {
            if (!string.Equals(hint.Name.Value, "OPTIONS", StringComparison.OrdinalIgnoreCase))
                throw Error(hint, $"unknown table hint '{hint.Name.Value}': Eddy takes OPTIONS('key' = 'value', ...) on a table");
            if (hint.Arguments.Count > 0 || hint.Options.Count == 0)
                throw Error(hint, "OPTIONS takes 'key' = 'value' pairs, e.g. /*+ OPTIONS('scan.startup.mode' = 'earliest-offset') */");
            foreach (var o in hint.Options)
            {
                if (o.Key == "connector") throw Error(o, "the 'connector' option cannot be changed by a hint");
                options[o.Key] = o.Value;
            }
        }
        return new TableDef
        {
            Name = table.Name,
            Columns = table.Columns,
            Watermark = table.Watermark,
            PrimaryKey = table.PrimaryKey,
            Options = options,
            Declaration = table.Declaration,
            Context = table.Context,
            CatalogName = table.CatalogName,
            DatabaseName = table.DatabaseName,
        };
    }

    /// <summary>
    /// <c>t CROSS JOIN UNNEST(t.arr) [WITH ORDINALITY] AS u(x [, n])</c> (or <c>t, UNNEST(...)</c>, or <c>[LEFT] JOIN
    /// UNNEST(...) ON TRUE</c>): each row of t followed by one row per element of its array (or key and value per map
    /// entry), as Flink's array expansion; LEFT keeps a row whose array is empty or NULL, padded with NULLs.
    /// </summary>
    private (LogicalPlan, Scope, WindowedInput?) BindUnnest(JoinRef join, UnnestRef unnest)
    {
        if (join.Kind is JoinKind.Inner or JoinKind.Left && join.Condition is not BooleanLiteral { Value: true })
            throw Error(join.Condition ?? (SqlNode)join, "a join with UNNEST takes ON TRUE");
        var (left, leftScope, windowed) = BindFrom(join.Left);
        if (windowed is not null) throw Error(join.Left, "a window table function cannot be joined with UNNEST");
        if (unnest.Arguments.Count != 1) throw Error(unnest, "Eddy's UNNEST takes one ARRAY or MAP");
        var arg = Bind(unnest.Arguments[0], leftScope);
        List<DataType> types;
        List<string> defaults;
        System.Reflection.MethodInfo method;
        switch (arg.Type.Kind)
        {
            case TypeKind.Array when arg.Type.Element!.Kind == TypeKind.Row:
                throw Error(unnest.Arguments[0], "UNNEST of an ARRAY of ROWs is not supported by Eddy yet");
            case TypeKind.Array:
                types = [arg.Type.Element!];
                defaults = ["EXPR$0"];
                method = unnest.WithOrdinality ? typeof(UnnestFunctions).GetMethod(nameof(UnnestFunctions.ArrayWithOrdinality))!
                    : typeof(UnnestFunctions).GetMethod(nameof(UnnestFunctions.Array))!;
                break;
            case TypeKind.Map when arg.Type.Value!.Kind == TypeKind.Row:
                throw Error(unnest.Arguments[0], "UNNEST of a MAP with ROW values is not supported by Eddy yet");
            case TypeKind.Map:
                types = [arg.Type.Element!, arg.Type.Value!];
                defaults = ["KEY", "VALUE"];
                method = unnest.WithOrdinality ? typeof(UnnestFunctions).GetMethod(nameof(UnnestFunctions.MapWithOrdinality))!
                    : typeof(UnnestFunctions).GetMethod(nameof(UnnestFunctions.Map))!;
                break;
            default:
                throw Error(unnest.Arguments[0], $"UNNEST takes an ARRAY or a MAP; this is {arg.Type}");
        }
        if (unnest.WithOrdinality)
        {
            types.Add(DataType.Int.NotNull());
            defaults.Add("ORDINALITY");
        }
        var names = unnest.ColumnAliases.Count > 0 ? unnest.ColumnAliases.Select(c => c.Value).ToList() : defaults;
        if (names.Count != types.Count)
            throw Error(unnest, $"UNNEST{(unnest.WithOrdinality ? " WITH ORDINALITY" : "")} of {arg.Type} gives {types.Count} column(s), but {names.Count} name(s) are given");
        var output = new Schema(left.Schema.Columns.Concat(names.Select((n, i) => new Column(n, types[i]))).ToList());
        var plan = new CorrelatePlan(left, new UserCall("UNNEST", method, null, [arg], DataType.NullType), output, join.Kind == JoinKind.Left);
        string? alias = unnest.Alias?.Value;
        var scope = leftScope.Columns.Concat(names.Select((n, i) => new ScopeColumn(alias, n, types[i], left.Schema.Count + i))).ToList();
        return (plan, new Scope(scope), null);
    }

    private ScanPlan BindScan(TableDef table, NodeList<SqlHint> hints)
    {
        table = WithOptionsHint(table, hints);
        var decodedColumns = table.Columns.Where(c => c.Computed is null).ToList();
        var decoded = new Schema(decodedColumns.Select(c => new Column(c.Name, c.Type)).ToArray());
        var decodedScope = Scope.Of(decoded, table.Name);
        var tableBinder = new Binder(catalog, connectors, table.Context, batchMode, acceptsUpdates) { StateTtlMs = StateTtlMs, Parallelism = Parallelism };
        var projections = new List<BoundExpr>();
        foreach (var c in table.Columns)
        {
            if (c.Computed is null)
            {
                int i = decoded.IndexOf(c.Name);
                projections.Add(new InputRef(i, c.Name, c.Type));
            }
            else projections.Add(tableBinder.Bind(c.Computed, decodedScope));
        }
        int? rowtime = null;
        long? delay = null;
        if (table.Watermark is { } wm)
        {
            rowtime = table.Schema.IndexOf(wm.Column);
            var tableScope = Scope.Of(table.Schema, table.Name);
            var bound = tableBinder.Bind(wm.Expression, tableScope);
            delay = bound switch
            {
                InputRef r when r.Index == rowtime => 0,
                Call { Name: "+", Args: [InputRef r, Literal { Value: long ms }, Literal { Value: int months }] } when r.Index == rowtime && months == 0 => -ms,
                _ => throw tableBinder.Error(wm.Expression,
                    $"Eddy supports watermarks of the form '{wm.Column}' or '{wm.Column} - INTERVAL ...' (a bounded delay)"),
            };
            if (delay < 0) throw tableBinder.Error(wm.Expression, "a watermark cannot be ahead of its rowtime");
        }
        return new ScanPlan(table, decoded, projections, rowtime, delay) { Updating = ScanProducesUpdates(table) };
    }

    /// <summary>Whether the table's connector reads a changelog (upsert-kafka); an unknown connector fails later, at translation.</summary>
    private bool ScanProducesUpdates(TableDef table)
    {
        try
        {
            return connectors.Find(table).ProducesUpdates(table);
        }
        catch (Connectors.ConnectorOptionException)
        {
            return false;
        }
    }

    /// <summary>A window aggregation under <paramref name="plan"/> that re-fires windows for late rows, if any.</summary>
    private static AggregatePlan? FindLateFiringWindow(LogicalPlan plan) =>
        DeepStack.Ensure(plan) is AggregatePlan { Window: { ProcessingTime: false }, AllowedLatenessMs: > 0 } agg ? agg
            : plan.Inputs.Select(FindLateFiringWindow).FirstOrDefault(a => a is not null);

    /// <summary>
    /// The late-data table of a window aggregation: each of its columns is the input column of the same name (the
    /// window's input rows, after WHERE), cast to the table's type when needed.
    /// </summary>
    private LateDataSink? BindLateData(SqlNode at, LogicalPlan input)
    {
        if (WindowEmit.LateDataTable is not { } name) return null;
        const string option = "'table.exec.late-data.table'";
        if (!catalog.TryGetTable(name, out var table))
            throw Error(at, $"{option} names '{name}', which is not a declared table" + SqlErrors.Suggest(name, catalog.Tables.Select(t => t.Name)));
        var sinkSchema = table.SinkSchema;
        string available = string.Join(", ", input.Schema.Columns.Select(c => $"{c.Name} {c.Type}"));
        var projections = new BoundExpr[sinkSchema.Count];
        for (int i = 0; i < sinkSchema.Count; i++)
        {
            var target = sinkSchema[i];
            int from = input.Schema.IndexOf(target.Name);
            if (from < 0)
            {
                throw Error(at, $"the late-data table '{table.Name}' ({option}) has a column '{target.Name}' that the window's input rows "
                    + $"do not have; its columns are taken by name from: {available}");
            }
            var source = input.Schema[from];
            if (!TypeRules.IsAssignable(source.Type, target.Type))
                throw Error(at, $"the late-data table column '{table.Name}.{target.Name}' ({target.Type}) cannot hold the window input's '{source.Name}' ({source.Type})");
            projections[i] = CastIfNeeded(new InputRef(from, source.Name, source.Type), target.Type);
        }
        return new LateDataSink(table, projections);
    }

    private (LogicalPlan, Scope, WindowedInput) BindWindowTableFunction(TableFunctionRef tf)
    {
        var call = tf.Call;
        string fn = call.UpperName;
        if (fn is not ("TUMBLE" or "HOP" or "CUMULATE" or "SESSION"))
            throw Error(call, $"unknown table function '{call.Name}'" + SqlErrors.Suggest(fn, ["TUMBLE", "HOP", "CUMULATE", "SESSION"]));
        var positional = new List<Expr>();
        var named = new Dictionary<string, Expr>(StringComparer.OrdinalIgnoreCase);
        foreach (var a in call.Arguments)
        {
            if (a is NamedArgument na) named[na.Name.Value] = na.Value;
            else positional.Add(a);
        }
        Expr Arg(int position, string name) =>
            named.TryGetValue(name, out var v) ? v
            : position < positional.Count ? positional[position]
            : throw Error(call, $"{fn} needs its {name} argument");
        Expr? Optional(int position, string name) =>
            named.TryGetValue(name, out var v) ? v : position < positional.Count ? positional[position] : null;

        if (Arg(0, "DATA") is not TableArgument data) throw Error(call, $"{fn}'s first argument is TABLE name or TABLE (query)");
        LogicalPlan input;
        Scope inputScope;
        if (data.Table is not null)
        {
            (input, inputScope, _) = BindFrom(new NamedTableRef(data.Table, null, new([]), null, new([])) { Span = data.Span });
        }
        else
        {
            (input, _) = BindDerived(data.Query!);
            inputScope = Scope.Of(input.Schema, null);
        }
        if (Arg(1, "TIMECOL") is not DescriptorExpr descriptor || descriptor.Columns.Count != 1)
            throw Error(call, $"{fn}'s time argument is DESCRIPTOR(column)");
        var timeName = descriptor.Columns[0];
        int timeColumn = input.Schema.IndexOf(timeName.Value);
        if (timeColumn < 0) throw Error(timeName, $"unknown column '{timeName.Value}'" + SqlErrors.Suggest(timeName.Value, input.Schema.Columns.Select(c => c.Name)));
        bool processingTime = input.Proctime == timeColumn;
        if (input.Rowtime != timeColumn && !processingTime)
        {
            throw Error(timeName, $"column '{timeName.Value}' is not an event-time attribute, so windows on it would never close: "
                + $"declare WATERMARK FOR {timeName.Value} AS {timeName.Value} - INTERVAL '5' SECOND in the table (or select a column that has one)");
        }
        if (processingTime && fn is "CUMULATE" or "SESSION")
            throw Error(timeName, $"{fn} windows on processing time are not supported by Eddy yet (TUMBLE and HOP are)");
        long Interval(Expr e)
        {
            var b = Bind(e, new Scope([]));
            return b is IntervalExpr { Months: 0 } iv && iv.Millis > 0 ? iv.Millis : throw Error(e, "expected a positive INTERVAL of seconds, minutes, hours or days");
        }
        WindowSpecification spec;
        var partition = new List<BoundExpr>();
        switch (fn)
        {
            case "TUMBLE":
                spec = new WindowSpecification(WindowKind.Tumble, timeColumn, Interval(Arg(2, "SIZE")), 0,
                    Optional(3, "OFFSET") is { } off ? OffsetOf(off) : 0, 0);
                spec = spec with { Slide = spec.Size };
                break;
            case "HOP":
            {
                long slide = Interval(Arg(2, "SLIDE")), size = Interval(Arg(3, "SIZE"));
                if (size % slide != 0) throw Error(call, "HOP's size must be a whole multiple of its slide");
                spec = new WindowSpecification(WindowKind.Hop, timeColumn, size, slide, Optional(4, "OFFSET") is { } hopOffset ? OffsetOf(hopOffset) : 0, 0);
                break;
            }
            case "CUMULATE":
            {
                long step = Interval(Arg(2, "STEP")), max = Interval(Arg(3, "SIZE"));
                if (max % step != 0) throw Error(call, "CUMULATE's max size must be a whole multiple of its step");
                spec = new WindowSpecification(WindowKind.Cumulate, timeColumn, max, step, Optional(4, "OFFSET") is { } cumulateOffset ? OffsetOf(cumulateOffset) : 0, 0);
                break;
            }
            default:
                spec = new WindowSpecification(WindowKind.Session, timeColumn, 0, 0, 0, Interval(Arg(2, "GAP")));
                foreach (var p in data.PartitionBy) partition.Add(Bind(p, inputScope));
                break;
        }
        spec = spec with { ProcessingTime = processingTime };
        string? alias = tf.Alias?.Value;
        var columns = inputScope.Columns.Select(c => c with { Qualifier = alias ?? c.Qualifier }).ToList();
        for (int i = 0; i < 3; i++)
            columns.Add(new ScopeColumn(alias, GroupContext.WindowColumns[i], GroupContext.WindowColumnType(i), input.Schema.Count + i));
        return (input, new Scope(columns), new WindowedInput(input, spec, partition));
    }

    private long OffsetOf(Expr e) => Bind(e, new Scope([])) is IntervalExpr { Months: 0 } iv ? iv.Millis
        : throw Error(e, "a window offset is an INTERVAL");

    private WindowSpecification BindGroupWindow(FunctionCall f, Scope scope, LogicalPlan input)
    {
        if (f.Arguments.Count < 2) throw Error(f, $"{f.UpperName}(time_column, INTERVAL ...) needs a time column and a size");
        var time = Bind(f.Arguments[0], scope);
        if (time is not InputRef r || (input.Rowtime != r.Index && input.Proctime != r.Index))
        {
            throw Error(f.Arguments[0], $"the first argument of {f.UpperName} must be a time attribute "
                + "(a column with a WATERMARK in its table, or a PROCTIME() column)");
        }
        if (input.Proctime == r.Index)
        {
            if (f.UpperName == "SESSION") throw Error(f, "SESSION windows on processing time are not supported by Eddy yet");
            return BindGroupWindowOn(f, scope, r) with { ProcessingTime = true };
        }
        return BindGroupWindowOn(f, scope, r);
    }

    private WindowSpecification BindGroupWindowOn(FunctionCall f, Scope scope, InputRef r)
    {
        long Interval(Expr e) => Bind(e, scope) is IntervalExpr { Months: 0 } iv && iv.Millis > 0 ? iv.Millis
            : throw Error(e, "expected a positive INTERVAL");
        switch (f.UpperName)
        {
            case "TUMBLE":
            {
                long size = Interval(f.Arguments[1]);
                return new WindowSpecification(WindowKind.Tumble, r.Index, size, size, f.Arguments.Count > 2 ? OffsetOf(f.Arguments[2]) : 0, 0);
            }
            case "HOP":
            {
                if (f.Arguments.Count < 3) throw Error(f, "HOP(time_column, slide, size)");
                long slide = Interval(f.Arguments[1]), size = Interval(f.Arguments[2]);
                if (size % slide != 0) throw Error(f, "HOP's size must be a whole multiple of its slide");
                return new WindowSpecification(WindowKind.Hop, r.Index, size, slide, 0, 0);
            }
            default:
                return new WindowSpecification(WindowKind.Session, r.Index, 0, 0, 0, Interval(f.Arguments[1]));
        }
    }
}

/// <summary>
/// Late rows in event-time window aggregations: <paramref name="AllowedLatenessMs"/> after a window fired, a late row
/// still updates it (-U/+U); rows later than that go to the table <paramref name="LateDataTable"/> when set.
/// </summary>
public sealed record WindowEmitOptions(long AllowedLatenessMs, string? LateDataTable)
{
    public static WindowEmitOptions None { get; } = new(0, null);
}
