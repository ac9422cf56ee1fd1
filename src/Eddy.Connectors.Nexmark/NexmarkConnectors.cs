using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Nexmark;

/// <summary>This project's table factories, for a composition root's <see cref="ConnectorRegistry"/>.</summary>
public static class NexmarkConnectors
{
    public static IReadOnlyList<ITableConnector> All => [new NexmarkTableConnector()];
}
