using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Values;

/// <summary>Literal rows (<c>VALUES</c>): a bounded source.</summary>
public sealed record ValuesPlan(IReadOnlyList<object?[]> Rows, Schema Output) : LogicalPlan(Output)
{
    public override IEnumerable<LogicalPlan> Inputs => [];

    public override string Describe() => $"Values(rows=[{Rows.Count}], fields=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this;

    internal override object Translate(JobTranslator job) => ValuesTranslator.Translate(this, job);
}
