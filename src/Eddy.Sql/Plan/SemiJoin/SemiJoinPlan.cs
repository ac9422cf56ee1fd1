using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.SemiJoin;

/// <summary>
/// A semi join (<c>IN</c>/<c>EXISTS</c> subqueries) or anti join (<c>NOT IN</c>/<c>NOT EXISTS</c>): the rows of
/// <see cref="Left"/> that have (or, <see cref="Anti"/>, have not) a row of <see cref="Right"/> whose
/// <see cref="RightKeys"/> equal their <see cref="LeftKeys"/> (NULL never equals NULL) and that meets
/// <see cref="Residual"/>, bound over the left's columns followed by the right's. No keys: every right row is a
/// candidate (one key, one subtask, as Flink's join without equality). Output: the left's columns. Flink's changelog:
/// a semi join of append-only inputs appends; an anti join retracts a row when its first match appears (and re-adds it
/// when its last goes), and an updating input makes the output updating. <see cref="StateTtlMs"/> is Flink's
/// <c>table.exec.state.ttl</c> (0: state kept forever). <see cref="NullSafeKeys"/>: keys compare as IS NOT DISTINCT
/// FROM (NULL equals NULL), as Flink's semi/anti joins for INTERSECT and EXCEPT.
/// </summary>
public sealed record SemiJoinPlan(
    LogicalPlan Left,
    LogicalPlan Right,
    bool Anti,
    IReadOnlyList<BoundExpr> LeftKeys,
    IReadOnlyList<BoundExpr> RightKeys,
    BoundExpr? Residual,
    long StateTtlMs,
    bool NullSafeKeys = false) : LogicalPlan(Left.Schema)
{
    public override bool IsUpdating => Anti || Left.IsUpdating || Right.IsUpdating;

    public override IEnumerable<LogicalPlan> Inputs => [Left, Right];

    /// <summary>The row the residual condition reads: the left's columns, then the right's.</summary>
    public Schema ConditionRow => new(Left.Schema.Columns.Concat(Right.Schema.Columns).Select((c, i) => c with { Name = $"{c.Name}${i}" }).ToArray());

    public override string Describe()
    {
        int n = Left.Schema.Count;
        string keys = string.Join(", ", LeftKeys.Zip(RightKeys, (l, r) => $"{Explain.Expr(l)}={Explain.Expr(r)}"));
        return $"Join(joinType=[{(Anti ? "LeftAntiJoin" : "LeftSemiJoin")}], keys=[{keys}]"
            + (Residual is null ? "" : $", where=[{Explain.Expr(Residual)}]")
            + $", changelogMode=[{(IsUpdating ? "I,UB,UA,D" : "I")}]"
            + $", select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";
    }

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Left = inputs[0], Right = inputs[1] };

    internal override object Translate(JobTranslator job) => SemiJoinTranslator.Translate(this, job);
}
