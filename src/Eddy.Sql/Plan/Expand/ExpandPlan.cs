using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Expand;

/// <summary>
/// Every input row once per projection list (Flink's <c>Expand</c>): GROUPING SETS, ROLLUP and CUBE feed the
/// aggregation one copy of each row per grouping set, with the keys outside the set NULL and the set's number in a
/// column of its own, so that one group aggregation computes every set. Row kinds and timestamps follow the input
/// row, so an updating input expands into an updating output.
/// </summary>
public sealed record ExpandPlan(LogicalPlan Input, IReadOnlyList<IReadOnlyList<BoundExpr>> Projections, Schema Output) : LogicalPlan(Output)
{
    public override bool IsUpdating => Input.IsUpdating;

    // The input's columns come first and unchanged in every projection list, so its time attributes stay where they were.
    public override int? Rowtime => Input.Rowtime;

    public override int? Proctime => Input.Proctime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"Expand(projects=[{string.Join("}, {", Projections.Select(p => string.Join(", ", p.Skip(Input.Schema.Count))))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => ExpandTranslator.Translate(this, job);
}
