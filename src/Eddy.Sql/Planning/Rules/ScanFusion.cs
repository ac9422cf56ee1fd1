using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Scan;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// A filter and projection right above a scan that nothing else in the job reads: the source's conversion loop
/// evaluates them (<see cref="FusedScanPlan"/>), so no batch of scan rows exists in between. A shared scan cannot, nor
/// a Calc that reads its operator's watermark.
/// </summary>
public static class ScanFusion
{
    public static LogicalPlan? TryFuse(CalcPlan calc, PlanRules rules) =>
        calc.Input is ScanPlan scan && rules.ReadOnce(scan.Table) && !calc.ReadsWatermark ? new FusedScanPlan(scan, calc, null, false) : null;
}
