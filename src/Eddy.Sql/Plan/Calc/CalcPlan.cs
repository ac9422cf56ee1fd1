using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Calc;

/// <summary>Projection and filter: <c>SELECT exprs ... WHERE filter</c>.</summary>
public sealed record CalcPlan(LogicalPlan Input, IReadOnlyList<BoundExpr> Projections, BoundExpr? Filter, Schema Output, int? RowtimeIndex)
    : LogicalPlan(Output)
{
    public override bool IsUpdating => Input.IsUpdating;

    public override int? Rowtime => RowtimeIndex;

    public override int? Proctime
    {
        get
        {
            if (Input.Proctime is { } p)
                for (int i = 0; i < Projections.Count; i++)
                    if (Projections[i] is InputRef r && r.Index == p) return i;
            // SELECT ..., PROCTIME() AS p_time: a processing-time attribute made by the select list, as Flink allows.
            for (int i = 0; i < Projections.Count; i++)
                if (Projections[i] is CurrentTime { IsProctime: true }) return i;
            return null;
        }
    }

    /// <summary>
    /// Whether the Calc reads its operator's watermark (CURRENT_WATERMARK): it must then run as its own Calc operator,
    /// neither fused into a source's loop nor pushed below a join.
    /// </summary>
    public bool ReadsWatermark => Projections.Any(ReadsWatermarkIn) || ReadsWatermarkIn(Filter);

    public static bool ReadsWatermarkIn(BoundExpr? e) => e is not null && DeepStack.Ensure(e) switch
    {
        CurrentWatermark => true,
        Binary b => ReadsWatermarkIn(b.Left) || ReadsWatermarkIn(b.Right),
        Unary u => ReadsWatermarkIn(u.Operand),
        Cast c => ReadsWatermarkIn(c.Operand),
        CaseWhen cw => cw.Branches.Any(b => ReadsWatermarkIn(b.When) || ReadsWatermarkIn(b.Then)) || ReadsWatermarkIn(cw.Else),
        Call c => c.Args.Any(ReadsWatermarkIn),
        UserCall u => u.Args.Any(ReadsWatermarkIn),
        InList i => ReadsWatermarkIn(i.Value) || i.Items.Any(ReadsWatermarkIn),
        Coalesce co => co.Args.Any(ReadsWatermarkIn),
        _ => false,
    };

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"Calc(select=[{string.Join(", ", Projections.Select((p, i) => p is InputRef r && r.Name == Schema[i].Name ? r.Name : $"{p} AS {Schema[i].Name}"))}]"
        + (Filter is null ? "" : $", where=[{Filter}]") + ")";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => CalcTranslator.Translate(this, job);
}
