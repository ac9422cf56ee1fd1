using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Correlate;

/// <summary>Each input row joined with the rows a table function returns for it (LATERAL TABLE); LEFT keeps rows without any.</summary>
public sealed record CorrelatePlan(LogicalPlan Input, UserCall Function, Schema Output, bool LeftOuter) : LogicalPlan(Output)
{
    public override bool IsUpdating => Input.IsUpdating;

    public override int? Rowtime => Input.Rowtime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"Correlate(function=[{Function.Name}({string.Join(", ", Function.Args)})], joinType=[{(LeftOuter ? "LEFT" : "INNER")}], "
        + $"fields=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => CorrelateTranslator.Translate(this, job);
}
