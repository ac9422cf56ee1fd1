using Eddy.Joins;
using Eddy.Sql.Codegen;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Join;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// Moves the conjuncts of a filter over a join that read one side only below the join, into that side (Flink's
/// FilterJoinRule): fewer rows are shuffled and kept in state. Only into a side whose rows are never padded (both
/// for INNER, the left for LEFT, the right for RIGHT, none for FULL), so that the padded rows are the same, and only
/// conjuncts of built-in functions (a user function, maybe impure, or the current time stays where it was written).
/// </summary>
public static class JoinFilterPushdown
{
    public static CalcPlan? TryPush(CalcPlan calc)
    {
        if (calc.Filter is null || calc.Input is not JoinPlan join) return null;
        int n = join.Left.Schema.Count, m = join.Right.Schema.Count;
        bool intoLeft = join.JoinType is JoinType.Inner or JoinType.Left;
        bool intoRight = join.JoinType is JoinType.Inner or JoinType.Right;
        var left = new List<BoundExpr>();
        var right = new List<BoundExpr>();
        var kept = new List<BoundExpr>();
        foreach (var conjunct in Conjuncts(calc.Filter))
        {
            var refs = ExpressionCompiler.ReferencedColumns(n + m, [conjunct], null);
            bool readsLeft = refs.Take(n).Any(x => x), readsRight = refs.Skip(n).Any(x => x);
            // A conjunct reading the watermark stays above the join, where Flink evaluates it.
            if (CalcPlan.ReadsWatermarkIn(conjunct)) kept.Add(conjunct);
            else if (intoLeft && readsLeft && !readsRight && Binder.Retype(conjunct, 0, join.Left.Schema) is { } l) left.Add(l);
            else if (intoRight && readsRight && !readsLeft && Binder.Retype(conjunct, n, join.Right.Schema) is { } r) right.Add(r);
            else kept.Add(conjunct);
        }
        if (left.Count == 0 && right.Count == 0) return null;
        var pushed = join with { Left = Filtered(join.Left, left), Right = Filtered(join.Right, right) };
        var filter = kept.Count == 0 ? null : kept.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean));
        return calc with { Input = pushed, Filter = filter };
    }

    private static Plan.LogicalPlan Filtered(Plan.LogicalPlan input, List<BoundExpr> conjuncts) => conjuncts.Count == 0
        ? input
        : new CalcPlan(input, input.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList(),
            conjuncts.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean)), input.Schema, input.Rowtime);

    private static List<BoundExpr> Conjuncts(BoundExpr e) => Conjunction.Terms(e);
}
