using Eddy.Sql.Catalog;
using Eddy.Sql.Plan.UpsertMaterialize;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.TableSink;

/// <summary>Writes into a table: the query's columns in the sink's column order.</summary>
public sealed record SinkPlan(TableDef Table, LogicalPlan Input) : LogicalPlan(Input.Schema)
{
    public override IEnumerable<LogicalPlan> Inputs => [Input];

    /// <summary>The SinkUpsertMaterializer in front of the sink, when Flink's planner would put one there (<see cref="UpsertMaterializer.Decide"/>).</summary>
    public UpsertMaterializer? Materializer { get; init; }

    // A sink emits nothing downstream (Flink prints NONE).
    public override string ChangelogMode => "NONE";

    public override string Describe() =>
        $"Sink(table=[{Table.Name}], connector=[{Table.Connector}], fields=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}]"
        + (Materializer is { } m ? ", " + m.Describe(Schema) : "") + ")";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this with { Input = inputs[0] };

    internal override object Translate(JobTranslator job) => SinkTranslator.Translate(this, job);
}
