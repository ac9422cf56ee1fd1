namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// Flink's <c>debezium-avro-confluent</c>: Debezium's change events serialized by Confluent's Avro converter (the
/// wire format of <see cref="AvroConfluentFormat"/>), read as a changelog with <c>debezium-json</c>'s mapping: op
/// <c>c</c>/<c>r</c> → +I(after), <c>u</c> → -U(before), +U(after), <c>d</c> → -D(before); a tombstone has no row. The
/// envelope's writer schema comes from the registry by id; <c>before</c> and <c>after</c> are resolved against the
/// table's columns as <c>avro-confluent</c> resolves a record. Options: <c>debezium-avro-confluent.url</c> and the
/// same registry options as <c>avro-confluent</c> under this prefix; no metadata.
/// <para>
/// Writing, as Flink's <c>DebeziumAvroSerializationSchema</c>: the envelope is the record Flink derives from
/// <c>ROW(before ROW&lt;columns&gt;, after ROW&lt;columns&gt;, op STRING)</c> (all nullable, legacy timestamps),
/// registered under <c>debezium-avro-confluent.subject</c> (required; the Kafka connector defaults it to
/// <c>&lt;topic&gt;-value</c>, as Flink's does); +I and +U are written as <c>{before: null, after: row, op: "c"}</c>,
/// -U and -D as <c>{before: row, after: null, op: "d"}</c>, so an update is a delete and an insert.
/// </para>
/// </summary>
public sealed class DebeziumAvroConfluentFormat : IWritableValueFormat
{
    private const string Prefix = "debezium-avro-confluent";

    private readonly Func<RegistrySettings, ISchemaRegistry> connect;

    public DebeziumAvroConfluentFormat() : this(settings => new ConfluentSchemaRegistry(settings))
    {
    }

    internal DebeziumAvroConfluentFormat(Func<RegistrySettings, ISchemaRegistry> connect) => this.connect = connect;

    public string Name => Prefix;

    public bool IsChangelog => true;

    public IReadOnlyCollection<string> Options { get; } = AvroConfluentFormat.RegistryOptions(Prefix);

    public IReadOnlyDictionary<string, DataType> Metadata { get; } = new Dictionary<string, DataType>();

    public bool WritesChangelog => true;

    public MessageEncoder CreateEncoder(FormatContext context, IReadOnlyList<int> positions)
    {
        var (settings, subject, schema) = Writing(context);
        return new DebeziumAvroEncoder(new Lazy<ISchemaRegistry>(() => connect(settings)), subject, schema, new AvroRowWriter(context.Physical.Columns, positions));
    }

    public void ValidateForWriting(FormatContext context) => Writing(context);

    /// <summary>The registry, the subject and the envelope schema Flink registers (as JSON).</summary>
    private static (RegistrySettings Settings, string Subject, string Schema) Writing(FormatContext context)
    {
        if (context.Metadata.Count > 0) throw new FormatOptionException("format", $"{Prefix} has no metadata");
        var settings = AvroConfluentFormat.Settings(context, Prefix);
        string subject = context.Option(Prefix + ".subject") is { Length: > 0 } s
            ? s : throw new FormatOptionException(context.OptionKey(Prefix + ".subject"), "required for writing (the registry subject to register the envelope schema under)");
        var row = new DataType(TypeKind.Row, Fields: context.Physical.Columns);
        Column[] envelope = [new("before", row), new("after", row), new("op", DataType.String)];
        return (settings, subject, AvroSchemaDerivation.Derive(envelope, legacy: true, legacyOption: null));
    }

    public MessageDecoder CreateDecoder(FormatContext context)
    {
        if (context.Metadata.Count > 0) throw new FormatOptionException("format", $"{Prefix} has no metadata");
        var settings = AvroConfluentFormat.Settings(context, Prefix);
        // The part of Debezium's envelope Eddy reads, as a reader schema: the rows and the operation.
        var row = new DataType(TypeKind.Row, Fields: context.Physical.Columns);
        Column[] envelope = [new("before", row), new("after", row), new("op", DataType.String.NotNull())];
        return new DebeziumAvroDecoder(new ConfluentAvroDecoder(new Lazy<ISchemaRegistry>(() => connect(settings)), envelope));
    }
}

internal sealed class DebeziumAvroDecoder(ConfluentAvroDecoder envelopes) : MessageDecoder
{
    public override void Decode(byte[] message, List<Row> rows)
    {
        // Debezium's tombstone after a delete: nothing, as Flink.
        if (message.Length == 0) return;
        var envelope = envelopes.DecodeRow(message);
        var before = (Row?)envelope[0];
        var after = (Row?)envelope[1];
        string op = (string)envelope[2]!;
        switch (op)
        {
            case "c" or "r":
                rows.Add(WithKind(after ?? throw new FormatException($"debezium-avro-confluent: \"after\" is null in a \"{op}\" message"), RowKind.Insert));
                break;
            case "u":
                rows.Add(WithKind(before ?? throw new FormatException("debezium-avro-confluent: \"before\" is null in an update message; check that the source table's REPLICA IDENTITY is FULL"), RowKind.UpdateBefore));
                rows.Add(WithKind(after ?? throw new FormatException("debezium-avro-confluent: \"after\" is null in an update message"), RowKind.UpdateAfter));
                break;
            case "d":
                rows.Add(WithKind(before ?? throw new FormatException("debezium-avro-confluent: \"before\" is null in a delete message; check that the source table's REPLICA IDENTITY is FULL"), RowKind.Delete));
                break;
            default:
                throw new FormatException($"debezium-avro-confluent: unknown \"op\" value \"{op}\"");
        }
    }

    public override Row DecodeRow(byte[] message) =>
        throw new InvalidOperationException("debezium-avro-confluent is a changelog: read it with Decode");

    private static Row WithKind(Row row, RowKind kind) => new(kind, [.. row.Fields]);
}

/// <summary>
/// Debezium's envelope in Confluent's wire format, written straight from the row: the union branch of <c>before</c>
/// and <c>after</c> (0 null, 1 the record), the row's record under the one of them it fills, and <c>op</c>.
/// </summary>
internal sealed class DebeziumAvroEncoder(Lazy<ISchemaRegistry> registry, string subject, string schema, AvroRowWriter rows) : MessageEncoder
{
    private readonly AvroWriter writer = new();
    private int id = -1;

    public override byte[] Encode(Row row) => Encode(row, RowKind.Insert);

    public override byte[] Encode(Row row, RowKind kind)
    {
        if (id < 0) id = registry.Value.Register(subject, schema);
        writer.Reset();
        Span<byte> header = stackalloc byte[5];
        header[0] = ConfluentWire.Magic;
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header[1..], id);
        writer.WriteRaw(header);
        bool insert = kind is RowKind.Insert or RowKind.UpdateAfter;
        if (insert)
        {
            writer.WriteLong(0);
            writer.WriteLong(1);
            rows.Write(writer, row);
        }
        else
        {
            writer.WriteLong(1);
            rows.Write(writer, row);
            writer.WriteLong(0);
        }
        writer.WriteLong(1);
        writer.WriteString(insert ? "c" : "d");
        return writer.ToArray();
    }
}
