using Eddy.Connectors.Formats;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// The sink of SQL tables with <c>'connector' = 'kafka'</c> (append-only, or every row kind in a changelog format:
/// debezium-json, canal-json, maxwell-json) or <c>'upsert-kafka'</c> (by primary key:
/// +I/+U write the row, -D and -U a tombstone; a -U followed by the +U of its key is left out by the sink).
/// </summary>
internal static class KafkaSinkFactory
{
    /// <summary>Formats whose subject Flink's Kafka connector defaults to <c>&lt;topic&gt;-value</c>.</summary>
    private static readonly string[] RegistryFormats = ["avro-confluent", "debezium-avro-confluent"];

    public static Sink<Row> Create(TableDef table, Schema schema, bool upsert, Func<string, Type?>? findType = null)
    {
        var o = table.Options;
        var options = (upsert ? KafkaOptions.UpsertKafka : KafkaOptions.Kafka).Validate(table);
        string Required(ConnectorOption<string> option) => options.FindString(option) is { } v && !string.IsNullOrWhiteSpace(v)
            ? v : throw new ConnectorOptionException(table.Name, option.Name, "required");

        // upsert-kafka names the value's format 'value.format'; kafka 'format' (Flink accepts 'value.format' too).
        string formatKey = options.Has(KafkaOptions.ValueFormat) ? "value.format" : "format";
        string format = upsert && !options.Has(KafkaOptions.Format) ? Required(KafkaOptions.ValueFormat)
            : Required(formatKey == "format" ? KafkaOptions.Format : KafkaOptions.ValueFormat);
        IWritableValueFormat? writable = null;
        if (format != "json")
        {
            writable = ValueFormats.Find(format) as IWritableValueFormat
                ?? throw new ConnectorOptionException(table.Name, formatKey,
                    $"'{format}' is not supported for writing; one of json, {string.Join(", ", ValueFormats.Names.Where(n => ValueFormats.Find(n) is IWritableValueFormat))}");
            // As Flink: upsert-kafka encodes its own changelog (tombstones by key) and takes insert-only value formats.
            if (upsert && writable.WritesChangelog)
                throw new ConnectorOptionException(table.Name, formatKey,
                    $"'upsert-kafka' takes an insert-only value format; '{format}' writes a changelog (use it with 'connector' = 'kafka')");
        }
        bool changelog = writable?.WritesChangelog == true;

        var guarantee = options.Get(KafkaOptions.SinkDeliveryGuarantee) switch
        {
            "none" => KafkaDeliveryGuarantee.None,
            // Kafka transactions committed when checkpoints complete; refused when the writer starts without checkpointing.
            "exactly-once" => KafkaDeliveryGuarantee.ExactlyOnce,
            _ => KafkaDeliveryGuarantee.AtLeastOnce,
        };
        var partitioner = options.Get(KafkaOptions.SinkPartitioner) switch
        {
            "round-robin" => KafkaSinkPartitioner.RoundRobin,
            "fixed" => KafkaSinkPartitioner.Fixed,
            _ => KafkaSinkPartitioner.Default,
        };

        // Columns: physical ones go into the message; a 'timestamp' metadata column becomes the record's timestamp.
        var physical = new List<(int Position, string Name, DataType Type)>();
        int timestampColumn = -1;
        for (int i = 0; i < schema.Count; i++)
        {
            var column = schema[i];
            string? metadata = table.Columns.FirstOrDefault(c => c.Name == column.Name)?.MetadataKey;
            if (metadata is null) physical.Add((i, column.Name, column.Type));
            else if (metadata == "timestamp" && !upsert) timestampColumn = i;
            else throw new ConnectorOptionException(table.Name, "connector", $"metadata column '{column.Name}' ({metadata}) cannot be written; declare it VIRTUAL");
        }

        List<(int Position, string Name, DataType Type)> keyFields;
        if (upsert)
        {
            if (table.PrimaryKey.Count == 0)
                throw new ConnectorOptionException(table.Name, "connector", "'upsert-kafka' needs a PRIMARY KEY (...) NOT ENFORCED: its columns are the message key");
            keyFields = [.. table.PrimaryKey.Select(k => physical.FirstOrDefault(p => p.Name == k) is { Name: not null } f ? f
                : throw new ConnectorOptionException(table.Name, "connector", $"primary key column '{k}' is not a physical column"))];
        }
        else
        {
            keyFields = [];
            if (options.FindString(KafkaOptions.KeyFields) is { } names)
                foreach (var name in names.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    keyFields.Add(physical.FirstOrDefault(p => p.Name == name) is { Name: not null } f ? f
                        : throw new ConnectorOptionException(table.Name, "key.fields", $"'{name}' is not a physical column of the table"));
        }
        KafkaKeyFormat? keyFormat = options.FindString(KafkaOptions.KeyFormat) switch
        {
            null when keyFields.Count == 0 => null,
            null => throw new ConnectorOptionException(table.Name, "key.format", "required with 'key.fields' (json, raw or avro)"),
            "json" => KafkaKeyFormat.Json,
            "raw" => KafkaKeyFormat.Raw,
            _ => KafkaKeyFormat.Avro,
        };
        FormatContext? avroKey = null;
        if (keyFormat == KafkaKeyFormat.Avro)
        {
            avroKey = AvroKey.Context(table, new Schema([.. keyFields.Select(f => new Column(f.Name, f.Type))]));
            try
            {
                new Formats.Avro.AvroFormat().ValidateForWriting(avroKey);
            }
            catch (FormatOptionException e)
            {
                throw new ConnectorOptionException(table.Name, e.Option, e.Message);
            }
        }
        if (keyFormat is not null && keyFields.Count == 0)
            throw new ConnectorOptionException(table.Name, "key.fields", "required with 'key.format': the columns that make the key");
        if (keyFormat == KafkaKeyFormat.Raw && (keyFields.Count != 1 || keyFields[0].Type.Kind is not (TypeKind.String or TypeKind.Char or TypeKind.Binary)))
            throw new ConnectorOptionException(table.Name, "key.format", "'raw' needs exactly one key column of type STRING or BYTES");

        var valueFields = options.Get(KafkaOptions.ValueFieldsInclude) == "EXCEPT_KEY" ? [.. physical.Where(p => !keyFields.Contains(p))] : physical;

        FormatContext? valueContext = null;
        if (writable is not null)
        {
            string topic = Required(KafkaOptions.Topic);
            // With 'value.format' Flink prefixes the format's options with 'value.'; both spellings are read.
            string Opt(string name) => o.ContainsKey("value." + name) ? "value." + name : name;
            string? Option(string name) =>
                o.GetValueOrDefault(Opt(name))
                // Flink's Kafka connector names a registry format's subject after the topic when the table does not.
                ?? (RegistryFormats.Contains(format) && name == format + ".subject" ? topic + "-value" : null);
            valueContext = new FormatContext(table.Name, new Schema([.. valueFields.Select(f => new Column(f.Name, f.Type))]), [], Option, findType ?? (_ => null))
            {
                OptionKey = Opt,
            };
            try
            {
                writable.ValidateForWriting(valueContext);
            }
            catch (FormatOptionException e)
            {
                throw new ConnectorOptionException(table.Name, e.Option, e.Message);
            }
        }

        KafkaSinkOptions sinkOptions;
        try
        {
            sinkOptions = new KafkaSinkOptions
            {
                Topic = Required(KafkaOptions.Topic),
                BootstrapServers = options.Get(KafkaOptions.BootstrapServers),
                Partitioner = partitioner,
                DeliveryGuarantee = guarantee,
                TransactionalIdPrefix = options.FindString(KafkaOptions.SinkTransactionalIdPrefix),
                // A changelog format writes the -U of an update as a message of its own (a delete), as Flink does.
                CollapseUpdateBefore = upsert,
                Properties = KafkaTableConnector.Properties(options),
            };
            sinkOptions.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ConnectorOptionException(table.Name, e.Message, e);
        }

        return new KafkaSink<Row>(sinkOptions, () =>
        {
            var value = new KafkaRowEncoder(valueFields);
            var encoder = writable?.CreateEncoder(valueContext!, [.. valueFields.Select(f => f.Position)]);
            var key = keyFormat is null ? null : new KafkaRowEncoder(keyFields);
            bool raw = keyFormat == KafkaKeyFormat.Raw;
            var avroKeyEncoder = avroKey is null ? null : new Formats.Avro.AvroFormat().CreateEncoder(avroKey, [.. keyFields.Select(f => f.Position)]);
            return (Row row, RowKind kind, out byte[]? keyBytes, out byte[]? message, out long timestamp) =>
            {
                timestamp = timestampColumn >= 0 && row[timestampColumn] is { } t
                    ? t switch
                    {
                        DateTimeOffset dto => dto.ToUnixTimeMilliseconds(),
                        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)).ToUnixTimeMilliseconds(),
                        _ => EventTime.None,
                    }
                    : EventTime.None;
                keyBytes = key is null ? null : raw ? key.Raw(row) : avroKeyEncoder is not null ? avroKeyEncoder.Encode(row) : key.Json(row);
                if (upsert)
                {
                    if (kind is RowKind.Delete or RowKind.UpdateBefore)
                    {
                        // A tombstone: compaction and readers drop the key. As in Flink's upsert-kafka, -U is one
                        // too; the sink leaves it out when the +U of the same key follows it directly.
                        message = null;
                        return true;
                    }
                }
                else if (kind != RowKind.Insert && !changelog)
                {
                    // The planner keeps changelogs away from append-only sinks; a change reaching here is a bug.
                    throw new InvalidOperationException($"Kafka sink of table '{table.Name}': got a {kind} row; 'kafka' is append-only (use 'upsert-kafka')");
                }
                // upsert-kafka writes +I and +U as the row itself; only a changelog format encodes the kind.
                message = encoder is null ? value.Json(row) : changelog ? encoder.Encode(row, kind) : encoder.Encode(row);
                return true;
            };
        });
    }
}
