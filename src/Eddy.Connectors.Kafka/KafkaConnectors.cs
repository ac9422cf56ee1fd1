using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka;

/// <summary>This project's table factories (kafka, upsert-kafka), for a composition root's <see cref="ConnectorRegistry"/>.</summary>
public static class KafkaConnectors
{
    public static IReadOnlyList<ITableConnector> All => [new KafkaTableConnector(), new UpsertKafkaTableConnector()];
}
