using System.Buffers.Text;
using System.Text;
using Eddy.Connectors;

namespace Eddy.Connectors.Kafka;

/// <summary>Flink's <c>csv</c> format options for one message = one CSV record.</summary>
public sealed record CsvFormatOptions
{
    public byte FieldDelimiter { get; init; } = (byte)',';

    /// <summary>The quote character, or null when quoting is disabled (<c>csv.disable-quote-character</c>).</summary>
    public byte? QuoteCharacter { get; init; } = (byte)'"';

    /// <summary>A record starting with '#' is a comment and yields no row.</summary>
    public bool AllowComments { get; init; }

    /// <summary>A field that cannot be read becomes null instead of failing the record.</summary>
    public bool IgnoreParseErrors { get; init; }

    public char ArrayElementDelimiter { get; init; } = ';';

    /// <summary>The character that makes the next one literal inside a field (<c>csv.escape-character</c>), or null.</summary>
    public byte? EscapeCharacter { get; init; }

    /// <summary>Fields equal to this text are null (<c>csv.null-literal</c>).</summary>
    public string? NullLiteral { get; init; }
}

/// <summary>
/// Reads a Kafka message's bytes as one CSV record into the columns of a schema, by position. Fields are located in
/// the bytes; numbers and booleans are parsed from them directly (strings are made only for STRING columns and for
/// types read through their text form: dates, times, decimals, arrays). An empty field of a non-string column is null,
/// as in Flink.
/// </summary>
internal sealed class CsvRecordDecoder
{
    private readonly Column[] columns;
    private readonly CsvFormatOptions options;
    private readonly byte[]? nullLiteral;
    // Field boundaries of the record being read: start, length, and whether it needs unescaping.
    private readonly int[] starts;
    private readonly int[] lengths;
    private readonly bool[] escaped;

    public CsvRecordDecoder(Schema schema, CsvFormatOptions options)
    {
        columns = [.. schema.Columns];
        foreach (var c in columns)
        {
            if (c.Type.Kind is TypeKind.Map or TypeKind.Row || (c.Type.Kind == TypeKind.Array && c.Type.Element!.Kind is TypeKind.Array or TypeKind.Map or TypeKind.Row))
                throw new ArgumentException($"Kafka source: column '{c.Name}' ({c.Type}) cannot be read from csv");
        }
        this.options = options;
        nullLiteral = options.NullLiteral is null ? null : Encoding.UTF8.GetBytes(options.NullLiteral);
        starts = new int[columns.Length];
        lengths = new int[columns.Length];
        escaped = new bool[columns.Length];
    }

    /// <summary>The record's row, or null for a comment.</summary>
    /// <exception cref="RecordFormatException">The record has another number of fields, or a field does not fit its column.</exception>
    public object?[]? Decode(ReadOnlySpan<byte> record)
    {
        // One message is one record: a trailing line break is not part of it.
        while (record.Length > 0 && record[^1] is (byte)'\n' or (byte)'\r') record = record[..^1];
        if (options.AllowComments && record.Length > 0 && record[0] == (byte)'#') return null;
        // As Flink's csv (Jackson), bytes that are not UTF-8 make the record unreadable, not a field null.
        if (!System.Text.Unicode.Utf8.IsValid(record))
        {
            int bad = JsonRowDecoder.InvalidUtf8At(record);
            throw new RecordFormatException($"invalid UTF-8 at byte {bad} (0x{record[bad]:x2})");
        }
        int count = Split(record);
        if (count != columns.Length)
            throw new RecordFormatException($"expected {columns.Length} csv fields, got {count}");
        var values = new object?[columns.Length];
        for (int i = 0; i < columns.Length; i++)
        {
            var field = record.Slice(starts[i], lengths[i]);
            try
            {
                values[i] = Value(field, escaped[i], columns[i]);
            }
            catch (RecordFormatException) when (options.IgnoreParseErrors)
            {
                values[i] = null;
            }
        }
        return values;
    }

    /// <summary>Finds the fields (quotes removed from the bounds); returns how many there are (counting past the schema's).</summary>
    private int Split(ReadOnlySpan<byte> record)
    {
        byte delimiter = options.FieldDelimiter;
        int quote = options.QuoteCharacter ?? -1;
        int escape = options.EscapeCharacter ?? -1;
        int count = 0;
        int pos = 0;
        while (true)
        {
            int start, length;
            bool needsUnescape = false;
            if (pos < record.Length && record[pos] == quote)
            {
                start = ++pos;
                while (true)
                {
                    if (pos >= record.Length) throw new RecordFormatException($"csv field {count + 1}: a quote is not closed");
                    byte b = record[pos];
                    if (b == escape && pos + 1 < record.Length)
                    {
                        needsUnescape = true;
                        pos += 2;
                        continue;
                    }
                    if (b == quote)
                    {
                        if (pos + 1 < record.Length && record[pos + 1] == quote)
                        {
                            needsUnescape = true;
                            pos += 2;
                            continue;
                        }
                        break;
                    }
                    pos++;
                }
                length = pos - start;
                pos++; // the closing quote
                if (pos < record.Length && record[pos] != delimiter)
                    throw new RecordFormatException($"csv field {count + 1}: text after the closing quote");
            }
            else
            {
                start = pos;
                while (pos < record.Length && record[pos] != delimiter)
                {
                    if (record[pos] == escape && pos + 1 < record.Length)
                    {
                        needsUnescape = true;
                        pos++;
                    }
                    pos++;
                }
                length = pos - start;
            }
            if (count < columns.Length)
            {
                starts[count] = start;
                lengths[count] = length;
                escaped[count] = needsUnescape;
            }
            count++;
            if (pos >= record.Length) return count;
            pos++; // the delimiter
        }
    }

    private object? Value(ReadOnlySpan<byte> field, bool needsUnescape, Column column)
    {
        var type = column.Type;
        if (nullLiteral is not null && field.SequenceEqual(nullLiteral)) return null;
        bool text = type.Kind is TypeKind.String or TypeKind.Char;
        if (field.Length == 0 && !text) return null;
        if (needsUnescape) return TextValues.Parse(Unescape(field), type, column.Name, options.ArrayElementDelimiter);
        var trimmed = field.Trim((byte)' ');
        switch (type.Kind)
        {
            case TypeKind.String or TypeKind.Char:
                return Encoding.UTF8.GetString(field);
            case TypeKind.Binary:
                // As Flink's csv: BYTES are base64.
                var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(trimmed.Length)];
                if (Base64.DecodeFromUtf8(trimmed, bytes, out _, out int written) == System.Buffers.OperationStatus.Done) return bytes.AsSpan(0, written).ToArray();
                break;
            case TypeKind.Boolean:
                if (Utf8Parser.TryParse(trimmed, out bool b, out int used) && used == trimmed.Length) return b;
                break;
            case TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt:
                if (Utf8Parser.TryParse(trimmed, out long l, out int usedL) && usedL == trimmed.Length)
                {
                    object? fits = type.Kind switch
                    {
                        // Boxed arm by arm: a switch of numeric arms would widen them all to long.
                        TypeKind.TinyInt when l is >= sbyte.MinValue and <= sbyte.MaxValue => (object)(sbyte)l,
                        TypeKind.SmallInt when l is >= short.MinValue and <= short.MaxValue => (short)l,
                        TypeKind.Int when l is >= int.MinValue and <= int.MaxValue => (int)l,
                        TypeKind.BigInt => l,
                        _ => null,
                    };
                    if (fits is not null) return fits;
                    throw new RecordFormatException($"column '{column.Name}': {l} is out of the range of {type}");
                }
                break;
            case TypeKind.Float:
                if (Utf8Parser.TryParse(trimmed, out float f, out int usedF) && usedF == trimmed.Length) return f;
                break;
            case TypeKind.Double:
                if (Utf8Parser.TryParse(trimmed, out double d, out int usedD) && usedD == trimmed.Length) return d;
                break;
            default:
                return TextValues.Parse(Encoding.UTF8.GetString(field), type, column.Name, options.ArrayElementDelimiter);
        }
        string shown = Encoding.UTF8.GetString(field);
        if (shown.Length > 60) shown = shown[..57] + "...";
        throw new RecordFormatException($"column '{column.Name}': expected {type}, got '{shown}'");
    }

    private string Unescape(ReadOnlySpan<byte> field)
    {
        int quote = options.QuoteCharacter ?? -1;
        int escape = options.EscapeCharacter ?? -1;
        var buffer = new byte[field.Length];
        int n = 0;
        for (int i = 0; i < field.Length; i++)
        {
            byte b = field[i];
            if ((b == escape || (b == quote && i + 1 < field.Length && field[i + 1] == quote)) && i + 1 < field.Length) b = field[++i];
            buffer[n++] = b;
        }
        return Encoding.UTF8.GetString(buffer, 0, n);
    }
}
