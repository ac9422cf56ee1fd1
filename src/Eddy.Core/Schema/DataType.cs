using System.Text;

namespace Eddy;

public enum TypeKind
{
    String,
    Char,
    Boolean,
    TinyInt,
    SmallInt,
    Int,
    BigInt,
    Float,
    Double,
    Decimal,
    Date,
    Time,
    /// <summary>A wall-clock timestamp without zone (<see cref="DateTime"/> of kind Unspecified).</summary>
    Timestamp,
    /// <summary>An instant (<see cref="DateTimeOffset"/> in UTC), shown in the session time zone.</summary>
    TimestampLtz,
    Array,
    Map,
    Row,
    /// <summary>A byte string: <c>BYTES</c> (precision 0) or <c>VARBINARY(n)</c> / <c>BINARY(n)</c>.</summary>
    Binary,
    /// <summary>The type of an untyped NULL literal, before it takes the type of its context.</summary>
    Null,
}

/// <summary>A SQL data type, as Flink names them. The CLR representation of each kind is fixed (see <see cref="ClrType"/>).</summary>
public sealed record DataType(
    TypeKind Kind,
    bool Nullable = true,
    int Precision = 0,
    int Scale = 0,
    DataType? Element = null,
    DataType? Value = null,
    IReadOnlyList<Column>? Fields = null)
{
    public static readonly DataType String = new(TypeKind.String);
    public static readonly DataType NullType = new(TypeKind.Null);
    public static readonly DataType Boolean = new(TypeKind.Boolean);
    public static readonly DataType TinyInt = new(TypeKind.TinyInt);
    public static readonly DataType SmallInt = new(TypeKind.SmallInt);
    public static readonly DataType Int = new(TypeKind.Int);
    public static readonly DataType BigInt = new(TypeKind.BigInt);
    public static readonly DataType Float = new(TypeKind.Float);
    public static readonly DataType Double = new(TypeKind.Double);
    public static readonly DataType Date = new(TypeKind.Date);
    public static readonly DataType Time = new(TypeKind.Time);
    public static readonly DataType Timestamp3 = new(TypeKind.Timestamp, Precision: 3);
    public static readonly DataType TimestampLtz3 = new(TypeKind.TimestampLtz, Precision: 3);

    public static DataType Decimal(int precision, int scale) => new(TypeKind.Decimal, Precision: precision, Scale: scale);

    public static DataType ArrayOf(DataType element) => new(TypeKind.Array, Element: element);

    public static DataType MapOf(DataType key, DataType value) => new(TypeKind.Map, Element: key, Value: value);

    public static DataType RowOf(params Column[] fields) => new(TypeKind.Row, Fields: fields);

    public DataType NotNull() => this with { Nullable = false };

    /// <summary>The CLR type a value of this SQL type has inside Eddy.</summary>
    public Type ClrType => Kind switch
    {
        TypeKind.String or TypeKind.Char => typeof(string),
        TypeKind.Boolean => typeof(bool),
        TypeKind.TinyInt => typeof(sbyte),
        TypeKind.SmallInt => typeof(short),
        TypeKind.Int => typeof(int),
        TypeKind.BigInt => typeof(long),
        TypeKind.Float => typeof(float),
        TypeKind.Double => typeof(double),
        TypeKind.Decimal => typeof(decimal),
        TypeKind.Date => typeof(DateOnly),
        TypeKind.Time => typeof(TimeOnly),
        TypeKind.Timestamp => typeof(DateTime),
        TypeKind.TimestampLtz => typeof(DateTimeOffset),
        TypeKind.Array => typeof(object?[]),
        TypeKind.Map => typeof(Dictionary<object, object?>),
        TypeKind.Row => typeof(Row),
        TypeKind.Binary => typeof(byte[]),
        TypeKind.Null => typeof(object),
        _ => throw new NotSupportedException(Kind.ToString()),
    };

    public bool IsNumeric => Kind is TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt
        or TypeKind.Float or TypeKind.Double or TypeKind.Decimal;

    public override string ToString()
    {
        var sb = new StringBuilder();
        switch (Kind)
        {
            case TypeKind.String: sb.Append("STRING"); break;
            case TypeKind.Char: sb.Append("CHAR(").Append(Precision).Append(')'); break;
            case TypeKind.Decimal: sb.Append("DECIMAL(").Append(Precision).Append(", ").Append(Scale).Append(')'); break;
            case TypeKind.Timestamp: sb.Append("TIMESTAMP(").Append(Precision).Append(')'); break;
            case TypeKind.TimestampLtz: sb.Append("TIMESTAMP_LTZ(").Append(Precision).Append(')'); break;
            case TypeKind.Array: sb.Append("ARRAY<").Append(Element).Append('>'); break;
            case TypeKind.Map: sb.Append("MAP<").Append(Element).Append(", ").Append(Value).Append('>'); break;
            case TypeKind.Row:
                sb.Append("ROW<").AppendJoin(", ", Fields!.Select(f => $"{f.Name} {f.Type}")).Append('>');
                break;
            default: sb.Append(Kind.ToString().ToUpperInvariant()); break;
        }
        if (!Nullable) sb.Append(" NOT NULL");
        return sb.ToString();
    }
}

public sealed record Column(string Name, DataType Type);

/// <summary>An ordered list of named, typed columns.</summary>
public sealed class Schema
{
    private readonly Dictionary<string, int> index;

    public Schema(IReadOnlyList<Column> columns)
    {
        Columns = columns;
        index = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (int i = 0; i < columns.Count; i++)
        {
            if (!index.TryAdd(columns[i].Name, i))
                throw new ArgumentException($"column '{columns[i].Name}' is declared twice", nameof(columns));
        }
    }

    public static Schema Of(params (string Name, DataType Type)[] columns) =>
        new(columns.Select(c => new Column(c.Name, c.Type)).ToArray());

    public IReadOnlyList<Column> Columns { get; }

    public int Count => Columns.Count;

    public Column this[int i] => Columns[i];

    public int IndexOf(string name) => index.TryGetValue(name, out int i) ? i : -1;

    public int RequireIndex(string name) => index.TryGetValue(name, out int i)
        ? i
        : throw new ArgumentException($"no column '{name}'; the columns are {string.Join(", ", Columns.Select(c => c.Name))}");

    public override string ToString() => string.Join(", ", Columns.Select(c => $"{c.Name} {c.Type}"));
}
