using Eddy.Joins;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Join;

/// <summary>
/// The time bounds of an interval join: <c>left.time BETWEEN right.time + LowerMs AND right.time + UpperMs</c>
/// (inclusive; strict comparisons are moved by a millisecond, as Flink does), on both sides' rowtimes or proctimes.
/// </summary>
public sealed record IntervalBounds(int LeftTime, int RightTime, long LowerMs, long UpperMs, bool ProcessingTime);

/// <summary>
/// A regular (unbounded) equi-join, or an interval join when <see cref="Interval"/> is set: the rows of
/// <see cref="Left"/> and <see cref="Right"/> whose <see cref="LeftKeys"/> equal <see cref="RightKeys"/> (NULL never
/// equals NULL) and that meet <see cref="Residual"/> (over the output row). Output: the left's columns, then the
/// right's; a side that can be padded (the other side is outer) has nullable columns. A regular join's output is
/// updating when an input is or the join is outer (Flink's changelog: retractions of padded rows); an interval
/// join's is append-only. Time attributes do not survive a regular join (Flink materializes them).
/// </summary>
/// <param name="LeftStateTtlMs">The left side's state TTL: Flink's <c>table.exec.state.ttl</c> or its <c>STATE_TTL</c> hint (0: keep state forever); regular joins only.</param>
/// <param name="RightStateTtlMs">The right side's.</param>
public sealed record JoinPlan(
    LogicalPlan Left,
    LogicalPlan Right,
    JoinType JoinType,
    IReadOnlyList<BoundExpr> LeftKeys,
    IReadOnlyList<BoundExpr> RightKeys,
    BoundExpr? Residual,
    Schema Output,
    long LeftStateTtlMs,
    long RightStateTtlMs,
    IntervalBounds? Interval) : LogicalPlan(Output)
{
    public override bool IsUpdating => Interval is null && (Left.IsUpdating || Right.IsUpdating || JoinType != JoinType.Inner);

    /// <summary>
    /// An event-time interval join keeps a time attribute, as Flink does: the left side's rowtime for INNER and LEFT
    /// joins, the right side's for RIGHT (the side never padded; its rows are not late for the watermark the operator
    /// holds back). Flink keeps both sides' rowtimes; Eddy has one rowtime per row, so the other is a plain TIMESTAMP
    /// (a window on it is refused), and a FULL join keeps none.
    /// </summary>
    public override int? Rowtime => Interval is { ProcessingTime: false } iv
        ? JoinType switch
        {
            JoinType.Inner or JoinType.Left => iv.LeftTime,
            JoinType.Right => Left.Schema.Count + iv.RightTime,
            _ => null,
        }
        : null;

    public override IEnumerable<LogicalPlan> Inputs => [Left, Right];

    public override string Describe()
    {
        string type = JoinType switch
        {
            JoinType.Inner => "InnerJoin",
            JoinType.Left => "LeftOuterJoin",
            JoinType.Right => "RightOuterJoin",
            _ => "FullOuterJoin",
        };
        int n = Left.Schema.Count;
        string keys = string.Join(", ", LeftKeys.Zip(RightKeys, (l, r) => $"{Explain.Expr(l)}={Explain.Expr(r)}"));
        string head = Interval is { } iv
            ? $"IntervalJoin(joinType=[{type}], windowBounds=[{(iv.ProcessingTime ? "proctime" : "rowtime")}, leftTime={Schema[iv.LeftTime].Name}, "
                + $"rightTime={Schema[n + iv.RightTime].Name}, leftLowerBound={iv.LowerMs}, leftUpperBound={iv.UpperMs}]"
            : $"Join(joinType=[{type}]";
        return head + $", keys=[{keys}]"
            + (Residual is null ? "" : $", where=[{Explain.Expr(Residual)}]")
            + ((LeftStateTtlMs > 0 || RightStateTtlMs > 0) && Interval is null ? $", stateTtl=[left={LeftStateTtlMs} ms, right={RightStateTtlMs} ms]" : "")
            + $", changelogMode=[{(IsUpdating ? "I,UB,UA,D" : "I")}]"
            + $", select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
    }

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Left = inputs[0], Right = inputs[1] };

    internal override object Translate(JobTranslator job) => JoinTranslator.Translate(this, job);
}
