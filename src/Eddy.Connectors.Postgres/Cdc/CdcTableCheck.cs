using Npgsql;

namespace Eddy.Connectors.Postgres.Cdc;

/// <summary>How one PostgreSQL column's values become a row field (the CLR type of the DDL column's SQL type).</summary>
internal enum CdcValueKind { Int16, Int32, Int64, Float32, Float64, Decimal, Boolean, Date, Time, Timestamp, TimestampTz, Text, Bytes }

/// <summary>What a field of the decoded row holds: a table column (by PostgreSQL name) or a metadata value.</summary>
internal enum CdcFieldSource { Column, OpTs, DatabaseName, SchemaName, TableName }

internal sealed record CdcField(CdcFieldSource Source, string? PgColumn, CdcValueKind Kind);

/// <summary>What the server lacks, with the option of the DDL where the error is shown.</summary>
internal sealed class CdcCheckException(string option, string message) : Exception(message)
{
    public string Option { get; } = option;
}

/// <summary>
/// Checks, when the job is planned, what a change capture needs from the server, so that each missing piece is an
/// error at the table's DDL rather than a failure after the job started: wal_level = logical, the REPLICATION
/// attribute, the table with a primary key and REPLICA IDENTITY FULL, the DDL's columns with types that map, and the
/// publication (created for the table when absent).
/// </summary>
internal static class CdcTableCheck
{
    /// <param name="keyFields">the fields of the table's primary key, in key order (every key column must be in the DDL).</param>
    public static IReadOnlyList<CdcField> Verify(NpgsqlConnection conn, PostgresCdcOptions options, Eddy.Schema decoded,
        IReadOnlyDictionary<string, string> metadataKeys, IReadOnlyList<string> ddlPrimaryKey, out int[] keyFields)
    {
        string where = $"{conn.Host}:{conn.Port}/{conn.Database}";
        string walLevel = Scalar<string>(conn, "SHOW wal_level");
        if (walLevel != "logical")
            throw new CdcCheckException("hostname",
                $"PostgreSQL at {where} runs with wal_level = {walLevel}; change data capture reads the logical replication stream, which needs wal_level = logical (ALTER SYSTEM SET wal_level = logical, then restart the server)");
        var (replication, super) = Query(conn, "SELECT rolreplication, rolsuper FROM pg_roles WHERE rolname = current_user",
            r => (r.GetBoolean(0), r.GetBoolean(1)));
        if (!replication && !super)
            throw new CdcCheckException("username",
                $"user '{conn.UserName}' may not read a replication slot on {where}: it needs the REPLICATION attribute (ALTER ROLE \"{conn.UserName}\" REPLICATION)");

        var table = options.QualifiedTable;
        uint? oid = QueryOrNull(conn, "SELECT c.oid FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')",
            r => r.GetFieldValue<uint>(0), options.Schema, options.Table);
        if (oid is null)
            throw new CdcCheckException("table-name", $"table {table} does not exist in database '{conn.Database}' ('schema-name' and 'table-name' are matched exactly)");
        if (!Scalar<bool>(conn, "SELECT has_table_privilege($1::oid, 'SELECT')", oid.Value))
            throw new CdcCheckException("username", $"user '{conn.UserName}' may not read table {table} (its snapshot is a SELECT): GRANT SELECT ON {table} TO \"{conn.UserName}\"");
        var primaryKey = QueryAll(conn, """
            SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = $1 AND i.indisprimary ORDER BY array_position(i.indkey::int2[], a.attnum)
            """, r => r.GetString(0), oid.Value);
        if (primaryKey.Count == 0)
            throw new CdcCheckException("table-name",
                $"table {table} has no primary key: a change capture identifies rows by it (ALTER TABLE {table} ADD PRIMARY KEY (...))");
        char identity = Scalar<char>(conn, "SELECT relreplident FROM pg_class WHERE oid = $1", oid.Value);
        if (identity != 'f')
            throw new CdcCheckException("table-name",
                $"table {table} has REPLICA IDENTITY {IdentityName(identity)}: its updates and deletes reach the replication stream without the "
                + $"old row's values, which the changelog's -U and -D rows need (ALTER TABLE {table} REPLICA IDENTITY FULL)");
        var columns = QueryAll(conn, """
            SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), a.atttypmod FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum
            """, r => (Name: r.GetString(0), Type: r.GetString(1), Formatted: r.GetString(2), TypMod: r.GetInt32(3)), oid.Value);
        string tableSide = string.Join(", ", columns.Select(c => $"{c.Name} {c.Formatted}"));
        if (ddlPrimaryKey.Count > 0)
        {
            var mapped = ddlPrimaryKey.Select(k => Match(columns.Select(c => c.Name), k) ?? k).ToList();
            if (!mapped.SequenceEqual(primaryKey))
                throw new CdcCheckException("table-name",
                    $"the DDL's PRIMARY KEY ({string.Join(", ", ddlPrimaryKey)}) differs from table {table}'s ({string.Join(", ", primaryKey)})");
        }

        var fields = new List<CdcField>();
        foreach (var column in decoded.Columns)
        {
            if (metadataKeys.TryGetValue(column.Name, out var key))
            {
                fields.Add(Metadata(column, key));
                continue;
            }
            string? pgName = Match(columns.Select(c => c.Name), column.Name)
                ?? throw new CdcCheckException("table-name", $"table {table} has no column '{column.Name}' of the DDL; table: ({tableSide})");
            var pg = columns.First(c => c.Name == pgName);
            var kind = Kind(column.Type, pg.Type, pg.TypMod)
                ?? throw new CdcCheckException("table-name",
                    $"column '{column.Name}' is {column.Type} in the DDL but {pg.Formatted} in table {table}; the types that map: "
                    + "SMALLINT ← smallint, INT ← integer, BIGINT ← bigint, FLOAT ← real, DOUBLE ← double precision, DECIMAL(p, s) ← numeric(p, s), "
                    + "BOOLEAN ← boolean, DATE ← date, TIME ← time, TIMESTAMP ← timestamp, TIMESTAMP_LTZ ← timestamptz, STRING ← text/varchar/char, BYTES ← bytea");
            fields.Add(new CdcField(CdcFieldSource.Column, pgName, kind));
        }
        keyFields = primaryKey.Select(k => fields.FindIndex(f => f.PgColumn == k)).ToArray();
        for (int i = 0; i < keyFields.Length; i++)
        {
            if (keyFields[i] < 0)
                throw new CdcCheckException("table-name",
                    $"primary key column '{primaryKey[i]}' of table {table} is not in the DDL: a change of a row's key is read as a delete and an insert, which needs the key");
        }
        EnsurePublication(conn, options, table, oid.Value);
        return fields;
    }

    private static CdcField Metadata(Eddy.Column column, string key)
    {
        var (source, ok) = key switch
        {
            "op_ts" => (CdcFieldSource.OpTs, column.Type.Kind == Eddy.TypeKind.TimestampLtz),
            "database_name" => (CdcFieldSource.DatabaseName, column.Type.Kind is Eddy.TypeKind.String),
            "schema_name" => (CdcFieldSource.SchemaName, column.Type.Kind is Eddy.TypeKind.String),
            "table_name" => (CdcFieldSource.TableName, column.Type.Kind is Eddy.TypeKind.String),
            _ => throw new CdcCheckException("connector", $"postgres-cdc has no metadata '{key}'"),
        };
        if (!ok)
            throw new CdcCheckException("connector",
                $"metadata column '{column.Name}' ('{key}') is {column.Type}; it is {(source == CdcFieldSource.OpTs ? "TIMESTAMP_LTZ(3)" : "STRING")}");
        return new CdcField(source, null, CdcValueKind.Text);
    }

    private static string? Match(IEnumerable<string> pgNames, string ddlName)
    {
        var names = pgNames.ToList();
        if (names.Contains(ddlName)) return ddlName;
        string folded = ddlName.ToLowerInvariant();
        if (names.Contains(folded)) return folded;
        var ci = names.Where(n => string.Equals(n, ddlName, StringComparison.OrdinalIgnoreCase)).ToList();
        return ci.Count == 1 ? ci[0] : null;
    }

    /// <summary>Flink CDC's type mapping, exact: a value never changes type (or precision) on its way in.</summary>
    private static CdcValueKind? Kind(Eddy.DataType type, string pgType, int typMod) => (type.Kind, pgType) switch
    {
        (Eddy.TypeKind.SmallInt, "int2") => CdcValueKind.Int16,
        (Eddy.TypeKind.Int, "int4") => CdcValueKind.Int32,
        (Eddy.TypeKind.BigInt, "int8") => CdcValueKind.Int64,
        (Eddy.TypeKind.Float, "float4") => CdcValueKind.Float32,
        (Eddy.TypeKind.Double, "float8") => CdcValueKind.Float64,
        (Eddy.TypeKind.Decimal, "numeric") when typMod >= 4 && ((typMod - 4) >> 16) == type.Precision && ((typMod - 4) & 0xffff) == type.Scale => CdcValueKind.Decimal,
        (Eddy.TypeKind.Boolean, "bool") => CdcValueKind.Boolean,
        (Eddy.TypeKind.Date, "date") => CdcValueKind.Date,
        (Eddy.TypeKind.Time, "time") => CdcValueKind.Time,
        (Eddy.TypeKind.Timestamp, "timestamp") => CdcValueKind.Timestamp,
        (Eddy.TypeKind.TimestampLtz, "timestamptz") => CdcValueKind.TimestampTz,
        (Eddy.TypeKind.String, "text" or "varchar" or "bpchar") => CdcValueKind.Text,
        (Eddy.TypeKind.Binary, "bytea") => CdcValueKind.Bytes,
        _ => null,
    };

    private static string IdentityName(char identity) => identity switch
    {
        'd' => "DEFAULT",
        'n' => "NOTHING",
        'i' => "USING INDEX",
        _ => identity.ToString(),
    };

    /// <summary>
    /// The publication the stream is read through: an existing one must publish the table's inserts, updates and
    /// deletes; an absent one is created for this table alone (Debezium's <c>filtered</c> mode: FOR ALL TABLES needs a
    /// superuser).
    /// </summary>
    private static void EnsurePublication(NpgsqlConnection conn, PostgresCdcOptions options, PgTableName table, uint oid)
    {
        var pub = QueryOrNull(conn, "SELECT pubinsert AND pubupdate AND pubdelete, puballtables FROM pg_publication WHERE pubname = $1",
            r => (Dml: r.GetBoolean(0), All: r.GetBoolean(1)), options.PublicationName);
        if (pub is null)
        {
            try
            {
                Execute(conn, $"CREATE PUBLICATION {PgTableName.Quote(options.PublicationName)} FOR TABLE {table} WITH (publish = 'insert, update, delete')");
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.InsufficientPrivilege or PostgresErrorCodes.DuplicateObject)
            {
                if (e.SqlState == PostgresErrorCodes.DuplicateObject) return; // another job created it meanwhile; it is checked on its next start
                throw new CdcCheckException("debezium.publication.name",
                    $"publication '{options.PublicationName}' does not exist and user '{conn.UserName}' may not create it ({e.MessageText}); "
                    + $"create it as the table's owner: CREATE PUBLICATION {PgTableName.Quote(options.PublicationName)} FOR TABLE {table}");
            }
            return;
        }
        if (!pub.Value.Dml)
            throw new CdcCheckException("debezium.publication.name", $"publication '{options.PublicationName}' does not publish every insert, update and delete (ALTER PUBLICATION ... SET (publish = 'insert, update, delete'))");
        if (!pub.Value.All && !Scalar<bool>(conn, "SELECT EXISTS (SELECT 1 FROM pg_publication_rel pr JOIN pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = $1 AND pr.prrelid = $2)", options.PublicationName, oid))
            throw new CdcCheckException("debezium.publication.name",
                $"publication '{options.PublicationName}' does not publish table {table} (ALTER PUBLICATION {PgTableName.Quote(options.PublicationName)} ADD TABLE {table})");
    }

    internal static T Scalar<T>(NpgsqlConnection conn, string sql, params object[] args)
    {
        using var cmd = Command(conn, sql, args);
        return (T)cmd.ExecuteScalar()!;
    }

    internal static void Execute(NpgsqlConnection conn, string sql, params object[] args)
    {
        using var cmd = Command(conn, sql, args);
        cmd.ExecuteNonQuery();
    }

    private static T Query<T>(NpgsqlConnection conn, string sql, Func<NpgsqlDataReader, T> read, params object[] args) =>
        QueryAll(conn, sql, read, args) is [var one] ? one : throw new InvalidOperationException($"expected one row from: {sql}");

    internal static T? QueryOrNull<T>(NpgsqlConnection conn, string sql, Func<NpgsqlDataReader, T> read, params object[] args) where T : struct =>
        QueryAll(conn, sql, read, args) is [var one] ? one : null;

    internal static List<T> QueryAll<T>(NpgsqlConnection conn, string sql, Func<NpgsqlDataReader, T> read, params object[] args)
    {
        using var cmd = Command(conn, sql, args);
        using var r = cmd.ExecuteReader();
        var rows = new List<T>();
        while (r.Read()) rows.Add(read(r));
        return rows;
    }

    private static NpgsqlCommand Command(NpgsqlConnection conn, string sql, object[] args)
    {
        var cmd = new NpgsqlCommand(sql, conn);
        foreach (var a in args) cmd.Parameters.Add(a is uint u ? new NpgsqlParameter { Value = u, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid } : new NpgsqlParameter { Value = a });
        return cmd;
    }
}
