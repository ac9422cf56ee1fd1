using Eddy.Joins;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.WindowJoin;

/// <summary>
/// Flink's window join: both inputs are windowed the same way (window TVFs, or window aggregations, possibly under
/// projections) and the join condition equates their <c>window_start</c> and <c>window_end</c>. The keys (the
/// equalities between the sides, the window's included) and <see cref="Residual"/> (over the left row followed by the
/// right row, <see cref="JoinedSchema"/>) decide the pairs; each window is joined once, when the watermark passes its
/// end, and its rows dropped; rows arriving for a window already joined are late and dropped. Output: append-only;
/// the left's columns then the right's (SEMI/ANTI: the left's only); a side that can be padded has nullable columns.
/// No time attribute survives (a window on the output is refused where it names its column).
/// </summary>
/// <param name="LeftWindowEnd">The column of the left input holding window_end.</param>
/// <param name="RightWindowEnd">The right input's.</param>
public sealed record WindowJoinPlan(
    LogicalPlan Left,
    LogicalPlan Right,
    WindowJoinType JoinType,
    IReadOnlyList<BoundExpr> LeftKeys,
    IReadOnlyList<BoundExpr> RightKeys,
    BoundExpr? Residual,
    WindowSpecification Window,
    int LeftWindowEnd,
    int RightWindowEnd,
    Schema JoinedSchema,
    Schema Output) : LogicalPlan(Output)
{
    public override IEnumerable<LogicalPlan> Inputs => [Left, Right];

    public override string Describe()
    {
        string type = JoinType switch
        {
            WindowJoinType.Inner => "InnerJoin",
            WindowJoinType.Left => "LeftOuterJoin",
            WindowJoinType.Right => "RightOuterJoin",
            WindowJoinType.Full => "FullOuterJoin",
            WindowJoinType.Semi => "LeftSemiJoin",
            _ => "LeftAntiJoin",
        };
        string keys = string.Join(", ", LeftKeys.Zip(RightKeys, (l, r) => $"{Explain.Expr(l)}={Explain.Expr(r)}"));
        return $"WindowJoin(joinType=[{type}], window=[{Window}], leftWindowEnd=[{Left.Schema[LeftWindowEnd].Name}], "
            + $"rightWindowEnd=[{Right.Schema[RightWindowEnd].Name}], keys=[{keys}]"
            + (Residual is null ? "" : $", where=[{Explain.Expr(Residual)}]")
            + $", changelogMode=[I], select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
    }

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Left = inputs[0], Right = inputs[1] };

    internal override object Translate(JobTranslator job) => WindowJoinTranslator.Translate(this, job);
}
