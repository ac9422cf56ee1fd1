using System.Text;
using Eddy.Connectors.Formats.Debezium;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;
using static Eddy.Connectors.Formats.Tests.FormatTestSql;

namespace Eddy.Connectors.Formats.Tests;

public class DebeziumJsonTests
{
    /// <summary>Flink's documented products table (docs: formats/debezium).</summary>
    private static readonly Schema Products = Schema.Of(
        ("id", DataType.BigInt), ("name", DataType.String), ("description", DataType.String), ("weight", DataType.Decimal(10, 2)));

    /// <summary>Flink's documented update event: the weight of product 111 changes from 5.18 to 5.15.</summary>
    private const string DocumentedUpdate = """
        {
          "before": { "id": 111, "name": "scooter", "description": "Big 2-wheel scooter", "weight": 5.18 },
          "after": { "id": 111, "name": "scooter", "description": "Big 2-wheel scooter", "weight": 5.15 },
          "source": { "version": "1.1.1.Final", "connector": "mysql", "name": "dbserver1", "ts_ms": 1589362330000,
                      "snapshot": "false", "db": "inventory", "table": "products", "server_id": 223344 },
          "op": "u",
          "ts_ms": 1589362330904,
          "transaction": null
        }
        """;

    private static MessageDecoder Decoder(Schema physical, bool schemaInclude = false, params string[] metadata) =>
        new DebeziumJsonFormat().CreateDecoder(new FormatContext("t", physical, metadata,
            name => name == "debezium-json.schema-include" && schemaInclude ? "true" : null, _ => null));

    private static List<Row> Decode(MessageDecoder decoder, string json)
    {
        var rows = new List<Row>();
        decoder.Decode(Encoding.UTF8.GetBytes(json), rows);
        return rows;
    }

    [Fact]
    public void Flinks_documented_update_decodes_to_update_before_and_update_after()
    {
        var rows = Decode(Decoder(Products), DocumentedUpdate);
        Assert.Equal(2, rows.Count);
        Assert.Equal(RowKind.UpdateBefore, rows[0].Kind);
        Assert.Equal(new object?[] { 111L, "scooter", "Big 2-wheel scooter", 5.18m }, rows[0].Fields.ToArray());
        Assert.Equal(RowKind.UpdateAfter, rows[1].Kind);
        Assert.Equal(new object?[] { 111L, "scooter", "Big 2-wheel scooter", 5.15m }, rows[1].Fields.ToArray());
    }

    [Fact]
    public void With_schema_include_the_payload_is_read_and_without_it_a_wrapped_message_is_an_error_that_says_so()
    {
        string wrapped = $$"""{"schema": {"type": "struct", "optional": false}, "payload": {{DocumentedUpdate}}}""";
        var rows = Decode(Decoder(Products, schemaInclude: true), wrapped);
        Assert.Equal([RowKind.UpdateBefore, RowKind.UpdateAfter], rows.Select(r => r.Kind));
        Assert.Equal(5.15m, rows[1][3]);
        var e = Assert.Throws<RecordFormatException>(() => Decode(Decoder(Products), wrapped));
        Assert.Contains("'debezium-json.schema-include' = 'true'", e.Message);
        var missing = Assert.Throws<RecordFormatException>(() => Decode(Decoder(Products, schemaInclude: true), DocumentedUpdate));
        Assert.Contains("no \"payload\"", missing.Message);
    }

    [Fact]
    public void Create_read_and_delete_events_and_tombstones()
    {
        var decoder = Decoder(Products);
        var created = Decode(decoder, """{"before":null,"after":{"id":1,"name":"a","description":"x","weight":1.5},"op":"c"}""");
        Assert.Equal(RowKind.Insert, Assert.Single(created).Kind);
        var snapshot = Decode(decoder, """{"after":{"id":2,"name":"b","description":null,"weight":2},"op":"r"}""");
        Assert.Equal(new object?[] { 2L, "b", null, 2m }, Assert.Single(snapshot).Fields.ToArray());
        var deleted = Decode(decoder, """{"before":{"id":1,"name":"a","description":"x","weight":1.5},"after":null,"op":"d"}""");
        Assert.Equal(RowKind.Delete, Assert.Single(deleted).Kind);
        Assert.Equal(1L, deleted[0][0]);
        Assert.Empty(Decode(decoder, ""));
    }

    [Theory]
    [InlineData("""{"before":null,"after":{"id":1},"op":"u"}""", "the \"before\" field of an UPDATE message is null")]
    [InlineData("""{"before":null,"after":null,"op":"d"}""", "the \"before\" field of a DELETE message is null")]
    [InlineData("""{"after":{"id":1},"op":"t"}""", "unknown \"op\" value \"t\"")]
    [InlineData("""{"after":{"id":1}}""", "no \"op\" field")]
    [InlineData("""{"after":{"id":"x"},"op":"c"}""", "'id'")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    [InlineData("""{"after":{"id":1},"op":"c" """, "invalid JSON")]
    public void Bad_events_are_errors_that_quote_the_message(string json, string expected)
    {
        var e = Assert.Throws<RecordFormatException>(() => Decode(Decoder(Products), json));
        Assert.Contains(expected, e.Message);
        Assert.Contains("corrupt Debezium JSON message", e.Message);
    }

    [Fact]
    public void Metadata_comes_from_the_envelope_and_its_source_block()
    {
        var decoder = Decoder(Products, false, "ingestion-timestamp", "source.timestamp", "source.database", "source.schema", "source.table", "source.properties", "schema");
        var rows = Decode(decoder, DocumentedUpdate);
        foreach (var row in rows)
        {
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1589362330904), row[4]);
            Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1589362330000), row[5]);
            Assert.Equal("inventory", row[6]);
            Assert.Null(row[7]);
            Assert.Equal("products", row[8]);
            var properties = Assert.IsType<Dictionary<object, object?>>(row[9]);
            Assert.Equal("mysql", properties["connector"]);
            Assert.Equal("223344", properties["server_id"]);
            Assert.Null(row[10]);
        }
    }

    [Fact]
    public void Flinks_documented_table_with_metadata_columns_reads_the_topic_as_a_changelog()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "products_binlog");
        kafka.ProduceBytes(
            Encoding.UTF8.GetBytes("""{"after":{"id":111,"name":"scooter","description":"Big 2-wheel scooter","weight":5.18},"source":{"db":"inventory","table":"products","ts_ms":1589362300000},"op":"c","ts_ms":1589362300904}"""),
            Encoding.UTF8.GetBytes(DocumentedUpdate.ReplaceLineEndings(" ")));
        var lines = Run($$"""
            CREATE TABLE topic_products (
              origin_ts TIMESTAMP(3) METADATA FROM 'value.ingestion-timestamp' VIRTUAL,
              event_time TIMESTAMP(3) METADATA FROM 'value.source.timestamp' VIRTUAL,
              origin_database STRING METADATA FROM 'value.source.database' VIRTUAL,
              origin_table STRING METADATA FROM 'value.source.table' VIRTUAL,
              id BIGINT, name STRING, description STRING, weight DECIMAL(10, 2)
            ) WITH (
              'connector' = 'kafka', 'topic' = 'products_binlog', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'debezium-json');
            CREATE TABLE out_t (id BIGINT, weight DECIMAL(10, 2), origin_ts TIMESTAMP(3), event_time TIMESTAMP(3), db STRING, tbl STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, weight, origin_ts, event_time, origin_database, origin_table FROM topic_products;
            """);
        Assert.Equal([
            "+I[111, 5.18, 2020-05-13 09:31:40.904, 2020-05-13 09:31:40.000, inventory, products]",
            "-U[111, 5.18, 2020-05-13 09:32:10.904, 2020-05-13 09:32:10.000, inventory, products]",
            "+U[111, 5.15, 2020-05-13 09:32:10.904, 2020-05-13 09:32:10.000, inventory, products]",
        ], lines);
    }

    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Eddy.slnx"))) return Path.Combine(dir.FullName, relative);
        throw new InvalidOperationException("no repository root above " + AppContext.BaseDirectory);
    }

    [Fact]
    public void The_concept_example_ends_with_the_final_state_per_category()
    {
        var lines = File.ReadAllLines(RepoFile("examples/data/products-debezium.jsonl")).Where(l => l.Length > 0).ToList();
        // The table's final state, applied here from the events' before/after.
        var final = new Dictionary<long, (string Category, decimal Weight)>();
        foreach (var line in lines)
        {
            using var e = System.Text.Json.JsonDocument.Parse(line);
            var root = e.RootElement;
            if (root.GetProperty("op").GetString() == "d") final.Remove(root.GetProperty("before").GetProperty("id").GetInt64());
            else
            {
                var after = root.GetProperty("after");
                final[after.GetProperty("id").GetInt64()] = (after.GetProperty("category").GetString()!, after.GetProperty("weight").GetDecimal());
            }
        }
        using var kafka = new KafkaFixture(partitions: 1, topic: "products_binlog");
        kafka.ProduceBytes([.. lines.Select(Encoding.UTF8.GetBytes)]);
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, name => name == "EDDY_BOOTSTRAP" ? kafka.Cluster.Bootstrap : null);
        RunJobs(session.Execute(File.ReadAllText(RepoFile("examples/concepts/debezium-changelog.sql"))));
        // The last change of each category that still has products is its final row; emptied categories end deleted.
        var last = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => (Kind: l[..2], Fields: l[3..^1].Split(", ")))
            .GroupBy(l => l.Fields[0]).ToDictionary(g => g.Key, g => g.Last());
        foreach (var group in final.Values.GroupBy(p => p.Category))
        {
            Assert.Contains(last[group.Key].Kind, new[] { "+I", "+U" });
            Assert.Equal(group.Count().ToString(System.Globalization.CultureInfo.InvariantCulture), last[group.Key].Fields[1]);
            Assert.Equal(group.Sum(p => p.Weight), decimal.Parse(last[group.Key].Fields[2], System.Globalization.CultureInfo.InvariantCulture));
        }
        foreach (var emptied in last.Keys.Except(final.Values.Select(p => p.Category))) Assert.Equal("-D", last[emptied].Kind);
    }

    [Theory]
    [InlineData("'debezium-json.schema-include' = 'maybe'", "debezium-json.schema-include")]
    [InlineData("'json.ignore-parse-errors' = 'true'", "json.ignore-parse-errors")]
    [InlineData("'debezium-json.timestamp-format.standard' = 'RFC'", "debezium-json.timestamp-format.standard")]
    public void Bad_options_are_refused_naming_them(string option, string expected)
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "cdc");
        var e = Assert.ThrowsAny<Exception>(() => Run($$"""
            CREATE TABLE src (id BIGINT) WITH ('connector' = 'kafka', 'topic' = 'cdc', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'debezium-json', {{option}});
            CREATE TABLE out_t (id BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id FROM src;
            """));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Planning_refuses_an_append_only_sink_a_metadata_key_of_another_format_and_duplicates_without_a_key()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "cdc");
        string source = $$"""
            CREATE TABLE src (id BIGINT, v INT) WITH ('connector' = 'kafka', 'topic' = 'cdc', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'debezium-json');
            """;
        var appendOnly = Assert.ThrowsAny<Exception>(() => Run(source + $$"""
            CREATE TABLE out_t (id BIGINT, v INT) WITH ('connector' = 'kafka', 'topic' = 'o', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'format' = 'json');
            INSERT INTO out_t SELECT id, v FROM src;
            """));
        Assert.Contains("append-only but the query produces updates", appendOnly.Message);
        var metadata = Assert.ThrowsAny<Exception>(() => Run($$"""
            CREATE TABLE j (id BIGINT, t STRING METADATA FROM 'value.source.table') WITH ('connector' = 'kafka', 'topic' = 'cdc',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json');
            CREATE TABLE out_t (id BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id FROM j;
            """));
        Assert.Contains("format 'json' has no metadata 'source.table'", metadata.Message);
        var duplicates = Assert.ThrowsAny<Exception>(() => Run("SET 'table.exec.source.cdc-events-duplicate' = 'true';" + source + """
            CREATE TABLE out_t (id BIGINT, v INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, v FROM src;
            """));
        Assert.Contains("needs the changelog source to declare PRIMARY KEY", duplicates.Message);
    }

    [Fact]
    public void A_bad_event_is_skipped_with_ignore_parse_errors()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "cdc");
        kafka.ProduceBytes(
            Encoding.UTF8.GetBytes("""{"after":{"id":1,"v":1},"op":"c"}"""),
            Encoding.UTF8.GetBytes("""{"after":{"id":2,"v":2},"op":"x"}"""),
            Encoding.UTF8.GetBytes("""not json"""),
            Encoding.UTF8.GetBytes("""{"before":{"id":1,"v":1},"op":"d"}"""));
        var lines = Run($$"""
            CREATE TABLE src (id BIGINT, v INT) WITH ('connector' = 'kafka', 'topic' = 'cdc', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'debezium-json',
              'debezium-json.ignore-parse-errors' = 'true');
            CREATE TABLE out_t (id BIGINT, v INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, v FROM src;
            """);
        Assert.Equal(["+I[1, 1]", "-D[1, 1]"], lines);
        var e = Assert.ThrowsAny<Exception>(() => Run($$"""
            CREATE TABLE src (id BIGINT, v INT) WITH ('connector' = 'kafka', 'topic' = 'cdc', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'debezium-json');
            CREATE TABLE out_t (id BIGINT, v INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, v FROM src;
            """));
        Assert.Contains("partition 0 at offset 1", e.ToString());
        Assert.Contains("unknown \"op\" value \"x\"", e.ToString());
    }
}
