using System.Globalization;
using System.Text.RegularExpressions;
using Eddy.Connectors.Formats;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// <c>'connector' = 'kafka'</c> for SQL tables, with Flink's option names: <c>topic</c> (several separated by ';') or
/// <c>topic-pattern</c>, <c>properties.bootstrap.servers</c>, <c>properties.group.id</c>, other <c>properties.*</c>
/// passed to librdkafka, <c>scan.startup.mode</c>, <c>scan.bounded.mode</c>, <c>format</c> / <c>value.format</c>
/// (json | csv | raw), <c>key.format</c> + <c>key.fields</c>, <c>value.fields-include</c>, bad-record handling
/// (<c>json.ignore-parse-errors</c>, <c>scan.dead-letter.topic</c>). Metadata columns: topic, partition, offset,
/// timestamp, key, headers. As a sink see <see cref="KafkaSinkFactory"/>.
/// </summary>
public sealed class KafkaTableConnector : ITypedTableConnector
{
    internal static readonly string[] Known =
    [
        "topic", "topic-pattern", "properties.bootstrap.servers", "properties.group.id", "scan.startup.mode", "scan.startup.timestamp-millis",
        "scan.startup.specific-offsets", "scan.bounded.mode", "scan.bounded.timestamp-millis", "scan.bounded.specific-offsets",
        "scan.dead-letter.topic", "format", "value.format", "key.format", "key.fields", "value.fields-include",
        "json.ignore-parse-errors", "json.fail-on-missing-field", "value.json.ignore-parse-errors", "value.json.fail-on-missing-field",
        "key.json.ignore-parse-errors", "key.json.fail-on-missing-field",
        "csv.field-delimiter", "csv.quote-character", "csv.disable-quote-character", "csv.allow-comments", "csv.ignore-parse-errors",
        "csv.array-element-delimiter", "csv.escape-character", "csv.null-literal",
        "value.csv.field-delimiter", "value.csv.quote-character", "value.csv.disable-quote-character", "value.csv.allow-comments",
        "value.csv.ignore-parse-errors", "value.csv.array-element-delimiter", "value.csv.escape-character", "value.csv.null-literal",
        .. ValueFormats.AllOptions, .. ValueFormats.AllOptions.Select(o => "value." + o), .. AvroKey.Options,
    ];


    public string Name => "kafka";

    /// <summary>The record's metadata, then every registered format's (<c>value.source.timestamp</c>: the table's format must have it).</summary>
    public IReadOnlyCollection<string> MetadataKeys { get; } =
        ["topic", "partition", "offset", "timestamp", "key", "headers", .. ValueFormats.AllMetadata.Select(k => "value." + k)];

    /// <summary>Options a kafka table may have for writing; a source ignores them (one table is often read and written).</summary>
    internal static readonly string[] SinkOptions =
    [
        "sink.partitioner", "sink.delivery-guarantee", "sink.parallelism", "sink.transactional-id-prefix",
    ];

    /// <summary>Java client properties the source interprets itself instead of passing them to librdkafka.</summary>
    private static readonly string[] SourceProperties = ["properties.auto.offset.reset", "properties.enable.auto.commit", "properties.auto.commit.interval.ms"];

    /// <summary>
    /// Append-only, as Flink's kafka connector, unless the value format writes a changelog (debezium-json, canal-json,
    /// maxwell-json): then every row kind is a message.
    /// </summary>
    public bool AcceptsUpdates(TableDef table) => SqlRecordDecoder.RegisteredFormat(table) is IWritableValueFormat { WritesChangelog: true };

    /// <summary>A changelog value format (debezium-json) makes the table a changelog, as in Flink.</summary>
    public bool ProducesUpdates(TableDef table) => SqlRecordDecoder.RegisteredFormat(table)?.IsChangelog == true;

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        KafkaSinkFactory.Create(table, schema, upsert: false, context.FindType);

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        var options = SourceOptions(table, decoded, out var decoder, context.FindType);
        if (!decoder.IsChangelog) return new KafkaSource<Row>(options, decoder.Decode);
        return new ChangelogKafkaSource(options, decoder, NormalizingKey(table, decoded, context));
    }

    /// <summary>
    /// With <c>table.exec.source.cdc-events-duplicate</c> a changelog is normalized by its PRIMARY KEY (Flink's
    /// ChangelogNormalize), which it must then declare; the key's positions in the decoded row, or null.
    /// </summary>
    private static int[]? NormalizingKey(TableDef table, Schema decoded, ConnectorContext context)
    {
        if (!context.JobOptions.TryGetValue("table.exec.source.cdc-events-duplicate", out var text) || !bool.Parse(text)) return null;
        if (table.PrimaryKey.Count == 0)
            throw new ConnectorOptionException(table.Name, "connector",
                "'table.exec.source.cdc-events-duplicate' is true, which needs the changelog source to declare PRIMARY KEY (...) NOT ENFORCED (Flink deduplicates the change events by it)");
        return [.. table.PrimaryKey.Select(decoded.RequireIndex)];
    }

    /// <summary>
    /// A JSON value holding every column of the table (no key or metadata columns) is decoded straight into the
    /// planner's row struct (<see cref="JsonStructDecoder{T}"/>): no generic row, no boxed value per column. Other
    /// tables return null and are read as rows.
    /// </summary>
    public Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context)
    {
        var options = SourceOptions(table, decoded, out var decoder, context.FindType);
        if (!typeof(T).IsValueType) return null;
        if (!decoder.ValueIsWholeRow)
        {
            var typed = typeof(KafkaTableConnector).GetMethod(nameof(TypedFormatSource), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                .MakeGenericMethod(typeof(T));
            try
            {
                return (Source<T>?)typed.Invoke(null, [options, decoder]);
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is FormatOptionException f)
            {
                throw new ConnectorOptionException(table.Name, f.Option, f.Message);
            }
        }
        var make = typeof(KafkaTableConnector).GetMethod(nameof(TypedJsonSource), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(typeof(T));
        try
        {
            return (Source<T>)make.Invoke(null, [options, decoded, decoder.FailOnMissingValueField])!;
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is ArgumentException a)
        {
            throw new ConnectorOptionException(table.Name, a.Message, a);
        }
        catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }

    /// <summary>A registered format that decodes into row structs (protobuf), or null.</summary>
    private static KafkaSource<T>? TypedFormatSource<T>(KafkaSourceOptions options, SqlRecordDecoder decoder) where T : struct
    {
        if (decoder.CreateStructDecoder<T>() is not { } structs) return null;
        return new KafkaSource<T>(options, (in KafkaMessage m, out T value) =>
        {
            // A tombstone (no value) has no row, as in the row path.
            if (m.Value is null)
            {
                value = default;
                return false;
            }
            structs.Decode(m.Value, out value);
            return true;
        });
    }

    private static KafkaSource<T> TypedJsonSource<T>(KafkaSourceOptions options, Schema decoded, bool failOnMissingField) where T : struct
    {
        var json = new JsonStructDecoder<T>(decoded, failOnMissingField);
        return new KafkaSource<T>(options, (in KafkaMessage m, out T value) =>
        {
            // A tombstone (no value) has no row, as in the row path.
            if (m.Value is null)
            {
                value = default;
                return false;
            }
            json.Decode(m.Value, out value);
            return true;
        });
    }

    public Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context) => null;

    internal static KafkaSourceOptions SourceOptions(TableDef table, Schema decoded, out SqlRecordDecoder decoder, Func<string, Type?>? findType = null)
    {
        var o = table.Options;
        foreach (var key in o.Keys)
        {
            if (key == "connector" || Known.Contains(key) || SinkOptions.Contains(key) || key.StartsWith("properties.", StringComparison.Ordinal)) continue;
            string hint = key == "scan.topic-partition-discovery.interval"
                ? "not supported: Eddy lists the topics and partitions once, when the job starts"
                : $"unknown option for connector 'kafka'; known: {string.Join(", ", Known)}, properties.*";
            throw new ConnectorOptionException(table.Name, key, hint);
        }
        string Required(string key) => o.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v)
            ? v : throw new ConnectorOptionException(table.Name, key, "required");

        string[] topics = [];
        Regex? pattern = null;
        if (o.TryGetValue("topic-pattern", out var patternText))
        {
            if (o.ContainsKey("topic")) throw new ConnectorOptionException(table.Name, "topic-pattern", "'topic' and 'topic-pattern' exclude each other");
            try
            {
                pattern = new Regex(patternText, RegexOptions.CultureInvariant);
            }
            catch (ArgumentException e)
            {
                throw new ConnectorOptionException(table.Name, "topic-pattern", $"not a regular expression: {e.Message}");
            }
        }
        else topics = Required("topic").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var startup = (o.GetValueOrDefault("scan.startup.mode") ?? "group-offsets") switch
        {
            "earliest-offset" => KafkaStartupMode.EarliestOffset,
            "latest-offset" => KafkaStartupMode.LatestOffset,
            "timestamp" => KafkaStartupMode.Timestamp,
            "specific-offsets" => KafkaStartupMode.SpecificOffsets,
            "group-offsets" => KafkaStartupMode.GroupOffsets,
            var m => throw new ConnectorOptionException(table.Name, "scan.startup.mode",
                $"'{m}' is not supported; one of earliest-offset, latest-offset, group-offsets, timestamp, specific-offsets"),
        };
        var bounded = (o.GetValueOrDefault("scan.bounded.mode") ?? "unbounded") switch
        {
            "unbounded" => KafkaBoundedMode.Unbounded,
            "latest-offset" => KafkaBoundedMode.LatestOffset,
            "timestamp" => KafkaBoundedMode.Timestamp,
            "specific-offsets" => KafkaBoundedMode.SpecificOffsets,
            "group-offsets" => KafkaBoundedMode.GroupOffsets,
            var m => throw new ConnectorOptionException(table.Name, "scan.bounded.mode",
                $"'{m}' is not supported; one of unbounded, latest-offset, group-offsets, timestamp, specific-offsets"),
        };
        var reset = (o.GetValueOrDefault("properties.auto.offset.reset") ?? "none").ToLowerInvariant() switch
        {
            "none" => KafkaOffsetReset.None,
            "earliest" => KafkaOffsetReset.Earliest,
            "latest" => KafkaOffsetReset.Latest,
            var r => throw new ConnectorOptionException(table.Name, "properties.auto.offset.reset", $"'{r}' is not one of earliest, latest, none"),
        };
        bool autoCommit = !o.TryGetValue("properties.enable.auto.commit", out var autoCommitText) || Bool(table, "properties.enable.auto.commit", autoCommitText);
        var interval = TimeSpan.FromSeconds(5);
        if (o.TryGetValue("properties.auto.commit.interval.ms", out var intervalText))
            interval = TimeSpan.FromMilliseconds(Millis(table, "properties.auto.commit.interval.ms", intervalText));

        string? specificTopic = topics.Length == 1 ? topics[0] : null;
        try
        {
            decoder = new SqlRecordDecoder(table, decoded, findType);
            string? deadLetters = o.GetValueOrDefault("scan.dead-letter.topic");
            return new KafkaSourceOptions
            {
                Topics = topics,
                TopicPattern = pattern,
                BootstrapServers = Kafka.BootstrapServers.Check(table.Name, Required("properties.bootstrap.servers")),
                GroupId = o.GetValueOrDefault("properties.group.id") ?? "eddy-" + table.Name,
                StartupMode = startup,
                StartupTimestamp = OptionalMillis(table, "scan.startup.timestamp-millis"),
                SpecificOffsets = Offsets(table, "scan.startup.specific-offsets", specificTopic),
                GroupOffsetsReset = reset,
                BoundedMode = bounded,
                BoundedTimestamp = OptionalMillis(table, "scan.bounded.timestamp-millis"),
                BoundedSpecificOffsets = Offsets(table, "scan.bounded.specific-offsets", specificTopic),
                AutoCommit = autoCommit,
                AutoCommitInterval = interval,
                BadRecords = deadLetters is not null ? KafkaBadRecordMode.DeadLetter
                    : decoder.IgnoreParseErrors ? KafkaBadRecordMode.Skip : KafkaBadRecordMode.Fail,
                DeadLetterTopic = deadLetters,
                Properties = Properties(table),
            };
        }
        catch (ArgumentException e)
        {
            throw new ConnectorOptionException(table.Name, e.Message, e);
        }
    }

    private static long? OptionalMillis(TableDef table, string key) =>
        table.Options.TryGetValue(key, out var text) ? Millis(table, key, text) : null;

    private static long Millis(TableDef table, string key, string text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long t) && t >= 0 ? t
            : throw new ConnectorOptionException(table.Name, key, $"'{text}' is not a number of milliseconds");

    /// <summary>Flink's <c>partition:0,offset:42;partition:1,offset:300</c> for a single topic.</summary>
    private static Dictionary<(string, int), long> Offsets(TableDef table, string key, string? topic)
    {
        var offsets = new Dictionary<(string, int), long>();
        if (!table.Options.TryGetValue(key, out var text)) return offsets;
        if (topic is null) throw new ConnectorOptionException(table.Name, key, "needs a single 'topic'");
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = part.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length != 2 || !fields[0].StartsWith("partition:", StringComparison.Ordinal) || !fields[1].StartsWith("offset:", StringComparison.Ordinal)
                || !int.TryParse(fields[0]["partition:".Length..], CultureInfo.InvariantCulture, out int partition)
                || !long.TryParse(fields[1]["offset:".Length..], CultureInfo.InvariantCulture, out long offset))
                throw new ConnectorOptionException(table.Name, key, $"'{part}' is not 'partition:<n>,offset:<n>'");
            offsets[(topic, partition)] = offset;
        }
        return offsets;
    }

    /// <summary>The table's <c>properties.*</c> other than those Eddy interprets, in librdkafka's names.</summary>
    internal static Dictionary<string, string> Properties(TableDef table) =>
        KafkaProperties.FromJava(table.Options.Where(p => p.Key.StartsWith("properties.", StringComparison.Ordinal)
                && p.Key is not "properties.bootstrap.servers" and not "properties.group.id" && !SourceProperties.Contains(p.Key))
            .Select(p => KeyValuePair.Create(p.Key["properties.".Length..], p.Value)));

    internal static bool Flag(TableDef table, string key) =>
        table.Options.TryGetValue(key, out var text) && Bool(table, key, text);

    private static bool Bool(TableDef table, string key, string text) =>
        bool.TryParse(text, out bool b) ? b : throw new ConnectorOptionException(table.Name, key, $"expected true or false, got '{text}'");
}
