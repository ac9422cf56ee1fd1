using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Union;

public sealed record UnionPlan(IReadOnlyList<LogicalPlan> Parts, Schema Output) : LogicalPlan(Output)
{
    public override bool IsUpdating => Parts.Any(p => p.IsUpdating);

    public override int? Rowtime => Parts.All(p => p.Rowtime is not null && p.Rowtime == Parts[0].Rowtime) ? Parts[0].Rowtime : null;

    public override IEnumerable<LogicalPlan> Inputs => Parts;

    public override string Describe() => $"Union(all=[true], union=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Parts = inputs };

    internal override object Translate(JobTranslator job) => UnionTranslator.Translate(this, job);
}
