using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Sql.Tests;

/// <summary>
/// A test connector ('connector' = 'test-changelog') that says it reads a changelog, as upsert-kafka does, for
/// planning tests of what an updating scan may feed; it is never run.
/// </summary>
internal sealed class ChangelogTestConnector : ITableConnector
{
    public string Name => "test-changelog";

    public bool AcceptsUpdates(TableDef table) => false;

    public bool ProducesUpdates(TableDef table) => true;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new NotSupportedException("test-changelog is for planning only");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new NotSupportedException("test-changelog is for planning only");
}
