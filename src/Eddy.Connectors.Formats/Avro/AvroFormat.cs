using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// Flink's <c>avro</c> format: each message is one record in Avro's binary encoding, with the schema derived from the
/// table's columns (<see cref="AvroSchemaDerivation"/>), read and written without any schema in the message. Options:
/// <c>avro.timestamp_mapping.legacy</c> (default true, as Flink). <c>avro.encoding</c> = json and <c>avro.codec</c>
/// (container files of the filesystem connector) are refused.
/// </summary>
public sealed class AvroFormat : IWritableValueFormat, IStructFormat
{
    public const string LegacyTimestampOption = "avro.timestamp_mapping.legacy";

    public string Name => "avro";

    public bool IsChangelog => false;

    public IReadOnlyCollection<string> Options { get; } = [LegacyTimestampOption, "avro.encoding", "avro.codec"];

    public IReadOnlyDictionary<string, DataType> Metadata { get; } = new Dictionary<string, DataType>();

    public MessageDecoder CreateDecoder(FormatContext context)
    {
        var (schema, _) = Derive(context);
        return new AvroMessageDecoder(AvroReadPlan.Build(schema, context.Physical.Columns));
    }

    /// <summary>Straight into the row struct (<see cref="AvroStructReader{T}"/>).</summary>
    public StructDecoder<T>? CreateStructDecoder<T>(FormatContext context) where T : struct =>
        new AvroStructDecoder<T>(AvroReadPlan.Build(Derive(context).Schema, context.Physical.Columns));

    public MessageEncoder CreateEncoder(FormatContext context, IReadOnlyList<int> positions)
    {
        Derive(context);
        return new AvroMessageEncoder(new AvroRowWriter(context.Physical.Columns, positions));
    }

    public void ValidateForWriting(FormatContext context) => Derive(context);

    /// <summary>The schema of the table's columns, parsed, and as JSON; refuses what Eddy does not implement.</summary>
    internal static (AvroSchema Schema, string Json) Derive(FormatContext context)
    {
        if (context.Metadata.Count > 0) throw new FormatOptionException("format", "avro has no metadata");
        string? encoding = context.Option("avro.encoding");
        if (encoding is not null && !encoding.Equals("binary", StringComparison.OrdinalIgnoreCase))
            throw new FormatOptionException(context.OptionKey("avro.encoding"), $"'{encoding}' is not supported: Eddy reads and writes Avro's binary encoding only");
        if (context.Option("avro.codec") is not null)
            throw new FormatOptionException(context.OptionKey("avro.codec"), "compresses Avro container files of the filesystem connector; a Kafka message holds one record without a codec");
        bool legacy = LegacyTimestamps(context, LegacyTimestampOption);
        string json = AvroSchemaDerivation.Derive(context.Physical.Columns, legacy, context.OptionKey(LegacyTimestampOption));
        return (AvroSchema.Parse(json), json);
    }

    internal static bool LegacyTimestamps(FormatContext context, string option)
    {
        string? text = context.Option(option);
        if (text is null) return true;
        return bool.TryParse(text, out bool b) ? b : throw new FormatOptionException(context.OptionKey(option), $"expected true or false, got '{text}'");
    }
}

/// <summary>One record per message, read with the plan of the table's own schema; bytes after the record are an error.</summary>
internal sealed class AvroMessageDecoder(RecordReader plan) : MessageDecoder
{
    public override void Decode(byte[] message, List<Row> rows) => rows.Add(DecodeRow(message));

    public override Row DecodeRow(byte[] message) => Read(plan, message);

    internal static Row Read(RecordReader plan, ReadOnlySpan<byte> body)
    {
        var reader = new AvroReader(body);
        var values = new object?[plan.Width];
        plan.Read(ref reader, values);
        if (!reader.AtEnd)
            throw new FormatException($"avro: {body.Length - reader.Position} bytes follow the record (is the message in another format, e.g. Confluent's wire format?)");
        return new Row(RowKind.Insert, values);
    }
}

internal sealed class AvroMessageEncoder(AvroRowWriter rows) : MessageEncoder
{
    private readonly AvroWriter writer = new();

    public override byte[] Encode(Row row)
    {
        writer.Reset();
        rows.Write(writer, row);
        return writer.ToArray();
    }
}
