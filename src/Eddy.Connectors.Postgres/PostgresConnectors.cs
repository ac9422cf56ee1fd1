using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;
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

    /// <summary>Sets the user and password options into the connection (they must agree with the url's).</summary>
    internal static void ApplyCredentials(TableDef table, ConnectorOptions options, NpgsqlConnectionStringBuilder conn)
    {
        if (options.FindString(PostgresOptions.Username) is { } user)
        {
            Guard(table, "username", () => PostgresUrls.RejectQuoted("username", user));
            if (!string.IsNullOrEmpty(conn.Username) && conn.Username != user)
                throw new ConnectorOptionException(table.Name, "username", $"'{user}' differs from the user '{conn.Username}' in the url");
            conn.Username = user;
        }
        if (options.FindString(PostgresOptions.Password) is { } password)
        {
            if (!string.IsNullOrEmpty(conn.Password) && conn.Password != password)
                throw new ConnectorOptionException(table.Name, "password", "differs from the password in the url");
            conn.Password = password;
        }
    }

    internal static Sink<Row> CreateSink(TableDef table, ConnectorOptions options, Schema schema, NpgsqlConnectionStringBuilder conn, ConnectorContext? context = null)
    {
        ApplyCredentials(table, options, conn);
        var settings = new PostgresSinkSettings(
            MaxRows: options.Get(PostgresOptions.SinkMaxRows),
            FlushInterval: options.Get(PostgresOptions.SinkFlushInterval),
            MaxRetries: options.Get(PostgresOptions.SinkMaxRetries),
            Guarantee: options.FindString(PostgresOptions.SinkDeliveryGuarantee) switch
            {
                null => null,
                "exactly-once" => PgDeliveryGuarantee.ExactlyOnce,
                "at-least-once" => PgDeliveryGuarantee.AtLeastOnce,
                _ => PgDeliveryGuarantee.None,
            });
        bool create = options.Get(PostgresOptions.SinkCreateTable);
        string tableName = options.Get(PostgresOptions.TableName);
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
}

/// <summary>What the <c>jdbc</c> and <c>postgres</c> connectors share: they differ only in how the connection is given.</summary>
internal abstract class PostgresTableConnectorBase : ILookupTableConnector
{
    public abstract string Name { get; }

    public abstract OptionSchema OptionSchema { get; }

    /// <summary>The connection from the table's options (each connector has its own), checked.</summary>
    protected abstract NpgsqlConnectionStringBuilder Connection(TableDef table, ConnectorOptions options);

    public bool AcceptsUpdates(TableDef table) => table.PrimaryKey.Count > 0;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", $"{Name} (PostgreSQL) is a sink and lookup table in Eddy, not a scan source");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context)
    {
        var options = OptionSchema.Validate(table);
        return PostgresConnectors.CreateSink(table, options, schema, Connection(table, options), context);
    }

    public LookupSource CreateLookup(TableDef table, Schema columns, IReadOnlyList<int> keyColumns, ConnectorContext context)
    {
        var options = OptionSchema.Validate(table);
        return PostgresLookup.Open(table, options, columns, keyColumns, Connection(table, options), context);
    }
}

internal sealed class JdbcTableConnector : PostgresTableConnectorBase
{
    public override string Name => "jdbc";

    public override OptionSchema OptionSchema => PostgresOptions.Jdbc;

    protected override NpgsqlConnectionStringBuilder Connection(TableDef table, ConnectorOptions options)
    {
        if (options.FindString(PostgresOptions.Driver) is { } driver && driver != "org.postgresql.Driver")
            throw new ConnectorOptionException(table.Name, "driver", $"'{driver}' is not supported; Eddy's jdbc connector speaks PostgreSQL only (org.postgresql.Driver)");
        string url = options.Get(PostgresOptions.JdbcUrl);
        NpgsqlConnectionStringBuilder? conn = null;
        PostgresConnectors.Guard(table, "url", () => conn = PostgresUrls.FromJdbcUrl(url));
        return conn!;
    }
}

internal sealed class PostgresTableConnector : PostgresTableConnectorBase
{
    public override string Name => "postgres";

    public override OptionSchema OptionSchema => PostgresOptions.Postgres;

    protected override NpgsqlConnectionStringBuilder Connection(TableDef table, ConnectorOptions options)
    {
        var conn = new NpgsqlConnectionStringBuilder();
        if (options.FindString(PostgresOptions.ConnectionString) is { } url)
        {
            foreach (var other in new ConnectorOption[] { PostgresOptions.Hostname, PostgresOptions.Port, PostgresOptions.Database })
                if (options.Has(other))
                    throw new ConnectorOptionException(table.Name, other.Name, "conflicts with 'url' (give either a connection string or hostname/port/database)");
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
            string host = options.FindString(PostgresOptions.Hostname) is { Length: > 0 } h ? h
                : throw new ConnectorOptionException(table.Name, "hostname", "required (or 'url', an Npgsql connection string)");
            PostgresConnectors.Guard(table, "hostname", () => PostgresUrls.RejectQuoted("hostname", host));
            conn.Host = host;
            conn.Port = options.Get(PostgresOptions.Port);
            conn.Database = options.Get(PostgresOptions.Database);
        }
        return conn;
    }
}
