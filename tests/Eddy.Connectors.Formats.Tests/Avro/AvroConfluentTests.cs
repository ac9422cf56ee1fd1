using System.Buffers.Binary;
using System.Text;
using Avro.Generic;
using Confluent.Kafka;
using Confluent.Kafka.SyncOverAsync;
using Confluent.SchemaRegistry;
using Confluent.SchemaRegistry.Serdes;
using Eddy.Connectors.Formats.Avro;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;
using AvroSchema = Avro.Schema;
using static Eddy.Connectors.Formats.Tests.FormatTestSql;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// avro-confluent against the registry stand-in (<see cref="SchemaRegistryStandIn"/>) and, through the dev broker,
/// against Confluent's own serializer and deserializer (Confluent.SchemaRegistry.Serdes.Avro 2.16.0) as the
/// independent producer and consumer.
/// </summary>
public class AvroConfluentTests
{
    /// <summary>A producer's own schema: other names, field order and union order than Flink's, an enum, a field the table lacks.</summary>
    private const string OrderV2 = """
        {"type": "record", "name": "Order", "namespace": "shop", "fields": [
          {"name": "extra", "type": {"type": "array", "items": "string"}},
          {"name": "id", "type": "int"},
          {"name": "item", "type": ["string", "null"]},
          {"name": "size", "type": {"type": "enum", "name": "Size", "symbols": ["S", "M", "L"]}},
          {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 2}},
          {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
          {"name": "ratio", "type": "float"}
        ]}
        """;

    private static readonly Column[] OrderColumns =
    [
        new("id", DataType.BigInt.NotNull()), // int → long
        new("item", DataType.String),
        new("size", DataType.String), // enum → string
        new("price", DataType.Decimal(10, 2)),
        new("ts", DataType.Timestamp3),
        new("ratio", DataType.Double), // float → double
        new("note", DataType.String), // not written: null
    ];

    private static GenericRecord Order(AvroSchema schema, int id, string? item, string size, decimal price, DateTime ts, float ratio)
    {
        var record = new GenericRecord((global::Avro.RecordSchema)schema);
        record.Add("extra", new object[] { "x", "y" });
        record.Add("id", id);
        record.Add("item", item);
        record.Add("size", new GenericEnum((global::Avro.EnumSchema)((global::Avro.RecordSchema)schema)["size"].Schema, size));
        record.Add("price", new global::Avro.AvroDecimal(price + 0.00m)); // the schema's scale, as the library insists
        record.Add("ts", ts);
        record.Add("ratio", ratio);
        return record;
    }

    private static byte[] Framed(int id, byte[] body)
    {
        var message = new byte[5 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
        body.CopyTo(message, 5);
        return message;
    }

    private static FormatContext Context(IReadOnlyList<Column> columns, Dictionary<string, string> options) =>
        new("t", new Schema(columns), [], name => options.GetValueOrDefault(name), _ => null);

    [Fact]
    public void A_registered_writer_schema_is_resolved_against_the_tables_columns()
    {
        using var registry = new SchemaRegistryStandIn();
        var schema = AvroSchema.Parse(OrderV2);
        int id = registry.Register("orders-value", OrderV2);
        var decoder = new AvroConfluentFormat().CreateDecoder(Context(OrderColumns, new() { ["avro-confluent.url"] = registry.Url }));
        var ts = new DateTime(2026, 12, 6, 23, 0, 0, 5, DateTimeKind.Utc);
        var row = decoder.DecodeRow(Framed(id, AvroFormatTests.WriteWithApacheAvro(schema, Order(schema, 7, null, "L", 12.5m, ts, 0.25f))));
        Assert.Equal(new object?[] { 7L, null, "L", 12.50m, DateTime.SpecifyKind(ts, DateTimeKind.Unspecified), 0.25, null }, row.Fields.ToArray());
        // The schema is fetched once per id.
        decoder.DecodeRow(Framed(id, AvroFormatTests.WriteWithApacheAvro(schema, Order(schema, 8, "pen", "S", 1m, ts, 1f))));
        Assert.Single(registry.Requests, r => r == $"GET /schemas/ids/{id}");
        Assert.Empty(registry.Unknown);
    }

    [Fact]
    public void A_writer_schema_that_cannot_be_read_as_the_columns_makes_bad_records_that_say_why()
    {
        using var registry = new SchemaRegistryStandIn();
        int id = registry.Register("x-value", """{"type": "record", "name": "R", "fields": [{"name": "id", "type": "string"}]}""");
        var decoder = new AvroConfluentFormat().CreateDecoder(Context(OrderColumns, new() { ["avro-confluent.url"] = registry.Url }));
        var e = Assert.Throws<FormatException>(() => decoder.DecodeRow(Framed(id, [2, (byte)'a'])));
        Assert.Contains($"writer schema of id {id} cannot be read", e.Message);
        Assert.Contains("column 'id' is BIGINT NOT NULL", e.Message);
        int decimalId = registry.Register("y-value", """
            {"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"},
              {"name": "price", "type": {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 3}}]}
            """);
        var scale = Assert.Throws<FormatException>(() => decoder.DecodeRow(Framed(decimalId, [2, 2, 0, 1])));
        Assert.Contains("scale 3", scale.Message);
        var unknown = Assert.Throws<FormatException>(() => decoder.DecodeRow(Framed(99, [2])));
        Assert.Contains("schema id 99", unknown.Message);
        Assert.Contains("40403", unknown.Message);
        var plain = Assert.Throws<FormatException>(() => decoder.DecodeRow(Encoding.UTF8.GetBytes("{\"id\": 1}")));
        Assert.Contains("not Confluent's magic byte 0", plain.Message);
    }

    [Theory]
    [InlineData("avro-confluent.bearer-auth.token", "t", "STATIC_TOKEN")]
    [InlineData("avro-confluent.schema", "{}", "not supported")]
    [InlineData("avro-confluent.basic-auth.credentials-source", "SASL_INHERIT", "one of USER_INFO, URL")]
    [InlineData("avro-confluent.basic-auth.user-info", "nocolon", "expected 'user:password'")]
    [InlineData("avro-confluent.url", "localhost:8081", "expected http(s)://host:port")]
    public void Unsupported_or_bad_options_are_refused_naming_them(string option, string value, string expected)
    {
        var options = new Dictionary<string, string> { ["avro-confluent.url"] = "http://127.0.0.1:9", [option] = value };
        var e = Assert.Throws<FormatOptionException>(() => new AvroConfluentFormat().CreateDecoder(Context(OrderColumns, options)));
        Assert.Equal(option, e.Option);
        Assert.Contains(expected, e.Message);
        var missing = Assert.Throws<FormatOptionException>(() => new AvroConfluentFormat().CreateDecoder(Context(OrderColumns, [])));
        Assert.Equal("avro-confluent.url", missing.Option);
        var subject = Assert.Throws<FormatOptionException>(() => new AvroConfluentFormat().ValidateForWriting(Context(OrderColumns, new() { ["avro-confluent.url"] = "http://127.0.0.1:9" })));
        Assert.Equal("avro-confluent.subject", subject.Option);
    }

    [Fact]
    public void The_basic_auth_user_info_is_a_secret_and_travels_only_in_the_header()
    {
        Assert.True(SecretOptions.IsSecret("avro-confluent.basic-auth.user-info"));
        Assert.True(SecretOptions.IsSecret("value.avro-confluent.basic-auth.user-info"));
        using var registry = new SchemaRegistryStandIn(requiredUserInfo: "eddy:s3cret");
        int id = registry.Register("s-value", """{"type": "record", "name": "R", "fields": [{"name": "id", "type": "long"}]}""");
        Column[] columns = [new("id", DataType.BigInt)];
        var good = new AvroConfluentFormat().CreateDecoder(Context(columns, new()
        {
            ["avro-confluent.url"] = registry.Url, ["avro-confluent.basic-auth.credentials-source"] = "USER_INFO", ["avro-confluent.basic-auth.user-info"] = "eddy:s3cret",
        }));
        Assert.Equal(21L, good.DecodeRow(Framed(id, [42]))[0]);
        var inUrl = new AvroConfluentFormat().CreateDecoder(Context(columns, new()
        {
            ["avro-confluent.url"] = registry.Url.Replace("http://", "http://eddy:s3cret@"), ["avro-confluent.basic-auth.credentials-source"] = "URL",
        }));
        Assert.Equal(21L, inUrl.DecodeRow(Framed(id, [42]))[0]);
        var wrong = new AvroConfluentFormat().CreateDecoder(Context(columns, new() { ["avro-confluent.url"] = registry.Url, ["avro-confluent.basic-auth.user-info"] = "eddy:wrong" }));
        var e = Assert.Throws<FormatException>(() => wrong.DecodeRow(Framed(id, [42])));
        Assert.Contains("401", e.Message);
        Assert.Contains(registry.Url, e.Message);
        Assert.DoesNotContain("wrong", e.Message);
    }

    [Fact]
    public void Messages_from_Confluents_serializer_are_read_by_a_sql_table()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "orders");
        using var registry = new SchemaRegistryStandIn();
        var schema = AvroSchema.Parse(OrderV2);
        using (var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url }))
        using (var producer = new ProducerBuilder<Null, GenericRecord>(new ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap })
                   .SetValueSerializer(new AvroSerializer<GenericRecord>(client).AsSyncOverAsync()).Build())
        {
            var ts = new DateTime(2026, 12, 6, 23, 15, 0, 250, DateTimeKind.Utc);
            producer.Produce("orders", new Message<Null, GenericRecord> { Value = Order(schema, 1, "apple", "S", 0.5m, ts, 0.5f) });
            producer.Produce("orders", new Message<Null, GenericRecord> { Value = Order(schema, 2, null, "M", 1234.56m, ts.AddSeconds(1), 2f) });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }
        // Confluent's serializer registered the producer's schema under Flink's default subject name.
        Assert.Single(registry.Versions("orders-value"));
        var lines = Run($$"""
            CREATE TABLE orders (id BIGINT NOT NULL, item STRING, size STRING, price DECIMAL(10, 2), ts TIMESTAMP(3), ratio DOUBLE, note STRING) WITH (
              'connector' = 'kafka', 'topic' = 'orders', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
              'format' = 'avro-confluent', 'avro-confluent.url' = '{{registry.Url}}');
            CREATE TABLE out_t (id BIGINT, item STRING, size STRING, price DECIMAL(10, 2), ts TIMESTAMP(3), ratio DOUBLE, note STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT * FROM orders;
            """);
        Assert.Equal([
            "+I[1, apple, S, 0.50, 2026-12-06 23:15:00.250, 0.5, null]",
            "+I[2, null, M, 1234.56, 2026-12-06 23:15:01.250, 2.0, null]",
        ], lines);
    }

    [Fact]
    public void A_sql_sink_registers_under_the_topic_value_subject_and_Confluents_deserializer_reads_it()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "written");
        using var registry = new SchemaRegistryStandIn();
        Run($$"""
            CREATE TABLE sink_t (id BIGINT NOT NULL, name STRING, amount DECIMAL(8, 3)) WITH (
              'connector' = 'kafka', 'topic' = 'written', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'format' = 'avro-confluent', 'avro-confluent.url' = '{{registry.Url}}');
            INSERT INTO sink_t VALUES (1, 'a', 1.5), (2, CAST(NULL AS STRING), -0.001);
            """);
        var versions = registry.Versions("written-value");
        int id = Assert.Single(versions);
        var registered = AvroSchema.Parse(registry.Schema(id)!);
        Assert.Equal("org.apache.flink.avro.generated.record", registered.Fullname);
        // Eddy called only what the stand-in implements (Confluent's deserializer below also asks for associations).
        Assert.Empty(registry.Unknown);
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url });
        using var consumer = new ConsumerBuilder<Ignore, GenericRecord>(new ConsumerConfig { BootstrapServers = kafka.Cluster.Bootstrap, GroupId = "check" })
            .SetValueDeserializer(new AvroDeserializer<GenericRecord>(client).AsSyncOverAsync()).Build();
        consumer.Assign(new TopicPartitionOffset("written", 0, Offset.Beginning));
        var got = new List<GenericRecord>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (got.Count < 2 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is { } r) got.Add(r.Message.Value);
        }
        Assert.Equal(2, got.Count);
        var byId = got.OrderBy(g => (long)g["id"]).ToList();
        Assert.Equal("a", byId[0]["name"]);
        Assert.Equal("1.500", byId[0]["amount"].ToString());
        Assert.Null(byId[1]["name"]);
        Assert.Equal("-0.001", byId[1]["amount"].ToString());
    }

    [Fact]
    public void A_plain_avro_topic_round_trips_through_sql_and_a_bad_record_goes_to_the_dead_letter_topic()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "plain");
        kafka.Cluster.CreateTopic("bad", partitions: 1);
        Run($$"""
            CREATE TABLE plain_out (k INT NOT NULL, v STRING, at TIMESTAMP(3)) WITH (
              'connector' = 'kafka', 'topic' = 'plain', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'format' = 'avro');
            INSERT INTO plain_out VALUES (1, 'one', TIMESTAMP '2026-01-02 03:04:05.678'), (2, CAST(NULL AS STRING), CAST(NULL AS TIMESTAMP(3)));
            """);
        kafka.ProduceBytes(Encoding.UTF8.GetBytes("""{"k": 3}"""));
        var lines = Run($$"""
            CREATE TABLE plain_in (k INT NOT NULL, v STRING, at TIMESTAMP(3)) WITH (
              'connector' = 'kafka', 'topic' = 'plain', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'format' = 'avro',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'scan.dead-letter.topic' = 'bad');
            CREATE TABLE out_t (k INT, v STRING, at TIMESTAMP(3)) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT * FROM plain_in;
            """);
        Assert.Equal(["+I[1, one, 2026-01-02 03:04:05.678]", "+I[2, null, null]"], lines.Order());
        var dead = kafka.ReadAll("bad", 1, 1);
        Assert.Equal("""{"k": 3}""", Encoding.UTF8.GetString(Assert.Single(dead).Message.Value!));
    }

    private static string RepoFile(string relative)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Eddy.slnx"))) return Path.Combine(dir.FullName, relative);
        throw new InvalidOperationException("no repository root above " + AppContext.BaseDirectory);
    }

    [Fact]
    public async Task The_concept_example_registers_its_schema_and_writes_what_Confluents_deserializer_reads()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "page-views-avro");
        using var registry = new SchemaRegistryStandIn();
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null,
            name => name switch { "EDDY_BOOTSTRAP" => kafka.Cluster.Bootstrap, "EDDY_SCHEMA_REGISTRY" => registry.Url, _ => null });
        foreach (var job in session.Execute(File.ReadAllText(RepoFile("examples/concepts/avro-registry.sql"))))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            if (result.Failure is not null) throw result.Failure;
        }
        Assert.Single(registry.Versions("page-views-avro-value"));
        using var client = new CachedSchemaRegistryClient(new SchemaRegistryConfig { Url = registry.Url });
        using var consumer = new ConsumerBuilder<Ignore, GenericRecord>(new ConsumerConfig { BootstrapServers = kafka.Cluster.Bootstrap, GroupId = "check" })
            .SetValueDeserializer(new AvroDeserializer<GenericRecord>(client).AsSyncOverAsync()).Build();
        consumer.Assign(new TopicPartitionOffset("page-views-avro", 0, Offset.Beginning));
        int count = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (count < 1000 && DateTime.UtcNow < deadline)
        {
            if (consumer.Consume(TimeSpan.FromMilliseconds(100)) is not { } r) continue;
            count++;
            // The example's datagen bounds.
            Assert.InRange((long)r.Message.Value["user_id"], 1, 50);
            Assert.Equal(12, ((string)r.Message.Value["url"]).Length);
            Assert.InRange((int)r.Message.Value["duration_ms"], 10, 60000);
            Assert.IsType<DateTime>(r.Message.Value["viewed_at"]);
        }
        Assert.Equal(1000, count);
    }
}
