using Eddy.Sql.Connectors;

namespace Eddy.Connectors;

/// <summary>This project's table factories, for a composition root's <see cref="ConnectorRegistry"/>.</summary>
public static class DatagenConnectors
{
    public static IReadOnlyList<ITableConnector> All => [new DatagenTableConnector(), new WebTrafficTableConnector()];
}
