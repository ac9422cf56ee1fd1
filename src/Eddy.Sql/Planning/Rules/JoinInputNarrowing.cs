using Eddy.Sql.Codegen;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Join;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// A join keeps only the columns read above it (Flink's ProjectJoinTransposeRule): each side gets a projection to the
/// columns its keys, the residual condition, the interval bounds and the consumer read, so the join's state holds
/// narrow rows (a Nexmark bid kept for q4 is three numbers instead of seven columns with a 70-character string), and
/// the source below need not compute the rest. Above the narrowed join a Calc restores the join's column positions,
/// the unread ones as NULL, so the consumer is unchanged (a Calc consumer merges with it). Applied only under a
/// consumer whose every read is known: a Calc, or a group aggregation of built-in aggregates.
/// </summary>
public static class JoinInputNarrowing
{
    /// <summary>The join below <paramref name="calc"/> narrowed to what the Calc reads; null when nothing can be dropped.</summary>
    public static CalcPlan? TryNarrow(CalcPlan calc)
    {
        if (calc.Input is not JoinPlan join) return null;
        var used = ExpressionCompiler.ReferencedColumns(join.Schema.Count, calc.Projections, calc.Filter);
        return Narrow(join, used) is { } narrowed ? calc with { Input = narrowed } : null;
    }

    /// <summary>The aggregation's input join narrowed to its keys, arguments and filters; null when it cannot be.</summary>
    public static LogicalPlan? TryNarrow(AggregatePlan aggregate, LogicalPlan input)
    {
        if (input is not JoinPlan join || aggregate.Window is not null) return null;
        var readers = new List<BoundExpr>(aggregate.Keys);
        foreach (var call in aggregate.Aggregates)
        {
            // A user aggregate reads its whole argument list; only the built-in calls' reads are listed here.
            if (call.Kind == AggregateKind.User || call.Arguments.Count > 0) return null;
            if (call.Argument is not null) readers.Add(call.Argument);
            if (call.Filter is not null) readers.Add(call.Filter);
        }
        return Narrow(join, ExpressionCompiler.ReferencedColumns(join.Schema.Count, readers, null));
    }

    /// <summary>
    /// The join with unread columns dropped from its sides, under a Calc giving back the join's schema (unread columns
    /// NULL); null when every column is read.
    /// </summary>
    private static CalcPlan? Narrow(JoinPlan join, bool[] used)
    {
        int n = join.Left.Schema.Count, m = join.Right.Schema.Count;
        var own = ExpressionCompiler.ReferencedColumns(n, join.LeftKeys, null);
        var ownRight = ExpressionCompiler.ReferencedColumns(m, join.RightKeys, null);
        var residual = join.Residual is null ? new bool[n + m] : ExpressionCompiler.ReferencedColumns(n + m, [], join.Residual);
        for (int i = 0; i < n; i++) used[i] |= own[i] || residual[i];
        for (int i = 0; i < m; i++) used[n + i] |= ownRight[i] || residual[n + i];
        if (join.Interval is { } iv)
        {
            used[iv.LeftTime] = true;
            used[n + iv.RightTime] = true;
        }
        if (join.Rowtime is { } rowtime) used[rowtime] = true;
        // A side's rowtime is kept so that the narrowed side still carries its watermark-relevant column.
        if (join.Left.Rowtime is { } lr) used[lr] = true;
        if (join.Right.Rowtime is { } rr) used[n + rr] = true;
        if (used.All(u => u)) return null;

        var map = new int[n + m];
        int kept = 0;
        for (int i = 0; i < n + m; i++) map[i] = used[i] ? kept++ : -1;
        int keptLeft = used.Take(n).Count(u => u);
        var left = Side(join.Left, used.AsSpan(0, n), map.AsSpan(0, n), 0);
        var right = Side(join.Right, used.AsSpan(n, m), map.AsSpan(n, m), keptLeft);
        var leftKeys = Remap(join.LeftKeys, map.AsSpan(0, n).ToArray(), 0);
        var rightKeys = Remap(join.RightKeys, map.AsSpan(n, m).ToArray(), keptLeft);
        BoundExpr? residualExpr = join.Residual is null ? null : RemapOne(join.Residual, map, 0);
        if (leftKeys is null || rightKeys is null || (join.Residual is not null && residualExpr is null)) return null;
        var output = new Schema(join.Schema.Columns.Where((_, i) => used[i]).ToList());
        // The constructor, not a with-expression: the plan's schema is set from Output when constructed.
        var narrowed = new JoinPlan(left, right, join.JoinType, leftKeys, rightKeys, residualExpr, output, join.LeftStateTtlMs, join.RightStateTtlMs,
            join.Interval is { } ivl ? ivl with { LeftTime = map[ivl.LeftTime], RightTime = map[n + ivl.RightTime] - keptLeft } : null);
        var restore = new List<BoundExpr>(n + m);
        var restoredColumns = new List<Column>(n + m);
        for (int i = 0; i < n + m; i++)
        {
            var column = join.Schema[i];
            if (used[i])
            {
                restore.Add(new InputRef(map[i], column.Name, column.Type));
                restoredColumns.Add(column);
            }
            else
            {
                var type = column.Type with { Nullable = true };
                restore.Add(new Literal(null, type));
                restoredColumns.Add(column with { Type = type });
            }
        }
        return new CalcPlan(narrowed, restore, null, new Schema(restoredColumns), join.Rowtime);
    }

    /// <summary>A side projected to its read columns (itself when all are read).</summary>
    private static LogicalPlan Side(LogicalPlan side, ReadOnlySpan<bool> used, ReadOnlySpan<int> map, int offset)
    {
        if (!used.Contains(false)) return side;
        var projections = new List<BoundExpr>();
        var columns = new List<Column>();
        for (int i = 0; i < used.Length; i++)
        {
            if (!used[i]) continue;
            var column = side.Schema[i];
            projections.Add(new InputRef(i, column.Name, column.Type));
            columns.Add(column);
        }
        int? rowtime = side.Rowtime is { } r ? map[r] - offset : null;
        return new CalcPlan(side, projections, null, new Schema(columns), rowtime);
    }

    private static List<BoundExpr>? Remap(IReadOnlyList<BoundExpr> expressions, int[] map, int offset)
    {
        var result = new List<BoundExpr>(expressions.Count);
        foreach (var e in expressions)
        {
            if (RemapOne(e, map, offset) is not { } r) return null;
            result.Add(r);
        }
        return result;
    }

    /// <summary>Column indexes through <paramref name="map"/> (less <paramref name="offset"/>); null for an expression kind not known here.</summary>
    private static BoundExpr? RemapOne(BoundExpr e, int[] map, int offset)
    {
        DeepStack.Ensure();
        switch (e)
        {
            case InputRef r:
                return r with { Index = map[r.Index] - offset };
            case Literal or CurrentTime or CurrentWatermark or IntervalExpr:
                return e;
            case Binary b:
                return RemapOne(b.Left, map, offset) is { } l && RemapOne(b.Right, map, offset) is { } rr ? b with { Left = l, Right = rr } : null;
            case Unary u:
                return RemapOne(u.Operand, map, offset) is { } o ? u with { Operand = o } : null;
            case Cast c:
                return RemapOne(c.Operand, map, offset) is { } operand ? c with { Operand = operand } : null;
            case Call c:
                return Remap(c.Args, map, offset) is { } args ? c with { Args = args } : null;
            case UserCall c:
                return Remap(c.Args, map, offset) is { } uargs ? c with { Args = uargs } : null;
            case Coalesce co:
                return Remap(co.Args, map, offset) is { } cargs ? co with { Args = cargs } : null;
            case InList i:
                return RemapOne(i.Value, map, offset) is { } v && Remap(i.Items, map, offset) is { } items ? i with { Value = v, Items = items } : null;
            case CaseWhen cw:
            {
                var branches = new List<(BoundExpr When, BoundExpr Then)>(cw.Branches.Count);
                foreach (var (when, then) in cw.Branches)
                {
                    if (RemapOne(when, map, offset) is not { } w || RemapOne(then, map, offset) is not { } t) return null;
                    branches.Add((w, t));
                }
                BoundExpr? otherwise = null;
                if (cw.Else is not null && (otherwise = RemapOne(cw.Else, map, offset)) is null) return null;
                return cw with { Branches = branches, Else = otherwise };
            }
            default:
                return null;
        }
    }
}
