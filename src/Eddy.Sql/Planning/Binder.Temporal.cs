using Eddy.Sql.Codegen;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.TemporalJoin;

namespace Eddy.Sql.Planning;

public sealed partial class Binder
{
    /// <summary>
    /// <c>probe [LEFT] JOIN v FOR SYSTEM_TIME AS OF probe.rowtime [AS r] ON probe.k = r.pk [AND ...]</c>: Flink's
    /// event-time temporal join against a versioned table — a table with a PRIMARY KEY and a watermark (such as
    /// upsert-kafka), or a view that keeps the last row per key on its rowtime (deduplication). The ON clause must
    /// equate every primary-key column with a value of the probe side; the rest of it is evaluated on the joined row.
    /// </summary>
    private (LogicalPlan, Scope, WindowedInput?) BindTemporalJoin(JoinRef join, NamedTableRef right, LogicalPlan left, Scope leftScope, int leftTime)
    {
        if (left.IsUpdating)
            throw Error(join.Left, "the probe side of an event-time temporal join must be append-only, but it is updating "
                + "(a GROUP BY without a window, an outer join, or a changelog source); Eddy does not join a changelog AS OF a version");
        if (right.Hints.Count > 0) throw Error(right.Hints[0], "table hints are not supported by Eddy yet");
        var (rightPlan, rightScope, windowed) = BindFrom(right with { SystemTimeAsOf = null });
        if (windowed is not null) throw Error(right, "a window table function cannot be a versioned table");
        string name = right.Name.Last.Value;
        var versioned = Versioned(rightPlan);
        if (versioned.Rowtime is not { } rightTime)
            throw Error(right.Name, $"'{name}' has no event-time attribute: a temporal join AS OF event time needs a versioned table, "
                + "one with a PRIMARY KEY and a WATERMARK (or a view that keeps the last row per key ordered by its rowtime)");
        if (versioned.Key is not { Count: > 0 } primaryKey)
            throw Error(right.Name, $"'{name}' has no primary key: a temporal join AS OF event time needs a versioned table, "
                + "one with a PRIMARY KEY (...) NOT ENFORCED and a WATERMARK (or a view that keeps the last row per key ordered by its rowtime: "
                + "ROW_NUMBER() OVER (PARTITION BY key ORDER BY rowtime DESC) = 1)");

        bool leftOuter = join.Kind == JoinKind.Left;
        int n = left.Schema.Count, m = rightPlan.Schema.Count;
        var type = leftOuter ? Eddy.Joins.JoinType.Left : Eddy.Joins.JoinType.Inner;
        var scope = JoinScope(leftScope, n, rightScope, type);
        var output = JoinOutput(left.Schema, rightPlan.Schema, type);
        if (join.Condition is null) throw Error(join, $"a temporal join needs ON with an equality on the primary key of '{name}'");
        var condition = RequireBoolean(Bind(join.Condition, scope), join.Condition);

        var leftKeys = new BoundExpr?[primaryKey.Count];
        var rightKeys = new BoundExpr?[primaryKey.Count];
        var residual = new List<BoundExpr>();
        foreach (var c in Conjuncts(condition))
        {
            var refs = ExpressionCompiler.ReferencedColumns(n + m, [c], null);
            bool readsLeft = refs.Take(n).Any(x => x), readsRight = refs.Skip(n).Any(x => x);
            if (AsJoinKey(c, n, m, left.Schema, rightPlan.Schema) is { } key)
            {
                int at = key.Right is InputRef r ? primaryKey.IndexOf(r.Index) : -1;
                if (at < 0)
                    throw Error(join.Condition, $"'{Explain.Expr(c)}' equates a column of '{name}' that is not its primary key "
                        + $"({string.Join(", ", primaryKey.Select(k => rightPlan.Schema[k].Name))}); Flink keys the versions by every equality of ON, "
                        + "which Eddy does not do: equate the primary key only and compare other columns with a condition that is not an equality "
                        + "or after the join");
                if (leftKeys[at] is not null) residual.Add(c);
                else
                {
                    leftKeys[at] = key.Left;
                    rightKeys[at] = key.Right;
                }
                continue;
            }
            if (readsRight && !readsLeft)
                throw Error(join.Condition, $"'{Explain.Expr(c)}' reads only '{name}': Flink may push such a condition into the versioned table, "
                    + "changing which version is valid; Eddy refuses it: filter the versioned table in a view, or the joined rows after the join");
            residual.Add(c);
        }
        for (int k = 0; k < primaryKey.Count; k++)
        {
            if (leftKeys[k] is null)
                throw Error(join.Condition, $"a temporal join needs an equality on every primary-key column of '{name}', "
                    + $"but '{rightPlan.Schema[primaryKey[k]].Name}' has none (e.g. ON o.x = {right.Alias?.Value ?? name}.{rightPlan.Schema[primaryKey[k]].Name})");
        }
        if (primaryKey.Count > 7) throw Error(join.Condition, "Eddy joins on at most 7 key equalities");
        var cond = residual.Count == 0 ? null : residual.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean));
        var plan = new TemporalJoinPlan(left, rightPlan, leftOuter, leftKeys.Select(k => k!).ToList(), rightKeys.Select(k => k!).ToList(), cond,
            leftTime, rightTime, output);
        return (plan, scope, null);
    }

    /// <summary>
    /// The primary key (column indexes) and rowtime of a relation that is a versioned table: a scan of a table with a
    /// PRIMARY KEY, a deduplication keeping the last row per key on rowtime, or plain projections of either.
    /// </summary>
    private static (List<int>? Key, int? Rowtime) Versioned(LogicalPlan plan)
    {
        DeepStack.Ensure();
        switch (plan)
        {
            case ScanPlan scan:
            {
                var key = scan.Table.PrimaryKey.Select(k => scan.Schema.IndexOf(k)).ToList();
                return (key.Count > 0 && key.All(i => i >= 0) ? key : null, scan.Rowtime);
            }
            case RankPlan { Strategy: RankStrategy.KeepLastRowtime } rank:
                return (rank.PartitionKeys.ToList(), rank.Input.Rowtime);
            case CalcPlan { Filter: null } calc:
            {
                var (key, rowtime) = Versioned(calc.Input);
                var map = new Dictionary<int, int>();
                for (int i = calc.Projections.Count - 1; i >= 0; i--)
                    if (calc.Projections[i] is InputRef r) map[r.Index] = i;
                List<int>? mapped = key is null || !key.All(map.ContainsKey) ? null : key.Select(k => map[k]).ToList();
                int? time = calc.Rowtime ?? (rowtime is { } t && map.TryGetValue(t, out int o) ? o : null);
                return (mapped, time);
            }
            default:
                return (null, plan.Rowtime);
        }
    }
}
