using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Connectors;

/// <summary><c>'connector' = 'datagen'</c>: Flink's generator of random or sequential rows (<see cref="DatagenOptions"/>).</summary>
public sealed class DatagenTableConnector : ITableConnector
{
    public string Name => "datagen";

    public OptionSchema OptionSchema => DatagenOptions.OptionSchema;

    public bool AcceptsUpdates(TableDef table) => false;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        new DatagenSource(DatagenOptions.From(table.Name, decoded, OptionSchema.Validate(table)));

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "datagen is a source only");
}
