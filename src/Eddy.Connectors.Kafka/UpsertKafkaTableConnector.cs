using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// <c>'connector' = 'upsert-kafka'</c> as a sink: a table with a PRIMARY KEY whose columns are the message key
/// (<c>key.format</c>); +I/+U write the row as the value (<c>value.format</c>), -D a tombstone, -U nothing when the
/// +U of its key follows it directly, else a tombstone (a filter after the aggregation dropped the new value). Reading
/// the topic back and keeping the last value per key gives the table. Not a source yet.
/// </summary>
public sealed class UpsertKafkaTableConnector : ITableConnector
{
    public string Name => "upsert-kafka";

    /// <summary>Updates and deletes are applied by key, so any changelog may be written.</summary>
    public bool AcceptsUpdates(TableDef table) => true;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "'upsert-kafka' can only be written so far (read the topic with 'kafka')");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        KafkaSinkFactory.Create(table, schema, upsert: true);
}
