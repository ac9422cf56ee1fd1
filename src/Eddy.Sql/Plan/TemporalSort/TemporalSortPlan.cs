using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.TemporalSort;

/// <summary>
/// <c>ORDER BY rowtime [, other columns]</c> in streaming mode (Flink's temporal sort on event time): rows are held
/// until the watermark passes their time, then emitted in time order, rows of equal time ordered by the other columns
/// (ties in arrival order). <see cref="Order"/>'s first entry is the rowtime column, ascending. Append-only in and out;
/// the rowtime stays a time attribute.
/// </summary>
public sealed record TemporalSortPlan(LogicalPlan Input, IReadOnlyList<(int Column, bool Descending, bool NullsFirst)> Order) : LogicalPlan(Input.Schema)
{
    public override int? Rowtime => Input.Rowtime;

    public override IEnumerable<LogicalPlan> Inputs => [Input];

    public override string Describe() =>
        $"TemporalSort(orderBy=[{string.Join(", ", Order.Select(o => Schema[o.Column].Name + (o.Descending ? " DESC" : " ASC")))}])";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => TemporalSortTranslator.Translate(this, job);
}
