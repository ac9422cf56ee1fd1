using System.Buffers.Binary;
using Avro.Generic;
using Confluent.Kafka;
using Eddy.Connectors.Formats.Avro;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// debezium-avro-confluent: Debezium envelopes written by Apache.Avro with an envelope schema shaped as Debezium's Avro
/// converter registers it (Value records in nullable before/after, a source record, op, ts_ms), framed in Confluent's
/// wire format with the stand-in registry's id. Expected rows: the before/after values given, with Flink's documented
/// op mapping (formats/debezium).
/// </summary>
public class DebeziumAvroConfluentTests
{
    private const string Envelope = """
        {"type": "record", "name": "Envelope", "namespace": "dbserver1.inventory.products", "fields": [
          {"name": "before", "type": ["null", {"type": "record", "name": "Value", "fields": [
            {"name": "id", "type": "int"}, {"name": "name", "type": "string"},
            {"name": "weight", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}]}]}], "default": null},
          {"name": "after", "type": ["null", "Value"], "default": null},
          {"name": "source", "type": {"type": "record", "name": "Source", "namespace": "io.debezium.connector.postgresql", "fields": [
            {"name": "db", "type": "string"}, {"name": "table", "type": "string"}, {"name": "ts_ms", "type": "long"}]}},
          {"name": "op", "type": "string"},
          {"name": "ts_ms", "type": ["null", "long"], "default": null}
        ]}
        """;

    private static byte[] Event(AvroSchema schema, int id, string op, (int Id, string Name, decimal Weight)? before, (int Id, string Name, decimal Weight)? after)
    {
        var envelope = (global::Avro.RecordSchema)schema;
        var valueSchema = (global::Avro.RecordSchema)((global::Avro.UnionSchema)envelope["before"].Schema).Schemas[1];
        GenericRecord? Value((int Id, string Name, decimal Weight)? v)
        {
            if (v is not { } x) return null;
            var r = new GenericRecord(valueSchema);
            r.Add("id", x.Id);
            r.Add("name", x.Name);
            r.Add("weight", new global::Avro.AvroDecimal(x.Weight + 0.00m));
            return r;
        }
        var source = new GenericRecord((global::Avro.RecordSchema)envelope["source"].Schema);
        source.Add("db", "inventory");
        source.Add("table", "products");
        source.Add("ts_ms", 1589362330000L);
        var e = new GenericRecord(envelope);
        e.Add("before", Value(before));
        e.Add("after", Value(after));
        e.Add("source", source);
        e.Add("op", op);
        e.Add("ts_ms", 1589362330904L);
        var body = AvroFormatTests.WriteWithApacheAvro(schema, e);
        var message = new byte[5 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
        body.CopyTo(message, 5);
        return message;
    }

    [Fact]
    public async Task Debezium_events_become_the_changelog_and_a_sql_table_prints_it()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "products");
        using var registry = new SchemaRegistryStandIn();
        var schema = AvroSchema.Parse(Envelope);
        int id = registry.Register("products-value", Envelope);
        kafka.ProduceBytes(
            Event(schema, id, "r", null, (1, "hammer", 0.75m)),
            Event(schema, id, "c", null, (2, "battery", 8.1m)),
            Event(schema, id, "u", (1, "hammer", 0.75m), (1, "hammer", 0.8m)),
            Event(schema, id, "d", (2, "battery", 8.1m), null),
            []);
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        foreach (var job in session.Execute($$"""
            CREATE TABLE products (id BIGINT, name STRING, weight DECIMAL(10, 2)) WITH (
              'connector' = 'kafka', 'topic' = 'products', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
              'format' = 'debezium-avro-confluent', 'debezium-avro-confluent.url' = '{{registry.Url}}');
            CREATE TABLE out_t (id BIGINT, name STRING, weight DECIMAL(10, 2)) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT * FROM products;
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            if (result.Failure is not null) throw result.Failure;
        }
        Assert.Equal([
            "+I[1, hammer, 0.75]", "+I[2, battery, 8.10]", "-U[1, hammer, 0.75]", "+U[1, hammer, 0.80]", "-D[2, battery, 8.10]",
        ], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public void An_update_without_before_and_an_unknown_op_are_bad_records()
    {
        using var registry = new SchemaRegistryStandIn();
        var schema = AvroSchema.Parse(Envelope);
        int id = registry.Register("p-value", Envelope);
        var decoder = new DebeziumAvroConfluentFormat().CreateDecoder(new FormatContext("t",
            Schema.Of(("id", DataType.BigInt), ("name", DataType.String)), [],
            name => name == "debezium-avro-confluent.url" ? registry.Url : null, _ => null));
        var noBefore = Assert.Throws<FormatException>(() => decoder.Decode(Event(schema, id, "u", null, (1, "a", 1m)), []));
        Assert.Contains("REPLICA IDENTITY", noBefore.Message);
        var unknown = Assert.Throws<FormatException>(() => decoder.Decode(Event(schema, id, "t", null, (1, "a", 1m)), []));
        Assert.Contains("unknown \"op\" value \"t\"", unknown.Message);
        var rows = new List<Row>();
        decoder.Decode(Event(schema, id, "c", null, (3, "c", 1m)), rows);
        Assert.Equal(new object?[] { 3L, "c" }, Assert.Single(rows).Fields.ToArray());
    }
}
