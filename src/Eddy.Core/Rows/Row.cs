using System.Globalization;
using System.Text;

namespace Eddy;

/// <summary>
/// A generic record of positional fields with a change kind: what schema-driven connectors (datagen, files, print)
/// read and write. Typed jobs use their own C# types instead.
/// </summary>
public sealed class Row : IEquatable<Row>
{
    private readonly object?[] fields;

    public Row(int arity) : this(RowKind.Insert, new object?[arity]) { }

    public Row(RowKind kind, object?[] fields)
    {
        Kind = kind;
        this.fields = fields;
    }

    public static Row Of(params object?[] fields) => new(RowKind.Insert, fields);

    public static Row OfKind(RowKind kind, params object?[] fields) => new(kind, fields);

    public RowKind Kind { get; set; }

    public int Arity => fields.Length;

    public object? this[int index]
    {
        get => fields[index];
        set => fields[index] = value;
    }

    public ReadOnlySpan<object?> Fields => fields;

    public Row WithKind(RowKind kind) => new(kind, (object?[])fields.Clone());

    /// <summary>Flink's textual form: <c>+I[a, b, c]</c>.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Kind.ShortString()).Append('[');
        for (int i = 0; i < fields.Length; i++)
        {
            if (i > 0) sb.Append(", ");
            FormatField(sb, fields[i]);
        }
        return sb.Append(']').ToString();
    }

    internal static void FormatField(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case DateTime dt: sb.Append(EventTime.FormatSql(dt)); break;
            // TIMESTAMP_LTZ shows in the session time zone, which is UTC in Eddy (as Flink's default).
            case DateTimeOffset dto: sb.Append(EventTime.FormatSql(dto.UtcDateTime)); break;
            case DateOnly date: sb.Append(date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); break;
            case TimeOnly time: sb.Append(time.ToString(time.Millisecond == 0 ? "HH:mm:ss" : "HH:mm:ss.fff", CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FormatDouble(d)); break;
            case float f: sb.Append(FormatDouble(f)); break;
            case IFormattable f: sb.Append(f.ToString(null, CultureInfo.InvariantCulture)); break;
            // Java's Row.toString (Flink's print connector): Arrays.toString for BYTES (signed bytes), Arrays.deepToString
            // for ARRAY, Map.toString for MAP ({k=v, ...}), and a nested ROW with its kind (+I[...]).
            case byte[] bytes:
                sb.Append('[');
                for (int i = 0; i < bytes.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    sb.Append(((sbyte)bytes[i]).ToString(CultureInfo.InvariantCulture));
                }
                sb.Append(']');
                break;
            case object?[] array:
                sb.Append('[');
                for (int i = 0; i < array.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    FormatField(sb, array[i]);
                }
                sb.Append(']');
                break;
            case System.Collections.IDictionary map:
            {
                sb.Append('{');
                bool first = true;
                foreach (System.Collections.DictionaryEntry e in map)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    FormatField(sb, e.Key);
                    sb.Append('=');
                    FormatField(sb, e.Value);
                }
                sb.Append('}');
                break;
            }
            default: sb.Append(value); break;
        }
    }

    /// <summary>
    /// A value as Flink's SQL client shows it (its cast-to-string rules when printing): NULL as <c>&lt;NULL&gt;</c>,
    /// BOOLEAN as <c>TRUE</c>/<c>FALSE</c>, ARRAY as <c>[1, 2]</c>, MAP as <c>{a=1}</c>, ROW as <c>(1, x)</c>, with
    /// NULL inside a collection or row as <c>NULL</c>.
    /// </summary>
    public static string FormatForClient(object? value)
    {
        if (value is null) return "<NULL>";
        var sb = new StringBuilder();
        FormatClientValue(sb, value);
        return sb.ToString();
    }

    private static void FormatClientValue(StringBuilder sb, object? value)
    {
        switch (value)
        {
            case null: sb.Append("NULL"); break;
            case bool b: sb.Append(b ? "TRUE" : "FALSE"); break;
            case object?[] array:
                sb.Append('[');
                for (int i = 0; i < array.Length; i++)
                {
                    if (i > 0) sb.Append(", ");
                    FormatClientValue(sb, array[i]);
                }
                sb.Append(']');
                break;
            case System.Collections.IDictionary map:
            {
                sb.Append('{');
                bool first = true;
                foreach (System.Collections.DictionaryEntry e in map)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    FormatClientValue(sb, e.Key);
                    sb.Append('=');
                    FormatClientValue(sb, e.Value);
                }
                sb.Append('}');
                break;
            }
            case Row row:
                sb.Append('(');
                for (int i = 0; i < row.Arity; i++)
                {
                    if (i > 0) sb.Append(", ");
                    FormatClientValue(sb, row.fields[i]);
                }
                sb.Append(')');
                break;
            default: FormatField(sb, value); break;
        }
    }

    /// <summary>Java's Double.toString, as Flink prints DOUBLE: <c>1.0</c>, <c>0.25</c>, <c>1.0E7</c>.</summary>
    public static string FormatDouble(double d)
    {
        if (double.IsNaN(d)) return "NaN";
        if (double.IsInfinity(d)) return d > 0 ? "Infinity" : "-Infinity";
        double abs = Math.Abs(d);
        if (abs != 0 && (abs < 1e-3 || abs >= 1e7))
        {
            var e = d.ToString("0.0###############E0", CultureInfo.InvariantCulture);
            return e;
        }
        var text = d.ToString("R", CultureInfo.InvariantCulture);
        return text.Contains('.') || text.Contains('E') ? text : text + ".0";
    }

    public bool Equals(Row? other)
    {
        if (other is null || other.Kind != Kind || other.fields.Length != fields.Length) return false;
        for (int i = 0; i < fields.Length; i++)
            if (!Equals(fields[i], other.fields[i])) return false;
        return true;
    }

    public override bool Equals(object? obj) => Equals(obj as Row);

    public override int GetHashCode()
    {
        var h = new HashCode();
        h.Add(Kind);
        foreach (var f in fields) h.Add(f);
        return h.ToHashCode();
    }
}
