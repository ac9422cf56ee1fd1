using System.Text;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;
using Npgsql;

namespace Eddy.Connectors.Postgres;

/// <summary>
/// A PostgreSQL table as the lookup side of a join. All keys of one fetch go to the server in one statement: the key
/// values as one array per key column, unnested WITH ORDINALITY and joined with the table, so that each result row
/// says which key it belongs to (Flink's JDBC lookup sends one query per key). The statement is prepared once per
/// connection; transient errors reconnect and retry with back-off (<c>lookup.max-retries</c>).
/// </summary>
internal sealed class PostgresLookup : LookupSource
{
    private readonly string connectionString;
    private readonly string sql;
    private readonly Func<object?, object?>[] keyConverters;
    private readonly Type[] keyArrayTypes;
    private readonly Func<NpgsqlDataReader, int, object>[] readers;
    private readonly int maxRetries;
    private readonly string tableName;

    /// <summary>The statement that reads the whole table, for a FULL cache.</summary>
    private string scanSql = "";

    private PostgresLookup(string connectionString, string sql, Func<object?, object?>[] keyConverters, Type[] keyArrayTypes,
        Func<NpgsqlDataReader, int, object>[] readers, int maxRetries, string tableName, string describe)
    {
        this.connectionString = connectionString;
        this.sql = sql;
        this.keyConverters = keyConverters;
        this.keyArrayTypes = keyArrayTypes;
        this.readers = readers;
        this.maxRetries = maxRetries;
        this.tableName = tableName;
        Describe = describe;
    }

    public override string Describe { get; }

    /// <summary>The statement a fetch runs (for tests and EXPLAIN-like diagnostics).</summary>
    public string Sql => sql;

    /// <param name="options">the table's options as its connector's schema validated them.</param>
    public static LookupSource Open(TableDef table, ConnectorOptions options, Schema columns, IReadOnlyList<int> keyColumns, NpgsqlConnectionStringBuilder conn,
        ConnectorContext? context = null)
    {
        PostgresConnectors.ApplyCredentials(table, options, conn);
        // The schema checked each value's form; which cache mode takes which option is the shared parser's.
        var cache = LookupCacheOptions.Parse(table);
        int maxRetries = options.Get(PostgresOptions.LookupMaxRetries);
        string tableName = options.Get(PostgresOptions.TableName);
        foreach (var c in columns.Columns)
        {
            if (c.Type.Kind is TypeKind.Array or TypeKind.Map or TypeKind.Row)
                throw new ConnectorOptionException(table.Name, "connector", $"lookup table column '{c.Name}' is {c.Type}; Eddy's PostgreSQL lookup reads scalar columns only");
        }
        if (context is { PlanOnly: true })
        {
            PostgresConnectors.Guard(table, "table-name", () => PgTableName.Parse(tableName));
            context.StandardError.WriteLine(PostgresConnectors.NotChecked("lookup", table, tableName, conn));
            return new Unchecked(table.Name,
                $"PostgreSQL {tableName} by ({string.Join(", ", keyColumns.Select(k => columns.Columns[k].Name))}), cache={cache}, not checked")
            {
                Cache = cache,
            };
        }
        var connectionString = new NpgsqlConnectionStringBuilder(conn.ConnectionString) { IncludeErrorDetail = true }.ConnectionString;
        PgTarget target;
        try
        {
            var name = PgTableName.Parse(tableName);
            using var check = new NpgsqlConnection(connectionString);
            check.Open();
            target = PgTableCheck.Verify(check, name, columns, [], createIfAbsent: false, forReading: true);
        }
        catch (PostgresConfigException e)
        {
            throw new ConnectorOptionException(table.Name, e.Message, e);
        }
        catch (NpgsqlException e)
        {
            throw new ConnectorOptionException(table.Name, $"cannot check lookup table '{tableName}' on {conn.Host}:{conn.Port}/{conn.Database}: {e.Message}", e);
        }

        // SELECT k.ord, t.c1, ... FROM unnest($1::int8[], $2::text[]) WITH ORDINALITY AS k(k1, k2, ord)
        //   JOIN table AS t ON t.a = k.k1 AND t.b = k.k2
        var sb = new StringBuilder("SELECT k.ord");
        for (int i = 0; i < target.Columns.Count; i++)
        {
            var col = target.Columns[i];
            sb.Append(", t.").Append(col.Quoted);
            // Read as the DDL's type: a wider integer or float column is narrowed by the server (which fails on overflow).
            if (ReadCast(columns[i].Type, col.Writer.SqlType) is { } cast) sb.Append("::").Append(cast);
        }
        sb.Append(" FROM unnest(");
        for (int k = 0; k < keyColumns.Count; k++)
            sb.Append(k == 0 ? "" : ", ").Append('$').Append(k + 1).Append("::").Append(target.Columns[keyColumns[k]].Writer.SqlType).Append("[]");
        sb.Append(") WITH ORDINALITY AS k(");
        for (int k = 0; k < keyColumns.Count; k++) sb.Append('k').Append(k + 1).Append(", ");
        sb.Append("ord) JOIN ").Append(target.Table.Quoted).Append(" AS t ON ");
        for (int k = 0; k < keyColumns.Count; k++)
            sb.Append(k == 0 ? "" : " AND ").Append("t.").Append(target.Columns[keyColumns[k]].Quoted).Append(" = k.k").Append(k + 1);

        var scan = new StringBuilder("SELECT ");
        for (int i = 0; i < target.Columns.Count; i++)
        {
            var col = target.Columns[i];
            scan.Append(i == 0 ? "t." : ", t.").Append(col.Quoted);
            if (ReadCast(columns[i].Type, col.Writer.SqlType) is { } cast) scan.Append("::").Append(cast);
        }
        scan.Append(" FROM ").Append(target.Table.Quoted).Append(" AS t");

        var converters = new Func<object?, object?>[keyColumns.Count];
        var arrayTypes = new Type[keyColumns.Count];
        for (int k = 0; k < keyColumns.Count; k++)
            (converters[k], arrayTypes[k]) = KeyParameter(columns[keyColumns[k]].Type);
        var readers = columns.Columns.Select(c => Reader(c.Type)).ToArray();
        string describe = $"PostgreSQL {target.Table} by ({string.Join(", ", keyColumns.Select(k => target.Columns[k].PgName))}), cache={cache}";
        return new PostgresLookup(connectionString, sb.ToString(), converters, arrayTypes, readers, maxRetries, target.Table.ToString(), describe)
        {
            Cache = cache,
            scanSql = scan.ToString(),
        };
    }

    public override LookupFetcher CreateFetcher() => new Fetcher(this);

    public override bool CanLoadAll => true;

    /// <summary>A lookup planned to be shown, not run: its table was never checked, so it fetches nothing.</summary>
    private sealed class Unchecked(string table, string describe) : LookupSource
    {
        public override string Describe => describe;

        public override LookupFetcher CreateFetcher() =>
            throw new InvalidOperationException($"lookup table {table} was planned without checking its PostgreSQL table (a plan-only session) and cannot run");
    }

    /// <summary>The type to cast a column to in the SELECT list when the DDL type is narrower than the column's.</summary>
    private static string? ReadCast(DataType ddl, string typname) => ddl.Kind switch
    {
        TypeKind.TinyInt or TypeKind.SmallInt when typname != "int2" => "int2",
        TypeKind.Int when typname != "int4" => "int4",
        TypeKind.Float when typname != "float4" => "float4",
        _ => null,
    };

    /// <summary>How a key value goes into its parameter array: Npgsql has no one-byte integer, and TIMESTAMP values are wall-clock times.</summary>
    private static (Func<object?, object?> Convert, Type ElementType) KeyParameter(DataType ddl) => ddl.Kind switch
    {
        TypeKind.TinyInt => (v => v is null ? null : (object)System.Convert.ToInt16(v, System.Globalization.CultureInfo.InvariantCulture), typeof(short)),
        TypeKind.Timestamp => (v => v is DateTime d ? DateTime.SpecifyKind(d, DateTimeKind.Unspecified) : v, typeof(DateTime)),
        TypeKind.TimestampLtz => (v => v is DateTimeOffset d ? d.ToUniversalTime() : v, typeof(DateTimeOffset)),
        TypeKind.Char => (v => v, typeof(string)),
        _ => (v => v, ddl.ClrType),
    };

    private static Func<NpgsqlDataReader, int, object> Reader(DataType ddl) => ddl.Kind switch
    {
        TypeKind.TinyInt => (r, i) => (sbyte)r.GetInt16(i),
        TypeKind.Timestamp => (r, i) => DateTime.SpecifyKind(r.GetDateTime(i), DateTimeKind.Unspecified),
        TypeKind.TimestampLtz => (r, i) => r.GetFieldValue<DateTimeOffset>(i),
        _ => (Func<NpgsqlDataReader, int, object>)typeof(PostgresLookup).GetMethod(nameof(ReadAs), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(ddl.ClrType).CreateDelegate(typeof(Func<NpgsqlDataReader, int, object>)),
    };

    private static object ReadAs<T>(NpgsqlDataReader r, int i) => r.GetFieldValue<T>(i)!;

    /// <summary>One subtask's connection and prepared statement.</summary>
    private sealed class Fetcher(PostgresLookup lookup) : LookupFetcher
    {
        private NpgsqlConnection? connection;
        private NpgsqlCommand? command;
        private readonly List<(int Key, object?[] Row)> rows = [];

        public override void Fetch(IReadOnlyList<object?[]> keys, Action<int, object?[]> found)
        {
            var arrays = new Array[lookup.keyConverters.Length];
            for (int k = 0; k < arrays.Length; k++)
            {
                var array = Array.CreateInstance(lookup.keyArrayTypes[k], keys.Count);
                var convert = lookup.keyConverters[k];
                for (int i = 0; i < keys.Count; i++) array.SetValue(convert(keys[i][k]), i);
                arrays[k] = array;
            }
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    Run(arrays);
                    break;
                }
                catch (Exception e) when (IsRetriable(e))
                {
                    Reset();
                    if (attempt >= lookup.maxRetries)
                        throw new InvalidOperationException($"looking up rows in {lookup.tableName} failed after {attempt + 1} attempts: {e.Message}", e);
                    Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(100 * (1 << Math.Min(attempt, 10)), 5000)));
                }
                catch (PostgresException e)
                {
                    Reset();
                    string detail = e.Detail is { Length: > 0 } d ? $" ({d})" : "";
                    throw new InvalidOperationException($"looking up rows in {lookup.tableName} failed: {e.MessageText}{detail}", e);
                }
            }
            // Rows are handed on only after the statement finished: a retry must not deliver a key's rows twice.
            foreach (var (key, row) in rows) found(key, row);
            rows.Clear();
        }

        private void Run(Array[] arrays)
        {
            rows.Clear();
            bool prepare = false;
            if (connection is null)
            {
                connection = new NpgsqlConnection(lookup.connectionString);
                connection.Open();
                command = new NpgsqlCommand(lookup.sql, connection);
                foreach (var _ in arrays) command.Parameters.Add(new NpgsqlParameter());
                prepare = true;
            }
            for (int k = 0; k < arrays.Length; k++) command!.Parameters[k].Value = arrays[k];
            // Prepared once the parameters have values (their types come from the arrays' element types).
            if (prepare) command!.Prepare();
            using var reader = command!.ExecuteReader();
            var readers = lookup.readers;
            while (reader.Read())
            {
                int key = (int)reader.GetInt64(0) - 1;
                var row = new object?[readers.Length];
                for (int c = 0; c < row.Length; c++) row[c] = reader.IsDBNull(c + 1) ? null : readers[c](reader, c + 1);
                rows.Add((key, row));
            }
        }

        /// <summary>Reads the whole table (a FULL cache's load), with the same retries as a fetch.</summary>
        public override void LoadAll(Action<object?[]> found)
        {
            var all = new List<object?[]>();
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    all.Clear();
                    using var scanConnection = new NpgsqlConnection(lookup.connectionString);
                    scanConnection.Open();
                    using var scan = new NpgsqlCommand(lookup.scanSql, scanConnection);
                    using var reader = scan.ExecuteReader();
                    var readers = lookup.readers;
                    while (reader.Read())
                    {
                        var row = new object?[readers.Length];
                        for (int c = 0; c < row.Length; c++) row[c] = reader.IsDBNull(c) ? null : readers[c](reader, c);
                        all.Add(row);
                    }
                    break;
                }
                catch (Exception e) when (PostgresConnectors.IsTransient(e, null) && attempt < lookup.maxRetries)
                {
                    Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(100 * (1 << Math.Min(attempt, 10)), 5000)));
                }
                catch (PostgresException e)
                {
                    throw new InvalidOperationException($"loading lookup table {lookup.tableName} failed: {e.MessageText}", e);
                }
            }
            foreach (var row in all) found(row);
        }

        private bool IsRetriable(Exception e) => PostgresConnectors.IsTransient(e, connection);

        private void Reset()
        {
            command?.Dispose();
            connection?.Dispose();
            command = null;
            connection = null;
        }

        public override void Dispose()
        {
            Reset();
            base.Dispose();
        }
    }
}
