using Eddy.Connectors;
using Eddy.Connectors.Formats;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Nexmark;
using Eddy.Connectors.Postgres;
using Eddy.Sql.Connectors;

namespace Eddy.Cli;

/// <summary>
/// The CLI's composition root of connectors: every connector project it ships, in one registry that each command's
/// sessions (and its in-process server) share.
/// </summary>
internal static class EddyConnectors
{
    public static ConnectorRegistry Create() =>
        new([.. DatagenConnectors.All, .. FileConnectors.With(FileFormats.All), .. KafkaConnectors.All, .. PostgresConnectors.All, .. NexmarkConnectors.All]);
}
