using Eddy.Connectors.Kafka;
using Eddy.Connectors.Postgres;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Formats.Tests;

/// <summary>The connectors of this project's sessions: the connector projects it references.</summary>
internal static class TestConnectors
{
    public static ConnectorRegistry Registry { get; } = new([.. KafkaConnectors.All, .. PostgresConnectors.All, .. FileConnectors.With(FileFormats.All), .. DatagenConnectors.All]);
}
