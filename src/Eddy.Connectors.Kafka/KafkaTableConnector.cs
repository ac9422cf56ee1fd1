using System.Globalization;
using System.Text.RegularExpressions;
using Eddy.Connectors.Formats;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

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
    public string Name => "kafka";

    public OptionSchema OptionSchema => KafkaOptions.Kafka;

    /// <summary>The record's metadata, then every registered format's (<c>value.source.timestamp</c>: the table's format must have it).</summary>
    public IReadOnlyCollection<string> MetadataKeys { get; } =
        ["topic", "partition", "offset", "timestamp", "key", "headers", .. ValueFormats.AllMetadata.Select(k => "value." + k)];

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
        var o = KafkaOptions.Kafka.Validate(table);
        string[] topics = [];
        Regex? pattern = null;
        if (o.FindString(KafkaOptions.TopicPattern) is { } patternText)
        {
            if (o.Has(KafkaOptions.Topic)) throw new ConnectorOptionException(table.Name, "topic-pattern", "'topic' and 'topic-pattern' exclude each other");
            try
            {
                pattern = new Regex(patternText, RegexOptions.CultureInvariant);
            }
            catch (ArgumentException e)
            {
                throw new ConnectorOptionException(table.Name, "topic-pattern", $"not a regular expression: {e.Message}");
            }
        }
        else topics = RequiredTopic(table, o).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

        var startup = o.Get(KafkaOptions.ScanStartupMode) switch
        {
            "earliest-offset" => KafkaStartupMode.EarliestOffset,
            "latest-offset" => KafkaStartupMode.LatestOffset,
            "timestamp" => KafkaStartupMode.Timestamp,
            "specific-offsets" => KafkaStartupMode.SpecificOffsets,
            _ => KafkaStartupMode.GroupOffsets,
        };
        var bounded = o.Get(KafkaOptions.ScanBoundedMode) switch
        {
            "latest-offset" => KafkaBoundedMode.LatestOffset,
            "timestamp" => KafkaBoundedMode.Timestamp,
            "specific-offsets" => KafkaBoundedMode.SpecificOffsets,
            "group-offsets" => KafkaBoundedMode.GroupOffsets,
            _ => KafkaBoundedMode.Unbounded,
        };
        var reset = o.Get(KafkaOptions.AutoOffsetReset) switch
        {
            "earliest" => KafkaOffsetReset.Earliest,
            "latest" => KafkaOffsetReset.Latest,
            _ => KafkaOffsetReset.None,
        };

        string? specificTopic = topics.Length == 1 ? topics[0] : null;
        try
        {
            decoder = new SqlRecordDecoder(table, o, decoded, findType);
            string? deadLetters = o.FindString(KafkaOptions.DeadLetterTopic);
            return new KafkaSourceOptions
            {
                Topics = topics,
                TopicPattern = pattern,
                BootstrapServers = o.Get(KafkaOptions.BootstrapServers),
                GroupId = o.FindString(KafkaOptions.GroupId) ?? "eddy-" + table.Name,
                StartupMode = startup,
                StartupTimestamp = o.Find(KafkaOptions.ScanStartupTimestampMillis),
                SpecificOffsets = Offsets(table, o, KafkaOptions.ScanStartupSpecificOffsets, specificTopic),
                GroupOffsetsReset = reset,
                BoundedMode = bounded,
                BoundedTimestamp = o.Find(KafkaOptions.ScanBoundedTimestampMillis),
                BoundedSpecificOffsets = Offsets(table, o, KafkaOptions.ScanBoundedSpecificOffsets, specificTopic),
                AutoCommit = o.Get(KafkaOptions.EnableAutoCommit),
                AutoCommitInterval = TimeSpan.FromMilliseconds(o.Get(KafkaOptions.AutoCommitIntervalMs)),
                BadRecords = deadLetters is not null ? KafkaBadRecordMode.DeadLetter
                    : decoder.IgnoreParseErrors ? KafkaBadRecordMode.Skip : KafkaBadRecordMode.Fail,
                DeadLetterTopic = deadLetters,
                Properties = Properties(o),
            };
        }
        catch (ArgumentException e)
        {
            throw new ConnectorOptionException(table.Name, e.Message, e);
        }
    }

    /// <summary>'topic', which a table must give unless it reads a 'topic-pattern'.</summary>
    internal static string RequiredTopic(TableDef table, ConnectorOptions o) =>
        o.FindString(KafkaOptions.Topic) is { } topic && !string.IsNullOrWhiteSpace(topic) ? topic
            : throw new ConnectorOptionException(table.Name, "topic", "required (or 'topic-pattern' to read)");

    /// <summary>Flink's <c>partition:0,offset:42;partition:1,offset:300</c> for a single topic.</summary>
    private static Dictionary<(string, int), long> Offsets(TableDef table, ConnectorOptions o, ConnectorOption<string> option, string? topic)
    {
        var offsets = new Dictionary<(string, int), long>();
        if (o.FindString(option) is not { } text) return offsets;
        if (topic is null) throw new ConnectorOptionException(table.Name, option.Name, "needs a single 'topic'");
        foreach (var part in text.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = part.Split(',', StringSplitOptions.TrimEntries);
            if (fields.Length != 2 || !fields[0].StartsWith("partition:", StringComparison.Ordinal) || !fields[1].StartsWith("offset:", StringComparison.Ordinal)
                || !int.TryParse(fields[0]["partition:".Length..], CultureInfo.InvariantCulture, out int partition)
                || !long.TryParse(fields[1]["offset:".Length..], CultureInfo.InvariantCulture, out long offset))
                throw new ConnectorOptionException(table.Name, option.Name, $"'{part}' is not 'partition:<n>,offset:<n>'");
            offsets[(topic, partition)] = offset;
        }
        return offsets;
    }

    /// <summary>The table's <c>properties.*</c> other than those Eddy interprets, in librdkafka's names.</summary>
    internal static Dictionary<string, string> Properties(ConnectorOptions o) =>
        KafkaProperties.FromJava(o.Family(KafkaOptions.Properties)
            .Concat(KafkaOptions.SecretProperties.Where(o.Has).Select(p => KeyValuePair.Create(p.Name["properties.".Length..], o.FindString(p)!))));

    /// <summary>A format's boolean option (<c>json.ignore-parse-errors</c>), false when absent.</summary>
    internal static bool Flag(TableDef table, string key) =>
        table.Options.TryGetValue(key, out var text) && Bool(table, key, text);

    private static bool Bool(TableDef table, string key, string text) =>
        bool.TryParse(text, out bool b) ? b : throw new ConnectorOptionException(table.Name, key, $"expected true or false, got '{text}'");
}
