using Eddy.Sql.Parsing;

namespace Eddy.Sql.Planning;

/// <summary>
/// The terms of a chain of ANDs, left to right. Iterative: a WHERE of thousands of ANDs is a tree thousands of levels
/// deep, and each pass that splits it (joins, lookups, ranks, filter push-down) would otherwise recurse that deep.
/// </summary>
internal static class Conjunction
{
    public static List<BoundExpr> Terms(BoundExpr condition)
    {
        var terms = new List<BoundExpr>();
        var pending = new Stack<BoundExpr>();
        pending.Push(condition);
        while (pending.TryPop(out var next))
        {
            if (next is Binary { Op: BinaryOp.And } and)
            {
                pending.Push(and.Right);
                pending.Push(and.Left);
            }
            else terms.Add(next);
        }
        return terms;
    }

    public static List<Expr> Terms(Expr? condition)
    {
        var terms = new List<Expr>();
        if (condition is null) return terms;
        var pending = new Stack<Expr>();
        pending.Push(condition);
        while (pending.TryPop(out var next))
        {
            if (next is BinaryExpr { Operator: BinaryOperator.And } and)
            {
                pending.Push(and.Right);
                pending.Push(and.Left);
            }
            else terms.Add(next);
        }
        return terms;
    }
}
