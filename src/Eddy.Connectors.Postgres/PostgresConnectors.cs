using System.Globalization;
using System.Text.RegularExpressions;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Npgsql;

namespace Eddy.Connectors.Postgres;

/// <summary>
/// The SQL connectors for PostgreSQL: <c>'connector' = 'jdbc'</c> (Flink's JDBC connector, PostgreSQL URLs only) and
/// <c>'connector' = 'postgres'</c> (host/port/database options or an Npgsql connection string).
/// </summary>
public static class PostgresConnectors
{
    /// <summary>
    /// Whether a failure is worth a retry on a new connection (server restart, dropped socket, serialization
    /// failure), as opposed to one that would fail again with the same rows (constraint, type).
    /// </summary>
    internal static bool IsTransient(Exception e, NpgsqlConnection? connection) => e switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CannotConnectNow
            or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected,
        NpgsqlException n => n.IsTransient || connection is null || connection.FullState.HasFlag(System.Data.ConnectionState.Broken),
        IOException or System.Net.Sockets.SocketException or TimeoutException => true,
        _ => false,
    };

    /// <summary>This project's table factories (jdbc, postgres, postgres-cdc), for a composition root's <see cref="ConnectorRegistry"/>.</summary>
    public static IReadOnlyList<ITableConnector> All => [new JdbcTableConnector(), new PostgresTableConnector(), new Cdc.PostgresCdcTableConnector()];

    internal static readonly string[] SinkOptions =
        ["table-name", "username", "password", "sink.buffer-flush.max-rows", "sink.buffer-flush.interval", "sink.max-retries", "sink.parallelism", "sink.create-table", "sink.delivery-guarantee"];

    internal static void RequireKnown(TableDef table, IEnumerable<string> known)
    {
        var set = new HashSet<string>(known, StringComparer.Ordinal) { "connector" };
        foreach (var key in table.Options.Keys)
        {
            if (!set.Contains(key))
                throw new ConnectorOptionException(table.Name, key,
                    $"unknown option for connector '{table.Connector}'; known: {string.Join(", ", set.Order(StringComparer.Ordinal))}");
        }
    }

    internal static string Required(TableDef table, string option) =>
        table.Options.TryGetValue(option, out var v) && v.Length > 0
            ? v
            : throw new ConnectorOptionException(table.Name, option, "required");

    /// <summary>The options of a table used as the lookup side of a join (a table may declare both kinds).</summary>
    internal static readonly string[] LookupOptions = [.. LookupCacheOptions.OptionNames, "lookup.max-retries"];

    /// <summary>Sets the user and password options into the connection (they must agree with the url's).</summary>
    internal static void ApplyCredentials(TableDef table, NpgsqlConnectionStringBuilder conn)
    {
        var o = table.Options;
        if (o.TryGetValue("username", out var user))
        {
            Guard(table, "username", () => PostgresUrls.RejectQuoted("username", user));
            if (!string.IsNullOrEmpty(conn.Username) && conn.Username != user)
                throw new ConnectorOptionException(table.Name, "username", $"'{user}' differs from the user '{conn.Username}' in the url");
            conn.Username = user;
        }
        if (o.TryGetValue("password", out var password))
        {
            if (!string.IsNullOrEmpty(conn.Password) && conn.Password != password)
                throw new ConnectorOptionException(table.Name, "password", "differs from the password in the url");
            conn.Password = password;
        }
    }

    internal static Sink<Row> CreateSink(TableDef table, Schema schema, NpgsqlConnectionStringBuilder conn, ConnectorContext? context = null)
    {
        var o = table.Options;
        ApplyCredentials(table, conn);
        var settings = new PostgresSinkSettings(
            MaxRows: PositiveInt(table, "sink.buffer-flush.max-rows", 1000, allowZero: false),
            FlushInterval: o.TryGetValue("sink.buffer-flush.interval", out var iv) ? Duration(table, iv) : TimeSpan.FromSeconds(1),
            MaxRetries: PositiveInt(table, "sink.max-retries", 3, allowZero: true),
            Guarantee: o.TryGetValue("sink.delivery-guarantee", out var dg) ? dg.ToLowerInvariant() switch
            {
                "exactly-once" => PgDeliveryGuarantee.ExactlyOnce,
                "at-least-once" => PgDeliveryGuarantee.AtLeastOnce,
                "none" => PgDeliveryGuarantee.None,
                _ => throw new ConnectorOptionException(table.Name, "sink.delivery-guarantee", $"expected exactly-once, at-least-once or none, got '{dg}'"),
            } : null);
        bool create = o.TryGetValue("sink.create-table", out var ct) && Bool(table, "sink.create-table", ct);
        string tableName = Required(table, "table-name");
        if (context is { PlanOnly: true })
        {
            Guard(table, "table-name", () => PgTableName.Parse(tableName));
            context.StandardError.WriteLine(NotChecked("sink", table, tableName, conn));
            return new UncheckedSink(table.Name);
        }
        try
        {
            return PostgresSink.Open(conn.ConnectionString, tableName, schema, table.PrimaryKey, settings, create);
        }
        catch (PostgresConfigException e)
        {
            throw new ConnectorOptionException(table.Name, e.Message, e);
        }
        catch (NpgsqlException e)
        {
            throw new ConnectorOptionException(table.Name,
                $"cannot check table '{tableName}' on {conn.Host}:{conn.Port}/{conn.Database}: {e.Message}", e);
        }
    }

    /// <summary>What a plan-only run (<c>eddy explain</c>) says about the table it did not contact.</summary>
    internal static string NotChecked(string role, TableDef table, string tableName, NpgsqlConnectionStringBuilder conn) =>
        $"note: {role} table {table.Name}: PostgreSQL table '{tableName}' on {conn.Host}:{conn.Port}/{conn.Database} was not checked "
        + "(explain does not connect; eddy run checks that it exists with matching columns)";

    /// <summary>A PostgreSQL sink planned to be shown, not run: its table was never checked, so it writes nothing.</summary>
    private sealed class UncheckedSink(string table) : Sink<Row>
    {
        public override SinkWriter<Row> CreateWriter(SinkWriterContext context) =>
            throw new InvalidOperationException($"sink table {table} was planned without checking its PostgreSQL table (a plan-only session) and cannot run");
    }

    internal static void Guard(TableDef table, string option, Action check)
    {
        try
        {
            check();
        }
        catch (PostgresConfigException e)
        {
            throw new ConnectorOptionException(table.Name, option, e.Message);
        }
        catch (ArgumentException e)
        {
            throw new ConnectorOptionException(table.Name, option, e.Message);
        }
    }

    internal static int PositiveInt(TableDef table, string option, int fallback, bool allowZero)
    {
        if (!table.Options.TryGetValue(option, out var text)) return fallback;
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || (n == 0 && !allowZero))
            throw new ConnectorOptionException(table.Name, option, $"expected a {(allowZero ? "non-negative" : "positive")} whole number, got '{text}'");
        return n;
    }

    private static bool Bool(TableDef table, string option, string text) => text.ToLowerInvariant() switch
    {
        "true" => true,
        "false" => false,
        _ => throw new ConnectorOptionException(table.Name, option, $"expected true or false, got '{text}'"),
    };

    /// <summary>Flink's duration syntax (the one parser, <see cref="Eddy.Sql.Connectors.Options.FlinkValues"/>).</summary>
    private static TimeSpan Duration(TableDef table, string text) =>
        Eddy.Sql.Connectors.Options.FlinkValues.TryParseDuration(text, out var duration, out var problem)
            ? duration
            : throw new ConnectorOptionException(table.Name, "sink.buffer-flush.interval", problem);
}

/// <summary>What the <c>jdbc</c> and <c>postgres</c> connectors share: they differ only in how the connection is given.</summary>
internal abstract class PostgresTableConnectorBase : ILookupTableConnector
{
    public abstract string Name { get; }

    /// <summary>The connection from the table's options (each connector has its own), checked.</summary>
    protected abstract NpgsqlConnectionStringBuilder Connection(TableDef table);

    public bool AcceptsUpdates(TableDef table) => table.PrimaryKey.Count > 0;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", $"{Name} (PostgreSQL) is a sink and lookup table in Eddy, not a scan source");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        PostgresConnectors.CreateSink(table, schema, Connection(table), context);

    public LookupSource CreateLookup(TableDef table, Schema columns, IReadOnlyList<int> keyColumns, ConnectorContext context) =>
        PostgresLookup.Open(table, columns, keyColumns, Connection(table), context);
}

internal sealed class JdbcTableConnector : PostgresTableConnectorBase
{
    public override string Name => "jdbc";

    protected override NpgsqlConnectionStringBuilder Connection(TableDef table)
    {
        PostgresConnectors.RequireKnown(table, [.. PostgresConnectors.SinkOptions, .. PostgresConnectors.LookupOptions, "url", "driver"]);
        if (table.Options.TryGetValue("driver", out var driver) && driver != "org.postgresql.Driver")
            throw new ConnectorOptionException(table.Name, "driver", $"'{driver}' is not supported; Eddy's jdbc connector speaks PostgreSQL only (org.postgresql.Driver)");
        string url = PostgresConnectors.Required(table, "url");
        NpgsqlConnectionStringBuilder? conn = null;
        PostgresConnectors.Guard(table, "url", () => conn = PostgresUrls.FromJdbcUrl(url));
        return conn!;
    }
}

internal sealed class PostgresTableConnector : PostgresTableConnectorBase
{
    public override string Name => "postgres";

    protected override NpgsqlConnectionStringBuilder Connection(TableDef table)
    {
        PostgresConnectors.RequireKnown(table, [.. PostgresConnectors.SinkOptions, .. PostgresConnectors.LookupOptions, "url", "hostname", "port", "database"]);
        var o = table.Options;
        var conn = new NpgsqlConnectionStringBuilder();
        if (o.TryGetValue("url", out var url))
        {
            foreach (var other in new[] { "hostname", "port", "database" })
                if (o.ContainsKey(other))
                    throw new ConnectorOptionException(table.Name, other, "conflicts with 'url' (give either a connection string or hostname/port/database)");
            PostgresConnectors.Guard(table, "url", () =>
            {
                PostgresUrls.RejectQuoted("url", url);
                if (url.StartsWith("jdbc:", StringComparison.OrdinalIgnoreCase))
                    throw new PostgresConfigException("is a JDBC URL; use 'connector' = 'jdbc' for it, or give an Npgsql connection string (Host=...;Database=...)");
                conn.ConnectionString = url;
            });
        }
        else
        {
            string host = PostgresConnectors.Required(table, "hostname");
            PostgresConnectors.Guard(table, "hostname", () => PostgresUrls.RejectQuoted("hostname", host));
            conn.Host = host;
            conn.Port = 5432;
            if (o.TryGetValue("port", out var portText))
            {
                if (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is < 1 or > 65535)
                    throw new ConnectorOptionException(table.Name, "port", $"expected a port number, got '{portText}'");
                conn.Port = port;
            }
            conn.Database = o.TryGetValue("database", out var db) ? db : "postgres";
        }
        return conn;
    }
}
