using Eddy.Sql.Codegen;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Correlate;
using Eddy.Sql.Plan.SemiJoin;

namespace Eddy.Sql.Planning;

// INTERSECT and EXCEPT, DISTINCT and ALL, as Flink's planner rewrites them.
public sealed partial class Binder
{
    /// <summary>
    /// <c>a INTERSECT [ALL] b</c> and <c>a EXCEPT [ALL] b</c>, with NULLs equal as in GROUP BY.
    /// <list type="bullet">
    /// <item>Streaming, DISTINCT: Flink's <c>ReplaceIntersectWithSemiJoinRule</c> / <c>ReplaceMinusWithAntiJoinRule</c>:
    /// a distinct aggregation over a semi (anti) join of the sides on every column (IS NOT DISTINCT FROM), so the
    /// changelog is Flink's: INTERSECT inserts a row when both sides first have it; EXCEPT inserts a row of the left
    /// and deletes it when the right gets it.</item>
    /// <item>ALL (both modes), as Flink's <c>RewriteIntersectAllRule</c> / <c>RewriteMinusAllRule</c>: the rows of both
    /// sides tagged with their side and counted per distinct row, kept when both sides have the row (INTERSECT) or the
    /// left has more (EXCEPT), and repeated min(left, right) or left − right times by a correlate. In streaming the
    /// counts update, so each change retracts the row's old copies (-U) and emits its new ones (+U), with the kinds of
    /// the aggregation's changelog, as Flink's plan.</item>
    /// <item>DISTINCT in batch: the same counts, kept when both sides (INTERSECT) or only the left (EXCEPT) have the
    /// row; in batch only the final rows show.</item>
    /// </list>
    /// </summary>
    private (LogicalPlan, Scope) BindIntersectOrExcept(SetOperation set)
    {
        string op = set.Operator.ToString().ToUpperInvariant() + (set.All ? " ALL" : "");
        var (left, _) = BindQuery(set.Left);
        var (right, _) = BindQuery(set.Right);
        if (left.Schema.Count != right.Schema.Count)
            throw Error(set, $"{op} sides have {left.Schema.Count} and {right.Schema.Count} columns");
        for (int i = 0; i < left.Schema.Count; i++)
        {
            if (TypeRules.Common(left.Schema[i].Type, right.Schema[i].Type) is null)
                throw Error(set, $"{op} column '{left.Schema[i].Name}' mixes {left.Schema[i].Type} and {right.Schema[i].Type}");
        }
        if (left.Schema.Count > 7) throw Error(set, $"{op} of more than 7 columns is not supported by Eddy (it groups by at most 7 keys)");
        return batchMode || set.All ? BindCountedSetOperation(set) : BindSemiJoinSetOperation(set, left, right);
    }

    private (LogicalPlan, Scope) BindSemiJoinSetOperation(SetOperation set, LogicalPlan left, LogicalPlan right)
    {
        var types = left.Schema.Columns.Zip(right.Schema.Columns, (a, b) => TypeRules.Common(a.Type, b.Type)!).ToList();
        var schema = new Schema(left.Schema.Columns.Select((c, i) => new Column(c.Name, types[i])).ToArray());
        LogicalPlan Align(LogicalPlan p) => p.Schema.Columns.Select((c, i) => c.Type.Kind == types[i].Kind && c.Type.Nullable == types[i].Nullable).All(x => x)
            ? p
            : new CalcPlan(p, p.Schema.Columns.Select((c, i) => CastIfNeeded(new InputRef(i, c.Name, c.Type), types[i])).ToList(), null, schema, p.Rowtime);
        left = Align(left);
        right = Align(right);
        var keys = schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList();
        var join = new SemiJoinPlan(left, right, set.Operator == SetOperator.Except, keys, keys, null, StateTtlMs, NullSafeKeys: true);
        var distinct = Distinct(join, set);
        return (distinct, Scope.Of(distinct.Schema, null));
    }

    private (LogicalPlan, Scope) BindCountedSetOperation(SetOperation set)
    {
        int width;
        {
            // The sides were bound (and checked) by the caller; their width names the columns of the rewrite.
            var (l, _) = BindQuery(set.Left);
            width = l.Schema.Count;
        }
        var span = set.Span;
        T At<T>(T node) where T : SqlNode => node with { Span = span };
        Identifier Id(string name) => At(new Identifier(name));
        ColumnRef Col(string name) => At(new ColumnRef(new NodeList<Identifier>([Id(name)])));
        var columns = Enumerable.Range(0, width).Select(i => $"$c{i}").ToList();
        NumericLiteral Number(int n) => At(new NumericLiteral(n.ToString(System.Globalization.CultureInfo.InvariantCulture), NumericKind.Integer));
        QueryExpr Side(QueryExpr query, string alias, int isLeft) => At(new SelectQuery(false,
            new NodeList<SelectItem>([At(new SelectAll(null)), At(new SelectExpr(Number(isLeft), Id("$left"))), At(new SelectExpr(Number(1 - isLeft), Id("$right")))]),
            At(new SubqueryRef(query, Id(alias), new NodeList<Identifier>(columns.Select(Id).ToList()))),
            null, NodeList<Expr>.Empty, null, NodeList<NamedWindow>.Empty, NodeList<SqlHint>.Empty));
        var union = At(new SetOperation(SetOperator.Union, true, Side(set.Left, "$l", 1), Side(set.Right, "$r", 0)));
        Expr Sum(string column) => At(new FunctionCall(At(new ObjectName(new NodeList<Identifier>([Id("SUM")]))), new NodeList<Expr>([Col(column)])));
        var having = set.Operator == SetOperator.Intersect
            ? At(new BinaryExpr(BinaryOperator.And, At(new BinaryExpr(BinaryOperator.Greater, Sum("$left"), Number(0))), At(new BinaryExpr(BinaryOperator.Greater, Sum("$right"), Number(0)))))
            : set.All
                ? At(new BinaryExpr(BinaryOperator.Greater, Sum("$left"), Sum("$right")))
                : At(new BinaryExpr(BinaryOperator.And, At(new BinaryExpr(BinaryOperator.Greater, Sum("$left"), Number(0))), At(new BinaryExpr(BinaryOperator.Equal, Sum("$right"), Number(0)))));
        var items = columns.Select((c, i) => (SelectItem)At(new SelectExpr(Col(c), Id(c)))).ToList();
        if (set.All)
        {
            // How many times the row is repeated: min(left, right) for INTERSECT ALL, left − right for EXCEPT ALL.
            Expr count = set.Operator == SetOperator.Intersect
                ? At(new FunctionCall(At(new ObjectName(new NodeList<Identifier>([Id("LEAST")]))), new NodeList<Expr>([Sum("$left"), Sum("$right")])))
                : At(new BinaryExpr(BinaryOperator.Subtract, Sum("$left"), Sum("$right")));
            items.Add(At(new SelectExpr(count, Id("$n"))));
        }
        var rewritten = At(new SelectQuery(false, new NodeList<SelectItem>(items),
            At(new SubqueryRef(union, Id("$u"), NodeList<Identifier>.Empty)),
            null, new NodeList<Expr>(columns.Select(c => (Expr)Col(c)).ToList()), having, NodeList<NamedWindow>.Empty, NodeList<SqlHint>.Empty));
        var (counted, _) = BindSelect(rewritten);
        var (first, _) = BindQuery(set.Left);
        var names = first.Schema.Columns.Select(c => c.Name).ToList();
        if (!set.All)
        {
            var renamed = new Schema(counted.Schema.Columns.Select((c, i) => c with { Name = names[i] }).ToArray());
            var plan = new CalcPlan(counted, counted.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList(), null, renamed, null);
            return (plan, Scope.Of(renamed, null));
        }
        // Flink's ReplicateRows table function: the row once per unit of its count.
        var n = counted.Schema.Count - 1;
        var replicate = typeof(SetOperationFunctions).GetMethod(nameof(SetOperationFunctions.ReplicateRows))!;
        var correlated = new Schema(counted.Schema.Columns.Append(new Column("$i", DataType.Int.NotNull())).ToArray());
        var correlate = new CorrelatePlan(counted, new UserCall("REPLICATE_ROWS", replicate, null,
            [new InputRef(n, counted.Schema[n].Name, counted.Schema[n].Type)], DataType.NullType), correlated, false);
        var output = new Schema(Enumerable.Range(0, width).Select(i => counted.Schema[i] with { Name = names[i] }).ToArray());
        var projected = new CalcPlan(correlate, Enumerable.Range(0, width).Select(i => (BoundExpr)new InputRef(i, counted.Schema[i].Name, counted.Schema[i].Type)).ToList(),
            null, output, null);
        return (projected, Scope.Of(output, null));
    }
}
