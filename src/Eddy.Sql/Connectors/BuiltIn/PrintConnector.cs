using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Sql.Connectors.BuiltIn;

/// <summary><c>'connector' = 'print'</c>: Flink's print sink, writing each row (with its change kind) to the job's output.</summary>
internal sealed class PrintConnector : ITableConnector
{
    internal static readonly ConnectorOption<string> Identifier =
        Option.String("print-identifier", "a prefix of every printed line, to tell sinks apart");

    internal static readonly ConnectorOption<bool> StandardError =
        Option.Boolean("standard-error", "print to the job's error output instead of its output").WithDefault(false);

    public string Name => "print";

    public OptionSchema OptionSchema { get; } = new("print", Identifier, StandardError, SinkOptions.Parallelism, SinkOptions.RowsPerSecond);

    public bool AcceptsUpdates(TableDef table) => true;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "print is a sink only");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context)
    {
        var options = OptionSchema.Validate(table);
        var output = options.Get(StandardError) ? context.StandardError : context.StandardOutput;
        return SinkOptions.ThrottledIfAsked(options, new PrintSink<Row>(output, options.FindString(Identifier)));
    }
}
