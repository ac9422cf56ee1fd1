using System.Globalization;
using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace Eddy.Connectors.Postgres;

/// <summary>
/// How one column's values go to PostgreSQL: encoded straight into the binary COPY form of the target column's type
/// (binary COPY does no conversion server-side, so an INT written to a bigint column must be sent as an int8).
/// </summary>
internal abstract class PgColumnWriter(string sqlType)
{
    /// <summary>The target column's type name (pg_type.typname).</summary>
    public string SqlType { get; } = sqlType;

    /// <summary>Appends the field (length and value) for a non-null value of the row, or of <see cref="Convert"/>'s result.</summary>
    public abstract void Encode(CopyBuffer buffer, object value);

    /// <summary>The value as the column holds it, compared by value: what upsert keys are collapsed by.</summary>
    public virtual object Convert(object value) => value;

    /// <summary>A field's bytes back as text, to show a failing row.</summary>
    public abstract string Describe(ReadOnlySpan<byte> field);
}

internal sealed class PgTextWriter(string sqlType) : PgColumnWriter(sqlType)
{
    public override void Encode(CopyBuffer buffer, object value) => buffer.WriteTextField((string)value);

    public override string Describe(ReadOnlySpan<byte> field) => "'" + Encoding.UTF8.GetString(field) + "'";
}

internal sealed class PgBoolWriter() : PgColumnWriter("bool")
{
    public override void Encode(CopyBuffer buffer, object value) => buffer.FixedField(1)[0] = (bool)value ? (byte)1 : (byte)0;

    public override string Describe(ReadOnlySpan<byte> field) => field[0] != 0 ? "true" : "false";
}

internal sealed class PgIntegerWriter(string sqlType, int width) : PgColumnWriter(sqlType)
{
    public override void Encode(CopyBuffer buffer, object value)
    {
        var f = buffer.FixedField(width);
        switch (width)
        {
            case 2: BinaryPrimitives.WriteInt16BigEndian(f, value is short s ? s : System.Convert.ToInt16(value, CultureInfo.InvariantCulture)); break;
            case 4: BinaryPrimitives.WriteInt32BigEndian(f, value is int i ? i : System.Convert.ToInt32(value, CultureInfo.InvariantCulture)); break;
            default: BinaryPrimitives.WriteInt64BigEndian(f, value is long l ? l : System.Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
        }
    }

    public override object Convert(object value) => width switch
    {
        2 => System.Convert.ToInt16(value, CultureInfo.InvariantCulture),
        4 => System.Convert.ToInt32(value, CultureInfo.InvariantCulture),
        _ => System.Convert.ToInt64(value, CultureInfo.InvariantCulture),
    };

    public override string Describe(ReadOnlySpan<byte> field) => (width switch
    {
        2 => BinaryPrimitives.ReadInt16BigEndian(field),
        4 => BinaryPrimitives.ReadInt32BigEndian(field),
        _ => BinaryPrimitives.ReadInt64BigEndian(field),
    }).ToString(CultureInfo.InvariantCulture);
}

internal sealed class PgFloatWriter(string sqlType, int width) : PgColumnWriter(sqlType)
{
    public override void Encode(CopyBuffer buffer, object value)
    {
        var f = buffer.FixedField(width);
        if (width == 4) BinaryPrimitives.WriteSingleBigEndian(f, value is float x ? x : System.Convert.ToSingle(value, CultureInfo.InvariantCulture));
        else BinaryPrimitives.WriteDoubleBigEndian(f, value is double d ? d : System.Convert.ToDouble(value, CultureInfo.InvariantCulture));
    }

    public override string Describe(ReadOnlySpan<byte> field) => width == 4
        ? BinaryPrimitives.ReadSingleBigEndian(field).ToString(CultureInfo.InvariantCulture)
        : BinaryPrimitives.ReadDoubleBigEndian(field).ToString(CultureInfo.InvariantCulture);
}

internal sealed class PgNumericWriter() : PgColumnWriter("numeric")
{
    public override void Encode(CopyBuffer buffer, object value) =>
        PgBinary.Numeric(buffer, value is decimal d ? d : System.Convert.ToDecimal(value, CultureInfo.InvariantCulture));

    public override object Convert(object value) => System.Convert.ToDecimal(value, CultureInfo.InvariantCulture);

    public override string Describe(ReadOnlySpan<byte> field) => PgBinary.NumericText(field);
}

internal sealed class PgDateWriter() : PgColumnWriter("date")
{
    public override void Encode(CopyBuffer buffer, object value) => BinaryPrimitives.WriteInt32BigEndian(buffer.FixedField(4), PgBinary.Date((DateOnly)value));

    public override string Describe(ReadOnlySpan<byte> field) =>
        PgBinary.Date(BinaryPrimitives.ReadInt32BigEndian(field)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}

internal sealed class PgTimeWriter() : PgColumnWriter("time")
{
    public override void Encode(CopyBuffer buffer, object value) => BinaryPrimitives.WriteInt64BigEndian(buffer.FixedField(8), ((TimeOnly)value).Ticks / 10);

    public override string Describe(ReadOnlySpan<byte> field) =>
        new TimeOnly(BinaryPrimitives.ReadInt64BigEndian(field) * 10).ToString("HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture);
}

/// <summary>timestamp takes the wall-clock value; timestamptz an instant (Eddy's TIMESTAMP_LTZ values are instants).</summary>
internal sealed class PgTimestampWriter(bool withZone) : PgColumnWriter(withZone ? "timestamptz" : "timestamp")
{
    public override void Encode(CopyBuffer buffer, object value) =>
        BinaryPrimitives.WriteInt64BigEndian(buffer.FixedField(8), PgBinary.Timestamp(Clock(value)));

    private DateTime Clock(object value) => value switch
    {
        DateTime dt => dt,
        DateTimeOffset dto => withZone ? dto.UtcDateTime : dto.DateTime,
        _ => throw new InvalidCastException($"a {(withZone ? "TIMESTAMP_LTZ" : "TIMESTAMP")} value is a {value.GetType().Name}"),
    };

    public override object Convert(object value) => DateTime.SpecifyKind(Clock(value), DateTimeKind.Unspecified);

    public override string Describe(ReadOnlySpan<byte> field) =>
        PgBinary.Timestamp(BinaryPrimitives.ReadInt64BigEndian(field)).ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture) + (withZone ? "Z" : "");
}

internal sealed class PgByteaWriter() : PgColumnWriter("bytea")
{
    public override void Encode(CopyBuffer buffer, object value) => buffer.WriteBytesField((byte[])value);

    public override string Describe(ReadOnlySpan<byte> field) => "\\x" + System.Convert.ToHexStringLower(field);
}

/// <summary>
/// ARRAY&lt;scalar&gt; into a one-dimensional PostgreSQL array: the array header (one dimension, null flag, the element
/// type's oid, which array_recv checks against the column's, length, lower bound 1), then each element as the element
/// writer encodes it.
/// </summary>
internal sealed class PgArrayWriter(string sqlType, PgColumnWriter element, uint elementOid) : PgColumnWriter(sqlType)
{
    public override void Encode(CopyBuffer buffer, object value)
    {
        var items = (object?[])value;
        int at = buffer.BeginField();
        bool hasNull = Array.IndexOf(items, null) >= 0;
        if (items.Length == 0)
        {
            buffer.WriteInt32(0);
            buffer.WriteInt32(0);
            buffer.WriteInt32((int)elementOid);
        }
        else
        {
            buffer.WriteInt32(1);
            buffer.WriteInt32(hasNull ? 1 : 0);
            buffer.WriteInt32((int)elementOid);
            buffer.WriteInt32(items.Length);
            buffer.WriteInt32(1);
            foreach (var item in items)
            {
                if (item is null) buffer.WriteNull();
                else element.Encode(buffer, item);
            }
        }
        buffer.EndField(at);
    }

    public override string Describe(ReadOnlySpan<byte> field)
    {
        int dims = BinaryPrimitives.ReadInt32BigEndian(field);
        if (dims == 0) return "[]";
        int count = BinaryPrimitives.ReadInt32BigEndian(field[12..]);
        int at = 12 + 8 * dims;
        var sb = new StringBuilder("[");
        for (int i = 0; i < count; i++)
        {
            if (i > 0) sb.Append(", ");
            int len = BinaryPrimitives.ReadInt32BigEndian(field[at..]);
            at += 4;
            if (len < 0) sb.Append("null");
            else
            {
                sb.Append(element.Describe(field.Slice(at, len)));
                at += len;
            }
        }
        return sb.Append(']').ToString();
    }
}

/// <summary>
/// MAP, ROW and arrays of non-scalars as a JSON document (jsonb: a version byte 1, then the text; json: the text), in
/// Flink's json format layout: maps and rows as objects (map keys as text, row fields by name), temporal values as
/// ISO-8601 text, bytes as base64.
/// </summary>
internal sealed class PgJsonWriter(string sqlType, DataType type) : PgColumnWriter(sqlType)
{
    // One JSON writer per thread, re-pointed at each chunk: no writer allocated per value.
    [ThreadStatic] private static Utf8JsonWriter? json;

    public override void Encode(CopyBuffer buffer, object value)
    {
        int at = buffer.BeginField();
        if (SqlType == "jsonb") buffer.WriteByte(1);
        var w = json;
        if (w is null) json = w = new Utf8JsonWriter(buffer);
        else w.Reset(buffer);
        try
        {
            Eddy.Connectors.JsonValueWriter.Write(w, value, type, Eddy.Connectors.TimestampFormat.Iso8601);
            w.Flush();
        }
        finally
        {
            w.Reset(Stream.Null);
        }
        buffer.EndField(at);
    }

    public override string Describe(ReadOnlySpan<byte> field) =>
        Encoding.UTF8.GetString(SqlType == "jsonb" ? field[1..] : field);
}

/// <summary>The mapping between Flink SQL types and PostgreSQL column types.</summary>
internal static class PgTypes
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The PostgreSQL types (pg_type.typname) a column of a DDL type may be written into, narrowest first.</summary>
    public static string[] Accepted(DataType t) => t.Kind switch
    {
        TypeKind.Array when IsScalar(t.Element!) => [.. Accepted(t.Element!).Select(e => "_" + e), "jsonb", "json"],
        TypeKind.Array or TypeKind.Map or TypeKind.Row => ["jsonb", "json"],
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

    /// <summary>Whether a type is a single value (a PostgreSQL array can hold it) rather than a nested structure.</summary>
    public static bool IsScalar(DataType t) => t.Kind is not (TypeKind.Array or TypeKind.Map or TypeKind.Row or TypeKind.Null);

    /// <summary>The column type CREATE TABLE uses for a DDL type.</summary>
    public static string CreateType(string column, DataType t)
    {
        string name = BaseType(column, t);
        return t.Nullable ? name : name + " NOT NULL";
    }

    private static string BaseType(string column, DataType t)
    {
        return t.Kind switch
        {
            TypeKind.Array when IsScalar(t.Element!) => BaseType(column, t.Element!) + "[]",
            TypeKind.Array or TypeKind.Map or TypeKind.Row => "jsonb",
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
    }

    /// <summary>The writer for a DDL type into an existing column of PostgreSQL type <paramref name="typname"/>.</summary>
    /// <summary><paramref name="elementOid"/>: for an array column, its element type's oid (pg_type.typelem).</summary>
    public static PgColumnWriter Writer(DataType ddl, string typname, uint elementOid = 0) => typname switch
    {
        "jsonb" or "json" when ddl.Kind is TypeKind.Array or TypeKind.Map or TypeKind.Row => new PgJsonWriter(typname, ddl),
        ['_', .. var element] when ddl.Kind == TypeKind.Array && IsScalar(ddl.Element!) =>
            new PgArrayWriter(typname, Writer(ddl.Element!, element), elementOid),
        "text" or "varchar" or "bpchar" => new PgTextWriter(typname),
        "bool" => new PgBoolWriter(),
        "int2" => new PgIntegerWriter("int2", 2),
        "int4" => new PgIntegerWriter("int4", 4),
        "int8" => new PgIntegerWriter("int8", 8),
        "float4" => new PgFloatWriter("float4", 4),
        "float8" => new PgFloatWriter("float8", 8),
        "numeric" => new PgNumericWriter(),
        "date" => new PgDateWriter(),
        "time" => new PgTimeWriter(),
        "timestamp" => new PgTimestampWriter(withZone: false),
        "timestamptz" => new PgTimestampWriter(withZone: true),
        "bytea" => new PgByteaWriter(),
        _ => throw new PostgresConfigException($"{ddl} cannot be written to a PostgreSQL {typname} column"),
    };
}
