using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Scan;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// The rewrite pass between binding and translation. Top-down over each plan: a Calc with remote calls is split around
/// an async lookup (<see cref="AsyncLookupSplit"/>), a Calc over a Calc merges (<see cref="CalcMerge"/>), a Calc over a
/// scan read by nothing else runs in the scan's loop (<see cref="ScanFusion"/>; under another Calc, it computes only
/// the columns that one reads), a projection over a window aggregation
/// runs in its result builder (<see cref="WindowProjectionFusion"/>), and a window aggregation's input scan computes
/// only what the aggregation reads (<see cref="AggregateInputNarrowing"/>); a fused scan whose connector can decode
/// only the columns and ROW fields read (<see cref="NestedFieldPushdown"/>); a filter over a join moves its one-side
/// conjuncts below it (<see cref="JoinFilterPushdown"/>), and a join's sides keep only the columns read above it
/// (<see cref="JoinInputNarrowing"/>). Before all that, a table scanned by several readers (one shared scan) decodes
/// only the columns and ROW fields some reader reads (<see cref="SharedScanPruning"/>). EXPLAIN shows the plans before
/// this pass.
/// </summary>
public sealed class PlanRules
{
    /// <summary>How many times each table is scanned by the plans of the job (fusion needs a scan with one reader).</summary>
    private readonly Dictionary<TableDef, int> scanUses = new(ReferenceEqualityComparer.Instance);

    private readonly ConnectorRegistry connectors;

    /// <param name="plans">every plan of the job (all are counted before any is rewritten).</param>
    /// <param name="connectors">the session's connectors: which of them decode only the columns read.</param>
    public PlanRules(IEnumerable<LogicalPlan> plans, ConnectorRegistry connectors)
    {
        this.connectors = connectors;
        void Count(LogicalPlan plan)
        {
            DeepStack.Ensure();
            if (plan is ScanPlan scan) scanUses[scan.Table] = scanUses.GetValueOrDefault(scan.Table) + 1;
            foreach (var input in plan.Inputs) Count(input);
        }
        var all = plans.ToList();
        foreach (var plan in all) Count(plan);
        sharedScans = SharedScanPruning.Prune(all, table => scanUses.GetValueOrDefault(table) > 1, connectors);
    }

    /// <summary>The pruned scan of each shared table that can be pruned, and how its readers' expressions read it.</summary>
    private readonly Dictionary<TableDef, (ScanPlan Pushed, Func<BoundExpr, BoundExpr> Read)> sharedScans;

    /// <summary>The rewrite pass over one plan of the job: shared scans pruned, then <see cref="Rewrite"/>.</summary>
    public LogicalPlan Apply(LogicalPlan plan) => Rewrite(SharedScanPruning.Apply(plan, sharedScans));

    /// <summary>Whether <paramref name="table"/> is read by exactly one plan node of the job.</summary>
    public bool ReadOnce(TableDef table) => scanUses.GetValueOrDefault(table) == 1;

    public LogicalPlan Rewrite(LogicalPlan plan)
    {
        DeepStack.Ensure();
        switch (plan)
        {
            case CalcPlan calc:
                if (AsyncLookupSplit.TrySplit(calc) is { } split) return Rewrite(split);
                if (JoinFilterPushdown.TryPush(calc) is { } pushed) return Rewrite(pushed);
                if (JoinInputNarrowing.TryNarrow(calc) is { } narrowed) return Rewrite(narrowed);
                if (CalcMerge.TryMerge(calc) is { } merged) return Rewrite(merged);
                // A Calc calling functions with a lifecycle stays a Calc operator, which opens and closes them.
                if (HasLifecycle(calc)) break;
                if (ScanFusion.TryFuse(calc, this) is { } fused) return fused is FusedScanPlan f ? NestedFieldPushdown.TryPush(f, connectors) ?? f : fused;
                // A Calc over one fused with its scan (not merged): the fused Calc computes only what this one reads.
                if (calc.Input is CalcPlan { Input: ScanPlan } inner && AsyncLookupSplit.TrySplit(inner) is null && !HasLifecycle(inner)
                    && ScanFusion.TryFuse(inner, this) is FusedScanPlan below)
                {
                    below = below with { Readers = calc.Filter is null ? calc.Projections : [.. calc.Projections, calc.Filter] };
                    return calc with { Input = NestedFieldPushdown.TryPush(below, connectors) ?? below };
                }
                if (WindowProjectionFusion.TryFuse(calc, this) is { } projected) return projected;
                break;
            case AggregatePlan aggregate:
                return RewriteAggregate(aggregate);
        }
        var inputs = plan.Inputs.ToList();
        return inputs.Count == 0 ? plan : plan.WithInputs(inputs.Select(Rewrite).ToList());
    }

    private static bool HasLifecycle(CalcPlan calc) => Codegen.UserFunctionInstances.LifecycleCalls([.. calc.Projections, calc.Filter]).Count > 0;

    /// <summary>An aggregation over its rewritten input (merged Calcs first, then the input narrowed if it can be).</summary>
    public AggregatePlan RewriteAggregate(AggregatePlan aggregate)
    {
        var input = aggregate.Input;
        while (input is CalcPlan c && CalcMerge.TryMerge(c) is { } m) input = m;
        if (JoinInputNarrowing.TryNarrow(aggregate, input) is { } narrowed) input = narrowed;
        var read = input is CalcPlan withLifecycle && HasLifecycle(withLifecycle) ? null : AggregateInputNarrowing.TryNarrow(aggregate, input, this);
        if (read is FusedScanPlan fused) read = NestedFieldPushdown.TryPush(fused, connectors) ?? fused;
        return aggregate with { Input = read ?? Rewrite(input) };
    }
}
