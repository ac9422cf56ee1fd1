using Eddy.Connectors;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Sql.Tests;

/// <summary>
/// A test connector ('connector' = 'one-row-per-read'): reads a JSON-lines file as the filesystem connector does,
/// but hands the job one row per read. A bounded job emits a watermark after every batch, so each row sees the
/// watermark of all rows before it: which rows are late is then fixed by the file's order, not by batch sizes.
/// </summary>
internal sealed class OneRowPerReadConnector : ITableConnector
{
    public string Name => "one-row-per-read";

    public bool AcceptsUpdates(TableDef table) => false;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        var options = table.Options.Where(kv => kv.Key != "connector").ToDictionary(kv => kv.Key, kv => kv.Value);
        options["format"] = "json";
        return new OneRowSource(new FileSource(decoded, options));
    }

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "one-row-per-read is a source only");

    private sealed class OneRowSource(Source<Row> inner) : Source<Row>
    {
        public override bool IsBounded => inner.IsBounded;

        public override SourceReader<Row> CreateReader(SourceReaderContext context) => new Reader(inner.CreateReader(context));
    }

    private sealed class Reader(SourceReader<Row> inner) : SourceReader<Row>
    {
        public override int SplitCount => inner.SplitCount;

        public override string? SplitName(int split) => inner.SplitName(split);

        public override SourceStatus Read(SourceOutput<Row> output)
        {
            output.Limit = 1;
            return inner.Read(output);
        }

        public override void Dispose()
        {
            inner.Dispose();
            base.Dispose();
        }
    }
}
