using Avro.Generic;
using Avro.IO;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// <c>'key.format' = 'avro'</c>: keys written by Eddy are read with Apache.Avro's reader and the schema Flink derives
/// from the key columns (written out here from Flink's documented mapping), and read back by Eddy's kafka and
/// upsert-kafka sources.
/// </summary>
public class AvroKeyTests
{

    private static List<string> Run(KafkaFixture kafka, string sql)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        foreach (var job in session.Execute(sql.Replace("BOOTSTRAP", kafka.Cluster.Bootstrap)))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];
    }

    [Fact]
    public void Keys_are_avro_records_of_the_key_fields_and_read_back_into_their_columns()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "keyed");
        Run(kafka, """
            CREATE TABLE keyed (id BIGINT NOT NULL, region STRING, amount INT) WITH ('connector' = 'kafka', 'topic' = 'keyed',
              'properties.bootstrap.servers' = 'BOOTSTRAP', 'key.format' = 'avro', 'key.fields' = 'id;region',
              'value.format' = 'json', 'value.fields-include' = 'EXCEPT_KEY');
            INSERT INTO keyed VALUES (1, 'eu', 10), (2, CAST(NULL AS STRING), 20), (3, 'us', 30);
            """);
        var schema = AvroSchema.Parse("""
            {"type": "record", "name": "record", "namespace": "org.apache.flink.avro.generated", "fields": [
              {"name": "id", "type": "long"}, {"name": "region", "type": ["null", "string"], "default": null}]}
            """);
        var reader = new GenericDatumReader<GenericRecord>(schema, schema);
        var keys = kafka.ReadAll("keyed", 1, 3)
            .Select(r => reader.Read(null!, new BinaryDecoder(new MemoryStream(r.Message.Key!))))
            .Select(k => ((long)k["id"], (string?)k["region"])).OrderBy(k => k.Item1).ToList();
        Assert.Equal([(1L, "eu"), (2L, (string?)null), (3L, "us")], keys);

        var lines = Run(kafka, """
            CREATE TABLE keyed (id BIGINT NOT NULL, region STRING, amount INT) WITH ('connector' = 'kafka', 'topic' = 'keyed',
              'properties.bootstrap.servers' = 'BOOTSTRAP', 'key.format' = 'avro', 'key.fields' = 'id;region',
              'value.format' = 'json', 'value.fields-include' = 'EXCEPT_KEY', 'scan.startup.mode' = 'earliest-offset',
              'scan.bounded.mode' = 'latest-offset');
            CREATE TABLE shown (id BIGINT, region STRING, amount INT) WITH ('connector' = 'print');
            INSERT INTO shown SELECT * FROM keyed;
            """);
        Assert.Equal(["+I[1, eu, 10]", "+I[2, null, 20]", "+I[3, us, 30]"], lines.Order());
    }

    [Fact]
    public void An_upsert_kafka_table_with_avro_keys_reads_back_the_last_value_per_key()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "totals");
        string table = """
            CREATE TABLE totals (k STRING NOT NULL, n BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'upsert-kafka', 'topic' = 'totals',
              'properties.bootstrap.servers' = 'BOOTSTRAP', 'key.format' = 'avro', 'value.format' = 'avro' SCAN);
            """;
        Run(kafka, table.Replace("SCAN", "") + """
            INSERT INTO totals SELECT k, COUNT(*) FROM (VALUES ('a'), ('b'), ('a'), ('c'), ('a'), ('b')) AS v(k) GROUP BY k;
            """);
        var lines = Run(kafka, table.Replace("SCAN", ", 'scan.bounded.mode' = 'latest-offset'") + """
            CREATE TABLE shown (k STRING, n BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'print');
            INSERT INTO shown SELECT * FROM totals;
            """);
        // The last change of each key is its count: a 3, b 2, c 1 (LINQ over the input).
        var last = lines.GroupBy(l => l[3..].Split(", ")[0]).ToDictionary(g => g.Key, g => g.Last());
        var expected = new[] { "a", "b", "a", "c", "a", "b" }.GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expected.Keys.Order(), last.Keys.Order());
        foreach (var (k, n) in expected) Assert.EndsWith($"[{k}, {n}]", last[k]);
    }

    [Fact]
    public void Avro_key_options_are_checked()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "keyed");
        var e = Assert.ThrowsAny<Exception>(() => Run(kafka, """
            CREATE TABLE keyed (id BIGINT, v INT) WITH ('connector' = 'kafka', 'topic' = 'keyed', 'properties.bootstrap.servers' = 'BOOTSTRAP',
              'key.format' = 'avro', 'key.fields' = 'id', 'key.avro.encoding' = 'json', 'value.format' = 'json');
            INSERT INTO keyed VALUES (1, 2);
            """));
        Assert.Contains("key.avro.encoding", e.Message);
    }
}
