using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Match;

namespace Eddy.Sql.Planning;

// MATCH_RECOGNIZE, as Flink's pattern recognition (a subset of the SQL standard's row pattern recognition): the
// pattern is a concatenation of single variables with quantifiers; DEFINE and MEASURES read the rows mapped to a
// variable through navigations (A.col, FIRST/LAST with logical offsets) and aggregates. Every navigation becomes one
// column of a small "navigation row" that the operator fills per evaluation, so that the condition or measure itself
// binds and compiles as an ordinary expression over that row.
public sealed partial class Binder
{
    private static readonly HashSet<string> MatchAggregates = new(StringComparer.OrdinalIgnoreCase) { "SUM", "AVG", "COUNT", "MIN", "MAX" };

    private (LogicalPlan, Scope, WindowedInput?) BindMatchRecognize(MatchRecognizeRef m)
    {
        var (input, inputScope, windowed) = BindFrom(m.Input);
        if (windowed is not null) throw Error(m.Input, "MATCH_RECOGNIZE over a window table function is not supported by Eddy yet");
        if (batchMode) throw Error(m, "MATCH_RECOGNIZE is supported in streaming mode only (as in Flink)");
        if (input.IsUpdating)
            throw Error(m.Input, "MATCH_RECOGNIZE can only be applied to an append-only table (as in Flink); this input updates its rows");
        if (m.AllRowsPerMatch) throw Error(m, "ALL ROWS PER MATCH is not supported (as in Flink); use ONE ROW PER MATCH");
        // The input's columns, unqualified: inside MATCH_RECOGNIZE a qualifier names a pattern variable.
        var columnScope = new Scope(inputScope.Columns.Select(c => c with { Qualifier = null }).ToArray());

        // PATTERN
        var terms = m.Pattern is PatternSequence seq ? seq.Terms.Cast<PatternVariable>().ToList() : [(PatternVariable)m.Pattern];
        var names = new List<string>();
        var elements = new List<MatchElement>();
        foreach (var v in terms)
        {
            if (names.Contains(v.Name.Value, StringComparer.OrdinalIgnoreCase))
                throw Error(v, $"pattern variable '{v.Name.Value}' appears twice; pattern variables must be unique (as in Flink)");
            if (v.Reluctant && v.Min == 0 && v.Max == 1)
                throw Error(v, $"the reluctant optional quantifier '{v.QuantifierText}' is not supported (as in Flink)");
            if (v.Min == 0 && v.Max is null && v.QuantifierText.StartsWith('{'))
                throw Error(v, $"the quantifier '{v.QuantifierText}' is not supported by Eddy yet; write '*' for zero or more rows");
            bool greedy = v.Quantified && !v.Reluctant && !(v.Min == 0 && v.Max == 1) && v.Min != v.Max;
            if (v.Min == 0 && elements.Count > 0 && elements[^1].Greedy)
                throw Error(v, $"the optional variable '{v.Name.Value}' cannot follow the greedy '{terms[elements.Count - 1].Name.Value}"
                    + $"{terms[elements.Count - 1].QuantifierText}' (as in Flink: \"Optional pattern cannot be preceded by greedy pattern\"); make it reluctant");
            names.Add(v.Name.Value);
            elements.Add(new MatchElement(v.Min, v.Max ?? int.MaxValue, greedy));
        }
        if (elements.All(e => e.Min == 0))
            throw Error(m.Pattern, "patterns that can produce an empty match are not supported (as in Flink): at least one variable must not be optional");
        if (elements[^1].Greedy)
            throw Error(terms[^1], "a greedy quantifier is not allowed on the last variable of a pattern (as in Flink); finish the pattern "
                + "with a single variable or a reluctant quantifier");
        int VariableOf(Identifier id) =>
            names.FindIndex(n => string.Equals(n, id.Value, StringComparison.OrdinalIgnoreCase)) is var i and >= 0 ? i
                : throw Error(id, $"unknown pattern variable '{id.Value}'" + SqlErrors.Suggest(id.Value, names));

        // ORDER BY: an ascending time attribute first, as Flink.
        if (m.OrderBy.Count == 0) throw Error(m, "MATCH_RECOGNIZE needs ORDER BY a time attribute (rowtime or proctime), as in Flink");
        var first = m.OrderBy[0];
        var time = Bind(first.Expression, columnScope);
        bool eventTime = time is InputRef rt && rt.Index == input.Rowtime;
        bool processingTime = time is InputRef pt && pt.Index == input.Proctime;
        if (!eventTime && !processingTime)
            throw Error(first.Expression, "MATCH_RECOGNIZE must be ordered by a time attribute (a WATERMARK column or PROCTIME()) first, as in Flink");
        if (first.Descending) throw Error(first, "the primary order of MATCH_RECOGNIZE must be ascending on time (as in Flink)");
        var secondary = new List<(int Column, bool Descending, bool NullsFirst)>();
        foreach (var o in m.OrderBy.Skip(1))
        {
            if (processingTime) throw Error(o, "secondary ORDER BY columns after a processing-time attribute are not supported by Eddy (arrival order decides)");
            if (Bind(o.Expression, columnScope) is not InputRef col) throw Error(o.Expression, "MATCH_RECOGNIZE orders by columns of its input");
            secondary.Add((col.Index, o.Descending, o.Nulls == NullOrdering.First || (o.Nulls == NullOrdering.Default && !o.Descending)));
        }

        // PARTITION BY: columns, which lead the output.
        var partition = new List<InputRef>();
        foreach (var p in m.PartitionBy)
        {
            if (Bind(p, columnScope) is not InputRef col) throw Error(p, "MATCH_RECOGNIZE partitions by columns of its input");
            partition.Add(col);
        }

        // WITHIN
        long? within = null;
        if (m.Within is not null)
        {
            within = Bind(m.Within, columnScope) is IntervalExpr { Months: 0, Millis: > 0 } interval ? interval.Millis
                : throw Error(m.Within, "WITHIN takes a constant day-time INTERVAL (as in Flink: millisecond resolution)");
        }

        // DEFINE
        var defines = new MatchCondition?[elements.Count];
        foreach (var d in m.Definitions)
        {
            int v = VariableOf(d.Variable);
            if (defines[v] is not null) throw Error(d, $"pattern variable '{d.Variable.Value}' is defined twice");
            var navs = new List<MatchNav>();
            var rewritten = RewriteMatchExpr(d.Condition, names, columnScope, navs, measures: false);
            var bound = RequireBoolean(Bind(rewritten, NavScope(navs)), d.Condition);
            if (ReadsClock(bound) || navs.Any(n => n.Value is { } value && ReadsClock(value) || n.Aggregate?.Argument is { } arg && ReadsClock(arg)))
                throw Error(d.Condition, "the current time (CURRENT_TIMESTAMP, PROCTIME(), ...) in DEFINE is not supported by Eddy yet");
            defines[v] = new MatchCondition(navs, bound);
        }

        // AFTER MATCH SKIP (the standard's default: PAST LAST ROW)
        var skip = m.AfterMatch?.Kind ?? AfterMatchSkipKind.PastLastRow;
        int skipTo = -1;
        if (m.AfterMatch?.Variable is { } target)
        {
            skipTo = VariableOf(target);
            if (skipTo == 0 && elements[0].Min > 0 && skip == AfterMatchSkipKind.ToFirst)
                throw Error(m.AfterMatch, $"AFTER MATCH SKIP TO FIRST {target.Value} would start the next match where this one started "
                    + "(Flink fails such a job: \"Could not skip to first element of a match\")");
        }

        // MEASURES: the partition columns, then the measures.
        var measureNavs = new List<MatchNav>();
        var outputs = new List<BoundExpr>();
        var outputNames = new List<string>();
        int? rowtimeColumn = null, proctimeColumn = null;
        foreach (var p in partition)
        {
            measureNavs.Add(new MatchNav(MatchNavKind.Last, -1, 0, p, null, p.Type));
            outputs.Add(new InputRef(measureNavs.Count - 1, $"$nav{measureNavs.Count - 1}", p.Type));
            outputNames.Add(p.Name);
        }
        foreach (var measure in m.Measures)
        {
            var e = measure.Expression;
            if (e is FunctionCall { UpperName: "MATCH_ROWTIME" } mr)
            {
                if (mr.Arguments.Count > 0) throw Error(mr, "MATCH_ROWTIME with an argument is not supported by Eddy yet; write MATCH_ROWTIME()");
                if (!eventTime || input.Rowtime is not { } rowtime) throw Error(mr, "MATCH_ROWTIME() needs MATCH_RECOGNIZE ordered by a rowtime attribute");
                var column = input.Schema[rowtime];
                if (column.Type.Kind != TypeKind.Timestamp) throw Error(mr, "MATCH_ROWTIME() over a TIMESTAMP_LTZ rowtime is not supported by Eddy yet");
                if (rowtimeColumn is not null) throw Error(mr, "MATCH_ROWTIME() may appear once in MEASURES");
                var type = DataType.Timestamp3.NotNull();
                measureNavs.Add(new MatchNav(MatchNavKind.EmitTime, -1, 0, null, null, type));
                rowtimeColumn = outputs.Count;
                outputs.Add(new InputRef(measureNavs.Count - 1, $"$nav{measureNavs.Count - 1}", type));
            }
            else if (e is FunctionCall { UpperName: "MATCH_PROCTIME" } mp)
            {
                if (mp.Arguments.Count > 0) throw Error(mp, "MATCH_PROCTIME takes no arguments");
                if (proctimeColumn is not null) throw Error(mp, "MATCH_PROCTIME() may appear once in MEASURES");
                proctimeColumn = outputs.Count;
                outputs.Add(new CurrentTime(DataType.TimestampLtz3.NotNull()) { IsProctime = true });
            }
            else
            {
                int navsBefore = measureNavs.Count;
                var rewritten = RewriteMatchExpr(e, names, columnScope, measureNavs, measures: true);
                outputs.Add(Bind(rewritten, NavScope(measureNavs)));
                if (measureNavs.Skip(navsBefore).Any(n => n.Value is { } value && ReadsClock(value) || n.Aggregate?.Argument is { } arg && ReadsClock(arg)))
                    throw Error(e, "the current time inside a navigation or aggregate in MEASURES is not supported by Eddy yet");
            }
            outputNames.Add(measure.Alias!.Value);
        }
        var duplicate = outputNames.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw Error(m, $"MATCH_RECOGNIZE has two output columns named '{duplicate.Key}'");
        var schema = new Schema(outputs.Select((o, i) => new Column(outputNames[i], o.Type)).ToArray());
        // No table.exec.state.ttl here: Flink's MATCH_RECOGNIZE does not use the state retention time either (WITHIN bounds it).
        LogicalPlan plan = new MatchPlan(input, partition, time is InputRef t ? t.Index : 0, processingTime, secondary, elements, names,
            defines, skip, skipTo, within, measureNavs, outputs, rowtimeColumn, proctimeColumn, schema);
        plan = Rename(plan, m.ColumnAliases, m);
        return (plan, Scope.Of(plan.Schema, m.Alias?.Value), null);
    }

    /// <summary>Whether <paramref name="e"/> reads the clock, which navigations and conditions are not compiled to see.</summary>
    private static bool ReadsClock(BoundExpr e) => DeepStack.Ensure(e) switch
    {
        CurrentTime => true,
        Binary b => ReadsClock(b.Left) || ReadsClock(b.Right),
        Unary u => ReadsClock(u.Operand),
        Cast c => ReadsClock(c.Operand),
        CaseWhen c => c.Branches.Any(b => ReadsClock(b.When) || ReadsClock(b.Then)) || (c.Else is not null && ReadsClock(c.Else)),
        Call c => c.Args.Any(ReadsClock),
        UserCall u => u.Args.Any(ReadsClock),
        InList i => ReadsClock(i.Value) || i.Items.Any(ReadsClock),
        Coalesce c => c.Args.Any(ReadsClock),
        InputRef or Literal or IntervalExpr => false,
        _ => true,
    };

    private static Scope NavScope(List<MatchNav> navs) =>
        new(navs.Select((n, i) => new ScopeColumn(null, $"$nav{i}", n.Type, i)).ToArray());

    /// <summary>
    /// <paramref name="e"/> with every navigation (A.col, col, FIRST/LAST(...), aggregates over a variable) replaced
    /// by a reference to its column of the navigation row; the navigations are appended to <paramref name="navs"/>.
    /// </summary>
    private Expr RewriteMatchExpr(Expr e, List<string> variables, Scope columns, List<MatchNav> navs, bool measures)
    {
        DeepStack.Ensure(e);
        Expr Nav(MatchNav nav, SqlNode at)
        {
            int index = navs.IndexOf(nav);
            if (index < 0)
            {
                navs.Add(nav);
                index = navs.Count - 1;
            }
            return new ColumnRef(new NodeList<Identifier>(new[] { new Identifier($"$nav{index}") { Span = at.Span } })) { Span = at.Span };
        }
        Expr R(Expr x) => RewriteMatchExpr(x, variables, columns, navs, measures);
        int VariableIndex(string name) => variables.FindIndex(n => string.Equals(n, name, StringComparison.OrdinalIgnoreCase));
        switch (e)
        {
            case NumericLiteral or StringLiteral or BooleanLiteral or NullLiteral or IntervalLiteral or TypedLiteral:
                return e;
            case ColumnRef c:
            {
                int variable = -1;
                var names = c.Names;
                if (names.Count == 2)
                {
                    variable = VariableIndex(names[0].Value);
                    if (variable < 0)
                        throw Error(names[0], $"unknown pattern variable '{names[0].Value}'" + SqlErrors.Suggest(names[0].Value, variables));
                    names = new NodeList<Identifier>(new[] { names[1] });
                }
                else if (names.Count > 2)
                {
                    throw Error(c, "nested fields inside MATCH_RECOGNIZE are not supported by Eddy yet");
                }
                var value = Bind(new ColumnRef(names) { Span = c.Span }, columns);
                return Nav(new MatchNav(MatchNavKind.Last, variable, 0, value, null, value.Type.Nullable ? value.Type : value.Type with { Nullable = true }), c);
            }
            case FunctionCall f when f.Over is null && f.UpperName is "FIRST" or "LAST":
            {
                if (f.Arguments.Count is < 1 or > 2 || f.Distinct || f.Star || f.Filter is not null)
                    throw Error(f, $"{f.UpperName} takes a navigation expression and an optional offset: {f.UpperName}(A.price, 1)");
                int offset = 0;
                if (f.Arguments.Count == 2)
                {
                    offset = f.Arguments[1] is NumericLiteral { Kind: NumericKind.Integer } n && int.TryParse(n.Text, out int k) && k >= 0 ? k
                        : throw Error(f.Arguments[1], $"the offset of {f.UpperName} must be a non-negative whole number");
                }
                var (variable, stripped) = SingleVariable(f.Arguments[0], variables, f);
                var value = Bind(stripped, columns);
                var kind = f.UpperName == "FIRST" ? MatchNavKind.First : MatchNavKind.Last;
                return Nav(new MatchNav(kind, variable, offset, value, null, value.Type with { Nullable = true }), f);
            }
            case FunctionCall f when f.Over is null && MatchAggregates.Contains(f.UpperName):
            {
                if (f.Distinct) throw Error(f, "DISTINCT aggregates are not supported in MATCH_RECOGNIZE (as in Flink)");
                if (f.Filter is not null) throw Error(f.Filter, "FILTER on an aggregate in MATCH_RECOGNIZE is not supported by Eddy yet");
                int variable = -1;
                var call = f;
                if (!f.Star)
                {
                    if (f.Arguments.Count != 1) throw Error(f, $"{f.UpperName} takes one argument");
                    var (v, stripped) = SingleVariable(f.Arguments[0], variables, f);
                    variable = v;
                    call = f with { Arguments = new NodeList<Expr>(new[] { stripped }) };
                }
                var aggregate = BindAggregate(call, columns);
                if (aggregate.User is { } user && Codegen.UserFunctionInstances.HasLifecycle(user.Instance.GetType()))
                    throw Error(f, $"aggregate function {f.UpperName} overrides Open or Close: Eddy opens and closes user aggregate functions in GROUP BY and window aggregations, not in MATCH_RECOGNIZE");
                if (aggregate.NarrowTo is not null)
                    throw Error(f, $"{f.UpperName} of a TINYINT or SMALLINT in MATCH_RECOGNIZE is not supported by Eddy yet; CAST the argument to INT");
                var type = aggregate.Type.Nullable || aggregate.Kind is AggregateKind.Count or AggregateKind.CountStar ? aggregate.Type : aggregate.Type with { Nullable = true };
                return Nav(new MatchNav(MatchNavKind.Aggregate, variable, 0, null, aggregate, type), f);
            }
            case FunctionCall f when f.UpperName is "PREV" or "NEXT":
                throw Error(f, $"the physical offset {f.UpperName} is not supported by Eddy (Flink's documentation lists PREV/NEXT as unsupported); "
                    + "use the logical offsets FIRST(A.col, n) and LAST(A.col, n)");
            case FunctionCall f when f.UpperName is "CLASSIFIER" or "MATCH_NUMBER" or "RUNNING" or "FINAL":
                throw Error(f, $"{f.UpperName} is not supported in MATCH_RECOGNIZE (as in Flink)");
            case FunctionCall f when f.UpperName is "MATCH_ROWTIME" or "MATCH_PROCTIME":
                throw Error(f, $"{f.UpperName}() is supported by Eddy only as a whole measure: MEASURES {f.UpperName}() AS t");
            case FunctionCall f when f.Over is not null:
                throw Error(f, "OVER is not allowed inside MATCH_RECOGNIZE");
            case FunctionCall f:
                if (IsAggregate(f)) throw Error(f, $"the aggregate {f.UpperName} is not supported in MATCH_RECOGNIZE by Eddy yet (SUM, AVG, COUNT, MIN and MAX are)");
                return f with { Arguments = new NodeList<Expr>(f.Arguments.Select(R).ToArray()) };
            case UnaryExpr u:
                return u with { Operand = R(u.Operand) };
            case BinaryExpr b:
                return b with { Left = R(b.Left), Right = R(b.Right) };
            case IsExpr i:
                return i with { Operand = R(i.Operand) };
            case IsDistinctFromExpr d:
                return d with { Left = R(d.Left), Right = R(d.Right) };
            case InListExpr i:
                return i with { Operand = R(i.Operand), Values = new NodeList<Expr>(i.Values.Select(R).ToArray()) };
            case LikeExpr l:
                return l with { Operand = R(l.Operand), Pattern = R(l.Pattern), Escape = l.Escape is null ? null : R(l.Escape) };
            case BetweenExpr b:
                return b with { Operand = R(b.Operand), Low = R(b.Low), High = R(b.High) };
            case CaseExpr c:
                return c with
                {
                    Operand = c.Operand is null ? null : R(c.Operand),
                    Whens = new NodeList<WhenClause>(c.Whens.Select(w => w with { Condition = R(w.Condition), Result = R(w.Result) }).ToArray()),
                    Else = c.Else is null ? null : R(c.Else),
                };
            case CastExpr c:
                return c with { Operand = R(c.Operand) };
            case ExtractExpr x:
                return x with { Source = R(x.Source) };
            case FloorCeilExpr x:
                return x with { Operand = R(x.Operand) };
            case TimestampDiffExpr x:
                return x with { Start = R(x.Start), End = R(x.End) };
            case TimestampAddExpr x:
                return x with { Amount = R(x.Amount), Timestamp = R(x.Timestamp) };
            case TrimExpr x:
                return x with { Characters = x.Characters is null ? null : R(x.Characters), Source = R(x.Source) };
            case PositionExpr x:
                return x with { Needle = R(x.Needle), Haystack = R(x.Haystack) };
            default:
                throw Error(e, $"this expression is not supported inside MATCH_RECOGNIZE by Eddy yet: {e.ToSql()}");
        }
    }

    /// <summary>
    /// The one pattern variable an aggregate's or FIRST/LAST's argument reads (-1: none named, all rows of the match)
    /// and the argument with the variable's qualifier removed; two variables are refused, as in Flink.
    /// </summary>
    private (int Variable, Expr Stripped) SingleVariable(Expr argument, List<string> variables, FunctionCall at)
    {
        int found = -1;
        string? foundName = null;
        Expr Strip(Expr x)
        {
            DeepStack.Ensure(x);
            switch (x)
            {
                case ColumnRef { Names.Count: 2 } c:
                {
                    int v = variables.FindIndex(n => string.Equals(n, c.Names[0].Value, StringComparison.OrdinalIgnoreCase));
                    if (v < 0) throw Error(c.Names[0], $"unknown pattern variable '{c.Names[0].Value}'" + SqlErrors.Suggest(c.Names[0].Value, variables));
                    if (foundName is not null && found != v)
                        throw Error(at, $"{at.UpperName} may read one pattern variable only (as in Flink), but this reads {foundName} and {c.Names[0].Value}");
                    found = v;
                    foundName = c.Names[0].Value;
                    return new ColumnRef(new NodeList<Identifier>(new[] { c.Names[1] })) { Span = c.Span };
                }
                case ColumnRef:
                    if (foundName is not null) throw Error(x, $"{at.UpperName} may read one pattern variable only (as in Flink); qualify this column with {foundName}");
                    found = -1;
                    foundName = null;
                    return x;
                case NumericLiteral or StringLiteral or BooleanLiteral or NullLiteral or IntervalLiteral or TypedLiteral:
                    return x;
                case FunctionCall f when !IsAggregate(f) && f.UpperName is not ("FIRST" or "LAST" or "PREV" or "NEXT"):
                    return f with { Arguments = new NodeList<Expr>(f.Arguments.Select(Strip).ToArray()) };
                case UnaryExpr u:
                    return u with { Operand = Strip(u.Operand) };
                case BinaryExpr b:
                    return b with { Left = Strip(b.Left), Right = Strip(b.Right) };
                case CastExpr c:
                    return c with { Operand = Strip(c.Operand) };
                case CaseExpr c:
                    return c with
                    {
                        Operand = c.Operand is null ? null : Strip(c.Operand),
                        Whens = new NodeList<WhenClause>(c.Whens.Select(w => w with { Condition = Strip(w.Condition), Result = Strip(w.Result) }).ToArray()),
                        Else = c.Else is null ? null : Strip(c.Else),
                    };
                case IsExpr i:
                    return i with { Operand = Strip(i.Operand) };
                default:
                    throw Error(x, $"this expression is not supported inside {at.UpperName} in MATCH_RECOGNIZE by Eddy yet: {x.ToSql()}");
            }
        }
        var stripped = Strip(argument);
        return (found, stripped);
    }
}
