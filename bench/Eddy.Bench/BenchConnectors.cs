using Eddy.Connectors;
using Eddy.Connectors.Formats;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Postgres;
using Eddy.Sql.Connectors;

namespace Eddy.Bench;

/// <summary>The benchmarks' composition root of connectors: Eddy's connector projects and the benchmarks' own.</summary>
internal static class BenchConnectors
{
    public static ConnectorRegistry Registry { get; } = new([
        .. DatagenConnectors.All, .. FileConnectors.With(FileFormats.All), .. KafkaConnectors.All, .. PostgresConnectors.All,
        new SqlWorkloads.BenchConnector(), new SqlWorkloads.CountAlias(), new KafkaWorkloads.RowsOnlyKafka(),
    ]);
}
