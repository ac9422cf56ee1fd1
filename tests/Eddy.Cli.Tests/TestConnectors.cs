using Eddy.Cli;
using Eddy.Sql.Connectors;

namespace Eddy.Tests;

/// <summary>The connectors of this project's sessions and servers: the CLI's own registry.</summary>
internal static class TestConnectors
{
    public static ConnectorRegistry Registry { get; } = EddyConnectors.Create();
}
