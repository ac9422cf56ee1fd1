using Eddy.Connectors;
using Eddy.Sql.Connectors;
using Eddy.Sql.Tests;

namespace Eddy.Connectors.Postgres.Tests;

/// <summary>The connectors of this project's sessions: the connector projects it references and its test connectors.</summary>
internal static class TestConnectors
{
    public static ConnectorRegistry Registry { get; } =
        new([.. PostgresConnectors.All, .. DatagenConnectors.All, .. FileConnectors.All, new OneRowPerReadConnector()]);
}
