using Eddy.Connectors;
using Eddy.Sql.Connectors;

namespace Eddy.Sql.Tests;

/// <summary>The connectors of this project's sessions: the connector projects it references and its test connectors.</summary>
internal static class TestConnectors
{
    public static ConnectorRegistry Registry { get; } =
        new([.. DatagenConnectors.All, .. FileConnectors.All, new OneRowPerReadConnector(), new ChangelogTestConnector()]);
}
