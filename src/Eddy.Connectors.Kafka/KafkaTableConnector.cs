using System.Globalization;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// <c>'connector' = 'kafka'</c> for SQL tables, with Flink's option names: <c>topic</c> (several separated by ';'),
/// <c>properties.bootstrap.servers</c>, <c>properties.group.id</c>, other <c>properties.*</c> passed to librdkafka,
/// <c>scan.startup.mode</c> (earliest-offset | latest-offset | timestamp | specific-offsets) with
/// <c>scan.startup.timestamp-millis</c> / <c>scan.startup.specific-offsets</c>, <c>scan.bounded.mode</c>
/// (unbounded | latest-offset), <c>format</c> = json with <c>json.ignore-parse-errors</c> and
/// <c>json.fail-on-missing-field</c>. Metadata columns: topic, partition, offset, timestamp. As a sink see <see cref="KafkaSinkFactory"/>.
/// </summary>
public sealed class KafkaTableConnector : ITableConnector
{
    private static readonly string[] Known =
    [
        "topic", "properties.bootstrap.servers", "properties.group.id", "scan.startup.mode", "scan.startup.timestamp-millis",
        "scan.startup.specific-offsets", "scan.bounded.mode", "format", "json.ignore-parse-errors", "json.fail-on-missing-field",
    ];

    private static int registered;

    /// <summary>Makes the connectors (kafka, upsert-kafka) known to SQL sessions (once per process).</summary>
    public static void Register()
    {
        if (Interlocked.Exchange(ref registered, 1) != 0) return;
        TableConnectors.Register(new KafkaTableConnector());
        TableConnectors.Register(new UpsertKafkaTableConnector());
    }

    public string Name => "kafka";

    public IReadOnlyCollection<string> MetadataKeys { get; } = ["topic", "partition", "offset", "timestamp"];

    /// <summary>Options a kafka table may have for writing; a source ignores them (one table is often read and written).</summary>
    internal static readonly string[] SinkOptions =
    [
        "key.format", "key.fields", "value.fields-include", "sink.partitioner", "sink.delivery-guarantee", "sink.parallelism",
        "sink.transactional-id-prefix",
    ];

    /// <summary>Append-only, as Flink's kafka connector: a changelog needs 'upsert-kafka'.</summary>
    public bool AcceptsUpdates(TableDef table) => false;

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        KafkaSinkFactory.Create(table, schema, upsert: false);

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        var o = table.Options;
        foreach (var key in o.Keys)
        {
            if (key == "connector" || Known.Contains(key) || SinkOptions.Contains(key) || key.StartsWith("properties.", StringComparison.Ordinal)) continue;
            throw new ConnectorOptionException(table.Name, key, $"unknown option for connector 'kafka'; known: {string.Join(", ", Known)}, properties.*");
        }
        string Required(string key) => o.TryGetValue(key, out var v) && !string.IsNullOrWhiteSpace(v)
            ? v : throw new ConnectorOptionException(table.Name, key, "required");
        // The source decodes values only: key columns missing from the value would silently read as null.
        if (o.TryGetValue("value.fields-include", out var include) && include != "ALL")
            throw new ConnectorOptionException(table.Name, "value.fields-include", $"'{include}' cannot be read: the source decodes the value only, so key columns must be in it ('ALL')");
        var topics = Required("topic").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        string format = Required("format");
        if (format != "json") throw new ConnectorOptionException(table.Name, "format", $"'{format}' is not supported; use 'json'");

        var startup = (o.GetValueOrDefault("scan.startup.mode") ?? "group-offsets") switch
        {
            "earliest-offset" => KafkaStartupMode.EarliestOffset,
            "latest-offset" => KafkaStartupMode.LatestOffset,
            "timestamp" => KafkaStartupMode.Timestamp,
            "specific-offsets" => KafkaStartupMode.SpecificOffsets,
            // Flink's default; Eddy keeps no offsets in Kafka, so it cannot resume from them.
            var m => throw new ConnectorOptionException(table.Name, "scan.startup.mode",
                (o.ContainsKey("scan.startup.mode") ? $"'{m}' is not supported" : "required (Eddy does not read committed group offsets)")
                + "; one of earliest-offset, latest-offset, timestamp, specific-offsets"),
        };
        var bounded = (o.GetValueOrDefault("scan.bounded.mode") ?? "unbounded") switch
        {
            "unbounded" => KafkaBoundedMode.Unbounded,
            "latest-offset" => KafkaBoundedMode.LatestOffset,
            var m => throw new ConnectorOptionException(table.Name, "scan.bounded.mode", $"'{m}' is not supported; one of unbounded, latest-offset"),
        };
        long? timestamp = null;
        if (o.TryGetValue("scan.startup.timestamp-millis", out var tsText))
            timestamp = long.TryParse(tsText, NumberStyles.Integer, CultureInfo.InvariantCulture, out long t) ? t
                : throw new ConnectorOptionException(table.Name, "scan.startup.timestamp-millis", $"'{tsText}' is not a number of milliseconds");
        var specific = new Dictionary<(string, int), long>();
        if (o.TryGetValue("scan.startup.specific-offsets", out var offsetsText))
        {
            if (topics.Length != 1)
                throw new ConnectorOptionException(table.Name, "scan.startup.specific-offsets", "needs a single topic");
            foreach (var part in offsetsText.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                // Flink's form: partition:0,offset:42;partition:1,offset:300
                var fields = part.Split(',', StringSplitOptions.TrimEntries);
                if (fields.Length != 2 || !fields[0].StartsWith("partition:", StringComparison.Ordinal) || !fields[1].StartsWith("offset:", StringComparison.Ordinal)
                    || !int.TryParse(fields[0]["partition:".Length..], CultureInfo.InvariantCulture, out int partition)
                    || !long.TryParse(fields[1]["offset:".Length..], CultureInfo.InvariantCulture, out long offset))
                    throw new ConnectorOptionException(table.Name, "scan.startup.specific-offsets", $"'{part}' is not 'partition:<n>,offset:<n>'");
                specific[(topics[0], partition)] = offset;
            }
        }
        bool ignoreErrors = Flag(table, "json.ignore-parse-errors");
        KafkaSourceOptions options;
        try
        {
            var properties = Properties(table);
            options = new KafkaSourceOptions
            {
                Topics = topics,
                BootstrapServers = Required("properties.bootstrap.servers"),
                GroupId = o.GetValueOrDefault("properties.group.id") ?? "eddy-" + table.Name,
                StartupMode = startup,
                StartupTimestamp = timestamp,
                SpecificOffsets = specific,
                BoundedMode = bounded,
                Properties = properties,
            };
            return new KafkaSource<Row>(options, new JsonRecordDecoder(table, decoded, Flag(table, "json.fail-on-missing-field"), ignoreErrors).Decode);
        }
        catch (ArgumentException e)
        {
            throw new ConnectorOptionException(table.Name, e.Message, e);
        }
    }

    /// <summary>The table's <c>properties.*</c> other than bootstrap servers and group id, in librdkafka's names.</summary>
    internal static Dictionary<string, string> Properties(TableDef table) =>
        KafkaProperties.FromJava(table.Options.Where(p => p.Key.StartsWith("properties.", StringComparison.Ordinal)
                && p.Key is not "properties.bootstrap.servers" and not "properties.group.id")
            .Select(p => KeyValuePair.Create(p.Key["properties.".Length..], p.Value)));

    private static bool Flag(TableDef table, string key)
    {
        if (!table.Options.TryGetValue(key, out var text)) return false;
        return bool.TryParse(text, out bool b) ? b : throw new ConnectorOptionException(table.Name, key, $"expected true or false, got '{text}'");
    }

    /// <summary>A record's JSON value into the decoded columns; metadata columns from the record itself.</summary>
    private sealed class JsonRecordDecoder
    {
        private enum Slot { Physical, Topic, Partition, Offset, Timestamp }

        private readonly JsonRowDecoder json;
        private readonly (Slot Slot, int Physical, DataType Type)[] slots;
        private readonly bool ignoreErrors;

        public JsonRecordDecoder(TableDef table, Schema decoded, bool failOnMissingField, bool ignoreErrors)
        {
            this.ignoreErrors = ignoreErrors;
            var physical = new List<(string, DataType)>();
            slots = new (Slot, int, DataType)[decoded.Count];
            for (int i = 0; i < decoded.Count; i++)
            {
                var column = decoded[i];
                string? key = table.Columns.FirstOrDefault(c => c.Name == column.Name)?.MetadataKey;
                var slot = key switch
                {
                    null => Slot.Physical,
                    "topic" => Slot.Topic,
                    "partition" => Slot.Partition,
                    "offset" => Slot.Offset,
                    "timestamp" => Slot.Timestamp,
                    _ => throw new ConnectorOptionException(table.Name, "connector", $"kafka has no metadata '{key}'"),
                };
                var kind = column.Type.Kind;
                bool fits = slot switch
                {
                    Slot.Topic => kind is TypeKind.String,
                    Slot.Partition => kind is TypeKind.Int or TypeKind.BigInt,
                    Slot.Offset => kind is TypeKind.BigInt,
                    Slot.Timestamp => kind is TypeKind.TimestampLtz or TypeKind.Timestamp,
                    _ => true,
                };
                if (!fits)
                    throw new ConnectorOptionException(table.Name, "connector",
                        $"metadata column '{column.Name}' ({key}) cannot be {column.Type}; Flink's types: topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP_LTZ(3)");
                slots[i] = (slot, slot == Slot.Physical ? physical.Count : -1, column.Type);
                if (slot == Slot.Physical) physical.Add((column.Name, column.Type));
            }
            json = new JsonRowDecoder(Schema.Of([.. physical]), failOnMissingField);
        }

        public bool Decode(in KafkaMessage m, out Row row)
        {
            // A tombstone (no value) has no row: Flink's json format skips it too.
            if (m.Value is null)
            {
                row = null!;
                return false;
            }
            Row values;
            try
            {
                values = json.Decode(m.Value);
            }
            catch (RecordFormatException e)
            {
                if (ignoreErrors)
                {
                    row = null!;
                    return false;
                }
                throw new FormatException($"Kafka record {m.Topic}/{m.Partition}@{m.Offset}: {e.Message} (set 'json.ignore-parse-errors' = 'true' to skip such records)", e);
            }
            var fields = new object?[slots.Length];
            for (int i = 0; i < slots.Length; i++)
            {
                var (slot, physical, type) = slots[i];
                fields[i] = slot switch
                {
                    Slot.Physical => values[physical],
                    Slot.Topic => m.Topic,
                    Slot.Partition => type.Kind == TypeKind.Int ? (object)m.Partition : (long)m.Partition,
                    Slot.Offset => m.Offset,
                    Slot.Timestamp when m.Timestamp == EventTime.None => null,
                    Slot.Timestamp => type.Kind == TypeKind.TimestampLtz
                        ? DateTimeOffset.FromUnixTimeMilliseconds(m.Timestamp)
                        : DateTime.SpecifyKind(DateTimeOffset.FromUnixTimeMilliseconds(m.Timestamp).UtcDateTime, DateTimeKind.Unspecified),
                    _ => null,
                };
            }
            row = new Row(RowKind.Insert, fields);
            return true;
        }
    }
}
