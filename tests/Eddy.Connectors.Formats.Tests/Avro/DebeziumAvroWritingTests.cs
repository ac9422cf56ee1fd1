using Avro.Generic;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// Writing <c>debezium-avro-confluent</c> from an updating query into a kafka table, read back with Confluent's own
/// <see cref="AvroDeserializer{T}"/> through the registry stand-in. Expected: the envelope schema Flink's
/// <c>DebeziumAvroSerializationSchema</c> registers (written out by hand from its row type), and the changelog, replayed
/// as Debezium's consumers replay it, equal to a LINQ GROUP BY of the input.
/// </summary>
public sealed class DebeziumAvroWritingTests : IDisposable
{
    private readonly string dir = Path.Combine(Path.GetTempPath(), "eddy-dbz-avro-" + Guid.NewGuid().ToString("N"));

    public DebeziumAvroWritingTests() => Directory.CreateDirectory(dir);

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>ROW(before ROW(k, n, total), after ROW(k, n, total), op STRING), all nullable, through Flink's AvroSchemaConverter.</summary>
    private const string FlinkEnvelope = """
        {"type": "record", "name": "record", "namespace": "org.apache.flink.avro.generated", "fields": [
          {"name": "before", "type": ["null", {"type": "record", "name": "record_before", "fields": [
            {"name": "k", "type": ["null", "string"], "default": null},
            {"name": "n", "type": "long"},
            {"name": "total", "type": ["null", "int"], "default": null}]}], "default": null},
          {"name": "after", "type": ["null", {"type": "record", "name": "record_after", "fields": [
            {"name": "k", "type": ["null", "string"], "default": null},
            {"name": "n", "type": "long"},
            {"name": "total", "type": ["null", "int"], "default": null}]}], "default": null},
          {"name": "op", "type": ["null", "string"], "default": null}]}
        """;

    private static void Run(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        foreach (var job in session.Execute(sql, "test.sql"))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
    }

    [Fact]
    public void An_updating_query_writes_Debeziums_envelope_that_Confluents_deserializer_reads_back_as_the_aggregate()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "totals");
        using var registry = new SchemaRegistryStandIn();
        var input = Enumerable.Range(0, 40).Select(i => (K: "key" + (i * 7 % 5), V: i % 4 == 0 ? (int?)null : i)).ToList();
        File.WriteAllLines(Path.Combine(dir, "in.jsonl"), input.Select(r => r.V is { } v ? $$"""{"k": "{{r.K}}", "v": {{v}}}""" : $$"""{"k": "{{r.K}}"}"""));
        Run($$"""
            CREATE TABLE src (k STRING, v INT) WITH ('connector' = 'filesystem', 'path' = '{{dir}}', 'format' = 'json');
            CREATE TABLE totals (k STRING, n BIGINT NOT NULL, total INT) WITH (
              'connector' = 'kafka', 'topic' = 'totals', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'format' = 'debezium-avro-confluent', 'debezium-avro-confluent.url' = '{{registry.Url}}');
            INSERT INTO totals SELECT k, COUNT(*), SUM(v) FROM src GROUP BY k;
            """);

        int id = Assert.Single(registry.Versions("totals-value"));
        Assert.Equal(AvroSchema.Parse(FlinkEnvelope).ToString(), AvroSchema.Parse(registry.Schema(id)!).ToString());

        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url });
        using var consumer = new ConsumerBuilder<Ignore, GenericRecord>(new ConsumerConfig { BootstrapServers = kafka.Cluster.Bootstrap, GroupId = "check" })
            .SetValueDeserializer(new AvroDeserializer<GenericRecord>(client).AsSyncOverAsync()).Build();
        consumer.Assign(new TopicPartitionOffset("totals", 0, Offset.Beginning));
        long end = consumer.QueryWatermarkOffsets(new TopicPartition("totals", 0), TimeSpan.FromSeconds(30)).High;
        var messages = new List<GenericRecord>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (messages.Count < end && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) messages.Add(r.Message.Value);
        }
        Assert.Equal(end, messages.Count);

        // Debezium's consumer view: "c" upserts after, "d" deletes before; an update is a "d" then a "c".
        var state = new Dictionary<string, (long N, int? Total)>();
        foreach (var m in messages)
        {
            var before = (GenericRecord?)m["before"];
            var after = (GenericRecord?)m["after"];
            switch ((string)m["op"])
            {
                case "c":
                    Assert.Null(before);
                    state[(string)after!["k"]] = ((long)after["n"], (int?)after["total"]);
                    break;
                case "d":
                    Assert.Null(after);
                    var key = (string)before!["k"];
                    Assert.Equal(state[key], ((long)before["n"], (int?)before["total"]));
                    state.Remove(key);
                    break;
                default:
                    Assert.Fail($"op {m["op"]}");
                    break;
            }
        }
        var expected = input.GroupBy(r => r.K).ToDictionary(g => g.Key, g => ((long)g.Count(), g.Any(r => r.V is not null) ? g.Sum(r => r.V) : null));
        Assert.Equal(expected.OrderBy(kv => kv.Key), state.OrderBy(kv => kv.Key));
        Assert.Contains(messages, m => (string)m["op"] == "d");
    }

    [Fact]
    public void Upsert_kafka_refuses_it_and_the_subject_is_required_outside_kafka()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        var e = Assert.ThrowsAny<Exception>(() => session.Execute("""
            CREATE TABLE u (k STRING, n BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH (
              'connector' = 'upsert-kafka', 'topic' = 't', 'properties.bootstrap.servers' = '127.0.0.1:9', 'key.format' = 'json',
              'value.format' = 'debezium-avro-confluent', 'value.debezium-avro-confluent.url' = 'http://127.0.0.1:9');
            INSERT INTO u VALUES ('a', 1);
            """, "test.sql").ToList());
        Assert.Contains("takes an insert-only value format", e.Message);

        var context = AvroFormatTests.Context([new("k", DataType.String)], new() { ["debezium-avro-confluent.url"] = "http://127.0.0.1:9" });
        var subject = Assert.Throws<FormatOptionException>(() => new global::Eddy.Connectors.Formats.Avro.DebeziumAvroConfluentFormat().ValidateForWriting(context));
        Assert.Equal("debezium-avro-confluent.subject", subject.Option);
    }
}
