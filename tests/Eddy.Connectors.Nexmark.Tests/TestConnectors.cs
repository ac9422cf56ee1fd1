using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Nexmark.Tests;

/// <summary>The connectors of this project's sessions: nexmark, filesystem (q10's sink, q13's side input) and the collecting test sinks.</summary>
internal static class TestConnectors
{
    public static ConnectorRegistry Registry { get; } =
        new([.. NexmarkConnectors.All, .. FileConnectors.All, new QueryTests.CollectConnector(), new ProjectedSourceTests.CollectConnector()]);
}
