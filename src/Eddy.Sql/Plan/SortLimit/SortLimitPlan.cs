using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.SortLimit;

/// <summary><c>ORDER BY ... LIMIT n</c> (batch mode): sorts everything, then keeps the first rows.</summary>
public sealed record SortLimitPlan(LogicalPlan Input, IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> Order, long? Limit, long Offset)
    : LogicalPlan(Input.Schema)
{
    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"SortLimit(orderBy=[{string.Join(", ", Order.Select(o => Schema[o.Column].Name + (o.Descending ? " DESC" : " ASC")))}]"
        + (Limit is { } l ? $", limit=[{l}]" : "") + (Offset > 0 ? $", offset=[{Offset}]" : "") + ")";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => SortLimitTranslator.Translate(this, job);
}
