using Eddy.Sql.Catalog;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.LookupJoin;

/// <summary>
/// A processing-time lookup join (<c>JOIN t FOR SYSTEM_TIME AS OF o.proc_time ON o.k = t.k</c>): each input row joined
/// with the rows of <see cref="Table"/> whose <see cref="Keys"/> columns equal the row's key values, read when the row
/// arrives. Output: the input's columns, then the lookup table's (nullable for LEFT). <see cref="Condition"/> is the
/// rest of the ON clause over the output row; LEFT keeps a row none of whose matches meets it, padded with NULLs.
/// </summary>
/// <param name="Keys">(column of the lookup table, its value computed from the input row, already of the column's type).</param>
public sealed record LookupJoinPlan(
    LogicalPlan Input,
    TableDef Table,
    Schema LookupColumns,
    IReadOnlyList<(int Column, BoundExpr Value)> Keys,
    BoundExpr? Condition,
    bool LeftOuter,
    Schema Output) : LogicalPlan(Output)
{
    public override bool IsUpdating => Input.IsUpdating;

    public override int? Rowtime => Input.Rowtime;

    public override int? Proctime => Input.Proctime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"LookupJoin(table=[{Table.Name}], connector=[{Table.Connector}], joinType=[{(LeftOuter ? "LEFT" : "INNER")}], "
        + $"lookup=[{string.Join(", ", Keys.Select(k => $"{LookupColumns[k.Column].Name}={Explain.Expr(k.Value)}"))}]"
        + (Condition is null ? "" : $", where=[{Explain.Expr(Condition)}]")
        + $", select=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => LookupJoinTranslator.Translate(this, job);
}
