using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;

namespace Eddy.Sql.Planning;

// INTERSECT and EXCEPT (DISTINCT), as a counting aggregation over the union of both sides.
public sealed partial class Binder
{
    /// <summary>
    /// <c>a INTERSECT b</c> and <c>a EXCEPT b</c> (set semantics, NULLs equal as in GROUP BY): the rows of both sides
    /// tagged with their side, grouped by every column, kept when both sides have the row (INTERSECT) or only the left
    /// (EXCEPT). Batch mode only: the aggregation then gives final rows. In streaming Flink plans a semi/anti join
    /// whose changelog this aggregation would not reproduce, so it is refused; the ALL forms need Flink's row
    /// replication and are refused too.
    /// </summary>
    private (LogicalPlan, Scope) BindIntersectOrExcept(SetOperation set)
    {
        string op = set.Operator.ToString().ToUpperInvariant() + (set.All ? " ALL" : "");
        if (set.All) throw Error(set, $"{op} is not supported by Eddy yet (INTERSECT and EXCEPT without ALL are, in batch mode)");
        if (!batchMode)
        {
            throw Error(set, $"{op} in streaming mode is not supported by Eddy yet: SET 'execution.runtime-mode' = 'batch' "
                + "(Flink's streaming plan is a semi/anti join with its own changelog)");
        }
        var (left, _) = BindQuery(set.Left);
        var (right, _) = BindQuery(set.Right);
        if (left.Schema.Count != right.Schema.Count)
            throw Error(set, $"{op} sides have {left.Schema.Count} and {right.Schema.Count} columns");
        for (int i = 0; i < left.Schema.Count; i++)
        {
            if (TypeRules.Common(left.Schema[i].Type, right.Schema[i].Type) is null)
                throw Error(set, $"{op} column '{left.Schema[i].Name}' mixes {left.Schema[i].Type} and {right.Schema[i].Type}");
        }
        var span = set.Span;
        T At<T>(T node) where T : SqlNode => node with { Span = span };
        Identifier Id(string name) => At(new Identifier(name));
        ColumnRef Col(string name) => At(new ColumnRef(new NodeList<Identifier>([Id(name)])));
        var columns = Enumerable.Range(0, left.Schema.Count).Select(i => $"$c{i}").ToList();
        NumericLiteral Number(int n) => At(new NumericLiteral(n.ToString(System.Globalization.CultureInfo.InvariantCulture), NumericKind.Integer));
        QueryExpr Side(QueryExpr query, string alias, int isLeft) => At(new SelectQuery(false,
            new NodeList<SelectItem>([At(new SelectAll(null)), At(new SelectExpr(Number(isLeft), Id("$left"))), At(new SelectExpr(Number(1 - isLeft), Id("$right")))]),
            At(new SubqueryRef(query, Id(alias), new NodeList<Identifier>(columns.Select(Id).ToList()))),
            null, NodeList<Expr>.Empty, null, NodeList<NamedWindow>.Empty, NodeList<SqlHint>.Empty));
        var union = At(new SetOperation(SetOperator.Union, true, Side(set.Left, "$l", 1), Side(set.Right, "$r", 0)));
        Expr Sum(string column) => At(new FunctionCall(At(new ObjectName(new NodeList<Identifier>([Id("SUM")]))), new NodeList<Expr>([Col(column)])));
        var having = At(new BinaryExpr(BinaryOperator.And,
            At(new BinaryExpr(BinaryOperator.Greater, Sum("$left"), Number(0))),
            At(new BinaryExpr(set.Operator == SetOperator.Intersect ? BinaryOperator.Greater : BinaryOperator.Equal, Sum("$right"), Number(0)))));
        var rewritten = At(new SelectQuery(false,
            new NodeList<SelectItem>(columns.Select((c, i) => (SelectItem)At(new SelectExpr(Col(c), Id(left.Schema[i].Name)))).ToList()),
            At(new SubqueryRef(union, Id("$u"), NodeList<Identifier>.Empty)),
            null, new NodeList<Expr>(columns.Select(c => (Expr)Col(c)).ToList()), having, NodeList<NamedWindow>.Empty, NodeList<SqlHint>.Empty));
        return BindSelect(rewritten);
    }
}
