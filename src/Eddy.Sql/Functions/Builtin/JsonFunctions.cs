using System.Globalization;
using System.Reflection;
using System.Text;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>
/// Flink's JSON construction: JSON_STRING here, JSON_OBJECT and JSON_ARRAY (which have their own syntax) bound by the
/// binder on the same writer. Values become JSON as Flink's JsonGenerateUtils makes Jackson nodes of them: strings,
/// booleans and numbers as such, TIMESTAMP as ISO-8601 text (TIMESTAMP_LTZ with a 'Z'), BYTES as base64, ARRAY as an
/// array, MAP (string keys) and ROW as objects; written compactly, as Jackson writes.
/// </summary>
public static class JsonFunctions
{
    private static MethodInfo M(Delegate d) => d.Method;

    internal static IEnumerable<BuiltinFunction> All() =>
    [
        // JSON_VALUE(json, path) / JSON_QUERY(json, path) written as plain calls (the parser reads the full syntax).
        new("JSON_VALUE", FunctionGroup.Json, c => { c.Arity(2, 2); return c.Fn(nameof(SqlFunctions.JsonValue), DataType.String, BuiltinCall.AsString(c.Args[0]), Path(c)); }),
        new("JSON_QUERY", FunctionGroup.Json, c => { c.Arity(2, 2); return c.Fn(nameof(SqlFunctions.JsonQuery), DataType.String, BuiltinCall.AsString(c.Args[0]), Path(c)); }),
        new("JSON_STRING", FunctionGroup.Json, c =>
        {
            c.Arity(1, 1);
            if (c.IsNull(0)) return new Literal(null, DataType.String);
            var type = c.TypeOf(0);
            if (Unsupported(type) is { } why) throw c.FailAt(0, $"JSON_STRING of {type}: {why}");
            return c.Call(M(JsonString), DataType.String, c.Args[0], new Literal(type, DataType.NullType));
        }),
    ];

    /// <summary>A JSON path: a string literal Eddy can follow exactly (others are refused here, not at run time).</summary>
    private static BoundExpr Path(BuiltinCall c)
    {
        if (c.Syntax.Arguments[1] is not Parsing.StringLiteral literal) throw c.FailAt(1, "a JSON path must be a string literal");
        if (SqlFunctions.JsonPathProblem(literal.Value) is { } problem) throw c.FailAt(1, problem);
        return c.Args[1];
    }

    /// <summary>Why a value of <paramref name="type"/> cannot be written as Flink writes it, or null when it can.</summary>
    public static string? Unsupported(DataType type) => type.Kind switch
    {
        TypeKind.String or TypeKind.Char or TypeKind.Boolean or TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt
            or TypeKind.Double or TypeKind.Decimal or TypeKind.Timestamp or TypeKind.TimestampLtz or TypeKind.Binary or TypeKind.Null => null,
        TypeKind.Float => "Eddy does not write FLOAT as Java's Float.toString does; CAST it to DOUBLE",
        TypeKind.Array => Unsupported(type.Element!),
        TypeKind.Map => TypeRules.IsString(type.Element!) ? Unsupported(type.Value!) : "Flink converts only maps with character string keys to JSON",
        TypeKind.Row => type.Fields!.Select(f => Unsupported(f.Type)).FirstOrDefault(w => w is not null),
        _ => $"Flink cannot convert {type.Kind.ToString().ToUpperInvariant()} into JSON",
    };

    public static string? JsonString(object? value, object type)
    {
        if (value is null) return null;
        var sb = new StringBuilder();
        Write(sb, value, (DataType)type);
        return sb.ToString();
    }

    /// <summary>Writes <paramref name="value"/> of <paramref name="type"/> as JSON (a NULL as <c>null</c>).</summary>
    public static void Write(StringBuilder sb, object? value, DataType type)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case string s: Quote(sb, s); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case sbyte or short or int or long: sb.Append(((IFormattable)value).ToString(null, CultureInfo.InvariantCulture)); break;
            case double d:
                // Jackson writes NaN and the infinities as quoted strings.
                if (double.IsNaN(d) || double.IsInfinity(d)) Quote(sb, Row.FormatDouble(d));
                else sb.Append(Row.FormatDouble(d));
                break;
            case decimal m: sb.Append(BigDecimalString(m)); break;
            case DateTime t: Quote(sb, IsoLocalDateTime(t)); break;
            case DateTimeOffset t: Quote(sb, IsoLocalDateTime(t.UtcDateTime) + "Z"); break;
            case byte[] bytes: Quote(sb, Convert.ToBase64String(bytes)); break;
            case object?[] array:
                sb.Append('[');
                for (int i = 0; i < array.Length; i++)
                {
                    if (i > 0) sb.Append(',');
                    Write(sb, array[i], type.Element!);
                }
                sb.Append(']');
                break;
            case Dictionary<object, object?> map:
            {
                sb.Append('{');
                bool first = true;
                foreach (var (k, v) in map)
                {
                    if (!first) sb.Append(',');
                    first = false;
                    Quote(sb, (string)k);
                    sb.Append(':');
                    Write(sb, v, type.Value!);
                }
                sb.Append('}');
                break;
            }
            case Row row:
                sb.Append('{');
                for (int i = 0; i < row.Arity; i++)
                {
                    if (i > 0) sb.Append(',');
                    Quote(sb, type.Fields![i].Name);
                    sb.Append(':');
                    Write(sb, row[i], type.Fields[i].Type);
                }
                sb.Append('}');
                break;
            default: throw new InvalidOperationException($"cannot write {value.GetType().Name} as JSON");
        }
    }

    /// <summary>A JSON string as Jackson quotes it: '"', '\' and control characters escaped, nothing else.</summary>
    public static void Quote(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (char ch in s)
        {
            switch (ch)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (ch < 0x20) sb.Append("\\u00").Append(((int)ch).ToString("X2", CultureInfo.InvariantCulture));
                    else sb.Append(ch);
                    break;
            }
        }
        sb.Append('"');
    }

    /// <summary>java.math.BigDecimal.toString: plain unless the adjusted exponent is below -6.</summary>
    public static string BigDecimalString(decimal m)
    {
        int scale = m.Scale;
        var unscaled = System.Numerics.BigInteger.Abs(new System.Numerics.BigInteger(m * Pow10(scale)));
        string digits = unscaled.ToString(CultureInfo.InvariantCulture);
        int adjusted = digits.Length - 1 - scale;
        string sign = m < 0 ? "-" : "";
        if (adjusted >= -6) return m.ToString(CultureInfo.InvariantCulture);
        return sign + digits[0] + (digits.Length > 1 ? "." + digits[1..] : "") + "E" + adjusted.ToString(CultureInfo.InvariantCulture);
    }

    private static decimal Pow10(int n)
    {
        decimal p = 1;
        for (int i = 0; i < n; i++) p *= 10;
        return p;
    }

    /// <summary>Java's DateTimeFormatter.ISO_LOCAL_DATE_TIME: seconds always, a fraction of 3, 6 or 9 digits only when not zero.</summary>
    public static string IsoLocalDateTime(DateTime t)
    {
        var text = t.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        long ticks = t.Ticks % TimeSpan.TicksPerSecond;
        if (ticks == 0) return text;
        long nanos = ticks * 100;
        return text + "." + (nanos % 1_000_000 == 0 ? (nanos / 1_000_000).ToString("000", CultureInfo.InvariantCulture)
            : nanos % 1000 == 0 ? (nanos / 1000).ToString("000000", CultureInfo.InvariantCulture)
            : nanos.ToString("000000000", CultureInfo.InvariantCulture));
    }

    /// <summary>The compiled form of one JSON_OBJECT / JSON_ARRAY: keys (null for an array), value types, raw (nested JSON) values.</summary>
    public sealed record Construction(string[]? Keys, DataType[] Types, bool[] Raw, bool AbsentOnNull)
    {
        /// <summary>The keys and the ON NULL behaviour, as EXPLAIN shows them.</summary>
        public override string ToString() =>
            (Keys is null ? "" : "KEYS(" + string.Join(", ", Keys.Select(k => "'" + k.Replace("'", "''", StringComparison.Ordinal) + "'")) + ") ")
            + (AbsentOnNull ? "ABSENT ON NULL" : "NULL ON NULL");
    }

    public static string JsonObject(object construction, params object?[] values) => Construct((Construction)construction, values);

    public static string JsonArray(object construction, params object?[] values) => Construct((Construction)construction, values);

    private static string Construct(Construction c, object?[] values)
    {
        var sb = new StringBuilder();
        sb.Append(c.Keys is null ? '[' : '{');
        bool first = true;
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] is null && c.AbsentOnNull) continue;
            if (!first) sb.Append(',');
            first = false;
            if (c.Keys is not null)
            {
                Quote(sb, c.Keys[i]);
                sb.Append(':');
            }
            if (c.Raw[i] && values[i] is string json) sb.Append(json);
            else Write(sb, values[i], c.Types[i]);
        }
        sb.Append(c.Keys is null ? ']' : '}');
        return sb.ToString();
    }
}
