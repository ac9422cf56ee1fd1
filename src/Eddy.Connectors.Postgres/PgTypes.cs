using System.Globalization;
using Npgsql;
using NpgsqlTypes;

namespace Eddy.Connectors.Postgres;

/// <summary>
/// How one column's values go to PostgreSQL: converted from Eddy's CLR value to what the target column's type takes
/// (binary COPY does no conversion server-side, so an INT written to a bigint column must be sent as an int8).
/// </summary>
internal abstract class PgColumnWriter(string sqlType, NpgsqlDbType dbType)
{
    /// <summary>The type name used in <c>$n::type[]</c> casts.</summary>
    public string SqlType { get; } = sqlType;

    public NpgsqlDbType DbType { get; } = dbType;

    public abstract object Convert(object value);

    public abstract void Write(NpgsqlBinaryImporter importer, object? converted);

    public abstract NpgsqlParameter ArrayParameter(IReadOnlyList<object?[]> rows, int column);
}

internal sealed class PgValueWriter<T>(string sqlType, NpgsqlDbType dbType, Func<object, T> convert) : PgColumnWriter(sqlType, dbType)
    where T : struct
{
    // A value that already has the written type keeps its box (most columns); DateTime always goes through the
    // conversion because its Kind must match the column (timestamp vs timestamptz).
    private static readonly bool KeepsSameType = typeof(T) != typeof(DateTime);

    public override object Convert(object value) => KeepsSameType && value is T ? value : convert(value)!;

    public override void Write(NpgsqlBinaryImporter importer, object? converted)
    {
        if (converted is null) importer.WriteNull();
        else importer.Write((T)converted, DbType);
    }

    public override NpgsqlParameter ArrayParameter(IReadOnlyList<object?[]> rows, int column)
    {
        var values = new T?[rows.Count];
        for (int i = 0; i < values.Length; i++) values[i] = (T?)rows[i][column];
        return new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlDbType.Array | DbType };
    }
}

internal sealed class PgReferenceWriter<T>(string sqlType, NpgsqlDbType dbType, Func<object, T> convert) : PgColumnWriter(sqlType, dbType)
    where T : class
{
    public override object Convert(object value) => convert(value);

    public override void Write(NpgsqlBinaryImporter importer, object? converted)
    {
        if (converted is null) importer.WriteNull();
        else importer.Write((T)converted, DbType);
    }

    public override NpgsqlParameter ArrayParameter(IReadOnlyList<object?[]> rows, int column)
    {
        var values = new T?[rows.Count];
        for (int i = 0; i < values.Length; i++) values[i] = (T?)rows[i][column];
        return new NpgsqlParameter { Value = values, NpgsqlDbType = NpgsqlDbType.Array | DbType };
    }
}

/// <summary>The mapping between Flink SQL types and PostgreSQL column types.</summary>
internal static class PgTypes
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The PostgreSQL types (pg_type.typname) a column of a DDL type may be written into, narrowest first.</summary>
    public static string[] Accepted(DataType t) => t.Kind switch
    {
        TypeKind.String or TypeKind.Char => ["text", "varchar", "bpchar"],
        TypeKind.Boolean => ["bool"],
        // PostgreSQL has no one-byte integer; any wider integer holds every value.
        TypeKind.TinyInt or TypeKind.SmallInt => ["int2", "int4", "int8"],
        TypeKind.Int => ["int4", "int8"],
        TypeKind.BigInt => ["int8"],
        TypeKind.Float => ["float4", "float8"],
        TypeKind.Double => ["float8"],
        TypeKind.Decimal => ["numeric"],
        TypeKind.Date => ["date"],
        TypeKind.Time => ["time"],
        TypeKind.Timestamp => ["timestamp"],
        TypeKind.TimestampLtz => ["timestamptz"],
        TypeKind.Binary => ["bytea"],
        _ => [],
    };

    /// <summary>The column type CREATE TABLE uses for a DDL type.</summary>
    public static string CreateType(string column, DataType t)
    {
        string name = t.Kind switch
        {
            TypeKind.String when t.Precision > 0 && t.Precision < 10485760 => $"varchar({t.Precision})",
            TypeKind.String => "text",
            TypeKind.Char => t.Precision > 0 ? $"char({t.Precision})" : "char(1)",
            TypeKind.Boolean => "boolean",
            TypeKind.TinyInt or TypeKind.SmallInt => "smallint",
            TypeKind.Int => "integer",
            TypeKind.BigInt => "bigint",
            TypeKind.Float => "real",
            TypeKind.Double => "double precision",
            TypeKind.Decimal => $"numeric({t.Precision}, {t.Scale})",
            TypeKind.Date => "date",
            TypeKind.Time => "time",
            TypeKind.Timestamp => $"timestamp({Math.Min(t.Precision, 6)})",
            TypeKind.TimestampLtz => $"timestamptz({Math.Min(t.Precision, 6)})",
            TypeKind.Binary => "bytea",
            _ => throw new PostgresConfigException($"column '{column}': {t} has no PostgreSQL column type in this connector"),
        };
        return t.Nullable ? name : name + " NOT NULL";
    }

    /// <summary>The writer for a DDL type into an existing column of PostgreSQL type <paramref name="typname"/>.</summary>
    public static PgColumnWriter Writer(DataType ddl, string typname) => typname switch
    {
        "text" or "varchar" or "bpchar" => new PgReferenceWriter<string>(typname, NpgsqlDbType.Text, v => (string)v),
        "bool" => new PgValueWriter<bool>("bool", NpgsqlDbType.Boolean, v => (bool)v),
        "int2" => new PgValueWriter<short>("int2", NpgsqlDbType.Smallint, v => System.Convert.ToInt16(v, Inv)),
        "int4" => new PgValueWriter<int>("int4", NpgsqlDbType.Integer, v => System.Convert.ToInt32(v, Inv)),
        "int8" => new PgValueWriter<long>("int8", NpgsqlDbType.Bigint, v => System.Convert.ToInt64(v, Inv)),
        "float4" => new PgValueWriter<float>("float4", NpgsqlDbType.Real, v => System.Convert.ToSingle(v, Inv)),
        "float8" => new PgValueWriter<double>("float8", NpgsqlDbType.Double, v => System.Convert.ToDouble(v, Inv)),
        "numeric" => new PgValueWriter<decimal>("numeric", NpgsqlDbType.Numeric, v => System.Convert.ToDecimal(v, Inv)),
        "date" => new PgValueWriter<DateOnly>("date", NpgsqlDbType.Date, v => (DateOnly)v),
        "time" => new PgValueWriter<TimeOnly>("time", NpgsqlDbType.Time, v => (TimeOnly)v),
        "timestamp" => new PgValueWriter<DateTime>("timestamp", NpgsqlDbType.Timestamp, v => v switch
        {
            DateTime dt => DateTime.SpecifyKind(dt, DateTimeKind.Unspecified),
            DateTimeOffset dto => dto.DateTime,
            _ => throw new InvalidCastException($"a TIMESTAMP value is a {v.GetType().Name}"),
        }),
        // Npgsql writes timestamptz only from UTC instants; Eddy's TIMESTAMP_LTZ values are instants already.
        "timestamptz" => new PgValueWriter<DateTime>("timestamptz", NpgsqlDbType.TimestampTz, v => v switch
        {
            DateTimeOffset dto => dto.UtcDateTime,
            DateTime dt => dt.Kind == DateTimeKind.Utc ? dt : DateTime.SpecifyKind(dt, DateTimeKind.Utc),
            _ => throw new InvalidCastException($"a TIMESTAMP_LTZ value is a {v.GetType().Name}"),
        }),
        "bytea" => new PgReferenceWriter<byte[]>("bytea", NpgsqlDbType.Bytea, v => (byte[])v),
        _ => throw new PostgresConfigException($"{ddl} cannot be written to a PostgreSQL {typname} column"),
    };
}
