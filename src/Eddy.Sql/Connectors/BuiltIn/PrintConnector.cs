using Eddy.Runtime;
using Eddy.Sql.Catalog;

namespace Eddy.Sql.Connectors.BuiltIn;

/// <summary><c>'connector' = 'print'</c>: Flink's print sink, writing each row (with its change kind) to the job's output.</summary>
internal sealed class PrintConnector : ITableConnector
{
    public string Name => "print";

    public bool AcceptsUpdates(TableDef table) => true;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "print is a sink only");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context)
    {
        SinkOptions.RequireKnown(table, ["print-identifier", "standard-error", "sink.parallelism", SinkOptions.RowsPerSecondOption]);
        bool stderr = table.Options.TryGetValue("standard-error", out var se) && bool.Parse(se);
        table.Options.TryGetValue("print-identifier", out var id);
        return SinkOptions.ThrottledIfAsked(table, new PrintSink<Row>(stderr ? context.StandardError : context.StandardOutput, id));
    }
}
