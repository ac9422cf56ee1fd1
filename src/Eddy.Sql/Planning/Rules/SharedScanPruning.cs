using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.Scan;

namespace Eddy.Sql.Planning.Rules;

/// <summary>
/// Projection pushdown into a shared scan: a table read by several plan nodes of a job is read once and its rows go to
/// every reader (Nexmark's person, auction and bid views over one generator), so it cannot fuse with any one reader.
/// When every reader is a Calc right above the scan, the scan decodes only the union of what those Calcs read, with
/// <see cref="NestedFieldPushdown"/>'s rules (ROW fields read as <c>row.field</c> become columns of their own), and each
/// Calc reads the pruned scan's columns. Any other reader (a join, a window, a scan read as it is) reads the table
/// whole: then the table is left as it is. A chain of Calcs above the scan (a view's filter, then its projection) is
/// merged first (<see cref="CalcMerge"/>, as the rewrite pass would), so that its reads are the projection's.
/// </summary>
public static class SharedScanPruning
{
    /// <summary>The pruned scan of each shared table whose readers allow it, and how a reader's expression reads it.</summary>
    public static Dictionary<TableDef, (ScanPlan Pushed, Func<BoundExpr, BoundExpr> Read)> Prune(IReadOnlyList<LogicalPlan> plans, Func<TableDef, bool> shared, ConnectorRegistry connectors)
    {
        var scans = new Dictionary<TableDef, ScanPlan>(ReferenceEqualityComparer.Instance);
        var reads = new Dictionary<TableDef, List<BoundExpr>>(ReferenceEqualityComparer.Instance);
        var whole = new HashSet<TableDef>(ReferenceEqualityComparer.Instance);
        void Reader(LogicalPlan? reader, ScanPlan scan)
        {
            var table = scan.Table;
            if (scans.TryGetValue(table, out var first) && !SameRead(first, scan)) whole.Add(table);
            else scans[table] = scan;
            if (reader is CalcPlan calc)
            {
                var list = reads.TryGetValue(table, out var l) ? l : reads[table] = [];
                list.AddRange(calc.Projections);
                if (calc.Filter is not null) list.Add(calc.Filter);
            }
            else whole.Add(table);
        }
        void Visit(LogicalPlan plan)
        {
            DeepStack.Ensure();
            foreach (var input in plan.Inputs)
            {
                if (input is ScanPlan scan && shared(scan.Table)) Reader(plan, scan);
                Visit(input);
            }
        }
        foreach (var plan in plans)
        {
            if (plan is ScanPlan scan && shared(scan.Table)) Reader(null, scan);
            Visit(MergeCalcs(plan, shared));
        }
        var pruned = new Dictionary<TableDef, (ScanPlan, Func<BoundExpr, BoundExpr>)>(ReferenceEqualityComparer.Instance);
        foreach (var (table, scan) in scans)
        {
            if (whole.Contains(table) || !reads.TryGetValue(table, out var list)) continue;
            if (NestedFieldPushdown.Push(scan, list, connectors) is { } push) pruned[table] = push;
        }
        return pruned;
    }

    /// <summary><paramref name="plan"/> with each reader of a pruned shared scan reading the pruned scan.</summary>
    public static LogicalPlan Apply(LogicalPlan plan, Dictionary<TableDef, (ScanPlan Pushed, Func<BoundExpr, BoundExpr> Read)> pruned)
    {
        return pruned.Count == 0 ? plan : Substitute(MergeCalcs(plan, t => pruned.ContainsKey(t)), pruned);
    }

    private static LogicalPlan Substitute(LogicalPlan plan, Dictionary<TableDef, (ScanPlan Pushed, Func<BoundExpr, BoundExpr> Read)> pruned)
    {
        DeepStack.Ensure();
        if (plan is CalcPlan { Input: ScanPlan scan } calc && pruned.TryGetValue(scan.Table, out var push))
        {
            return calc with
            {
                Input = push.Pushed,
                Projections = calc.Projections.Select(push.Read).ToList(),
                Filter = calc.Filter is null ? null : push.Read(calc.Filter),
            };
        }
        var inputs = plan.Inputs.ToList();
        if (inputs.Count == 0) return plan;
        var rewritten = inputs.Select(i => Substitute(i, pruned)).ToList();
        return rewritten.SequenceEqual(inputs, ReferenceEqualityComparer.Instance) ? plan : plan.WithInputs(rewritten);
    }

    /// <summary>The plan with each chain of Calcs over a shared scan merged into one Calc, as far as they merge.</summary>
    private static LogicalPlan MergeCalcs(LogicalPlan plan, Func<TableDef, bool> shared)
    {
        DeepStack.Ensure();
        if (plan is CalcPlan calc && OverSharedScan(calc, shared))
        {
            while (calc.Input is CalcPlan && CalcMerge.TryMerge(calc) is { } merged) calc = merged;
            return calc.Input is ScanPlan ? calc : calc with { Input = MergeCalcs(calc.Input, shared) };
        }
        var inputs = plan.Inputs.ToList();
        if (inputs.Count == 0) return plan;
        var rewritten = inputs.Select(i => MergeCalcs(i, shared)).ToList();
        return rewritten.SequenceEqual(inputs, ReferenceEqualityComparer.Instance) ? plan : plan.WithInputs(rewritten);
    }

    private static bool OverSharedScan(CalcPlan calc, Func<TableDef, bool> shared)
    {
        LogicalPlan below = calc.Input;
        while (below is CalcPlan c) below = c.Input;
        return below is ScanPlan scan && shared(scan.Table);
    }

    /// <summary>Whether two scans of one table read it alike (the shared stream is made from the first).</summary>
    private static bool SameRead(ScanPlan a, ScanPlan b) =>
        a.Nested is null && b.Nested is null && a.RowtimeIndex == b.RowtimeIndex && a.WatermarkDelayMs == b.WatermarkDelayMs
        && a.Updating == b.Updating && a.Decoded.Count == b.Decoded.Count && a.Schema.Count == b.Schema.Count;
}
