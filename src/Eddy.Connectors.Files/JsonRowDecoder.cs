using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Eddy.Connectors;

/// <summary>
/// Decodes one JSON object (a line of JSON lines) into a <see cref="Row"/> of a schema with <see cref="Utf8JsonReader"/>,
/// as Flink's json format: fields by name (case-sensitive; unknown ones skipped, missing ones null), numbers and
/// booleans also from strings, and an object or array read into a STRING column as its compact JSON text.
/// </summary>
public sealed class JsonRowDecoder
{
    private readonly Column[] columns;
    private readonly byte[][] names;

    private readonly bool failOnMissingField;

    public JsonRowDecoder(Schema schema, bool failOnMissingField = false)
    {
        this.failOnMissingField = failOnMissingField;
        columns = schema.Columns.ToArray();
        names = columns.Select(c => Encoding.UTF8.GetBytes(c.Name)).ToArray();
    }

    /// <exception cref="RecordFormatException">The line is not a JSON object or a value does not fit its column.</exception>
    public Row Decode(ReadOnlySpan<byte> json)
    {
        try
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
                throw new RecordFormatException($"expected a JSON object, got {Describe(ref reader, json)}");
            var values = new object?[columns.Length];
            // Bit i: column i was present (only tracked when missing fields are errors).
            ulong seen = 0;
            bool[]? seenMany = failOnMissingField && columns.Length > 64 ? new bool[columns.Length] : null;
            int hint = 0;
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                int index = FindColumn(ref reader, names, ref hint);
                reader.Read();
                if (index < 0)
                {
                    reader.Skip();
                    continue;
                }
                values[index] = ReadValue(ref reader, json, columns[index].Type, columns[index].Name);
                if (seenMany is not null) seenMany[index] = true;
                else if (index < 64) seen |= 1UL << index;
            }
            if (reader.Read()) throw new RecordFormatException("unexpected content after the JSON object");
            if (failOnMissingField)
            {
                for (int i = 0; i < columns.Length; i++)
                {
                    bool present = seenMany is not null ? seenMany[i] : (seen & (1UL << i)) != 0;
                    if (!present) throw new RecordFormatException($"column '{columns[i].Name}' is missing");
                }
            }
            return new Row(RowKind.Insert, values);
        }
        catch (JsonException e)
        {
            throw new RecordFormatException($"invalid JSON: {e.Message}");
        }
        catch (InvalidOperationException e)
        {
            // Utf8JsonReader checks a string's bytes only when it is read as text: invalid UTF-8 surfaces here.
            throw JsonRowDecoder.ReadFailure(e, json);
        }
    }

    /// <summary>A reader's failure to turn a value into text, as a record problem: where the bytes stop being UTF-8, when that is why.</summary>
    internal static RecordFormatException ReadFailure(InvalidOperationException e, ReadOnlySpan<byte> json)
    {
        int bad = InvalidUtf8At(json);
        return bad >= 0
            ? new RecordFormatException($"invalid UTF-8 at byte {bad} (0x{json[bad]:x2})")
            : new RecordFormatException($"invalid JSON: {e.Message}");
    }

    /// <summary>The index of the first byte that is not part of a valid UTF-8 sequence, or -1 when all are.</summary>
    public static int InvalidUtf8At(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return -1;
        int at = 0;
        while (at < bytes.Length)
        {
            if (System.Text.Rune.DecodeFromUtf8(bytes[at..], out _, out int used) != System.Buffers.OperationStatus.Done) return at;
            at += used;
        }
        return -1;
    }

    // JSON lines usually list fields in schema order: trying the column after the last match first finds most at once.
    internal static int FindColumn(ref Utf8JsonReader reader, byte[][] names, ref int hint)
    {
        for (int n = 0; n < names.Length; n++)
        {
            int i = hint + n;
            if (i >= names.Length) i -= names.Length;
            if (reader.ValueTextEquals(names[i]))
            {
                hint = i + 1 == names.Length ? 0 : i + 1;
                return i;
            }
        }
        return -1;
    }

    internal static object? ReadValue(ref Utf8JsonReader reader, ReadOnlySpan<byte> json, DataType type, string column)
    {
        var token = reader.TokenType;
        if (token == JsonTokenType.Null) return null;
        switch (type.Kind)
        {
            case TypeKind.String or TypeKind.Char:
                switch (token)
                {
                    case JsonTokenType.String: return reader.GetString();
                    case JsonTokenType.Number: return Encoding.UTF8.GetString(reader.ValueSpan);
                    case JsonTokenType.True: return "true";
                    case JsonTokenType.False: return "false";
                    case JsonTokenType.StartObject or JsonTokenType.StartArray: return RawJson(ref reader, json);
                }
                break;
            case TypeKind.Boolean:
                if (token == JsonTokenType.True) return true;
                if (token == JsonTokenType.False) return false;
                if (token == JsonTokenType.String) return TextValues.Parse(reader.GetString()!, type, column);
                break;
            case TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt:
                if (token == JsonTokenType.Number)
                {
                    if (reader.TryGetInt64(out long l)) return TextValues.Integer(l, type, column, Encoding.UTF8.GetString(reader.ValueSpan));
                    throw TextValues.Mismatch(column, type, Encoding.UTF8.GetString(reader.ValueSpan));
                }
                if (token == JsonTokenType.String) return TextValues.Parse(reader.GetString()!, type, column);
                break;
            case TypeKind.Float or TypeKind.Double:
                if (token == JsonTokenType.Number)
                {
                    double d = reader.GetDouble();
                    return type.Kind == TypeKind.Float ? (object)(float)d : d;
                }
                if (token == JsonTokenType.String) return TextValues.Parse(reader.GetString()!, type, column);
                break;
            case TypeKind.Decimal:
                if (token == JsonTokenType.Number)
                {
                    if (reader.TryGetDecimal(out decimal m)) return TextValues.Decimal(m, type);
                    throw TextValues.Mismatch(column, type, Encoding.UTF8.GetString(reader.ValueSpan));
                }
                if (token == JsonTokenType.String) return TextValues.Parse(reader.GetString()!, type, column);
                break;
            case TypeKind.Date or TypeKind.Time or TypeKind.Timestamp or TypeKind.TimestampLtz:
                if (token == JsonTokenType.String) return TextValues.Parse(reader.GetString()!, type, column);
                break;
            case TypeKind.Array:
                if (token == JsonTokenType.StartArray)
                {
                    var items = new List<object?>();
                    while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
                        items.Add(ReadValue(ref reader, json, type.Element!, column));
                    return items.ToArray();
                }
                break;
            case TypeKind.Map:
                if (token == JsonTokenType.StartObject)
                {
                    var map = new Dictionary<object, object?>();
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var key = TextValues.Parse(reader.GetString()!, type.Element!, column);
                        reader.Read();
                        map[key] = ReadValue(ref reader, json, type.Value!, column);
                    }
                    return map;
                }
                break;
            case TypeKind.Row:
                if (token == JsonTokenType.StartObject)
                {
                    var fields = type.Fields!;
                    var values = new object?[fields.Count];
                    while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        int index = -1;
                        for (int i = 0; i < fields.Count && index < 0; i++)
                        {
                            if (reader.ValueTextEquals(fields[i].Name)) index = i;
                        }
                        reader.Read();
                        if (index < 0) reader.Skip();
                        else values[index] = ReadValue(ref reader, json, fields[index].Type, $"{column}.{fields[index].Name}");
                    }
                    return new Row(RowKind.Insert, values);
                }
                break;
        }
        throw TextValues.Mismatch(column, type, Describe(ref reader, json));
    }

    internal static string Describe(ref Utf8JsonReader reader, ReadOnlySpan<byte> json) => reader.TokenType switch
    {
        JsonTokenType.None => "nothing",
        JsonTokenType.String => "\"" + TextValues.Shorten(reader.GetString()!) + "\"",
        JsonTokenType.StartObject => "an object",
        JsonTokenType.StartArray => "an array",
        _ => TextValues.Shorten(Encoding.UTF8.GetString(reader.ValueSpan)),
    };

    /// <summary>The object or array at the reader as compact JSON text (Flink writes the parsed node back out).</summary>
    private static string RawJson(ref Utf8JsonReader reader, ReadOnlySpan<byte> json)
    {
        int start = (int)reader.TokenStartIndex;
        reader.Skip();
        var raw = json[start..(int)reader.BytesConsumed];
        if (raw.IndexOfAny(" \t\r\n"u8) < 0) return Encoding.UTF8.GetString(raw);
        byte[] rented = ArrayPool<byte>.Shared.Rent(raw.Length);
        int n = 0;
        bool inString = false, escaped = false;
        foreach (byte b in raw)
        {
            if (inString)
            {
                if (escaped) escaped = false;
                else if (b == '\\') escaped = true;
                else if (b == '"') inString = false;
            }
            else if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n') continue;
            else if (b == '"') inString = true;
            rented[n++] = b;
        }
        string text = Encoding.UTF8.GetString(rented, 0, n);
        ArrayPool<byte>.Shared.Return(rented);
        return text;
    }
}
