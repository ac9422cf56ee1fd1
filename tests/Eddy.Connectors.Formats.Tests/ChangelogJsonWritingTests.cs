using System.Globalization;
using System.Text;
using System.Text.Json;
using Confluent.Kafka;
using Eddy.Connectors.Formats.Debezium;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;

namespace Eddy.Connectors.Formats.Tests;

/// <summary>Writing debezium-json, canal-json and maxwell-json: Flink's serialization schemas' messages, and a GROUP BY into Kafka read back.</summary>
public class ChangelogJsonWritingTests
{

    /// <summary>The products table of Flink's serialization tests (DebeziumJsonSerDeSchemaTest and its canal/maxwell twins): weight FLOAT.</summary>
    private static readonly Schema Products = Schema.Of(
        ("id", DataType.Int), ("name", DataType.String), ("description", DataType.String), ("weight", DataType.Float));

    private static MessageEncoder Encoder(IWritableValueFormat format, Schema physical, params (string Key, string Value)[] options)
    {
        var context = new FormatContext("t", physical, [], name => options.FirstOrDefault(o => o.Key == name).Value, _ => null);
        format.ValidateForWriting(context);
        return format.CreateEncoder(context, [.. Enumerable.Range(0, physical.Count)]);
    }

    private static string Write(MessageEncoder encoder, RowKind kind, params object?[] fields) =>
        Encoding.UTF8.GetString(encoder.Encode(new Row(kind, fields), kind));

    /// <summary>
    /// Flink's serializers map +I and +U to an insert of the row and -U and -D to a delete of it; the expected messages
    /// are those of Flink's own serialization tests for the jacket's update (0.2 → 0.5) and the scooter's insert.
    /// </summary>
    [Fact]
    public void Each_row_kind_becomes_the_message_flinks_serializers_write()
    {
        var debezium = Encoder(new DebeziumJsonFormat(), Products);
        Assert.Equal("""{"before":null,"after":{"id":101,"name":"scooter","description":"Small 2-wheel scooter","weight":3.14},"op":"c"}""",
            Write(debezium, RowKind.Insert, 101, "scooter", "Small 2-wheel scooter", 3.14f));
        Assert.Equal("""{"before":{"id":110,"name":"jacket","description":"water resistent white wind breaker","weight":0.2},"after":null,"op":"d"}""",
            Write(debezium, RowKind.UpdateBefore, 110, "jacket", "water resistent white wind breaker", 0.2f));
        Assert.Equal("""{"before":null,"after":{"id":110,"name":"jacket","description":"new water resistent white wind breaker","weight":0.5},"op":"c"}""",
            Write(debezium, RowKind.UpdateAfter, 110, "jacket", "new water resistent white wind breaker", 0.5f));
        Assert.Equal("""{"before":{"id":111,"name":"scooter","description":"Big 2-wheel scooter","weight":5.17},"after":null,"op":"d"}""",
            Write(debezium, RowKind.Delete, 111, "scooter", "Big 2-wheel scooter", 5.17f));

        var canal = Encoder(new CanalJsonFormat(), Products);
        Assert.Equal("""{"data":[{"id":101,"name":"scooter","description":"Small 2-wheel scooter","weight":3.14}],"type":"INSERT"}""",
            Write(canal, RowKind.Insert, 101, "scooter", "Small 2-wheel scooter", 3.14f));
        Assert.Equal("""{"data":[{"id":110,"name":"jacket","description":"water resistent white wind breaker","weight":0.2}],"type":"DELETE"}""",
            Write(canal, RowKind.UpdateBefore, 110, "jacket", "water resistent white wind breaker", 0.2f));
        Assert.Equal("""{"data":[{"id":110,"name":"jacket","description":"new water resistent white wind breaker","weight":0.5}],"type":"INSERT"}""",
            Write(canal, RowKind.UpdateAfter, 110, "jacket", "new water resistent white wind breaker", 0.5f));

        var maxwell = Encoder(new MaxwellJsonFormat(), Products);
        Assert.Equal("""{"data":{"id":101,"name":"scooter","description":"Small 2-wheel scooter","weight":3.14},"type":"insert"}""",
            Write(maxwell, RowKind.Insert, 101, "scooter", "Small 2-wheel scooter", 3.14f));
        Assert.Equal("""{"data":{"id":111,"name":"scooter","description":"Big 2-wheel scooter","weight":5.17},"type":"delete"}""",
            Write(maxwell, RowKind.Delete, 111, "scooter", "Big 2-wheel scooter", 5.17f));
    }

    /// <summary>
    /// Values as the JVM prints them: Flink's docs give 0.000000027 → 2.7E-8 (plain with decimal-as-plain-number);
    /// Java's Float/Double.toString (plain with a fraction digit in [10^-3, 10^7), else d.dE±n); DecimalData keeps its
    /// column's scale; timestamps without the fraction's trailing zeros (DateTimeFormatter's appendFraction(0, 9)).
    /// </summary>
    [Fact]
    public void Values_are_written_as_flinks_json_writer_prints_them()
    {
        var schema = Schema.Of(("d", DataType.Decimal(10, 9)), ("p", DataType.Decimal(10, 2)), ("f", DataType.Double), ("g", DataType.Double),
            ("h", DataType.Double), ("ts", DataType.Timestamp3), ("ltz", DataType.TimestampLtz3), ("n", DataType.String));
        object?[] row = [0.000000027m, 1.5m, 1.0, 1e10, 0.0001, new DateTime(2020, 5, 13, 9, 31, 40, 500), new DateTimeOffset(2020, 5, 13, 9, 31, 40, TimeSpan.Zero), null];
        Assert.Equal("""{"d":2.7E-8,"p":1.50,"f":1.0,"g":1.0E10,"h":1.0E-4,"ts":"2020-05-13 09:31:40.5","ltz":"2020-05-13 09:31:40Z","n":null}""",
            JsonOf(Write(Encoder(new MaxwellJsonFormat(), schema), RowKind.Insert, row)));
        Assert.Equal("""{"d":0.000000027,"p":1.50,"f":1.0,"g":1.0E10,"h":1.0E-4,"ts":"2020-05-13T09:31:40.5","ltz":"2020-05-13T09:31:40Z"}""",
            JsonOf(Write(Encoder(new MaxwellJsonFormat(), schema, ("maxwell-json.encode.decimal-as-plain-number", "true"),
                ("maxwell-json.timestamp-format.standard", "ISO-8601"), ("maxwell-json.encode.ignore-null-fields", "true")), RowKind.Insert, row)));
        Assert.Equal("-1.23E-7", JavaNumbers.Decimal(-0.000000123m, 9, plain: false));
        Assert.Equal("0E-9", JavaNumbers.Decimal(0m, 9, plain: false));
        Assert.Equal("0.000001", JavaNumbers.Decimal(0.000001m, 6, plain: false));
        Assert.Equal(["1234567.0", "1.0E7", "0.001", "-3.5", "123.456", "1.0E-5"],
            new[] { 1234567.0, 1e7, 0.001, -3.5, 123.456, 0.00001 }.Select(JavaNumbers.Double));
        // With ignore-null-fields the envelope's null half is left out too.
        Assert.Equal("""{"after":{"id":1,"weight":2.5},"op":"c"}""",
            Write(Encoder(new DebeziumJsonFormat(), Products, ("debezium-json.encode.ignore-null-fields", "true")), RowKind.Insert, 1, null, null, 2.5f));
    }

    private static string JsonOf(string maxwell)
    {
        using var document = JsonDocument.Parse(maxwell);
        return document.RootElement.GetProperty("data").GetRawText();
    }

    [Theory]
    [InlineData("'debezium-json.schema-include' = 'true'", "debezium-json", "schema-include")]
    [InlineData("'debezium-json.timestamp-format.standard' = 'RFC'", "debezium-json", "debezium-json.timestamp-format.standard")]
    [InlineData("'canal-json.map-null-key.mode' = 'KEEP'", "canal-json", "canal-json.map-null-key.mode")]
    [InlineData("'maxwell-json.encode.ignore-null-fields' = 'yes'", "maxwell-json", "maxwell-json.encode.ignore-null-fields")]
    public void Bad_writing_options_are_refused_at_planning_naming_them(string option, string format, string expected)
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "in");
        var e = Assert.ThrowsAny<Exception>(() => Run(Session(kafka), $$"""
            CREATE TABLE out_t (k STRING, n BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'format' = '{{format}}', {{option}});
            INSERT INTO out_t SELECT k, COUNT(*) FROM (VALUES ('a'), ('b')) AS v(k) GROUP BY k;
            """));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Upsert_kafka_refuses_a_changelog_value_format_and_maps_need_string_keys()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "in");
        var upsert = Assert.ThrowsAny<Exception>(() => Run(Session(kafka), $$"""
            CREATE TABLE out_t (k STRING, n BIGINT, PRIMARY KEY (k) NOT ENFORCED) WITH ('connector' = 'upsert-kafka', 'topic' = 'out',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'key.format' = 'json', 'value.format' = 'debezium-json');
            INSERT INTO out_t SELECT k, COUNT(*) FROM (VALUES ('a'), ('b')) AS v(k) GROUP BY k;
            """));
        Assert.Contains("insert-only value format", upsert.Message);
        var map = Assert.ThrowsAny<Exception>(() => Run(Session(kafka), $$"""
            CREATE TABLE out_t (m MAP<INT, STRING>) WITH ('connector' = 'kafka', 'topic' = 'out',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'format' = 'canal-json');
            INSERT INTO out_t SELECT MAP[1, 'x'];
            """));
        Assert.Contains("column 'm'", map.Message);
    }

    private static SqlSession Session(KafkaFixture kafka, TextWriter? output = null) =>
        new(TestConnectors.Registry, output ?? TextWriter.Null, TextWriter.Null, name => name == "EDDY_BOOTSTRAP" ? kafka.Cluster.Bootstrap : null);

    private static void Run(SqlSession session, string sql)
    {
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
    }

    /// <summary>Every message of a topic's one partition, read to its end with a plain consumer.</summary>
    private static List<string> ReadToEnd(KafkaFixture kafka, string topic)
    {
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = kafka.Cluster.Bootstrap, GroupId = "check", EnablePartitionEof = true,
        }).Build();
        consumer.Assign(new TopicPartitionOffset(topic, 0, Offset.Beginning));
        var messages = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            if (r.IsPartitionEOF) return messages;
            messages.Add(Encoding.UTF8.GetString(r.Message.Value!));
        }
        throw new TimeoutException($"topic '{topic}' was not read to its end");
    }

    /// <summary>
    /// An updating GROUP BY into a kafka topic in each changelog format. The messages, parsed with System.Text.Json and
    /// applied by their envelope (an insert only of an absent key, a delete only of the row held), end at the totals
    /// LINQ computes from the input; read back through the format's reader, the changelog ends at the same totals.
    /// </summary>
    [Theory]
    [InlineData("debezium-json", 7)]
    [InlineData("canal-json", 8)]
    [InlineData("maxwell-json", 9)]
    public void A_group_by_written_in_the_format_reads_back_to_the_totals_of_the_input(string format, int seed)
    {
        var random = new Random(seed);
        var orders = Enumerable.Range(0, 60)
            .Select(i => (Category: "c" + random.Next(5), Price: random.Next(1, 10_000) / 100m))
            .ToList();
        var expected = orders.GroupBy(o => o.Category).ToDictionary(g => g.Key, g => (Count: (long)g.Count(), Total: g.Sum(o => o.Price)));

        using var kafka = new KafkaFixture(partitions: 1, topic: "orders");
        kafka.Cluster.CreateTopic("totals", 1);
        kafka.ProduceBytes([.. orders.Select(o => Encoding.UTF8.GetBytes(
            $$"""{"category":"{{o.Category}}","price":{{o.Price.ToString(CultureInfo.InvariantCulture)}}}"""))]);
        Run(Session(kafka), $$"""
            CREATE TABLE orders (category STRING, price DECIMAL(10, 2)) WITH ('connector' = 'kafka', 'topic' = 'orders',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'scan.startup.mode' = 'earliest-offset',
              'scan.bounded.mode' = 'latest-offset', 'format' = 'json');
            CREATE TABLE totals (category STRING, orders BIGINT, total DECIMAL(38, 2)) WITH ('connector' = 'kafka', 'topic' = 'totals',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'format' = '{{format}}');
            INSERT INTO totals SELECT category, COUNT(*), SUM(price) FROM orders GROUP BY category;
            """);

        var messages = ReadToEnd(kafka, "totals");
        var state = new Dictionary<string, (long Count, decimal Total)>();
        foreach (var message in messages)
        {
            using var document = JsonDocument.Parse(message);
            var (insert, row) = Envelope(format, document.RootElement);
            string category = row.GetProperty("category").GetString()!;
            var values = (row.GetProperty("orders").GetInt64(), row.GetProperty("total").GetDecimal());
            if (insert)
            {
                Assert.False(state.ContainsKey(category), $"an insert of '{category}' while it is held: {message}");
                state[category] = values;
            }
            else
            {
                Assert.Equal(state[category], values);
                state.Remove(category);
            }
        }
        Assert.Equal(expected.OrderBy(e => e.Key), state.OrderBy(e => e.Key));
        Assert.Contains(messages, m => !Envelope(format, JsonDocument.Parse(m).RootElement).Insert);

        var output = new StringWriter();
        Run(Session(kafka, output), $$"""
            CREATE TABLE totals (category STRING, orders BIGINT, total DECIMAL(38, 2)) WITH ('connector' = 'kafka', 'topic' = 'totals',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'scan.startup.mode' = 'earliest-offset',
              'scan.bounded.mode' = 'latest-offset', 'format' = '{{format}}');
            CREATE TABLE shown (category STRING, orders BIGINT, total DECIMAL(38, 2)) WITH ('connector' = 'print');
            INSERT INTO shown SELECT * FROM totals;
            """);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(messages.Count, lines.Count);
        var readBack = new Dictionary<string, (long, decimal)>();
        foreach (var line in lines)
        {
            var fields = line[3..^1].Split(", ");
            if (line.StartsWith("+I", StringComparison.Ordinal))
                readBack[fields[0]] = (long.Parse(fields[1], CultureInfo.InvariantCulture), decimal.Parse(fields[2], CultureInfo.InvariantCulture));
            else
            {
                Assert.StartsWith("-D", line);
                Assert.True(readBack.Remove(fields[0]));
            }
        }
        Assert.Equal(expected.OrderBy(e => e.Key).Select(e => (e.Key, e.Value.Count, e.Value.Total)),
            readBack.OrderBy(e => e.Key).Select(e => (e.Key, e.Value.Item1, e.Value.Item2)));
    }

    /// <summary>Whether a message inserts or deletes, and its row, read by the envelope's documented fields.</summary>
    private static (bool Insert, JsonElement Row) Envelope(string format, JsonElement root)
    {
        switch (format)
        {
            case "debezium-json":
                string op = root.GetProperty("op").GetString()!;
                Assert.Contains(op, new[] { "c", "d" });
                var (held, empty) = op == "c" ? ("after", "before") : ("before", "after");
                Assert.Equal(JsonValueKind.Null, root.GetProperty(empty).ValueKind);
                Assert.Equal(JsonValueKind.Object, root.GetProperty(held).ValueKind);
                return (op == "c", root.GetProperty(held));
            case "canal-json":
                var data = root.GetProperty("data");
                Assert.Equal(1, data.GetArrayLength());
                string type = root.GetProperty("type").GetString()!;
                Assert.Contains(type, new[] { "INSERT", "DELETE" });
                return (type == "INSERT", data[0]);
            default:
                string kind = root.GetProperty("type").GetString()!;
                Assert.Contains(kind, new[] { "insert", "delete" });
                return (kind == "insert", root.GetProperty("data"));
        }
    }
}
