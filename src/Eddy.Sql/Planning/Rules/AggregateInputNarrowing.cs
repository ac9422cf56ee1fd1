using Eddy.Sql.Codegen;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Scan;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// A window aggregation reading a scan that nothing else reads (window time comes from the records' timestamps) has
/// the scan compute only the columns it reads (<see cref="FusedScanPlan.Readers"/>): when those are physical columns,
/// it reads the connector's rows as they are (same column indexes, <see cref="FusedScanPlan.Narrow"/>); over a Calc
/// (e.g. a window TVF's projection) fused with the scan, the Calc computes only those columns.
/// </summary>
public static class AggregateInputNarrowing
{
    /// <param name="input">the aggregation's input, Calcs above it already merged.</param>
    public static LogicalPlan? TryNarrow(AggregatePlan aggregate, LogicalPlan input, PlanRules rules)
    {
        // Late rows go to their table whole: the input keeps every column (no narrowing to what the aggregation reads).
        if (aggregate.Window is not { } window || aggregate.LateData is not null) return null;
        if (input is ScanPlan scan && rules.ReadOnce(scan.Table) && window.TimeColumn == scan.RowtimeIndex)
        {
            var readers = Readers(aggregate);
            var used = ExpressionCompiler.ReferencedColumns(scan.Schema.Count, readers, null);
            bool narrow = used.Select((u, c) => !u || (c < scan.Decoded.Count && scan.Projections[c] is InputRef r && r.Index == c
                && scan.Decoded[c].Type == scan.Schema[c].Type)).All(x => x);
            return new FusedScanPlan(scan, null, readers, narrow);
        }
        // (A Calc with remote calls is split around an async lookup instead: Rewrite.)
        if (input is CalcPlan { Input: ScanPlan calcScan } calc && rules.ReadOnce(calcScan.Table) && !calc.ReadsWatermark
            && !calc.Projections.Any(AsyncLookupSplit.Contains) && !AsyncLookupSplit.Contains(calc.Filter)
            && calc.Projections[window.TimeColumn] is InputRef { Index: var timeIndex } && timeIndex == calcScan.RowtimeIndex)
            return new FusedScanPlan(calcScan, calc, Readers(aggregate), false);
        return null;
    }

    /// <summary>Every expression an aggregation evaluates over its input rows.</summary>
    private static List<BoundExpr> Readers(AggregatePlan aggregate)
    {
        var readers = new List<BoundExpr>(aggregate.Keys);
        foreach (var call in aggregate.Aggregates)
        {
            if (call.Argument is not null) readers.Add(call.Argument);
            if (call.Filter is not null) readers.Add(call.Filter);
        }
        return readers;
    }
}
