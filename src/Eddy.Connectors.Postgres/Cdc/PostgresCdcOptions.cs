using System.Text.RegularExpressions;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;
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
    /// <summary>Debezium's default publication name, which Flink CDC's pgoutput reader uses unless told otherwise.</summary>
    internal const string DefaultPublication = "dbz_publication";

    public PgTableName QualifiedTable => new(Schema, Table);

    public static PostgresCdcOptions Parse(TableDef table)
    {
        var o = PostgresCdcSchema.Schema.Validate(table);
        var conn = new NpgsqlConnectionStringBuilder
        {
            Host = o.Get(PostgresCdcSchema.Hostname),
            Username = o.Get(PostgresCdcSchema.Username),
            Database = o.Get(PostgresCdcSchema.DatabaseName),
            Port = o.Get(PostgresCdcSchema.Port),
            // The snapshot and the replication stream are long reads: no command timeout cuts them.
            CommandTimeout = 0,
        };
        PostgresConnectors.Guard(table, "hostname", () => PostgresUrls.RejectQuoted("hostname", conn.Host!));
        if (o.FindString(PostgresCdcSchema.Password) is { } password) conn.Password = password;
        string schema = o.Get(PostgresCdcSchema.SchemaName);
        string name = o.Get(PostgresCdcSchema.TableName);
        RequireSingleName(table, "schema-name", schema);
        RequireSingleName(table, "table-name", name);
        var startup = o.Get(PostgresCdcSchema.StartupMode) switch
        {
            "latest-offset" => CdcStartupMode.LatestOffset,
            "committed-offset" => CdcStartupMode.CommittedOffset,
            _ => CdcStartupMode.Initial,
        };
        return new PostgresCdcOptions(conn, schema, name, o.Get(PostgresCdcSchema.SlotName), o.Get(PostgresCdcSchema.PublicationName), startup);
    }

    /// <summary>Flink CDC takes regular expressions here (several tables in one source); Eddy reads one table.</summary>
    private static void RequireSingleName(TableDef table, string option, string value)
    {
        if (value.IndexOfAny(['*', '?', '|', '[', '(', '+', '\\', '^', '$']) >= 0)
            throw new ConnectorOptionException(table.Name, option,
                $"'{value}' looks like a regular expression; Eddy's postgres-cdc reads one table, named exactly");
    }

    [GeneratedRegex("^[a-z0-9_]{1,63}$")]
    internal static partial Regex SlotNamePattern();
}

/// <summary>The options of <c>postgres-cdc</c> tables, declared once with Flink CDC's names.</summary>
internal static class PostgresCdcSchema
{
    public static readonly ConnectorOption<string> Hostname = Option.String("hostname", "the PostgreSQL server's host").AsRequired();

    public static readonly ConnectorOption<int> Port = PostgresOptions.PortOption("port", "the server's port");

    public static readonly ConnectorOption<string> Username =
        Option.String("username", "the user to connect as; it needs the REPLICATION attribute and SELECT on the table").AsRequired();

    public static readonly ConnectorOption<string> Password = Option.String("password", "the user's password").AsSecret();

    public static readonly ConnectorOption<string> DatabaseName = Option.String("database-name", "the database of the table").AsRequired();

    public static readonly ConnectorOption<string> SchemaName =
        Option.String("schema-name", "the table's schema, named exactly (Flink CDC also takes a regular expression; Eddy reads one table)").AsRequired();

    public static readonly ConnectorOption<string> TableName =
        Option.String("table-name", "the table, named exactly (Flink CDC also takes a regular expression; Eddy reads one table)").AsRequired();

    public static readonly ConnectorOption<string> SlotName = new ConnectorOption<string>("slot.name",
        "the logical replication slot the source creates or reuses; one per source table", "String",
        "a replication slot name (lower-case letters, digits and underscores, at most 63)",
        text => PostgresCdcOptions.SlotNamePattern().IsMatch(text) ? (true, text, null)
            : (false, "", $"'{text}' is no replication slot name: PostgreSQL allows lower-case letters, digits and underscores (at most 63)")).AsRequired();

    public static readonly ConnectorOption<string> DecodingPluginName = new ConnectorOption<string>("decoding.plugin.name",
        "the logical decoding plug-in; Eddy decodes PostgreSQL's built-in pgoutput only, also when the option is left out (Flink CDC's default is decoderbufs)",
        "String", "'pgoutput'",
        text => text == "pgoutput" ? (true, text, null)
            : (false, "", $"'{text}' is not supported: Eddy decodes PostgreSQL's built-in pgoutput plug-in only (set 'pgoutput' or leave the option out)"))
        .WithDefault("pgoutput");

    public static readonly ConnectorOption<string> ChangelogMode = new ConnectorOption<string>("changelog-mode",
        "'all': +I, -U/+U and -D with whole rows (needs REPLICA IDENTITY FULL); Flink CDC's 'upsert' is not supported", "String", "'all'",
        text => text == "all" ? (true, text, null)
            : (false, "", $"'{text}' is not supported: Eddy emits the full changelog ('all': +I, -U/+U, -D with whole rows, which needs REPLICA IDENTITY FULL)"))
        .WithDefault("all");

    public static readonly ConnectorOption<string> StartupMode = new ConnectorOption<string>("scan.startup.mode",
        "initial (a snapshot, then the changes), latest-offset (changes after the start) or committed-offset (after the slot's confirmed position); 'snapshot' is not supported",
        "Enum", "one of initial, latest-offset, committed-offset",
        text => text switch
        {
            "initial" or "latest-offset" or "committed-offset" => (true, text, null),
            "snapshot" => (false, "", "'snapshot' is not supported by Eddy (a bounded read of the snapshot alone); one of initial, latest-offset, committed-offset"),
            _ => (false, "", $"expected initial, latest-offset or committed-offset, got '{text}'"),
        }).WithDefault("initial");

    public static readonly ConnectorOption<bool> IncrementalSnapshot = new ConnectorOption<bool>("scan.incremental.snapshot.enabled",
        "only false: Eddy reads one consistent snapshot, not Flink CDC's incremental (chunked, parallel) one, also when the option is left out",
        "Boolean", "false",
        text => text.Trim().Equals("false", StringComparison.OrdinalIgnoreCase) ? (true, false, null)
            : (false, false, "the incremental (chunked, parallel) snapshot is not supported: Eddy reads one consistent snapshot ('false')"))
        .WithDefault(false);

    public static readonly ConnectorOption<string> PublicationName = new ConnectorOption<string>("debezium.publication.name",
        "the publication the replication stream reads; created for the table when missing", "String", "a publication name",
        text => text.Length > 0 ? (true, text, null) : (false, "", "must not be empty")).WithDefault(PostgresCdcOptions.DefaultPublication);

    public static readonly ConnectorOption<string> DebeziumProperties = Option.Refused("debezium.",
        "Eddy reads PostgreSQL itself, not through Debezium: of the debezium.* options only 'debezium.publication.name' is supported");

    /// <summary><c>'connector' = 'postgres-cdc'</c>, with Flink CDC's option names.</summary>
    public static readonly OptionSchema Schema = new("postgres-cdc",
        Hostname, Port, Username, Password, DatabaseName, SchemaName, TableName, SlotName, DecodingPluginName, ChangelogMode,
        StartupMode, IncrementalSnapshot, PublicationName, DebeziumProperties);
}
