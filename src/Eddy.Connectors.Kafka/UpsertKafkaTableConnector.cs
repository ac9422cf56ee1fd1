using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Connectors.Options;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// <c>'connector' = 'upsert-kafka'</c> as a sink: a table with a PRIMARY KEY whose columns are the message key
/// (<c>key.format</c>); +I/+U write the row as the value (<c>value.format</c>), -D a tombstone, -U nothing when the
/// +U of its key follows it directly, else a tombstone (a filter after the aggregation dropped the new value). Reading
/// the topic back and keeping the last value per key gives the table. As a source (<see cref="UpsertKafkaSource"/>) it
/// reads that table as a changelog: +I, -U/+U per update, -D per tombstone of a known key.
/// </summary>
public sealed class UpsertKafkaTableConnector : ITableConnector
{
    public string Name => "upsert-kafka";

    public OptionSchema OptionSchema => KafkaOptions.UpsertKafka;

    /// <summary>Updates and deletes are applied by key, so any changelog may be written.</summary>
    public bool AcceptsUpdates(TableDef table) => true;

    /// <summary>Reading gives a changelog: the planner treats the scan as an updating stream.</summary>
    public bool ProducesUpdates(TableDef table) => true;

    /// <summary>
    /// The primary key's columns are the key (<c>key.format</c>, no <c>key.fields</c>); the value as the kafka
    /// connector reads it (<c>value.format</c>, <c>value.fields-include</c>); the topic is read from its earliest
    /// offset unless <c>scan.startup.mode</c> says otherwise (an upsert table is only whole from the start).
    /// </summary>
    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        var o = table.Options;
        var declared = KafkaOptions.UpsertKafka.Validate(table);
        if (table.PrimaryKey.Count == 0)
            throw new ConnectorOptionException(table.Name, "connector", "'upsert-kafka' needs PRIMARY KEY (...) NOT ENFORCED: its columns are the message key");
        if (!declared.Has(KafkaOptions.ValueFormat) && !declared.Has(KafkaOptions.Format)) throw new ConnectorOptionException(table.Name, "value.format", "required");
        // Read as a kafka table keyed by the PRIMARY KEY, from where upsert-kafka's schema says (earliest by default).
        var options = new Dictionary<string, string>(o)
        {
            ["connector"] = "kafka",
            ["key.fields"] = string.Join(';', table.PrimaryKey),
            [KafkaOptions.ScanStartupMode.Name] = declared.Get((ConnectorOption<string>)KafkaOptions.UpsertKafka.Find(KafkaOptions.ScanStartupMode.Name)!),
        };
        var keyed = new TableDef
        {
            Name = table.Name, Columns = table.Columns, Watermark = table.Watermark, PrimaryKey = table.PrimaryKey,
            Options = options, Declaration = table.Declaration, Context = table.Context,
        };
        if (SqlRecordDecoder.RegisteredFormat(table) is { IsChangelog: true } changelog)
            throw new ConnectorOptionException(table.Name, o.ContainsKey("value.format") ? "value.format" : "format",
                $"'upsert-kafka' reads an insert-only value format; '{changelog.Name}' is a changelog (read it with 'connector' = 'kafka')");
        var sourceOptions = KafkaTableConnector.SourceOptions(keyed, decoded, out var values, context.FindType);
        return new UpsertKafkaSource(sourceOptions, new UpsertDecoding(keyed, values));
    }

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        KafkaSinkFactory.Create(table, schema, upsert: true, context.FindType);
}
