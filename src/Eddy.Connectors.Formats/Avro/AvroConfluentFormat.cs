using System.Buffers.Binary;
using System.Collections.Concurrent;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Avro;

/// <summary>
/// Flink's <c>avro-confluent</c> format: Confluent's wire format (byte 0, the writer schema's registry id as a 4-byte
/// big-endian int, then the Avro binary record). Reading fetches each writer schema from the registry by id (once per
/// id) and resolves it against the schema derived from the table's columns (Avro schema resolution: a producer may
/// write any compatible schema). Writing registers the derived schema under <c>avro-confluent.subject</c> (the Kafka
/// connector defaults it to Flink's <c>&lt;topic&gt;-value</c>) on the first message and prefixes every message with
/// its id. Options: <c>avro-confluent.url</c> (required), <c>avro-confluent.subject</c>,
/// <c>avro-confluent.basic-auth.credentials-source</c> (USER_INFO or URL) and <c>avro-confluent.basic-auth.user-info</c>
/// (a secret: masked wherever options are shown), <c>bearer-auth.*</c> and <c>ssl.*</c> (<see cref="RegistryOptionsReader"/>).
/// <c>avro-confluent.schema</c> and <c>avro-confluent.properties</c> are refused.
/// </summary>
public sealed class AvroConfluentFormat : IWritableValueFormat, IStructFormat
{
    public const string Url = "avro-confluent.url";
    public const string Subject = "avro-confluent.subject";
    public const string CredentialsSource = "avro-confluent.basic-auth.credentials-source";
    public const string UserInfo = "avro-confluent.basic-auth.user-info";

    /// <summary>Flink's registry options Eddy refuses, without the format's prefix.</summary>
    internal static readonly string[] Refused = ["schema", "properties"];

    /// <summary>Flink's registry options Eddy reads, without the format's prefix (besides url and subject).</summary>
    internal static readonly string[] Security =
    [
        "basic-auth.credentials-source", "basic-auth.user-info", "bearer-auth.credentials-source", "bearer-auth.token",
        "ssl.keystore.location", "ssl.keystore.password", "ssl.truststore.location", "ssl.truststore.password",
    ];

    /// <summary>The registry options of a format whose options start with <paramref name="prefix"/>.</summary>
    internal static string[] RegistryOptions(string prefix) =>
        [prefix + ".url", prefix + ".subject", .. Security.Select(r => prefix + "." + r), .. Refused.Select(r => prefix + "." + r)];

    /// <summary>How the format reaches a registry; tests and benchmarks may give their own.</summary>
    private readonly Func<RegistrySettings, ISchemaRegistry> connect;

    public AvroConfluentFormat() : this(settings => new ConfluentSchemaRegistry(settings))
    {
    }

    internal AvroConfluentFormat(Func<RegistrySettings, ISchemaRegistry> connect) => this.connect = connect;

    public string Name => "avro-confluent";

    public bool IsChangelog => false;

    public IReadOnlyCollection<string> Options { get; } = RegistryOptions("avro-confluent");

    public IReadOnlyDictionary<string, DataType> Metadata { get; } = new Dictionary<string, DataType>();

    public MessageDecoder CreateDecoder(FormatContext context)
    {
        var settings = Settings(context);
        Derive(context);
        return new ConfluentAvroDecoder(new Lazy<ISchemaRegistry>(() => connect(settings)), context.Physical.Columns);
    }

    /// <summary>Straight into the row struct, a struct reader per writer schema id (<see cref="AvroStructReader{T}"/>).</summary>
    public StructDecoder<T>? CreateStructDecoder<T>(FormatContext context) where T : struct =>
        new ConfluentAvroStructDecoder<T>((ConfluentAvroDecoder)CreateDecoder(context));

    public MessageEncoder CreateEncoder(FormatContext context, IReadOnlyList<int> positions)
    {
        var settings = Settings(context);
        string subject = RequiredSubject(context);
        var (_, json) = Derive(context);
        return new ConfluentAvroEncoder(new Lazy<ISchemaRegistry>(() => connect(settings)), subject, json, new AvroRowWriter(context.Physical.Columns, positions));
    }

    public void ValidateForWriting(FormatContext context)
    {
        Settings(context);
        RequiredSubject(context);
        Derive(context);
    }

    private static string RequiredSubject(FormatContext context) =>
        context.Option(Subject) is { Length: > 0 } s ? s : throw new FormatOptionException(context.OptionKey(Subject), "required for writing (the registry subject to register the schema under)");

    private static (AvroSchema Schema, string Json) Derive(FormatContext context)
    {
        if (context.Metadata.Count > 0) throw new FormatOptionException("format", "avro-confluent has no metadata");
        // Flink's registry format always derives with the legacy timestamp mapping.
        string json = AvroSchemaDerivation.Derive(context.Physical.Columns, legacy: true, legacyOption: null);
        return (AvroSchema.Parse(json), json);
    }

    /// <summary>The registry's address, credentials and TLS files from the options; refuses what Eddy does not implement.</summary>
    internal static RegistrySettings Settings(FormatContext context, string prefix = "avro-confluent") =>
        RegistryOptionsReader.Read(context, prefix);
}

/// <summary>
/// Where the registry is and how to reach it: the basic-auth <c>user:password</c> or the bearer token (at most one),
/// the CA certificate to trust and the client's PKCS#12 keystore. <see cref="CredentialsOption"/> and
/// <see cref="TrustOption"/> name the options to check when the registry refuses the credentials or the certificate.
/// </summary>
internal sealed record RegistrySettings(string Urls, string? UserInfo)
{
    public string? BearerToken { get; init; }

    /// <summary>A PEM or DER CA certificate file (Confluent's <c>ssl.ca.location</c>).</summary>
    public string? TrustedCertificate { get; init; }

    public string? KeystoreLocation { get; init; }

    public string? KeystorePassword { get; init; }

    /// <summary>The option holding the credentials sent (or, with none, the ones to set), for an error.</summary>
    public string CredentialsOption { get; init; } = "avro-confluent.basic-auth.user-info";

    public string TrustOption { get; init; } = "avro-confluent.ssl.truststore.location";

    /// <summary>Never the password or token, for messages.</summary>
    public override string ToString() => Urls;
}

/// <summary>The registry calls Eddy makes.</summary>
internal interface ISchemaRegistry
{
    /// <summary>The schema text registered under <paramref name="id"/>.</summary>
    string GetSchema(int id);

    /// <summary>Registers (or finds) <paramref name="schema"/> under <paramref name="subject"/>; its id.</summary>
    int Register(string subject, string schema);
}

internal static class ConfluentWire
{
    public const byte Magic = 0;

    public static int SchemaId(byte[] message)
    {
        if (message.Length < 5)
            throw new FormatException($"avro-confluent: a message of {message.Length} bytes is shorter than Confluent's 5-byte header");
        if (message[0] != Magic)
            throw new FormatException($"avro-confluent: the first byte is {message[0]}, not Confluent's magic byte 0 (is the message plain avro or another format?)");
        return BinaryPrimitives.ReadInt32BigEndian(message.AsSpan(1, 4));
    }
}

/// <summary>
/// Reads Confluent-framed Avro with a plan per writer schema id, built on first sight (thread-safe: the parallel
/// readers of one table share it). A schema that cannot be fetched or read as the table's columns makes its messages
/// bad records.
/// </summary>
internal sealed class ConfluentAvroDecoder(Lazy<ISchemaRegistry> registry, IReadOnlyList<Column> columns) : MessageDecoder
{
    private readonly ConcurrentDictionary<int, (RecordReader? Plan, string? Problem)> plans = new();

    public override void Decode(byte[] message, List<Row> rows) => rows.Add(DecodeRow(message));

    public override Row DecodeRow(byte[] message) => AvroMessageDecoder.Read(PlanOf(ConfluentWire.SchemaId(message)), message.AsSpan(5));

    /// <summary>The plan of a writer schema id, fetched on first sight.</summary>
    /// <exception cref="FormatException">the schema cannot be fetched, or not read as the table's columns.</exception>
    public RecordReader PlanOf(int id)
    {
        if (!plans.TryGetValue(id, out var entry)) entry = plans.GetOrAdd(id, Plan);
        return entry.Plan ?? throw new FormatException(entry.Problem);
    }

    private (RecordReader?, string?) Plan(int id)
    {
        string text;
        try
        {
            text = registry.Value.GetSchema(id);
        }
        catch (SchemaRegistryCallException e)
        {
            // Not cached: the registry may answer next time.
            throw new FormatException($"avro-confluent: schema id {id}: {e.Message}", e);
        }
        try
        {
            return (AvroReadPlan.Build(AvroSchema.Parse(text), columns), null);
        }
        catch (AvroResolutionException e)
        {
            return (null, $"avro-confluent: the writer schema of id {id} cannot be read as the table's columns: {e.Message}");
        }
        catch (global::Avro.AvroException e)
        {
            return (null, $"avro-confluent: the registry's schema of id {id} is not a valid Avro schema: {e.Message}");
        }
    }
}

internal sealed class ConfluentAvroEncoder(Lazy<ISchemaRegistry> registry, string subject, string schema, AvroRowWriter rows) : MessageEncoder
{
    private readonly AvroWriter writer = new();
    private int id = -1;

    public override byte[] Encode(Row row)
    {
        if (id < 0) id = registry.Value.Register(subject, schema);
        writer.Reset();
        Span<byte> header = stackalloc byte[5];
        header[0] = ConfluentWire.Magic;
        BinaryPrimitives.WriteInt32BigEndian(header[1..], id);
        writer.WriteRaw(header);
        rows.Write(writer, row);
        return writer.ToArray();
    }
}
