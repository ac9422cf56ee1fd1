using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Eddy.Connectors.Formats.Debezium;

/// <summary>The envelope a changelog JSON format writes around a row (Flink's serialization schemas).</summary>
internal enum ChangelogEnvelope
{
    /// <summary><c>{"before": row|null, "after": row|null, "op": "c"|"d"}</c>.</summary>
    Debezium,
    /// <summary><c>{"data": [row], "type": "INSERT"|"DELETE"}</c>.</summary>
    Canal,
    /// <summary><c>{"data": row, "type": "insert"|"delete"}</c>.</summary>
    Maxwell,
}

/// <summary>
/// Writes a changelog row as Flink's debezium-json, canal-json and maxwell-json serialization schemas do: +I and +U
/// are an insert (<c>c</c> / <c>INSERT</c> / <c>insert</c>) of the row, -U and -D a delete of it. An update is thus two
/// messages, never one <c>u</c> / <c>UPDATE</c> event (Flink writes neither <c>old</c> nor a before-and-after pair).
/// Values follow Flink's json writer: decimals at their column's scale in Java's <c>BigDecimal.toString()</c> form
/// (plain with <c>encode.decimal-as-plain-number</c>), floats in Java's <c>toString()</c> form, timestamps in the
/// chosen standard with the fraction's trailing zeros left out, and with <c>encode.ignore-null-fields</c> no
/// null field at any level (the envelope's null <c>before</c> / <c>after</c> included). Not thread-safe: one per writer.
/// </summary>
internal sealed class ChangelogJsonEncoder : MessageEncoder
{
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly ChangelogEnvelope envelope;
    private readonly IReadOnlyList<Column> columns;
    private readonly IReadOnlyList<int> positions;
    private readonly TimestampFormat timestamps;
    private readonly bool plainDecimals;
    private readonly bool ignoreNulls;
    private readonly ArrayBufferWriter<byte> buffer = new(256);
    private readonly Utf8JsonWriter json;

    public ChangelogJsonEncoder(ChangelogEnvelope envelope, IReadOnlyList<Column> columns, IReadOnlyList<int> positions, JsonEncoding encoding)
    {
        this.envelope = envelope;
        this.columns = columns;
        this.positions = positions;
        timestamps = encoding.Timestamps;
        plainDecimals = encoding.DecimalAsPlainNumber;
        ignoreNulls = encoding.IgnoreNullFields;
        json = new Utf8JsonWriter(buffer, WriterOptions);
    }

    public override byte[] Encode(Row row) => Encode(row, RowKind.Insert);

    public override byte[] Encode(Row row, RowKind kind)
    {
        bool insert = kind is RowKind.Insert or RowKind.UpdateAfter;
        buffer.ResetWrittenCount();
        json.Reset(buffer);
        json.WriteStartObject();
        switch (envelope)
        {
            case ChangelogEnvelope.Debezium:
                if (insert)
                {
                    if (!ignoreNulls) json.WriteNull("before");
                    json.WritePropertyName("after");
                    WriteRow(row);
                }
                else
                {
                    json.WritePropertyName("before");
                    WriteRow(row);
                    if (!ignoreNulls) json.WriteNull("after");
                }
                json.WriteString("op", insert ? "c" : "d");
                break;
            case ChangelogEnvelope.Canal:
                json.WritePropertyName("data");
                json.WriteStartArray();
                WriteRow(row);
                json.WriteEndArray();
                json.WriteString("type", insert ? "INSERT" : "DELETE");
                break;
            default:
                json.WritePropertyName("data");
                WriteRow(row);
                json.WriteString("type", insert ? "insert" : "delete");
                break;
        }
        json.WriteEndObject();
        json.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private void WriteRow(Row row)
    {
        json.WriteStartObject();
        for (int i = 0; i < columns.Count; i++)
        {
            object? value = row[positions[i]];
            if (value is null && ignoreNulls) continue;
            json.WritePropertyName(columns[i].Name);
            try
            {
                WriteValue(value, columns[i].Type);
            }
            catch (InvalidCastException)
            {
                throw new FormatException($"column '{columns[i].Name}' ({columns[i].Type}): cannot write a {value!.GetType().Name}");
            }
        }
        json.WriteEndObject();
    }

    private void WriteValue(object? value, DataType type)
    {
        switch (value)
        {
            case null: json.WriteNullValue(); return;
            case string s: json.WriteStringValue(s); return;
            case bool b: json.WriteBooleanValue(b); return;
            case sbyte v: json.WriteNumberValue(v); return;
            case short v: json.WriteNumberValue(v); return;
            case int v: json.WriteNumberValue(v); return;
            case long v: json.WriteNumberValue(v); return;
            case decimal v: json.WriteRawValue(JavaNumbers.Decimal(v, type.Scale, plainDecimals), skipInputValidation: true); return;
            case float v: WriteFloating(JavaNumbers.Float(v)); return;
            case double v: WriteFloating(JavaNumbers.Double(v)); return;
            case byte[] bytes: json.WriteBase64StringValue(bytes); return;
            case DateOnly d: json.WriteStringValue(d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)); return;
            case TimeOnly t: json.WriteStringValue(JavaNumbers.Time(t)); return;
            case DateTime dt: json.WriteStringValue(JavaNumbers.Timestamp(dt, timestamps)); return;
            case DateTimeOffset dto: json.WriteStringValue(JavaNumbers.Timestamp(dto.UtcDateTime, timestamps) + "Z"); return;
            case object?[] items:
                json.WriteStartArray();
                foreach (var item in items) WriteValue(item, type.Element ?? DataType.String);
                json.WriteEndArray();
                return;
            case System.Collections.IDictionary map:
                json.WriteStartObject();
                foreach (System.Collections.DictionaryEntry e in map)
                {
                    json.WritePropertyName((string)e.Key);
                    WriteValue(e.Value, type.Value ?? DataType.String);
                }
                json.WriteEndObject();
                return;
            case Row nested:
                json.WriteStartObject();
                var fields = type.Fields!;
                for (int i = 0; i < nested.Arity; i++)
                {
                    if (nested[i] is null && ignoreNulls) continue;
                    json.WritePropertyName(fields[i].Name);
                    WriteValue(nested[i], fields[i].Type);
                }
                json.WriteEndObject();
                return;
            default:
                throw new InvalidCastException();
        }
    }

    /// <summary>Jackson writes NaN and the infinities as quoted text (QUOTE_NON_NUMERIC_NUMBERS), numbers bare.</summary>
    private void WriteFloating(string text)
    {
        if (text is "NaN" or "Infinity" or "-Infinity") json.WriteStringValue(text);
        else json.WriteRawValue(text, skipInputValidation: true);
    }

    /// <summary>
    /// The types Flink's json writer accepts: a MAP (or MULTISET) needs a character-string key ("JSON format doesn't
    /// support non-string as key type of map"); every other type of Eddy's is written.
    /// </summary>
    public static void CheckWritable(IReadOnlyList<Column> columns, string format)
    {
        foreach (var column in columns) Check(column.Type, column.Name, format);
    }

    private static void Check(DataType type, string column, string format)
    {
        switch (type.Kind)
        {
            case TypeKind.Map:
                if (type.Element!.Kind is not (TypeKind.String or TypeKind.Char))
                    throw new FormatOptionException("format", $"column '{column}' ({type}): {format} writes a MAP with STRING keys only, as Flink's json writer");
                Check(type.Value!, column, format);
                break;
            case TypeKind.Array:
                Check(type.Element!, column, format);
                break;
            case TypeKind.Row:
                foreach (var field in type.Fields!) Check(field.Type, column, format);
                break;
        }
    }
}

/// <summary>The json writer's options a changelog JSON format takes (<c>&lt;format&gt;.timestamp-format.standard</c>, <c>.encode.*</c>).</summary>
internal sealed record JsonEncoding(TimestampFormat Timestamps, bool DecimalAsPlainNumber, bool IgnoreNullFields)
{
    public static JsonEncoding From(FormatContext context, string format)
    {
        ChangelogJson.CheckJsonOptions(context, format);
        var timestamps = context.Option(format + ".timestamp-format.standard") == "ISO-8601" ? TimestampFormat.Iso8601 : TimestampFormat.Sql;
        return new JsonEncoding(timestamps, context.Flag(format + ".encode.decimal-as-plain-number"), context.Flag(format + ".encode.ignore-null-fields"));
    }
}

/// <summary>Numbers and times as the JVM prints them, which is what Flink's json writer puts into a message.</summary>
internal static class JavaNumbers
{
    /// <summary>
    /// <c>BigDecimal.toString()</c> of the value at <paramref name="scale"/> (Flink's DecimalData always has its
    /// column's scale): plain unless the adjusted exponent is below -6, then <c>2.7E-8</c>; plain always with
    /// <paramref name="plain"/> (<c>toPlainString()</c>).
    /// </summary>
    public static string Decimal(decimal value, int scale, bool plain)
    {
        decimal scaled = Math.Round(value, Math.Min(scale, 28), MidpointRounding.AwayFromZero);
        string text = scaled.ToString("F" + Math.Min(scale, 28).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
        if (plain) return text;
        bool negative = text.StartsWith('-');
        string unscaled = text.Replace("-", "").Replace(".", "").TrimStart('0');
        if (unscaled.Length == 0) unscaled = "0";
        int adjusted = -scale + (unscaled.Length - 1);
        if (adjusted >= -6) return text;
        var sb = new StringBuilder(unscaled.Length + 8);
        if (negative) sb.Append('-');
        sb.Append(unscaled[0]);
        if (unscaled.Length > 1) sb.Append('.').Append(unscaled, 1, unscaled.Length - 1);
        sb.Append('E').Append(adjusted.ToString(CultureInfo.InvariantCulture));
        return sb.ToString();
    }

    /// <summary><c>Float.toString</c>: the shortest digits that read back, as <c>3.14</c>, <c>1.0</c>, <c>1.0E10</c>.</summary>
    public static string Float(float value) => float.IsFinite(value) ? Java(value.ToString("R", CultureInfo.InvariantCulture)) : NonFinite(value);

    /// <summary><c>Double.toString</c>, likewise.</summary>
    public static string Double(double value) => double.IsFinite(value) ? Java(value.ToString("R", CultureInfo.InvariantCulture)) : NonFinite(value);

    private static string NonFinite(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";

    /// <summary>
    /// From .NET's shortest round-trip form (<c>1E+20</c>, <c>0.001</c>, <c>123.5</c>) to Java's: plain with at least
    /// one fraction digit for 10^-3 ≤ |x| &lt; 10^7, else <c>d.dddE±n</c> with at least one fraction digit.
    /// </summary>
    private static string Java(string shortest)
    {
        bool negative = shortest.StartsWith('-');
        string body = negative ? shortest[1..] : shortest;
        int exponent = 0;
        int e = body.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(body[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            body = body[..e];
        }
        int point = body.IndexOf('.');
        string digits = point < 0 ? body : body.Remove(point, 1);
        int pointAt = (point < 0 ? body.Length : point) + exponent;
        // Normalize: leading zeros move the point, trailing zeros carry no digits.
        int lead = 0;
        while (lead < digits.Length - 1 && digits[lead] == '0') lead++;
        digits = digits[lead..];
        pointAt -= lead;
        digits = digits.TrimEnd('0');
        if (digits.Length == 0) return negative ? "-0.0" : "0.0";
        // The value is 0.<digits> × 10^pointAt; Java's decimal exponent is pointAt - 1.
        int decimalExponent = pointAt - 1;
        var sb = new StringBuilder(digits.Length + 8);
        if (negative) sb.Append('-');
        if (decimalExponent >= -3 && decimalExponent < 7)
        {
            if (pointAt <= 0) sb.Append("0.").Append('0', -pointAt).Append(digits);
            else if (pointAt >= digits.Length) sb.Append(digits).Append('0', pointAt - digits.Length).Append(".0");
            else sb.Append(digits, 0, pointAt).Append('.').Append(digits, pointAt, digits.Length - pointAt);
        }
        else
        {
            sb.Append(digits[0]).Append('.');
            if (digits.Length > 1) sb.Append(digits, 1, digits.Length - 1);
            else sb.Append('0');
            sb.Append('E').Append(decimalExponent.ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    /// <summary>Flink's SQL / ISO-8601 timestamp: seconds, then the fraction without trailing zeros (none when zero).</summary>
    public static string Timestamp(DateTime value, TimestampFormat format) =>
        value.ToString(format == TimestampFormat.Sql ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture) + Fraction(value.Ticks);

    /// <summary>Flink's json writer makes a TIME <c>LocalTime.ofSecondOfDay(millis / 1000)</c>: <c>HH:mm:ss</c>, no fraction.</summary>
    public static string Time(TimeOnly value) => value.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Fraction(long ticks)
    {
        long fraction = ticks % TimeSpan.TicksPerSecond;
        return fraction == 0 ? "" : "." + fraction.ToString("0000000", CultureInfo.InvariantCulture).TrimEnd('0');
    }
}
