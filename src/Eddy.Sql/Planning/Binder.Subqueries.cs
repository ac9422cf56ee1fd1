using Eddy.Joins;
using Eddy.Sql.Codegen;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Plan.SemiJoin;

namespace Eddy.Sql.Planning;

/// <summary>
/// Subqueries in WHERE, as Flink's planner rewrites them: <c>x [NOT] IN (SELECT ...)</c> and <c>[NOT] EXISTS (SELECT
/// ...)</c> terms become semi/anti joins (correlated on the subquery's WHERE terms that read the outer row), and a
/// comparison with an uncorrelated single-row aggregate <c>(SELECT AVG(x) FROM t)</c> an inner join with that one-row
/// updating side. Each such subquery must be a whole term of the WHERE clause (terms joined by AND).
/// </summary>
public sealed partial class Binder
{
    /// <summary>While an uncorrelated subquery is bound: the enclosing query's scope, to name a reference to it in the error.</summary>
    private Scope? enclosingScope;

    /// <summary>WHERE's terms (split at top-level ANDs) without subqueries, as one condition again, and those with.</summary>
    private static (Expr? Plain, List<Expr> WithSubqueries) SplitSubqueryTerms(Expr? where)
    {
        var withSubqueries = new List<Expr>();
        if (where is null) return (null, withSubqueries);
        var terms = Conjunction.Terms(where);
        var plain = new List<Expr>();
        foreach (var t in terms) (Subqueries(t).Count > 0 ? withSubqueries : plain).Add(t);
        if (withSubqueries.Count == 0) return (where, withSubqueries);
        Expr? rest = null;
        foreach (var t in plain) rest = rest is null ? t : new BinaryExpr(BinaryOperator.And, rest, t) { Span = t.Span };
        return (rest, withSubqueries);
    }

    /// <summary>The subquery expressions inside <paramref name="e"/> (not inside nested subqueries).</summary>
    private static List<Expr> Subqueries(Expr e)
    {
        var found = new List<Expr>();
        var pending = new Stack<Expr>();
        pending.Push(e);
        while (pending.TryPop(out var next))
        {
            switch (next)
            {
                case SubqueryExpr or ExistsExpr:
                    found.Add(next);
                    break;
                case InSubqueryExpr i:
                    found.Add(i);
                    pending.Push(i.Operand);
                    break;
                case BinaryExpr b:
                    pending.Push(b.Right);
                    pending.Push(b.Left);
                    break;
                case UnaryExpr u:
                    pending.Push(u.Operand);
                    break;
                case FunctionCall f:
                    foreach (var a in f.Arguments) pending.Push(a);
                    break;
                case CastExpr c:
                    pending.Push(c.Operand);
                    break;
                case IsExpr i:
                    pending.Push(i.Operand);
                    break;
                case BetweenExpr b:
                    pending.Push(b.Operand);
                    pending.Push(b.Low);
                    pending.Push(b.High);
                    break;
                case InListExpr i:
                    pending.Push(i.Operand);
                    foreach (var v in i.Values) pending.Push(v);
                    break;
                case CaseExpr c:
                    if (c.Operand is not null) pending.Push(c.Operand);
                    foreach (var w in c.Whens)
                    {
                        pending.Push(w.Condition);
                        pending.Push(w.Result);
                    }
                    if (c.Else is not null) pending.Push(c.Else);
                    break;
            }
        }
        return found;
    }

    /// <summary>Refuses a subquery in a place other than a WHERE term (SELECT list, HAVING, ON, GROUP BY, ...).</summary>
    private SqlParseException SubqueryHere(Expr subquery) => Error(subquery,
        "a subquery is supported by Eddy only as a whole term of WHERE (terms joined by AND): x [NOT] IN (SELECT ...), "
        + "[NOT] EXISTS (SELECT ...), or a comparison with a single-row aggregate such as price > (SELECT AVG(price) FROM t)");

    /// <summary>Applies one WHERE term holding a subquery to <paramref name="input"/> (bound over <paramref name="scope"/>); the schema stays.</summary>
    private LogicalPlan ApplySubqueryTerm(LogicalPlan input, Scope scope, Expr term, bool windowed)
    {
        DeepStack.Ensure(term);
        if (windowed) throw Error(Subqueries(term)[0], "a subquery in the WHERE of a window table function query is not supported by Eddy "
            + "(window semi/anti joins are written as a window join); filter the input in a subquery in FROM");
        switch (term)
        {
            case InSubqueryExpr i:
                return SemiJoin(input, scope, i.Query, i.Operand, anti: i.Negated, i);
            case UnaryExpr { Operator: UnaryOperator.Not, Operand: InSubqueryExpr i }:
                return SemiJoin(input, scope, i.Query, i.Operand, anti: !i.Negated, term);
            case ExistsExpr e:
                return SemiJoin(input, scope, e.Query, null, anti: false, e);
            case UnaryExpr { Operator: UnaryOperator.Not, Operand: ExistsExpr e }:
                return SemiJoin(input, scope, e.Query, null, anti: true, term);
            case BinaryExpr { Operator: BinaryOperator.Equal or BinaryOperator.NotEqual or BinaryOperator.Less or BinaryOperator.LessOrEqual
                or BinaryOperator.Greater or BinaryOperator.GreaterOrEqual } b
                when (b.Left is SubqueryExpr) != (b.Right is SubqueryExpr) && Subqueries(b.Left is SubqueryExpr ? b.Right : b.Left).Count == 0:
                return ScalarComparison(input, scope, b);
        }
        var subqueries = Subqueries(term);
        var first = subqueries.FirstOrDefault(s => s is not SubqueryExpr) ?? subqueries[0];
        throw first is SubqueryExpr
            ? Error(first, "a scalar subquery is supported by Eddy only compared directly with an expression of the outer row, as a "
                + "whole WHERE term: price > (SELECT AVG(price) FROM t)")
            : Error(first, "an IN or EXISTS subquery is supported by Eddy only as a whole term of WHERE (terms joined by AND), "
                + "optionally negated, not inside OR, CASE, a function or a comparison");
    }

    /// <summary>
    /// <c>[NOT] IN</c> / <c>[NOT] EXISTS</c> as a semi or anti join. <c>NOT IN</c> is null-aware as SQL's three-valued
    /// logic demands: a left row is dropped when a right row equals it, or when the right side (after correlation) is
    /// not empty and the probe or a right value is NULL (the predicate is then unknown).
    /// </summary>
    private LogicalPlan SemiJoin(LogicalPlan left, Scope scope, QueryExpr query, Expr? probe, bool anti, SqlNode at)
    {
        int n = left.Schema.Count;
        var (right, correlation) = BindSubqueryInput(query, scope, n, withValue: probe is not null, at);
        var conjuncts = new List<BoundExpr>(correlation);
        if (probe is not null)
        {
            var probeValue = Bind(probe, scope);
            var value = new InputRef(n, right.Schema[0].Name, right.Schema[0].Type);
            var equal = Compare(BinaryOp.Equal, probeValue, value, at);
            if (anti)
            {
                // x NOT IN (...) keeps a row only when no right row r has x = r OR x IS NULL OR r IS NULL.
                BoundExpr cond = equal;
                if (probeValue.Type.Nullable || probeValue.Type.Kind == TypeKind.Null)
                    cond = new Binary(BinaryOp.Or, cond, new Unary(UnaryOp.IsNull, probeValue, DataType.Boolean.NotNull()), DataType.Boolean);
                if (value.Type.Nullable)
                    cond = new Binary(BinaryOp.Or, cond, new Unary(UnaryOp.IsNull, value, DataType.Boolean.NotNull()), DataType.Boolean);
                conjuncts.Add(cond);
            }
            else conjuncts.Add(equal);
        }
        // Both sides windowed and correlated on window_start and window_end: Flink's window semi/anti join (per window,
        // when the watermark passes its end; late rows dropped), not the unbounded one.
        if (TryMakeWindowJoin(left, right, anti ? WindowJoinType.Anti : WindowJoinType.Semi, conjuncts, at) is { } windowJoin) return windowJoin;
        var leftKeys = new List<BoundExpr>();
        var rightKeys = new List<BoundExpr>();
        var residual = new List<BoundExpr>();
        foreach (var c in conjuncts)
        {
            if (leftKeys.Count < 7 && AsJoinKey(c, n, right.Schema.Count, left.Schema, right.Schema) is { } key)
            {
                leftKeys.Add(key.Left);
                rightKeys.Add(key.Right);
            }
            else residual.Add(c);
        }
        var cond2 = residual.Count == 0 ? null : residual.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean));
        var plan = new SemiJoinPlan(left, right, anti, leftKeys, rightKeys, cond2, StateTtlMs);
        if (batchMode && plan.IsUpdating)
        {
            throw Error(at, "in batch mode this subquery's anti join (or a semi join of an updating input) would print its changelog, where "
                + "Flink's batch join gives final rows; Eddy does not have a batch semi/anti join yet: run it in streaming mode");
        }
        return plan;
    }

    /// <summary>
    /// The right side of a semi/anti join: the subquery's rows (its one value first, for IN, then its FROM's columns) and
    /// the correlation terms of its WHERE, bound over the left row's columns followed by the right's. A subquery of the
    /// form <c>SELECT value FROM t WHERE ...</c> may read the outer row in its WHERE; any other is bound on its own.
    /// </summary>
    private (LogicalPlan Right, List<BoundExpr> Correlation) BindSubqueryInput(QueryExpr query, Scope outer, int n, bool withValue, SqlNode at)
    {
        if (query is SelectQuery { From: not null and not JoinRef { Kind: JoinKind.Comma or JoinKind.Cross }, GroupBy.Count: 0, Having: null, Windows.Count: 0 } s
            && !s.Items.OfType<SelectExpr>().Any(i => ContainsAggregate(i.Expression)) && !HasOver(s))
        {
            var (from, fromScope, windowed) = BindFrom(s.From);
            if (windowed is not null) throw Error(s.From, "a window table function in an IN or EXISTS subquery is not supported by Eddy");
            int m = from.Schema.Count;
            var correlated = new Scope(fromScope.Columns, new Scope(outer.Columns.Select(c => c with { Index = c.Index + m }).ToList()));
            var filters = new List<BoundExpr>();
            var correlation = new List<BoundExpr>();
            var nested = new List<Expr>();
            foreach (var term in Conjunction.Terms(s.Where))
            {
                if (Subqueries(term).Count > 0)
                {
                    nested.Add(term);
                    continue;
                }
                var bound = RequireBoolean(Bind(term, correlated), term);
                if (ExpressionCompiler.ReferencedColumns(m + outer.Columns.Count, [bound], null).Skip(m).Any(x => x)) correlation.Add(bound);
                else filters.Add(bound);
            }
            LogicalPlan right = from;
            if (filters.Count > 0)
            {
                var filter = filters.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean));
                right = new CalcPlan(right, Identity(right.Schema), filter, right.Schema, right.Rowtime);
            }
            foreach (var term in nested) right = ApplySubqueryTerm(right, fromScope, term, windowed: false);
            int k = 0;
            if (withValue)
            {
                if (s.Items.Count != 1 || s.Items[0] is not SelectExpr item) throw Error(s, "an IN subquery selects exactly one column");
                var saved = enclosingScope;
                enclosingScope = outer;
                BoundExpr value;
                try
                {
                    value = Bind(item.Expression, fromScope);
                }
                finally
                {
                    enclosingScope = saved;
                }
                var projections = new List<BoundExpr> { value };
                projections.AddRange(Identity(right.Schema));
                var names = new List<string> { item.Alias?.Value ?? "EXPR$0" };
                names.AddRange(right.Schema.Columns.Select(c => c.Name));
                right = new CalcPlan(right, projections, null, MakeSchema(projections, names), null);
                k = 1;
            }
            var remapped = new List<BoundExpr>();
            foreach (var c in correlation)
                remapped.Add(Remap(c, i => i < m ? n + k + i : i - m) ?? throw Error(s.Where!, "this correlated condition is not supported by Eddy"));
            return (right, remapped);
        }
        var saved2 = enclosingScope;
        enclosingScope = outer;
        try
        {
            var (plan, _) = BindDerived(query);
            if (withValue && plan.Schema.Count != 1) throw Error(query, $"an IN subquery selects exactly one column; this one selects {plan.Schema.Count}");
            return (plan, []);
        }
        finally
        {
            enclosingScope = saved2;
        }
    }

    private static List<BoundExpr> Identity(Schema schema) =>
        schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList();

    /// <summary>The expression with column <c>i</c> read as column <c>map(i)</c>; null for an expression kind this does not know.</summary>
    private static BoundExpr? Remap(BoundExpr e, Func<int, int> map)
    {
        DeepStack.Ensure(e);
        List<BoundExpr>? All(IEnumerable<BoundExpr> items)
        {
            var list = new List<BoundExpr>();
            foreach (var item in items)
            {
                if (Remap(item, map) is not { } r) return null;
                list.Add(r);
            }
            return list;
        }
        switch (e)
        {
            case InputRef r:
                return r with { Index = map(r.Index) };
            case Literal or CurrentTime or CurrentWatermark or IntervalExpr:
                return e;
            case Binary b:
                return Remap(b.Left, map) is { } l && Remap(b.Right, map) is { } rr ? b with { Left = l, Right = rr } : null;
            case Unary u:
                return Remap(u.Operand, map) is { } o ? u with { Operand = o } : null;
            case Cast c:
                return Remap(c.Operand, map) is { } co ? c with { Operand = co } : null;
            case Call c:
                return All(c.Args) is { } args ? c with { Args = args } : null;
            case InList i:
                return Remap(i.Value, map) is { } v && All(i.Items) is { } items ? i with { Value = v, Items = items } : null;
            case Coalesce coalesce:
                return All(coalesce.Args) is { } cargs ? coalesce with { Args = cargs } : null;
            case CaseWhen cw:
            {
                var branches = new List<(BoundExpr, BoundExpr)>();
                foreach (var (when, then) in cw.Branches)
                {
                    if (Remap(when, map) is not { } w || Remap(then, map) is not { } t) return null;
                    branches.Add((w, t));
                }
                BoundExpr? other = null;
                if (cw.Else is not null && (other = Remap(cw.Else, map)) is null) return null;
                return cw with { Branches = branches, Else = other };
            }
            default:
                return null;
        }
    }

    /// <summary>
    /// <c>expr OP (SELECT agg FROM ...)</c>: an inner join (no key: one subtask) of the input with the subquery's one row,
    /// on the comparison, as Flink plans it; the subquery's value changes as its input grows, so the output updates
    /// (-U/+U of the joined rows as the value moves, passing the aggregate's row kinds on).
    /// </summary>
    private LogicalPlan ScalarComparison(LogicalPlan left, Scope scope, BinaryExpr comparison)
    {
        var sq = (SubqueryExpr)(comparison.Left as SubqueryExpr ?? comparison.Right);
        if (batchMode) throw Error(sq, "a scalar subquery is not supported by Eddy in batch mode yet (Flink's batch aggregate of an empty input gives a row)");
        var body = sq.Query is Query { With.Count: 0, OrderBy.Count: 0, Limit: null, Offset: null } q ? q.Body : sq.Query;
        if (body is not SelectQuery { GroupBy.Count: 0, Items.Count: 1 } s || s.Items[0] is not SelectExpr item || !ContainsAggregate(item.Expression) || HasOver(s))
        {
            throw Error(sq, "a scalar subquery is supported by Eddy only as a single-row aggregate without GROUP BY, as (SELECT AVG(price) FROM t): "
                + "Flink fails at run time when a scalar subquery gives more than one row");
        }
        LogicalPlan right;
        var saved = enclosingScope;
        enclosingScope = scope;
        try
        {
            right = BindDerived(sq.Query).Plan;
        }
        finally
        {
            enclosingScope = saved;
        }
        int n = left.Schema.Count;
        var value = new InputRef(n, right.Schema[0].Name, right.Schema[0].Type);
        var other = Bind(comparison.Left is SubqueryExpr ? comparison.Right : comparison.Left, scope);
        var op = comparison.Operator switch
        {
            BinaryOperator.Equal => BinaryOp.Equal,
            BinaryOperator.NotEqual => BinaryOp.NotEqual,
            BinaryOperator.Less => BinaryOp.Less,
            BinaryOperator.LessOrEqual => BinaryOp.LessOrEqual,
            BinaryOperator.Greater => BinaryOp.Greater,
            _ => BinaryOp.GreaterOrEqual,
        };
        var condition = comparison.Left is SubqueryExpr ? Compare(op, value, other, comparison) : Compare(op, other, value, comparison);
        var output = JoinOutput(left.Schema, right.Schema, JoinType.Inner);
        var join = new JoinPlan(left, right, JoinType.Inner, [], [], condition, output, StateTtlMs, StateTtlMs, null);
        var projections = left.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, output[i].Name, output[i].Type)).ToList();
        return new CalcPlan(join, projections, null, left.Schema, null);
    }
}
