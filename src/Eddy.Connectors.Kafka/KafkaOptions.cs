using Eddy.Connectors.Formats;
using Eddy.Connectors.Formats.Avro;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// The options of <c>kafka</c> and <c>upsert-kafka</c> tables, declared once with Flink's names and defaults (Flink's
/// Kafka and Upsert Kafka connector pages). <c>properties.*</c> is passed to the client (translated by
/// <see cref="KafkaProperties"/>); the security properties whose values are secrets are declared on their own so that
/// the docs and every display mask them. A format's options (<c>json.*</c>, <c>value.avro-confluent.*</c>,
/// <c>key.avro.*</c>, ...) are families whose members the format reads: the schema refuses a name the format does not
/// know, the format checks the values.
/// </summary>
internal static class KafkaOptions
{
    public static readonly ConnectorOption<string> Topic =
        Option.String("topic", "the topic to read or write; several to read are separated by ';' (a sink writes one)");

    public static readonly ConnectorOption<string> TopicPattern =
        Option.String("topic-pattern", "a regular expression: every topic whose name matches it is read (instead of 'topic')");

    public static readonly ConnectorOption<string> BootstrapServers = new ConnectorOption<string>(
        Eddy.Connectors.Kafka.BootstrapServers.Key, "the brokers to connect to first, as comma-separated host:port", "String",
        "a comma-separated list of host:port", text => Eddy.Connectors.Kafka.BootstrapServers.Check(text) is { } problem ? (false, "", problem) : (true, text, null)).AsRequired();

    public static readonly ConnectorOption<string> GroupId =
        Option.String("properties.group.id", "the consumer group of the source (Eddy's default: 'eddy-' and the table's name; Flink needs it for group offsets)");

    public static readonly ConnectorOption<string> AutoOffsetReset =
        Option.Enum("properties.auto.offset.reset", "where 'group-offsets' starts in a partition the group has no committed offset for", "earliest", "latest", "none")
            .WithDefault("none");

    public static readonly ConnectorOption<bool> EnableAutoCommit =
        Option.Boolean("properties.enable.auto.commit", "whether the source commits its offsets to the group (at checkpoints when checkpointing, else periodically)")
            .WithDefault(true);

    public static readonly ConnectorOption<long> AutoCommitIntervalMs =
        Option.Long("properties.auto.commit.interval.ms", "without checkpointing, how often the offsets are committed, in milliseconds", min: 0)
            .WithDefault(5000);

    /// <summary>Client properties whose values are secrets; passed to the client with the rest of <c>properties.*</c>.</summary>
    public static readonly ConnectorOption<string>[] SecretProperties =
    [
        Option.String("properties.sasl.jaas.config", "SASL login of the PLAIN or SCRAM login module (user name and password, given to the client as sasl.username/sasl.password)").AsSecret(),
        Option.String("properties.sasl.password", "SASL password (librdkafka's name)").AsSecret(),
        Option.String("properties.sasl.oauthbearer.client.secret", "OAUTHBEARER client secret (librdkafka's name)").AsSecret(),
        Option.String("properties.ssl.key.password", "password of the client's private key").AsSecret(),
        Option.String("properties.ssl.key.pem", "the client's private key in PEM (librdkafka's name)").AsSecret(),
        Option.String("properties.ssl.keystore.password", "password of the PKCS#12 keystore").AsSecret(),
    ];

    public static readonly ConnectorOption<string> Properties =
        Option.Prefix("properties.", "any other Kafka client property, Java client names translated to librdkafka's; one librdkafka cannot honour is refused");

    public static readonly ConnectorOption<string> Format =
        Option.String("format", "the value's format: json, csv, raw, avro, avro-confluent, protobuf, debezium-json, ... (or 'value.format', not both)");

    public static readonly ConnectorOption<string> ValueFormat =
        Option.String("value.format", "the value's format, as 'format' (its options then may be prefixed with 'value.')");

    public static readonly ConnectorOption<string> KeyFormat =
        Option.Enum("key.format", "the key's format: json, raw or avro; needs 'key.fields'", "json", "raw", "avro");

    public static readonly ConnectorOption<string> KeyFields =
        Option.String("key.fields", "the physical columns that make the key, separated by ';'");

    public static readonly ConnectorOption<string> ValueFieldsInclude =
        Option.Enum("value.fields-include", "whether the value holds every physical column (ALL) or all but the key's (EXCEPT_KEY)", "ALL", "EXCEPT_KEY")
            .WithDefault("ALL");

    public static readonly ConnectorOption<string> ScanStartupMode =
        Option.Enum("scan.startup.mode", "where the source starts reading", "earliest-offset", "latest-offset", "group-offsets", "timestamp", "specific-offsets")
            .WithDefault("group-offsets");

    public static readonly ConnectorOption<long> ScanStartupTimestampMillis =
        Option.Long("scan.startup.timestamp-millis", "with 'timestamp': the record time, in epoch milliseconds, to start at", min: 0);

    public static readonly ConnectorOption<string> ScanStartupSpecificOffsets =
        Option.String("scan.startup.specific-offsets", "with 'specific-offsets': 'partition:0,offset:42;partition:1,offset:300' of the one topic");

    public static readonly ConnectorOption<string> ScanBoundedMode =
        Option.Enum("scan.bounded.mode", "where a bounded source stops", "unbounded", "latest-offset", "group-offsets", "timestamp", "specific-offsets")
            .WithDefault("unbounded");

    public static readonly ConnectorOption<long> ScanBoundedTimestampMillis =
        Option.Long("scan.bounded.timestamp-millis", "with 'timestamp': the record time, in epoch milliseconds, to stop before", min: 0);

    public static readonly ConnectorOption<string> ScanBoundedSpecificOffsets =
        Option.String("scan.bounded.specific-offsets", "with 'specific-offsets': 'partition:0,offset:42;...' to stop at, of the one topic");

    public static readonly ConnectorOption<string> DiscoveryInterval =
        Option.Refused("scan.topic-partition-discovery.interval", "not supported: Eddy lists the topics and partitions once, when the job starts");

    public static readonly ConnectorOption<string> DeadLetterTopic =
        Option.String("scan.dead-letter.topic", "Eddy-only: a record that cannot be decoded goes to this topic instead of failing the job");

    public static readonly ConnectorOption<string> SinkPartitioner =
        Option.Enum("sink.partitioner", "how the sink picks a record's partition: by key else round robin (default), round-robin, or fixed (one per sink subtask); Flink's class names are not supported",
            "default", "round-robin", "fixed").WithDefault("default");

    public static readonly ConnectorOption<string> SinkDeliveryGuarantee =
        Option.Enum("sink.delivery-guarantee", "none, at-least-once (flush at checkpoints) or exactly-once (transactions committed at checkpoints)",
            "none", "at-least-once", "exactly-once").WithDefault("at-least-once");

    public static readonly ConnectorOption<string> SinkTransactionalIdPrefix =
        Option.String("sink.transactional-id-prefix", "with 'exactly-once': the prefix of the sink's transactional ids, unique per job writing to the cluster");

    public static readonly ConnectorOption<int> SinkParallelism =
        Option.Int("sink.parallelism", "the sink's parallelism (default: the input's)", min: 1);

    public static readonly ConnectorOption<string> KeyFieldsPrefix =
        Option.Refused("key.fields-prefix", "not supported: key columns keep their names (declare the key columns under the names the key holds)");

    /// <summary>The options of the formats Kafka decodes itself (json, csv), without the format's prefix.</summary>
    internal static readonly string[] JsonMembers = ["ignore-parse-errors", "fail-on-missing-field"];

    internal static readonly string[] CsvMembers =
    [
        "field-delimiter", "quote-character", "disable-quote-character", "allow-comments", "ignore-parse-errors",
        "array-element-delimiter", "escape-character", "null-literal",
    ];

    /// <summary><c>F.*</c> and <c>value.F.*</c> for every value format F, and the key formats' <c>key.json.*</c>, <c>key.avro.*</c>.</summary>
    private static IEnumerable<ConnectorOption> FormatFamilies()
    {
        var formats = new List<(string Name, Func<IEnumerable<string>> Members)>
        {
            ("json", () => JsonMembers),
            ("csv", () => CsvMembers),
        };
        foreach (var name in ValueFormats.Names)
            formats.Add((name, () => Unprefixed(ValueFormats.Find(name)!.Options, name)));
        foreach (var (name, members) in formats)
            yield return Option.Family(name + ".", $"options of the '{name}' value format, read and checked by the format", members);
        foreach (var (name, members) in formats)
            yield return Option.Family("value." + name + ".", $"the '{name}' format's options, prefixed as Flink allows with 'value.format'", members);
        yield return Option.Family("key.json.", "options of the 'json' key format", () => JsonMembers);
        yield return Option.Family("key.avro.", "options of the 'avro' key format", () => Unprefixed(new AvroFormat().Options, "avro"));
    }

    private static IEnumerable<string> Unprefixed(IEnumerable<string> options, string format) =>
        options.Where(o => o.StartsWith(format + ".", StringComparison.Ordinal)).Select(o => o[(format.Length + 1)..]);

    private static readonly ConnectorOption[] Common =
    [
        Topic, TopicPattern, BootstrapServers, GroupId, AutoOffsetReset, EnableAutoCommit, AutoCommitIntervalMs, .. SecretProperties, Properties,
        Format, ValueFormat, KeyFormat, KeyFields, KeyFieldsPrefix, ValueFieldsInclude,
        ScanStartupMode, ScanStartupTimestampMillis, ScanStartupSpecificOffsets, ScanBoundedMode, ScanBoundedTimestampMillis, ScanBoundedSpecificOffsets,
        DiscoveryInterval, DeadLetterTopic,
        SinkPartitioner, SinkDeliveryGuarantee, SinkTransactionalIdPrefix, SinkParallelism,
    ];

    /// <summary><c>'connector' = 'kafka'</c>: one schema for reading and writing (a table is often both).</summary>
    public static readonly OptionSchema Kafka = new("kafka", [.. Common, .. FormatFamilies()]);

    /// <summary>
    /// <c>'connector' = 'upsert-kafka'</c>: the PRIMARY KEY's columns are the key, so <c>key.fields</c> is refused and
    /// <c>key.format</c> required; the scan options are Eddy's (Flink's upsert-kafka always reads from the earliest offset).
    /// </summary>
    public static readonly OptionSchema UpsertKafka = new("upsert-kafka",
    [
        .. Common.Select(o => o.Name switch
        {
            "key.fields" => Option.Refused("key.fields", "not allowed with 'upsert-kafka': the PRIMARY KEY columns are the key"),
            "key.format" => KeyFormat.AsRequired() with { Description = "the key's format (json, raw or avro): the PRIMARY KEY's columns" },
            "scan.startup.mode" => ScanStartupMode.WithDefault("earliest-offset") with
            {
                Description = "Eddy-only for upsert-kafka (Flink's reads from the earliest offset, as this default): where the source starts reading",
            },
            _ => o,
        }),
        Option.Refused("sink.buffer-flush.max-rows", "not supported: Eddy's upsert-kafka sink writes every change (no buffer that keeps the last row per key)"),
        Option.Refused("sink.buffer-flush.interval", "not supported: Eddy's upsert-kafka sink writes every change (no buffer that keeps the last row per key)"),
        .. FormatFamilies(),
    ]);
}
