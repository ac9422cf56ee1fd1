using System.Globalization;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// <c>properties.bootstrap.servers</c> checked at planning: a comma-separated list of <c>host:port</c>, as the Kafka
/// clients take it, so that a malformed list fails with the option's location instead of a client error at run time.
/// </summary>
internal static class BootstrapServers
{
    public const string Key = "properties.bootstrap.servers";

    /// <summary>What is wrong with the list (the option's declaration reports it), or null.</summary>
    public static string? Check(string value)
    {
        foreach (var raw in value.Split(','))
        {
            string entry = raw.Trim();
            // An optional listener prefix as in the Java client (PLAINTEXT://host:port).
            int scheme = entry.IndexOf("://", StringComparison.Ordinal);
            if (scheme >= 0) entry = entry[(scheme + 3)..];
            int colon = entry.LastIndexOf(':');
            string host = colon < 0 ? "" : entry[..colon];
            string port = colon < 0 ? "" : entry[(colon + 1)..];
            if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
            bool hostOk = host.Length > 0 && host.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_' or ':');
            bool portOk = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p is > 0 and <= 65535;
            if (!hostOk || !portOk)
                return $"'{raw.Trim()}' is not host:port; give a comma-separated list such as 'localhost:9092' or 'broker-1:9092,broker-2:9092'";
        }
        return null;
    }
}
