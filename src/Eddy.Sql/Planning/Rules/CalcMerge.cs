using Eddy.Sql.Plan.Calc;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// Merges a projection/filter over another one into a single <see cref="CalcPlan"/> (Calcite's CalcMergeRule): the
/// outer expressions are rewritten over the inner input, and the outer filter is evaluated only where the inner one holds. Then one compiled
/// loop does both, and a scan below can take the merged Calc into its conversion loop. Only merged when no
/// computation is repeated or dropped in a way that could be seen: an inner projection that is not a column, a
/// literal or a column's field may be used at most once, and user functions (maybe impure) are left alone.
/// </summary>
public static class CalcMerge
{
    public static CalcPlan? TryMerge(CalcPlan outer)
    {
        if (outer.Input is not CalcPlan inner) return null;
        var uses = new int[inner.Projections.Count];
        foreach (var p in outer.Projections) if (!CountUses(p, uses)) return null;
        if (outer.Filter is not null && !CountUses(outer.Filter, uses)) return null;
        for (int i = 0; i < uses.Length; i++)
        {
            var p = inner.Projections[i];
            if (!IsSafe(p)) return null;
            if (uses[i] > 1 && p is not (InputRef or Literal) && !IsFieldRead(p)) return null;
        }
        if (inner.Filter is not null && !IsSafe(inner.Filter)) return null;
        var projections = outer.Projections.Select(p => Substitute(p, inner.Projections)).ToList();
        BoundExpr? filter = (inner.Filter, outer.Filter) switch
        {
            (null, null) => null,
            ({ } f, null) => f,
            (null, { } g) => Substitute(g, inner.Projections),
            // CASE WHEN f THEN g ELSE FALSE END: g only sees rows f keeps, as when the two filters ran one after
            // the other (a lifted AND would evaluate g when f is NULL too); same rows kept as f AND g.
            ({ } f, { } g) => new CaseWhen([(f, Substitute(g, inner.Projections))], new Literal(false, DataType.Boolean), DataType.Boolean),
        };
        return new CalcPlan(inner.Input, projections, filter, outer.Schema, outer.RowtimeIndex);
    }

    /// <summary>Counts references to each inner column; false on an expression kind this rule does not know.</summary>
    private static bool CountUses(BoundExpr e, int[] uses)
    {
        DeepStack.Ensure();
        switch (e)
        {
            case InputRef r:
                uses[r.Index]++;
                return true;
            case Literal or CurrentTime or CurrentWatermark or IntervalExpr:
                return true;
            case Binary b:
                return CountUses(b.Left, uses) && CountUses(b.Right, uses);
            case Unary u:
                return CountUses(u.Operand, uses);
            case Cast c:
                return CountUses(c.Operand, uses);
            case CaseWhen cw:
                return cw.Branches.All(b => CountUses(b.When, uses) && CountUses(b.Then, uses)) && (cw.Else is null || CountUses(cw.Else, uses));
            case Call c:
                return c.Args.All(a => CountUses(a, uses));
            case InList i:
                return CountUses(i.Value, uses) && i.Items.All(a => CountUses(a, uses));
            case Coalesce co:
                return co.Args.All(a => CountUses(a, uses));
            default:
                return false;
        }
    }

    /// <summary><c>column.field</c>: a read as cheap as a column's (a column of its own after <see cref="NestedFieldPushdown"/>), so it may be repeated.</summary>
    private static bool IsFieldRead(BoundExpr e) =>
        e is Call { Method.Name: nameof(Functions.SqlFunctions.RowField), Args: [InputRef, Literal] };

    /// <summary>No user function anywhere inside (they may keep state or have side effects).</summary>
    private static bool IsSafe(BoundExpr e) => DeepStack.Ensure(e) switch
    {
        InputRef or Literal or CurrentTime or CurrentWatermark or IntervalExpr => true,
        Binary b => IsSafe(b.Left) && IsSafe(b.Right),
        Unary u => IsSafe(u.Operand),
        Cast c => IsSafe(c.Operand),
        CaseWhen cw => cw.Branches.All(b => IsSafe(b.When) && IsSafe(b.Then)) && (cw.Else is null || IsSafe(cw.Else)),
        Call c => c.Args.All(IsSafe),
        InList i => IsSafe(i.Value) && i.Items.All(IsSafe),
        Coalesce co => co.Args.All(IsSafe),
        _ => false,
    };

    private static BoundExpr Substitute(BoundExpr e, IReadOnlyList<BoundExpr> inputs) => DeepStack.Ensure(e) switch
    {
        InputRef r => inputs[r.Index],
        Binary b => b with { Left = Substitute(b.Left, inputs), Right = Substitute(b.Right, inputs) },
        Unary u => u with { Operand = Substitute(u.Operand, inputs) },
        Cast c => c with { Operand = Substitute(c.Operand, inputs) },
        CaseWhen cw => cw with
        {
            Branches = cw.Branches.Select(b => (Substitute(b.When, inputs), Substitute(b.Then, inputs))).ToList(),
            Else = cw.Else is null ? null : Substitute(cw.Else, inputs),
        },
        Call c => c with { Args = c.Args.Select(a => Substitute(a, inputs)).ToList() },
        InList i => i with { Value = Substitute(i.Value, inputs), Items = i.Items.Select(a => Substitute(a, inputs)).ToList() },
        Coalesce co => co with { Args = co.Args.Select(a => Substitute(a, inputs)).ToList() },
        _ => e,
    };
}
