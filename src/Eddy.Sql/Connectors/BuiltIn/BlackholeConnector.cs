using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Sql.Connectors.BuiltIn;

/// <summary><c>'connector' = 'blackhole'</c>: Flink's sink that drops every row (for measuring what comes before it).</summary>
internal sealed class BlackholeConnector : ITypedTableConnector
{
    public string Name => "blackhole";

    public OptionSchema OptionSchema { get; } = new("blackhole", SinkOptions.Parallelism, SinkOptions.RowsPerSecond);

    public Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context) => null;

    public Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context) =>
        SinkOptions.ThrottledIfAsked(OptionSchema.Validate(table), new BlackholeSink<T>());

    public bool AcceptsUpdates(TableDef table) => true;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "blackhole is a sink only");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        SinkOptions.ThrottledIfAsked(OptionSchema.Validate(table), new BlackholeSink<Row>());
}
