using System.Globalization;
using Npgsql;

namespace Eddy.Connectors.Postgres;

/// <summary>A connector setting that cannot work, with the option it came from.</summary>
public sealed class PostgresConfigException(string message) : Exception(message);

/// <summary>
/// Turns Flink's JDBC URL (<c>jdbc:postgresql://host:port/db?user=...</c>) into an Npgsql connection string.
/// Only parameters with a faithful Npgsql equivalent are accepted: silently dropping e.g. <c>ssl=true</c> would
/// connect differently from the Flink job the DDL came from.
/// </summary>
public static class PostgresUrls
{
    private static readonly string[] Supported = ["sslmode", "user", "password", "currentSchema", "ApplicationName", "connectTimeout"];

    public static NpgsqlConnectionStringBuilder FromJdbcUrl(string url)
    {
        RejectQuoted("url", url);
        const string prefix = "jdbc:postgresql:";
        if (!url.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            throw new PostgresConfigException($"url '{url}': expected jdbc:postgresql://host[:port]/database[?parameters]");
        string rest = url[prefix.Length..];
        string query = "";
        int q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }
        var b = new NpgsqlConnectionStringBuilder();
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            rest = rest[2..];
            int slash = rest.IndexOf('/', StringComparison.Ordinal);
            string hosts = slash >= 0 ? rest[..slash] : rest;
            string db = slash >= 0 ? rest[(slash + 1)..] : "";
            if (hosts.Length == 0) hosts = "localhost";
            SetHosts(b, url, hosts);
            if (db.Length > 0) b.Database = Uri.UnescapeDataString(db);
        }
        else
        {
            // jdbc:postgresql:database means localhost:5432, as in pgjdbc.
            b.Host = "localhost";
            b.Port = 5432;
            if (rest.Length > 0) b.Database = Uri.UnescapeDataString(rest);
        }
        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            string name = Uri.UnescapeDataString(eq >= 0 ? pair[..eq] : pair);
            string value = eq >= 0 ? Uri.UnescapeDataString(pair[(eq + 1)..]) : "";
            switch (name.ToLowerInvariant())
            {
                case "sslmode": b.SslMode = ParseSslMode(value); break;
                case "user": b.Username = value; break;
                case "password": b.Password = value; break;
                case "currentschema": b.SearchPath = value; break;
                case "applicationname": b.ApplicationName = value; break;
                case "connecttimeout":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int seconds))
                        throw new PostgresConfigException($"url parameter 'connectTimeout': expected whole seconds, got '{value}'");
                    b.Timeout = seconds;
                    break;
                default:
                    throw new PostgresConfigException(
                        $"url parameter '{name}' is not supported; supported: {string.Join(", ", Supported)}");
            }
        }
        return b;
    }

    /// <summary>
    /// The lab's env file writes <c>POSTGRES_URL="jdbc:..."</c>; Docker's env-file keeps those quotes, so they arrive
    /// inside the value and would otherwise surface as an obscure parse error.
    /// </summary>
    public static void RejectQuoted(string option, string value)
    {
        if (value.Length >= 2 && (value[0] is '"' or '\'') && value[^1] == value[0])
            throw new PostgresConfigException(
                $"{option} {value} is quoted: remove the surrounding quotes (an env file read by Docker keeps them as part of the value)");
    }

    private static void SetHosts(NpgsqlConnectionStringBuilder b, string url, string hosts)
    {
        var parts = hosts.Split(',');
        var normalized = new List<string>();
        foreach (var part in parts)
        {
            string host = part;
            int? port = null;
            int colon = part.StartsWith('[') ? part.IndexOf("]:", StringComparison.Ordinal) + 1 : part.LastIndexOf(':');
            if (colon > 0)
            {
                host = part[..colon];
                if (!int.TryParse(part[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out int p) || p is < 1 or > 65535)
                    throw new PostgresConfigException($"url '{url}': bad port in '{part}'");
                port = p;
            }
            if (host.Length == 0) throw new PostgresConfigException($"url '{url}': empty host");
            if (parts.Length == 1)
            {
                b.Host = host.Trim('[', ']');
                b.Port = port ?? 5432;
                return;
            }
            normalized.Add(port is null ? host : $"{host}:{port}");
        }
        b.Host = string.Join(',', normalized);
    }

    private static SslMode ParseSslMode(string value) => value.ToLowerInvariant() switch
    {
        "disable" => SslMode.Disable,
        "allow" => SslMode.Allow,
        "prefer" => SslMode.Prefer,
        "require" => SslMode.Require,
        "verify-ca" => SslMode.VerifyCA,
        "verify-full" => SslMode.VerifyFull,
        _ => throw new PostgresConfigException(
            $"url parameter 'sslmode': unknown value '{value}'; one of disable, allow, prefer, require, verify-ca, verify-full"),
    };
}

/// <summary>
/// A table name as PostgreSQL resolves it: unquoted parts fold to lower case, quoted parts keep their case; the
/// result is always fully quoted so that no name can change the meaning of the statements built around it.
/// </summary>
public sealed record PgTableName(string? Schema, string Name)
{
    public static PgTableName Parse(string text)
    {
        var parts = new List<string>();
        int i = 0;
        while (true)
        {
            if (i >= text.Length) throw new PostgresConfigException($"table-name '{text}': empty name part");
            string part;
            if (text[i] == '"')
            {
                var sb = new System.Text.StringBuilder();
                i++;
                while (true)
                {
                    if (i >= text.Length) throw new PostgresConfigException($"table-name '{text}': unterminated quoted name");
                    if (text[i] == '"')
                    {
                        if (i + 1 < text.Length && text[i + 1] == '"')
                        {
                            sb.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    sb.Append(text[i++]);
                }
                part = sb.ToString();
            }
            else
            {
                int end = text.IndexOf('.', i);
                if (end < 0) end = text.Length;
                part = text[i..end].Trim().ToLowerInvariant();
                if (part.Length == 0 || part.Contains('"'))
                    throw new PostgresConfigException($"table-name '{text}': bad name part '{text[i..end]}'");
                i = end;
            }
            if (part.Length == 0) throw new PostgresConfigException($"table-name '{text}': empty name part");
            parts.Add(part);
            if (i >= text.Length) break;
            if (text[i] != '.') throw new PostgresConfigException($"table-name '{text}': expected '.' at position {i + 1}");
            i++;
        }
        return parts.Count switch
        {
            1 => new PgTableName(null, parts[0]),
            2 => new PgTableName(parts[0], parts[1]),
            _ => throw new PostgresConfigException($"table-name '{text}': expected table or schema.table"),
        };
    }

    public static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    public string Quoted => Schema is null ? Quote(Name) : Quote(Schema) + "." + Quote(Name);

    public override string ToString() => Quoted;
}
