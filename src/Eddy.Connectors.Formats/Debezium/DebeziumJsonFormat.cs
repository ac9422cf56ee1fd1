using System.Text.Json;

namespace Eddy.Connectors.Formats.Debezium;

/// <summary>
/// Flink's <c>debezium-json</c>: a Debezium change event (<c>before</c>, <c>after</c>, <c>op</c>, <c>source</c>,
/// <c>ts_ms</c>, optionally wrapped in <c>{"schema": ..., "payload": ...}</c>) as a changelog: <c>c</c> and <c>r</c>
/// give +I of <c>after</c>, <c>u</c> gives -U of <c>before</c> and +U of <c>after</c>, <c>d</c> gives -D of
/// <c>before</c>; a tombstone (empty message) gives nothing. Writing: see <see cref="ChangelogJsonEncoder"/>.
/// </summary>
public sealed class DebeziumJsonFormat : IWritableValueFormat
{
    public string Name => "debezium-json";

    public bool IsChangelog => true;

    public IReadOnlyCollection<string> Options { get; } =
    [
        "debezium-json.schema-include", "debezium-json.ignore-parse-errors", "debezium-json.timestamp-format.standard",
        "debezium-json.map-null-key.mode", "debezium-json.map-null-key.literal", "debezium-json.encode.decimal-as-plain-number",
        "debezium-json.encode.ignore-null-fields",
    ];

    public IReadOnlyDictionary<string, DataType> Metadata { get; } = new Dictionary<string, DataType>
    {
        ["schema"] = DataType.String,
        ["ingestion-timestamp"] = DataType.TimestampLtz3,
        ["source.timestamp"] = DataType.TimestampLtz3,
        ["source.database"] = DataType.String,
        ["source.schema"] = DataType.String,
        ["source.table"] = DataType.String,
        ["source.properties"] = DataType.MapOf(DataType.String, DataType.String),
    };

    public MessageDecoder CreateDecoder(FormatContext context)
    {
        ChangelogJson.CheckJsonOptions(context, "debezium-json");
        return new DebeziumJsonDecoder(context.Physical, context.Metadata, context.Flag("debezium-json.schema-include"))
        {
            IgnoreParseErrors = context.Flag("debezium-json.ignore-parse-errors"),
        };
    }

    public bool WritesChangelog => true;

    public MessageEncoder CreateEncoder(FormatContext context, IReadOnlyList<int> positions) =>
        new ChangelogJsonEncoder(ChangelogEnvelope.Debezium, context.Physical.Columns, positions, JsonEncodingOf(context));

    public void ValidateForWriting(FormatContext context) => JsonEncodingOf(context);

    private JsonEncoding JsonEncodingOf(FormatContext context)
    {
        // Flink writes no schema block: 'schema-include' = 'true' is refused for a sink, as Flink refuses it.
        if (context.Flag("debezium-json.schema-include"))
            throw new FormatOptionException(context.OptionKey("debezium-json.schema-include"),
                "Debezium JSON serialization does not support 'debezium-json.schema-include' = 'true' (Flink writes no schema block)");
        ChangelogJsonEncoder.CheckWritable(context.Physical.Columns, Name);
        return JsonEncoding.From(context, Name);
    }
}

/// <summary>The options every changelog JSON format shares with Flink's json format.</summary>
internal static class ChangelogJson
{
    public static void CheckJsonOptions(FormatContext context, string format)
    {
        string? standard = context.Option(format + ".timestamp-format.standard");
        if (standard is not null and not ("SQL" or "ISO-8601"))
            throw new FormatOptionException(context.OptionKey(format + ".timestamp-format.standard"), $"'{standard}' is not one of SQL, ISO-8601");
        string? mode = context.Option(format + ".map-null-key.mode");
        if (mode is not null and not ("FAIL" or "DROP" or "LITERAL"))
            throw new FormatOptionException(context.OptionKey(format + ".map-null-key.mode"), $"'{mode}' is not one of FAIL, DROP, LITERAL");
        context.Flag(format + ".encode.decimal-as-plain-number");
        context.Flag(format + ".encode.ignore-null-fields");
    }

    /// <summary>
    /// A row of the physical columns decoded from <paramref name="values"/>, with the metadata values after them.
    /// </summary>
    public static Row WithMetadata(Row values, RowKind kind, object?[]? metadata)
    {
        if (metadata is null)
        {
            values.Kind = kind;
            return values;
        }
        var fields = new object?[values.Arity + metadata.Length];
        values.Fields.CopyTo(fields);
        metadata.CopyTo(fields, values.Arity);
        return new Row(kind, fields);
    }
}

internal sealed class DebeziumJsonDecoder : MessageDecoder
{
    private enum Meta { Schema, IngestionTimestamp, SourceTimestamp, SourceDatabase, SourceSchema, SourceTable, SourceProperties }

    private static readonly string ReplicaIdentity =
        "the \"before\" field of {0} message is null; if you are using Debezium's Postgres connector, check that the table's REPLICA IDENTITY is FULL";

    private readonly JsonRowDecoder rows;
    private readonly Meta[] metadata;
    private readonly bool schemaInclude;
    private readonly bool needsSource;

    public DebeziumJsonDecoder(Schema physical, IReadOnlyList<string> metadataKeys, bool schemaInclude)
    {
        rows = new JsonRowDecoder(physical);
        this.schemaInclude = schemaInclude;
        metadata = [.. metadataKeys.Select(k => k switch
        {
            "schema" => Meta.Schema,
            "ingestion-timestamp" => Meta.IngestionTimestamp,
            "source.timestamp" => Meta.SourceTimestamp,
            "source.database" => Meta.SourceDatabase,
            "source.schema" => Meta.SourceSchema,
            "source.table" => Meta.SourceTable,
            "source.properties" => Meta.SourceProperties,
            _ => throw new FormatOptionException("format", $"debezium-json has no metadata '{k}'"),
        })];
        needsSource = metadata.Any(m => m >= Meta.SourceTimestamp);
    }

    public override void Decode(byte[] message, List<Row> output)
    {
        // A tombstone (Debezium writes one after a delete, for log compaction) has no row.
        if (message.Length == 0) return;
        try
        {
            DecodeEnvelope(message, output);
        }
        catch (JsonException e)
        {
            throw Corrupt(message, $"invalid JSON: {e.Message}");
        }
        catch (RecordFormatException e)
        {
            throw Corrupt(message, e.Message);
        }
        catch (InvalidOperationException e)
        {
            throw Corrupt(message, e.Message);
        }
    }

    private static RecordFormatException Corrupt(ReadOnlySpan<byte> message, string problem) =>
        new($"corrupt Debezium JSON message ({problem}): '{JsonEnvelope.Quote(message)}'");

    private void DecodeEnvelope(ReadOnlySpan<byte> json, List<Row> output)
    {
        var reader = new Utf8JsonReader(json);
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) throw new RecordFormatException("expected a JSON object");
        JsonEnvelope.Span payload = default, schema = default, before = default, after = default, source = default;
        string? op = null;
        long? tsMs = null;
        bool sawPayload = false;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("schema"u8))
            {
                reader.Read();
                schema = JsonEnvelope.Take(ref reader);
                continue;
            }
            if (schemaInclude)
            {
                bool isPayload = reader.ValueTextEquals("payload"u8);
                reader.Read();
                if (isPayload)
                {
                    sawPayload = true;
                    payload = JsonEnvelope.Take(ref reader);
                }
                else reader.Skip();
                continue;
            }
            if (reader.ValueTextEquals("payload"u8)) sawPayload = true;
            ReadPayloadField(ref reader, json, ref before, ref after, ref source, ref op, ref tsMs);
        }
        if (schemaInclude)
        {
            if (!payload.IsPresent)
                throw new RecordFormatException("no \"payload\" object, although 'debezium-json.schema-include' is true");
            var inner = new Utf8JsonReader(payload.Of(json));
            inner.Read();
            if (inner.TokenType != JsonTokenType.StartObject) throw new RecordFormatException("\"payload\" is not an object");
            var payloadJson = payload.Of(json);
            while (inner.Read() && inner.TokenType == JsonTokenType.PropertyName)
                ReadPayloadField(ref inner, payloadJson, ref before, ref after, ref source, ref op, ref tsMs);
            // Spans inside the payload are relative to it.
            before = Shift(before, payload.Start);
            after = Shift(after, payload.Start);
            source = Shift(source, payload.Start);
        }
        if (op is null)
        {
            throw new RecordFormatException(sawPayload && !schemaInclude
                ? "no \"op\" field; the message has a \"payload\": set 'debezium-json.schema-include' = 'true' for messages with their schema"
                : "no \"op\" field");
        }
        object?[]? meta = metadata.Length == 0 ? null : Metadata(json, schema, source, tsMs);
        switch (op)
        {
            case "c" or "r":
                if (!after.IsPresent) throw new RecordFormatException($"\"after\" is null in a \"{op}\" message");
                output.Add(ChangelogJson.WithMetadata(rows.Decode(after.Of(json)), RowKind.Insert, meta));
                break;
            case "u":
                if (!before.IsPresent) throw new RecordFormatException(string.Format(System.Globalization.CultureInfo.InvariantCulture, ReplicaIdentity, "an UPDATE"));
                if (!after.IsPresent) throw new RecordFormatException("\"after\" is null in a \"u\" message");
                output.Add(ChangelogJson.WithMetadata(rows.Decode(before.Of(json)), RowKind.UpdateBefore, meta));
                output.Add(ChangelogJson.WithMetadata(rows.Decode(after.Of(json)), RowKind.UpdateAfter, meta is null ? null : (object?[])meta.Clone()));
                break;
            case "d":
                if (!before.IsPresent) throw new RecordFormatException(string.Format(System.Globalization.CultureInfo.InvariantCulture, ReplicaIdentity, "a DELETE"));
                output.Add(ChangelogJson.WithMetadata(rows.Decode(before.Of(json)), RowKind.Delete, meta));
                break;
            default:
                throw new RecordFormatException($"unknown \"op\" value \"{op}\"");
        }
    }

    private static JsonEnvelope.Span Shift(JsonEnvelope.Span span, int by) => span.IsPresent ? span with { Start = span.Start + by } : span;

    private void ReadPayloadField(ref Utf8JsonReader reader, ReadOnlySpan<byte> json,
        ref JsonEnvelope.Span before, ref JsonEnvelope.Span after, ref JsonEnvelope.Span source, ref string? op, ref long? tsMs)
    {
        if (reader.ValueTextEquals("before"u8))
        {
            reader.Read();
            before = JsonEnvelope.Take(ref reader);
        }
        else if (reader.ValueTextEquals("after"u8))
        {
            reader.Read();
            after = JsonEnvelope.Take(ref reader);
        }
        else if (reader.ValueTextEquals("op"u8))
        {
            reader.Read();
            op = JsonEnvelope.Text(ref reader, json);
        }
        else if (needsSource && reader.ValueTextEquals("source"u8))
        {
            reader.Read();
            source = JsonEnvelope.Take(ref reader);
            if (source.IsPresent && json[source.Start] != (byte)'{') throw new RecordFormatException("\"source\" is not an object");
        }
        else if (metadata.Length > 0 && reader.ValueTextEquals("ts_ms"u8))
        {
            reader.Read();
            tsMs = JsonEnvelope.Int64(ref reader, "ts_ms");
        }
        else
        {
            reader.Read();
            reader.Skip();
        }
        if (before.IsPresent && json[before.Start] != (byte)'{') throw new RecordFormatException("\"before\" is not an object");
        if (after.IsPresent && json[after.Start] != (byte)'{') throw new RecordFormatException("\"after\" is not an object");
    }

    private object?[] Metadata(ReadOnlySpan<byte> json, JsonEnvelope.Span schema, JsonEnvelope.Span source, long? tsMs)
    {
        Dictionary<object, object?>? sourceMap = needsSource && source.IsPresent ? JsonEnvelope.StringMap(json, source) : null;
        var values = new object?[metadata.Length];
        for (int i = 0; i < metadata.Length; i++)
        {
            values[i] = metadata[i] switch
            {
                Meta.Schema => schema.IsPresent ? System.Text.Encoding.UTF8.GetString(schema.Of(json)) : null,
                Meta.IngestionTimestamp => tsMs is { } t ? DateTimeOffset.FromUnixTimeMilliseconds(t) : null,
                Meta.SourceTimestamp => SourceTimestamp(sourceMap),
                Meta.SourceDatabase => sourceMap?.GetValueOrDefault("db"),
                Meta.SourceSchema => sourceMap?.GetValueOrDefault("schema"),
                Meta.SourceTable => sourceMap?.GetValueOrDefault("table"),
                Meta.SourceProperties => sourceMap is null ? null : new Dictionary<object, object?>(sourceMap),
                _ => null,
            };
        }
        return values;
    }

    private static DateTimeOffset? SourceTimestamp(Dictionary<object, object?>? source)
    {
        if (source?.GetValueOrDefault("ts_ms") is not string text) return null;
        return long.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out long ms)
            ? DateTimeOffset.FromUnixTimeMilliseconds(ms)
            : throw new RecordFormatException($"\"source.ts_ms\" is not a number: '{text}'");
    }
}
