using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Scan;

/// <summary>
/// A scan that nothing else in the job reads, with work from above done in its conversion loop (made by the rules
/// <c>ScanFusion</c> and <c>AggregateInputNarrowing</c>, never by the binder; <c>NestedFieldPushdown</c> then narrows
/// what the connector decodes): <see cref="Calc"/>, the filter and
/// projection right above it; <see cref="Readers"/>, the only expressions its reader evaluates (other columns are left
/// uncomputed); <see cref="Narrow"/>, the reader reads the connector's decoded rows as they are (its columns are
/// physical columns at the same indexes), with the rowtime evaluated over them for the records' timestamps.
/// </summary>
public sealed record FusedScanPlan(ScanPlan Scan, CalcPlan? Calc, IReadOnlyList<BoundExpr>? Readers, bool Narrow)
    : LogicalPlan(Calc?.Schema ?? Scan.Schema)
{
    public override bool IsUpdating => Calc?.IsUpdating ?? Scan.IsUpdating;

    public override int? Rowtime => Calc is null ? Scan.Rowtime : Calc.Rowtime;

    public override int? Proctime => Calc is null ? Scan.Proctime : Calc.Proctime;

    public override IEnumerable<LogicalPlan> Inputs => [];

    public override string Describe() =>
        Scan.Describe() + (Calc is null ? "" : $" fused with {Calc.Describe()}")
        + (Readers is null ? "" : $" computing [{string.Join(", ", Readers)}]") + (Narrow ? " over decoded rows" : "");

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this;

    internal override object Translate(JobTranslator job)
    {
        var scanRow = RowTypes.For(Narrow ? Scan.Decoded : Scan.Schema);
        return ScanTranslator.Read(job, Scan, Calc, Readers, Narrow, scanRow, Calc is null ? scanRow : RowTypes.For(Calc.Schema));
    }
}
