using Eddy.Connectors;
using Eddy.Sql.Connectors;

namespace Eddy.Functions.Geo.Tests;

/// <summary>The connectors of this project's sessions: the connector projects it references.</summary>
internal static class TestConnectors
{
    public static ConnectorRegistry Registry { get; } = new([.. DatagenConnectors.All, .. FileConnectors.All]);
}
