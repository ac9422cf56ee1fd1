using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// A projection (without filter) over a window aggregation runs inside the aggregation's result builder
/// (<see cref="ProjectedAggregatePlan"/>): one function per window result instead of a result row, a batch and
/// another pass.
/// </summary>
public static class WindowProjectionFusion
{
    public static LogicalPlan? TryFuse(CalcPlan calc, PlanRules rules) =>
        calc is { Filter: null, Input: AggregatePlan { Window: not null } aggregate } && !calc.ReadsWatermark
            ? new ProjectedAggregatePlan(rules.RewriteAggregate(aggregate), calc)
            : null;
}
