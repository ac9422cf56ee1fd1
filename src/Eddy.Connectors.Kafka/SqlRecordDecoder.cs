using System.Text;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Connectors.Formats;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// A Kafka record into a SQL row: physical columns from the value (<c>json</c>, <c>csv</c> or <c>raw</c>) and, with
/// <c>key.format</c> + <c>key.fields</c>, from the key; metadata columns from the record. A record that cannot be
/// decoded throws <see cref="FormatException"/> (the source reader applies the bad-record mode); a tombstone has no row.
/// </summary>
internal sealed class SqlRecordDecoder
{
    private enum Slot { Value, Key, Topic, Partition, Offset, Timestamp, KeyBytes, Headers, FormatMetadata }

    private enum Format { Json, Csv, Raw, Registered }

    private readonly (Slot Slot, int Index, DataType Type)[] slots;
    private readonly Format valueFormat;
    private readonly JsonRowDecoder? valueJson;
    private readonly CsvRecordDecoder? valueCsv;
    private readonly DataType? rawValueType;
    /// <summary>A format of the registry (<see cref="ValueFormats"/>): its decoder gives the value columns, then the format's metadata.</summary>
    private readonly MessageDecoder? valueDecoder;
    private readonly IValueFormat? registeredFormat;
    private readonly FormatContext? formatContext;
    private readonly int valueColumnCount;
    private readonly Format keyFormat;
    /// <summary>The key's columns from its bytes (key.format json or avro); null for raw or no key.</summary>
    private readonly Func<byte[], Row>? keyRows;
    private readonly DataType? rawKeyType;
    private readonly bool decodesKey;
    /// <summary>Every column comes from the JSON value in order: the value's row is the record's row (no second row per record).</summary>
    private readonly bool valueRowIsRow;

    /// <summary>Every column comes from the JSON value, in order: a typed decoder can read the value into the row struct.</summary>
    public bool ValueIsWholeRow => valueRowIsRow && valueFormat == Format.Json;

    /// <summary><c>json.fail-on-missing-field</c> of the value.</summary>
    public bool FailOnMissingValueField { get; }

    /// <summary>Whether the table asks to skip records that cannot be decoded (<c>json.ignore-parse-errors</c>, <c>csv.ignore-parse-errors</c>).</summary>
    public bool IgnoreParseErrors { get; }

    /// <summary>The value format gives a changelog (+I, -U/+U, -D; debezium-json): read through <see cref="DecodeAll"/>.</summary>
    public bool IsChangelog { get; }

    /// <summary>The value's format of the registry, if it is one (null: json, csv, raw).</summary>
    public static IValueFormat? RegisteredFormat(TableDef table)
    {
        var o = table.Options;
        string? name = o.GetValueOrDefault("value.format") ?? o.GetValueOrDefault("format");
        return name is null ? null : ValueFormats.Find(name);
    }

    /// <param name="options">the table's options as the kafka schema validated them.</param>
    public SqlRecordDecoder(TableDef table, ConnectorOptions options, Schema decoded, Func<string, Type?>? findType = null)
    {
        var o = table.Options;
        string formatKey = options.Has(KafkaOptions.ValueFormat) ? "value.format" : "format";
        if (options.Has(KafkaOptions.ValueFormat) && options.Has(KafkaOptions.Format))
            throw new ConnectorOptionException(table.Name, "format", "'format' and 'value.format' exclude each other");
        string formatText = (options.FindString(KafkaOptions.ValueFormat) ?? options.FindString(KafkaOptions.Format)) is { } f && !string.IsNullOrWhiteSpace(f)
            ? f : throw new ConnectorOptionException(table.Name, "format", "required (or 'value.format')");
        var registered = ValueFormats.Find(formatText);
        valueFormat = formatText switch
        {
            "json" => Format.Json,
            "csv" => Format.Csv,
            "raw" => Format.Raw,
            _ when registered is not null => Format.Registered,
            _ => throw new ConnectorOptionException(table.Name, formatKey,
                $"'{formatText}' is not supported{SqlErrors.Suggest(formatText, ValueFormats.Names.Prepend("raw").Prepend("csv").Prepend("json"))}; one of json, csv, raw, {string.Join(", ", ValueFormats.Names)}"),
        };
        IsChangelog = registered?.IsChangelog == true;
        foreach (var key in o.Keys)
        {
            // A format's options belong to that format only (Flink: an option of another format is unknown).
            string bare = key.StartsWith("value.", StringComparison.Ordinal) ? key["value.".Length..] : key;
            if (ValueFormats.AllOptions.Contains(bare) && registered?.Options.Contains(bare) != true
                || registered is not null && !key.StartsWith("key.", StringComparison.Ordinal) && (bare.StartsWith("json.", StringComparison.Ordinal) || bare.StartsWith("csv.", StringComparison.Ordinal)))
                throw new ConnectorOptionException(table.Name, key, $"is an option of another format than '{formatText}'");
        }
        // With 'value.format' Flink prefixes the format's options with 'value.'; both spellings are read.
        string Opt(string name) => o.ContainsKey("value." + name) ? "value." + name : name;

        string[] keyFields = options.FindString(KafkaOptions.KeyFields)?.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];
        bool exceptKey = options.Get(KafkaOptions.ValueFieldsInclude) == "EXCEPT_KEY";
        if (options.FindString(KafkaOptions.KeyFormat) is { } keyFormatText)
        {
            if (keyFields.Length == 0) throw new ConnectorOptionException(table.Name, "key.fields", "required with 'key.format'");
            keyFormat = keyFormatText switch
            {
                "json" => Format.Json,
                "raw" => Format.Raw,
                _ => Format.Registered,
            };
        }
        else if (keyFields.Length > 0) throw new ConnectorOptionException(table.Name, "key.format", "required with 'key.fields'");
        else if (exceptKey) throw new ConnectorOptionException(table.Name, "value.fields-include", "'EXCEPT_KEY' needs 'key.format' and 'key.fields'");
        foreach (var k in keyFields)
        {
            var column = table.Columns.FirstOrDefault(c => c.Name == k);
            if (column is null || !column.IsPhysical) throw new ConnectorOptionException(table.Name, "key.fields", $"'{k}' is not a physical column of the table");
        }
        // With ALL the value holds every physical column (the key columns included), as Flink reads it.
        decodesKey = exceptKey;

        var valueColumns = new List<Column>();
        var keyColumns = new List<Column>();
        var formatMetadata = new List<string>();
        slots = new (Slot, int, DataType)[decoded.Count];
        for (int i = 0; i < decoded.Count; i++)
        {
            var column = decoded[i];
            string? metadata = table.Columns.FirstOrDefault(c => c.Name == column.Name)?.MetadataKey;
            var slot = metadata switch
            {
                null when decodesKey && keyFields.Contains(column.Name) => Slot.Key,
                null => Slot.Value,
                "topic" => Slot.Topic,
                "partition" => Slot.Partition,
                "offset" => Slot.Offset,
                "timestamp" => Slot.Timestamp,
                "key" => Slot.KeyBytes,
                "headers" => Slot.Headers,
                _ when metadata.StartsWith("value.", StringComparison.Ordinal) && registered?.Metadata.ContainsKey(metadata["value.".Length..]) == true => Slot.FormatMetadata,
                _ when metadata.StartsWith("value.", StringComparison.Ordinal) => throw new ConnectorOptionException(table.Name, "format",
                    $"format '{formatText}' has no metadata '{metadata["value.".Length..]}' (column '{column.Name}')"
                    + (registered is { Metadata.Count: > 0 } ? $"; it offers {string.Join(", ", registered.Metadata.Keys.Select(k => "value." + k))}" : "")),
                _ => throw new ConnectorOptionException(table.Name, "connector", $"kafka has no metadata '{metadata}'"),
            };
            var type = column.Type;
            bool fits = slot switch
            {
                Slot.Topic => type.Kind is TypeKind.String,
                Slot.Partition => type.Kind is TypeKind.Int or TypeKind.BigInt,
                Slot.Offset => type.Kind is TypeKind.BigInt,
                Slot.Timestamp => type.Kind is TypeKind.TimestampLtz or TypeKind.Timestamp,
                Slot.KeyBytes => type.Kind is TypeKind.Binary,
                Slot.Headers => type.Kind is TypeKind.Map && type.Element!.Kind is TypeKind.String && type.Value!.Kind is TypeKind.Binary,
                Slot.FormatMetadata => FitsFormatMetadata(registered!.Metadata[metadata!["value.".Length..]], type),
                _ => true,
            };
            if (!fits && slot == Slot.FormatMetadata)
                throw new ConnectorOptionException(table.Name, "format",
                    $"metadata column '{column.Name}' ({metadata}) cannot be {type}; Flink's type: {registered!.Metadata[metadata!["value.".Length..]]}");
            if (!fits)
                throw new ConnectorOptionException(table.Name, "connector",
                    $"metadata column '{column.Name}' ({metadata}) cannot be {type}; Flink's types: topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP_LTZ(3), key BYTES, headers MAP<STRING, BYTES>");
            int index = -1;
            if (slot == Slot.Value)
            {
                index = valueColumns.Count;
                valueColumns.Add(new Column(column.Name, type));
            }
            else if (slot == Slot.Key)
            {
                index = keyColumns.Count;
                keyColumns.Add(new Column(column.Name, type));
            }
            else if (slot == Slot.FormatMetadata)
            {
                index = formatMetadata.Count;
                formatMetadata.Add(metadata!["value.".Length..]);
            }
            slots[i] = (slot, index, type);
        }
        valueColumnCount = valueColumns.Count;
        for (int i = 0; i < slots.Length; i++)
        {
            // The format's decoder puts its metadata after the value columns.
            if (slots[i].Slot == Slot.FormatMetadata) slots[i] = slots[i] with { Index = valueColumnCount + slots[i].Index };
        }

        switch (valueFormat)
        {
            case Format.Json:
                FailOnMissingValueField = KafkaTableConnector.Flag(table, Opt("json.fail-on-missing-field"));
                valueJson = new JsonRowDecoder(new Schema([.. valueColumns]), FailOnMissingValueField);
                IgnoreParseErrors = KafkaTableConnector.Flag(table, Opt("json.ignore-parse-errors"));
                break;
            case Format.Csv:
                var csv = CsvOptions(table, Opt);
                valueCsv = new CsvRecordDecoder(new Schema([.. valueColumns]), csv);
                IgnoreParseErrors = csv.IgnoreParseErrors;
                break;
            case Format.Raw:
                if (valueColumns.Count != 1 || valueColumns[0].Type.Kind is not (TypeKind.String or TypeKind.Binary))
                    throw new ConnectorOptionException(table.Name, formatKey, $"'raw' reads the value into exactly one STRING or BYTES column; the table has {valueColumns.Count} value columns");
                rawValueType = valueColumns[0].Type;
                break;
            case Format.Registered:
                var context = new FormatContext(table.Name, new Schema([.. valueColumns]), formatMetadata, name => o.GetValueOrDefault(Opt(name)), findType ?? (_ => null))
                {
                    OptionKey = Opt,
                };
                registeredFormat = registered;
                formatContext = context;
                try
                {
                    valueDecoder = registered!.CreateDecoder(context);
                }
                catch (FormatOptionException e)
                {
                    throw new ConnectorOptionException(table.Name, e.Option, e.Message);
                }
                IgnoreParseErrors = valueDecoder.IgnoreParseErrors;
                break;
        }
        valueRowIsRow = (valueFormat is Format.Json or Format.Registered) && slots.Select((x, i) => x.Slot == Slot.Value && x.Index == i).All(b => b);
        if (decodesKey && keyColumns.Count > 0)
        {
            if (keyFormat == Format.Json) { var json = new JsonRowDecoder(new Schema([.. keyColumns]), KafkaTableConnector.Flag(table, "key.json.fail-on-missing-field")); keyRows = bytes => json.Decode(bytes); }
            else if (keyFormat == Format.Registered) keyRows = AvroKey.Decoder(table, new Schema([.. keyColumns])).DecodeRow;
            else if (keyColumns.Count != 1 || keyColumns[0].Type.Kind is not (TypeKind.String or TypeKind.Binary))
                throw new ConnectorOptionException(table.Name, "key.format", "'raw' reads the key into exactly one STRING or BYTES column");
            else rawKeyType = keyColumns[0].Type;
        }
    }

    private static CsvFormatOptions CsvOptions(TableDef table, Func<string, string> opt)
    {
        var o = table.Options;
        byte Char(string name, byte fallback)
        {
            string key = opt(name);
            if (!o.TryGetValue(key, out var text)) return fallback;
            // Flink writes a tab as '\t'.
            if (text == "\\t") return (byte)'\t';
            return text.Length == 1 && text[0] < 128 ? (byte)text[0] : throw new ConnectorOptionException(table.Name, key, $"expected one ASCII character, got '{text}'");
        }
        var options = new CsvFormatOptions
        {
            FieldDelimiter = Char("csv.field-delimiter", (byte)','),
            QuoteCharacter = KafkaTableConnector.Flag(table, opt("csv.disable-quote-character")) ? null : Char("csv.quote-character", (byte)'"'),
            AllowComments = KafkaTableConnector.Flag(table, opt("csv.allow-comments")),
            IgnoreParseErrors = KafkaTableConnector.Flag(table, opt("csv.ignore-parse-errors")),
            ArrayElementDelimiter = (char)Char("csv.array-element-delimiter", (byte)';'),
            EscapeCharacter = o.ContainsKey(opt("csv.escape-character")) ? Char("csv.escape-character", 0) : null,
            NullLiteral = o.GetValueOrDefault(opt("csv.null-literal")),
        };
        if (options.FieldDelimiter == options.QuoteCharacter)
            throw new ConnectorOptionException(table.Name, opt("csv.field-delimiter"), "must differ from the quote character");
        return options;
    }

    public bool Decode(in KafkaMessage m, out Row row)
    {
        // A tombstone (no value) has no row: Flink's formats skip it too.
        if (m.Value is null)
        {
            row = null!;
            return false;
        }
        object?[]? values = null;
        Row? jsonValues = null;
        object? raw = null;
        switch (valueFormat)
        {
            case Format.Json:
                jsonValues = valueJson!.Decode(m.Value);
                if (valueRowIsRow)
                {
                    row = jsonValues;
                    return true;
                }
                break;
            case Format.Csv:
                values = valueCsv!.Decode(m.Value);
                if (values is null)
                {
                    row = null!;
                    return false;
                }
                break;
            case Format.Registered:
                jsonValues = valueDecoder!.DecodeRow(m.Value);
                break;
            default:
                raw = rawValueType!.Kind == TypeKind.String ? Encoding.UTF8.GetString(m.Value) : m.Value;
                break;
        }
        row = Assemble(m, values, jsonValues, raw, RowKind.Insert);
        return true;
    }

    /// <summary>
    /// A record of a changelog format into its rows (none for a tombstone or a message the format leaves out), each
    /// with its kind, the key and record metadata columns filled as for <see cref="Decode"/>.
    /// </summary>
    /// <summary>
    /// A decoder straight into the row struct, when every column comes from the value in order and its format can
    /// (protobuf); otherwise null.
    /// </summary>
    public StructDecoder<T>? CreateStructDecoder<T>() where T : struct =>
        valueRowIsRow && registeredFormat is IStructFormat structs && !IsChangelog ? structs.CreateStructDecoder<T>(formatContext!) : null;

    public void DecodeAll(in KafkaMessage m, List<Row> output)
    {
        if (m.Value is null) return;
        int first = output.Count;
        valueDecoder!.Decode(m.Value, output);
        for (int i = first; i < output.Count; i++)
        {
            var values = output[i];
            output[i] = Assemble(m, null, values, null, values.Kind);
        }
    }

    private Row Assemble(in KafkaMessage m, object?[]? values, Row? jsonValues, object? raw, RowKind kind)
    {
        if (valueRowIsRow && jsonValues is not null) return jsonValues;
        Row? keyValues = null;
        object? rawKey = null;
        if (keyRows is not null)
        {
            if (m.Key is not null)
            {
                try
                {
                    keyValues = keyRows(m.Key);
                }
                catch (FormatException e)
                {
                    throw new FormatException($"key: {e.Message}", e);
                }
            }
        }
        else if (rawKeyType is not null && m.Key is not null) rawKey = rawKeyType.Kind == TypeKind.String ? Encoding.UTF8.GetString(m.Key) : m.Key;

        var fields = new object?[slots.Length];
        for (int i = 0; i < slots.Length; i++)
        {
            var (slot, index, type) = slots[i];
            fields[i] = slot switch
            {
                Slot.Value => jsonValues is not null ? jsonValues[index] : values is not null ? values[index] : raw,
                Slot.Key => keyRows is not null ? keyValues?[index] : rawKey,
                Slot.Topic => m.Topic,
                Slot.Partition => type.Kind == TypeKind.Int ? (object)m.Partition : (long)m.Partition,
                Slot.Offset => m.Offset,
                Slot.Timestamp when m.Timestamp == EventTime.None => null,
                Slot.Timestamp => type.Kind == TypeKind.TimestampLtz
                    ? DateTimeOffset.FromUnixTimeMilliseconds(m.Timestamp)
                    : DateTime.SpecifyKind(DateTimeOffset.FromUnixTimeMilliseconds(m.Timestamp).UtcDateTime, DateTimeKind.Unspecified),
                Slot.KeyBytes => m.Key,
                Slot.Headers => Headers(m),
                Slot.FormatMetadata => type.Kind == TypeKind.Timestamp && jsonValues![index] is DateTimeOffset t
                    ? DateTime.SpecifyKind(t.UtcDateTime, DateTimeKind.Unspecified) : jsonValues![index],
                _ => null,
            };
        }
        return new Row(kind, fields);
    }

    /// <summary>A format's metadata column may be declared as Flink's type, or TIMESTAMP(3) for a TIMESTAMP_LTZ(3) (as UTC).</summary>
    private static bool FitsFormatMetadata(DataType flink, DataType declared) => flink.Kind switch
    {
        TypeKind.TimestampLtz => declared.Kind is TypeKind.TimestampLtz or TypeKind.Timestamp,
        TypeKind.Map => declared.Kind == TypeKind.Map && declared.Element!.Kind == flink.Element!.Kind && declared.Value!.Kind == flink.Value!.Kind,
        TypeKind.Array => declared.Kind == TypeKind.Array && declared.Element!.Kind == flink.Element!.Kind,
        _ => declared.Kind == flink.Kind,
    };

    private static Dictionary<object, object?> Headers(in KafkaMessage m)
    {
        var map = new Dictionary<object, object?>();
        if (m.Headers is null) return map;
        // A repeated header name keeps its last value (a map has one value per key).
        foreach (var h in m.Headers) map[h.Key] = h.GetValueBytes();
        return map;
    }
}
