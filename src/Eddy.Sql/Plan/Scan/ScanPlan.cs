using Eddy.Sql.Catalog;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Scan;

/// <summary>
/// Reads a table: the connector decodes <see cref="Decoded"/> (physical and metadata columns); <see cref="Projections"/>
/// make the table's columns from them (computed columns evaluated); the watermark follows the rowtime column.
/// </summary>
public sealed record ScanPlan(TableDef Table, Schema Decoded, IReadOnlyList<BoundExpr> Projections, int? RowtimeIndex, long? WatermarkDelayMs)
    : LogicalPlan(Table.Schema)
{
    /// <summary>The connector reads a changelog (<see cref="Connectors.ITableConnector.ProducesUpdates"/>).</summary>
    public bool Updating { get; init; }

    public override bool IsUpdating => Updating;

    /// <summary>
    /// Set by the rule <c>NestedFieldPushdown</c>: <see cref="Decoded"/> then holds only what the scan's reader reads
    /// (whole columns and single fields of ROW columns, as <see cref="NestedProjection.Paths"/> says) and the
    /// connector decodes just that; the scan's schema ends with a column per ROW field read above it.
    /// </summary>
    public NestedProjection? Nested { get; init; }

    public override int? Rowtime => RowtimeIndex;

    public override int? Proctime
    {
        get
        {
            for (int i = 0; i < Table.Columns.Count; i++)
                if (Table.Columns[i].Computed is Parsing.FunctionCall { UpperName: "PROCTIME", Arguments.Count: 0 }) return i;
            return null;
        }
    }

    public override IEnumerable<LogicalPlan> Inputs => [];

    public override string Describe() =>
        $"Scan(table=[{Table.Name}], connector=[{Table.Connector}], fields=[{string.Join(", ", Schema.Columns.Select(c => c.Name))}]"
        + (RowtimeIndex is { } r ? $", watermark=[{Schema[r].Name} - {WatermarkDelayMs} ms]" : "")
        + (Nested is null ? "" : $", decoding=[{string.Join(", ", Decoded.Columns.Select(c => c.Name))}]") + ")";

    public override LogicalPlan WithInputs(IReadOnlyList<LogicalPlan> inputs) => this;

    internal override object Translate(JobTranslator job) => ScanTranslator.Translate(this, job);
}

/// <summary>A scan's decoded columns as projected from the table's physical ones (<see cref="Connectors.INestedProjectionConnector"/>).</summary>
public sealed record NestedProjection(Schema Physical, IReadOnlyList<Connectors.ColumnPath> Paths);
