using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Npgsql;

namespace Eddy.Connectors.Postgres.Cdc;

/// <summary>
/// <c>'connector' = 'postgres-cdc'</c> (Flink CDC's PostgreSQL source): one table's snapshot and then its changes, as a
/// changelog (+I, -U/+U, -D) with the metadata <c>op_ts</c>, <c>database_name</c>, <c>schema_name</c>, <c>table_name</c>.
/// The server is checked when the job is planned (wal_level, REPLICATION, primary key, REPLICA IDENTITY FULL, the
/// DDL's columns and types, the publication), so that what is missing is an error at the DDL. Changes are decoded
/// straight into the planner's row structs (<see cref="ITypedTableConnector"/>); the generic <see cref="Row"/> source
/// converts those structs.
/// </summary>
public sealed class PostgresCdcTableConnector : ITypedTableConnector
{
    public string Name => "postgres-cdc";

    public Eddy.Sql.Connectors.Options.OptionSchema OptionSchema => PostgresCdcSchema.Schema;

    public bool AcceptsUpdates(TableDef table) => false;

    public bool ProducesUpdates(TableDef table) => true;

    public IReadOnlyCollection<string> MetadataKeys { get; } = ["op_ts", "database_name", "schema_name", "table_name"];

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        var rowType = RowTypes.For(decoded);
        var make = typeof(PostgresCdcTableConnector).GetMethod(nameof(RowSource), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!
            .MakeGenericMethod(rowType);
        try
        {
            return (Source<Row>)make.Invoke(this, [table, decoded, context])!;
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    private Source<Row> RowSource<T>(TableDef table, Schema decoded, ConnectorContext context) where T : struct =>
        new StructRowSource<T>(CreateTypedSource<T>(table, decoded, context)!, RowTypes.ToRow<T>(decoded));

    /// <summary>The table's changes as row structs <typeparamref name="T"/> of <paramref name="decoded"/>.</summary>
    public Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context)
    {
        if (!typeof(T).IsValueType) return null;
        var options = PostgresCdcOptions.Parse(table);
        var metadata = table.Columns.Where(c => c.MetadataKey is not null).ToDictionary(c => c.Name, c => c.MetadataKey!, StringComparer.Ordinal);
        var conn = options.Connection;
        if (context.PlanOnly)
        {
            context.StandardError.WriteLine(
                $"note: source table {table.Name}: PostgreSQL table {options.QualifiedTable} on {conn.Host}:{conn.Port}/{conn.Database} was not checked "
                + "(explain does not connect; eddy run checks wal_level, the REPLICATION attribute, the primary key, REPLICA IDENTITY FULL and the columns)");
            return new UncheckedSource<T>(table.Name);
        }
        IReadOnlyList<CdcField> fields;
        int[] keyFields;
        try
        {
            using var check = new NpgsqlConnection(conn.ConnectionString);
            check.Open();
            fields = CdcTableCheck.Verify(check, options, decoded, metadata, table.PrimaryKey, out keyFields);
        }
        catch (CdcCheckException e)
        {
            throw new ConnectorOptionException(table.Name, e.Option, e.Message);
        }
        catch (NpgsqlException e)
        {
            throw new ConnectorOptionException(table.Name,
                $"cannot check table {options.QualifiedTable} on {conn.Host}:{conn.Port}/{conn.Database}: {e.Message}", e);
        }
        return (Source<T>)Activator.CreateInstance(typeof(PostgresCdcSource<>).MakeGenericType(typeof(T)), options, fields, keyFields, table.Name)!;
    }

    public Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context) => null;

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "postgres-cdc is a source only (write to PostgreSQL with 'jdbc' or 'postgres')");

    /// <summary>A source planned to be shown, not run: its server was never checked.</summary>
    private sealed class UncheckedSource<T>(string table) : Source<T>
    {
        public override bool IsBounded => false;

        public override SourceReader<T> CreateReader(SourceReaderContext context) =>
            throw new InvalidOperationException($"source table {table} was planned without checking its PostgreSQL server (a plan-only session) and cannot run");
    }
}
