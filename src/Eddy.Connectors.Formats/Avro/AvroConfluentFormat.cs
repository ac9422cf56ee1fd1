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
/// (a secret: masked wherever options are shown). Bearer auth, TLS key stores, <c>avro-confluent.schema</c> and
/// <c>avro-confluent.properties</c> are refused.
/// </summary>
public sealed class AvroConfluentFormat : IWritableValueFormat, IStructFormat
{
    public const string Url = "avro-confluent.url";
    public const string Subject = "avro-confluent.subject";
    public const string CredentialsSource = "avro-confluent.basic-auth.credentials-source";
    public const string UserInfo = "avro-confluent.basic-auth.user-info";

    /// <summary>Flink's registry options Eddy refuses, without the format's prefix.</summary>
    internal static readonly string[] Refused =
    [
        "bearer-auth.credentials-source", "bearer-auth.token", "ssl.keystore.location", "ssl.keystore.password",
        "ssl.truststore.location", "ssl.truststore.password", "schema", "properties",
    ];

    /// <summary>The registry options of a format whose options start with <paramref name="prefix"/>.</summary>
    internal static string[] RegistryOptions(string prefix) =>
        [prefix + ".url", prefix + ".subject", prefix + ".basic-auth.credentials-source", prefix + ".basic-auth.user-info", .. Refused.Select(r => prefix + "." + r)];

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

    /// <summary>The registry's address and credentials from the options; refuses what Eddy does not implement.</summary>
    internal static RegistrySettings Settings(FormatContext context, string prefix = "avro-confluent")
    {
        string Url = prefix + ".url", UserInfo = prefix + ".basic-auth.user-info", CredentialsSource = prefix + ".basic-auth.credentials-source";
        foreach (var refused in Refused.Select(r => prefix + "." + r))
        {
            if (context.Option(refused) is not null)
                throw new FormatOptionException(context.OptionKey(refused), $"not supported by Eddy's {prefix} (a registry over plain HTTP(S) with basic auth is)");
        }
        string url = context.Option(Url) is { Length: > 0 } u ? u : throw new FormatOptionException(context.OptionKey(Url), "required");
        string? userInfo = context.Option(UserInfo);
        string? source = context.Option(CredentialsSource);
        var urls = url.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var one in urls)
        {
            if (!Uri.TryCreate(one, UriKind.Absolute, out var parsed) || parsed.Scheme is not ("http" or "https"))
                throw new FormatOptionException(context.OptionKey(Url), "expected http(s)://host:port (several separated by ',')");
        }
        switch (source?.ToUpperInvariant())
        {
            case null when userInfo is null:
                break;
            case null or "USER_INFO":
                if (userInfo is null) throw new FormatOptionException(context.OptionKey(UserInfo), "required with basic-auth credentials source USER_INFO");
                if (!userInfo.Contains(':', StringComparison.Ordinal)) throw new FormatOptionException(context.OptionKey(UserInfo), "expected 'user:password'");
                break;
            case "URL":
                if (userInfo is not null) throw new FormatOptionException(context.OptionKey(UserInfo), "not used with credentials source URL (the user and password are in the URL)");
                var first = new Uri(urls[0]);
                if (string.IsNullOrEmpty(first.UserInfo)) throw new FormatOptionException(context.OptionKey(Url), "credentials source URL needs http(s)://user:password@host:port");
                userInfo = Uri.UnescapeDataString(first.UserInfo);
                break;
            default:
                throw new FormatOptionException(context.OptionKey(CredentialsSource), $"'{source}' is not supported; one of USER_INFO, URL");
        }
        // The credentials travel in the Authorization header, never in the address.
        var plain = urls.Select(one => new UriBuilder(one) { UserName = "", Password = "" }.Uri.ToString().TrimEnd('/'));
        return new RegistrySettings(string.Join(",", plain), userInfo);
    }
}

/// <summary>Where the registry is and the basic-auth <c>user:password</c>, if any.</summary>
internal sealed record RegistrySettings(string Urls, string? UserInfo)
{
    /// <summary>Never the password, for messages.</summary>
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
