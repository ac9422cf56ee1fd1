using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.TemporalJoin;

/// <summary>
/// An event-time temporal join (<c>JOIN v FOR SYSTEM_TIME AS OF o.rowtime ON o.k = v.pk</c>): each row of
/// <see cref="Left"/> joined with the version of <see cref="Right"/> (a versioned table) with equal key that was valid
/// at the left row's rowtime (<see cref="LeftTime"/>), once the watermark has passed it; the versions are ordered by
/// <see cref="RightTime"/>. <see cref="RightKeys"/> are the versioned table's primary key; <see cref="Residual"/> is
/// the rest of ON over the output row. Output: the left's columns, then the right's (nullable for LEFT); append-only,
/// keeping the left's rowtime.
/// </summary>
public sealed record TemporalJoinPlan(
    LogicalPlan Left,
    LogicalPlan Right,
    bool LeftOuter,
    IReadOnlyList<BoundExpr> LeftKeys,
    IReadOnlyList<BoundExpr> RightKeys,
    BoundExpr? Residual,
    int LeftTime,
    int RightTime,
    Schema Output) : LogicalPlan(Output)
{
    public override bool IsUpdating => false;

    public override int? Rowtime => LeftTime;

    public override IEnumerable<LogicalPlan> Inputs => [Left, Right];

    public override string Describe() =>
        $"TemporalJoin(joinType=[{(LeftOuter ? "LeftOuterJoin" : "InnerJoin")}], "
        + $"keys=[{string.Join(", ", LeftKeys.Zip(RightKeys, (l, r) => $"{Explain.Expr(l)}={Explain.Expr(r)}"))}], "
        + $"leftTime=[{Left.Schema[LeftTime].Name}], rightTime=[{Right.Schema[RightTime].Name}]"
        + (Residual is null ? "" : $", where=[{Explain.Expr(Residual)}]")
        + $", select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Left = inputs[0], Right = inputs[1] };

    internal override object Translate(JobTranslator job) => TemporalJoinTranslator.Translate(this, job);
}
