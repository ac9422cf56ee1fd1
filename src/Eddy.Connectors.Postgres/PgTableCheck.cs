using Npgsql;

namespace Eddy.Connectors.Postgres;

/// <summary>A DDL column bound to its PostgreSQL column.</summary>
internal sealed record PgBoundColumn(string DdlName, string PgName, PgColumnWriter Writer)
{
    public string Quoted => PgTableName.Quote(PgName);
}

/// <summary>The sink's target as verified against the server at job start.</summary>
internal sealed record PgTarget(PgTableName Table, IReadOnlyList<PgBoundColumn> Columns, IReadOnlyList<int> KeyPositions);

/// <summary>
/// Checks, before any row is written, that the table matches the DDL: a mismatch found at job start names both sides,
/// where the same mismatch found by COPY would be an opaque binary-format error in the middle of a run.
/// </summary>
internal static class PgTableCheck
{
    private sealed record PgColumn(string Name, string TypeName, string Formatted, int TypMod, bool NotNull, bool HasDefault, uint ElementOid);

    /// <param name="forReading">the table is read (a lookup join), not written: columns the DDL leaves out may be NOT NULL,
    /// and no table is created.</param>
    public static PgTarget Verify(NpgsqlConnection conn, PgTableName table, Schema schema, IReadOnlyList<string> primaryKey, bool createIfAbsent,
        bool forReading = false)
    {
        foreach (var k in primaryKey)
        {
            // Changes are collapsed by key value in memory, which nested values do not compare by.
            var type = schema[schema.RequireIndex(k)].Type;
            if (!PgTypes.IsScalar(type))
                throw new PostgresConfigException($"PRIMARY KEY column '{k}' is {type}; key columns must be scalar");
        }
        uint? oid = Lookup(conn, table);
        if (oid is null)
        {
            if (forReading)
                throw new PostgresConfigException($"table {table} does not exist in database '{conn.Database}'; the lookup table's DDL declares ({Describe(schema, primaryKey)})");
            if (!createIfAbsent)
                throw new PostgresConfigException(
                    $"table {table} does not exist in database '{conn.Database}' (create it, or set 'sink.create-table' = 'true'); the DDL declares ({Describe(schema, primaryKey)})");
            Create(conn, table, schema, primaryKey);
            oid = Lookup(conn, table) ?? throw new InvalidOperationException($"table {table} is absent right after CREATE TABLE");
        }
        var pgColumns = Columns(conn, oid.Value);
        string tableSide = string.Join(", ", pgColumns.Select(c => $"{c.Name} {c.Formatted}{(c.NotNull ? " NOT NULL" : "")}"));
        var bound = new List<PgBoundColumn>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        foreach (var col in schema.Columns)
        {
            // Exact name first (a quoted mixed-case column), then the folded name PostgreSQL gives unquoted DDL.
            var match = pgColumns.FirstOrDefault(c => c.Name == col.Name) ?? pgColumns.FirstOrDefault(c => c.Name == col.Name.ToLowerInvariant());
            if (match is null)
            {
                var ci = pgColumns.Where(c => string.Equals(c.Name, col.Name, StringComparison.OrdinalIgnoreCase)).ToList();
                match = ci.Count == 1 ? ci[0] : null;
            }
            if (match is null)
                throw new PostgresConfigException(
                    $"table {table} has no column '{col.Name}' of the DDL; DDL: ({Describe(schema, primaryKey)}); table: ({tableSide})");
            var accepted = PgTypes.Accepted(col.Type);
            if (!accepted.Contains(match.TypeName))
                throw new PostgresConfigException(
                    $"table {table} column '{match.Name}' is {match.Formatted} but the DDL declares {col.Type}" +
                    (accepted.Length == 0 ? $", which this connector cannot {(forReading ? "read" : "write")}" : $" (which needs one of {string.Join(", ", accepted)})") +
                    $"; DDL: ({Describe(schema, primaryKey)}); table: ({tableSide})");
            if (col.Type.Kind == TypeKind.Decimal && match.TypMod >= 4)
            {
                int precision = ((match.TypMod - 4) >> 16) & 0xffff, scale = (match.TypMod - 4) & 0xffff;
                if (scale < col.Type.Scale || precision - scale < col.Type.Precision - col.Type.Scale)
                    throw new PostgresConfigException(
                        $"table {table} column '{match.Name}' is {match.Formatted}, too narrow for the DDL's {col.Type} (digits would be rounded or rejected)");
            }
            used.Add(match.Name);
            bound.Add(new PgBoundColumn(col.Name, match.Name, PgTypes.Writer(col.Type, match.TypeName, match.ElementOid)));
        }
        var unwritten = forReading ? [] : pgColumns.Where(c => c.NotNull && !c.HasDefault && !used.Contains(c.Name)).Select(c => c.Name).ToList();
        if (unwritten.Count > 0)
            throw new PostgresConfigException(
                $"table {table} column(s) {string.Join(", ", unwritten)} are NOT NULL without a default but the DDL does not write them; DDL: ({Describe(schema, primaryKey)}); table: ({tableSide})");

        var keyPositions = primaryKey.Select(k => schema.RequireIndex(k)).ToList();
        if (keyPositions.Count > 0)
        {
            var keyNames = keyPositions.Select(p => bound[p].PgName).ToHashSet(StringComparer.Ordinal);
            var uniques = UniqueIndexes(conn, oid.Value);
            if (!uniques.Any(u => u.Columns.ToHashSet(StringComparer.Ordinal).SetEquals(keyNames)))
                throw new PostgresConfigException(
                    $"table {table} has no unique index or constraint on exactly the DDL's PRIMARY KEY ({string.Join(", ", keyNames)}), which upserts need for ON CONFLICT; " +
                    (uniques.Count == 0 ? "the table has no unique index" : "its unique indexes: " + string.Join("; ", uniques.Select(u => $"{u.Name} ({string.Join(", ", u.Columns)})"))));
        }
        return new PgTarget(table, bound, keyPositions);
    }

    private static string Describe(Schema schema, IReadOnlyList<string> primaryKey) =>
        string.Join(", ", schema.Columns.Select(c => $"{c.Name} {c.Type}")) +
        (primaryKey.Count > 0 ? $", PRIMARY KEY ({string.Join(", ", primaryKey)})" : "");

    private static uint? Lookup(NpgsqlConnection conn, PgTableName table)
    {
        using var cmd = new NpgsqlCommand("SELECT to_regclass($1)::oid", conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = table.Quoted });
        var result = cmd.ExecuteScalar();
        return result is uint oid ? oid : null;
    }

    private static List<PgColumn> Columns(NpgsqlConnection conn, uint oid)
    {
        using var cmd = new NpgsqlCommand("""
            SELECT a.attname, t.typname, format_type(a.atttypid, a.atttypmod), a.atttypmod, a.attnotnull,
                   a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', t.typelem
            FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
        using var r = cmd.ExecuteReader();
        var list = new List<PgColumn>();
        while (r.Read())
            list.Add(new PgColumn(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetBoolean(4), r.GetBoolean(5), r.GetFieldValue<uint>(6)));
        return list;
    }

    private static List<(string Name, string[] Columns)> UniqueIndexes(NpgsqlConnection conn, uint oid)
    {
        // Partial and expression indexes cannot serve ON CONFLICT (cols) without repeating their predicate.
        using var cmd = new NpgsqlCommand("""
            SELECT i.indexrelid::regclass::text,
                   ARRAY(SELECT a.attname::text FROM unnest(i.indkey) k JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k)
            FROM pg_index i
            WHERE i.indrelid = $1 AND i.indisunique AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL
            """, conn);
        cmd.Parameters.Add(new NpgsqlParameter { Value = oid, NpgsqlDbType = NpgsqlTypes.NpgsqlDbType.Oid });
        using var r = cmd.ExecuteReader();
        var list = new List<(string, string[])>();
        while (r.Read()) list.Add((r.GetString(0), r.GetFieldValue<string[]>(1)));
        return list;
    }

    private static void Create(NpgsqlConnection conn, PgTableName table, Schema schema, IReadOnlyList<string> primaryKey)
    {
        // Unquoted DDL names fold to lower case, as PostgreSQL folds them in hand-written CREATE TABLE statements.
        var cols = schema.Columns.Select(c =>
        {
            bool key = primaryKey.Contains(c.Name, StringComparer.OrdinalIgnoreCase);
            return $"{PgTableName.Quote(c.Name.ToLowerInvariant())} {PgTypes.CreateType(c.Name, key ? c.Type.NotNull() : c.Type)}";
        }).ToList();
        if (primaryKey.Count > 0)
            cols.Add($"PRIMARY KEY ({string.Join(", ", primaryKey.Select(k => PgTableName.Quote(k.ToLowerInvariant())))})");
        using var cmd = new NpgsqlCommand($"CREATE TABLE IF NOT EXISTS {table.Quoted} ({string.Join(", ", cols)})", conn);
        try
        {
            cmd.ExecuteNonQuery();
        }
        catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable
            or PostgresErrorCodes.DuplicateObject)
        {
            // IF NOT EXISTS is no guard against a concurrent CREATE (partition tasks of several workers start at once):
            // the other one created it.
        }
    }
}
