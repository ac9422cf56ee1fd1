using Eddy.Connectors;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Postgres;
using Eddy.Sql.Connectors;

namespace Eddy.Server.Tests;

/// <summary>The connectors of this project's servers and sessions: the connector projects it references.</summary>
internal static class TestConnectors
{
    public static ConnectorRegistry Registry { get; } =
        new([.. DatagenConnectors.All, .. FileConnectors.All, .. KafkaConnectors.All, .. PostgresConnectors.All]);
}
