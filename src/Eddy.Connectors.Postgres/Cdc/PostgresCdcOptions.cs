using System.Globalization;
using System.Text.RegularExpressions;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Npgsql;

namespace Eddy.Connectors.Postgres.Cdc;

/// <summary>Where a fresh start (no checkpoint to resume) begins: Flink CDC's <c>scan.startup.mode</c>.</summary>
internal enum CdcStartupMode
{
    /// <summary>A consistent snapshot of the table, then every change after it.</summary>
    Initial,

    /// <summary>Only the changes committed after the job started.</summary>
    LatestOffset,

    /// <summary>The changes after the existing slot's confirmed position (no snapshot).</summary>
    CommittedOffset,
}

/// <summary>The options of a <c>postgres-cdc</c> table, checked (Flink CDC's names).</summary>
internal sealed partial record PostgresCdcOptions(
    NpgsqlConnectionStringBuilder Connection,
    string Schema,
    string Table,
    string SlotName,
    string PublicationName,
    CdcStartupMode StartupMode)
{
    /// <summary>The options the connector knows; anything else (a typo, another Debezium property) is an error.</summary>
    internal static readonly string[] Known =
    [
        "hostname", "port", "username", "password", "database-name", "schema-name", "table-name", "slot.name",
        "decoding.plugin.name", "changelog-mode", "scan.startup.mode", "scan.incremental.snapshot.enabled",
        "debezium.publication.name",
    ];

    /// <summary>Debezium's default publication name, which Flink CDC's pgoutput reader uses unless told otherwise.</summary>
    internal const string DefaultPublication = "dbz_publication";

    public PgTableName QualifiedTable => new(Schema, Table);

    public static PostgresCdcOptions Parse(TableDef table)
    {
        var o = table.Options;
        foreach (var key in o.Keys)
        {
            if (key == "connector" || Known.Contains(key)) continue;
            if (key.StartsWith("debezium.", StringComparison.Ordinal))
                throw new ConnectorOptionException(table.Name, key,
                    "Eddy reads PostgreSQL itself, not through Debezium: of the debezium.* options only 'debezium.publication.name' is supported");
            throw new ConnectorOptionException(table.Name, key,
                $"unknown option for connector 'postgres-cdc'{Eddy.Sql.SqlErrors.Suggest(key, Known)}; known: {string.Join(", ", Known.Order(StringComparer.Ordinal))}");
        }
        var conn = new NpgsqlConnectionStringBuilder
        {
            Host = Required(table, "hostname"),
            Username = Required(table, "username"),
            Database = Required(table, "database-name"),
            Port = 5432,
            // The snapshot and the replication stream are long reads: no command timeout cuts them.
            CommandTimeout = 0,
        };
        PostgresConnectors.Guard(table, "hostname", () => PostgresUrls.RejectQuoted("hostname", conn.Host!));
        if (o.TryGetValue("port", out var portText))
        {
            if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
                throw new ConnectorOptionException(table.Name, "port", $"expected a port number, got '{portText}'");
            conn.Port = port;
        }
        if (o.TryGetValue("password", out var password)) conn.Password = password;
        string schema = Required(table, "schema-name");
        string name = Required(table, "table-name");
        RequireSingleName(table, "schema-name", schema);
        RequireSingleName(table, "table-name", name);
        string slot = Required(table, "slot.name");
        if (!SlotNamePattern().IsMatch(slot))
            throw new ConnectorOptionException(table.Name, "slot.name",
                $"'{slot}' is no replication slot name: PostgreSQL allows lower-case letters, digits and underscores (at most 63)");
        if (o.TryGetValue("decoding.plugin.name", out var plugin) && plugin != "pgoutput")
            throw new ConnectorOptionException(table.Name, "decoding.plugin.name",
                $"'{plugin}' is not supported: Eddy decodes PostgreSQL's built-in pgoutput plug-in only (set 'pgoutput' or leave the option out)");
        if (o.TryGetValue("changelog-mode", out var mode) && mode != "all")
            throw new ConnectorOptionException(table.Name, "changelog-mode",
                $"'{mode}' is not supported: Eddy emits the full changelog ('all': +I, -U/+U, -D with whole rows, which needs REPLICA IDENTITY FULL)");
        if (o.TryGetValue("scan.incremental.snapshot.enabled", out var incremental) && !incremental.Equals("false", StringComparison.OrdinalIgnoreCase))
            throw new ConnectorOptionException(table.Name, "scan.incremental.snapshot.enabled",
                "the incremental (chunked, parallel) snapshot is not supported: Eddy reads one consistent snapshot ('false')");
        var startup = o.TryGetValue("scan.startup.mode", out var startText) ? startText switch
        {
            "initial" => CdcStartupMode.Initial,
            "latest-offset" => CdcStartupMode.LatestOffset,
            "committed-offset" => CdcStartupMode.CommittedOffset,
            "snapshot" => throw new ConnectorOptionException(table.Name, "scan.startup.mode",
                "'snapshot' is not supported by Eddy (a bounded read of the snapshot alone); one of initial, latest-offset, committed-offset"),
            _ => throw new ConnectorOptionException(table.Name, "scan.startup.mode", $"expected initial, latest-offset or committed-offset, got '{startText}'"),
        } : CdcStartupMode.Initial;
        string publication = o.TryGetValue("debezium.publication.name", out var pub) ? pub : DefaultPublication;
        if (publication.Length == 0) throw new ConnectorOptionException(table.Name, "debezium.publication.name", "must not be empty");
        return new PostgresCdcOptions(conn, schema, name, slot, publication, startup);
    }

    private static string Required(TableDef table, string option) =>
        table.Options.TryGetValue(option, out var v) && v.Length > 0 ? v : throw new ConnectorOptionException(table.Name, option, "required");

    /// <summary>Flink CDC takes regular expressions here (several tables in one source); Eddy reads one table.</summary>
    private static void RequireSingleName(TableDef table, string option, string value)
    {
        if (value.IndexOfAny(['*', '?', '|', '[', '(', '+', '\\', '^', '$']) >= 0)
            throw new ConnectorOptionException(table.Name, option,
                $"'{value}' looks like a regular expression; Eddy's postgres-cdc reads one table, named exactly");
    }

    [GeneratedRegex("^[a-z0-9_]{1,63}$")]
    private static partial Regex SlotNamePattern();
}
