using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary>The connectors of this project's sessions: the connector projects it references.</summary>
internal static class TestConnectors
{
    public static ConnectorRegistry Registry { get; } = new([.. KafkaConnectors.All, .. FileConnectors.All]);
}
