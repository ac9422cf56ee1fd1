using Eddy.Connectors.Formats.Protobuf;
using Eddy.Connectors.Formats.Tests.Proto;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;
using Eddy.Sql.Catalog;
using Google.Protobuf;
using Reading = Eddy.Connectors.Formats.Tests.Proto2.Reading;
using Color = Eddy.Connectors.Formats.Tests.Proto2.Color;
using static Eddy.Connectors.Formats.Tests.FormatTestSql;

namespace Eddy.Connectors.Formats.Tests;

/// <summary>
/// Rows written by Eddy's protobuf encoder, parsed by the library's own generated parser (<c>Order.Parser</c>), equal
/// the message the library's generated builder makes from the same row by Flink's rules: a NULL column is not set, a
/// NULL element or map value is the type's default (a string the null literal), an unknown enum name or number is the
/// enum's first value.
/// </summary>
public class ProtobufWritingTests
{
    private static MessageEncoder Encoder(string columns, params (string Key, string Value)[] options)
    {
        var o = options.ToDictionary(x => x.Key, x => x.Value);
        var schema = Columns(columns);
        var context = new FormatContext("t", schema, [], o.GetValueOrDefault, UserCode.FindHostType);
        new ProtobufFormat().ValidateForWriting(context);
        return new ProtobufFormat().CreateEncoder(context, [.. Enumerable.Range(0, schema.Count)]);
    }

    private static T? Maybe<T>(Random random, T value) => random.Next(4) == 0 ? default : value;

    private static object?[] RandomRow(Random random, int i) =>
    [
        Maybe<object>(random, (long)i), Maybe(random, random.Next(3) == 0 ? "" : "customer-" + random.Next(100)),
        Maybe<object>(random, random.Next(5) == 0 ? 0.0 : Math.Round(random.NextDouble() * 1000, 2)), Maybe<object>(random, random.Next(2) == 0),
        Maybe(random, new[] { "UNKNOWN", "ACTIVE", "BLOCKED", "GONE" }[random.Next(4)]),
        Maybe(random, Enumerable.Range(0, random.Next(3)).Select(_ => random.Next(4) == 0 ? null : (object?)("tag" + random.Next(10))).ToArray()),
        Maybe(random, (object)Enumerable.Range(0, random.Next(3)).ToDictionary(k => (object)("k" + k), _ => random.Next(4) == 0 ? null : (object?)random.Next(100))),
        Maybe(random, Row.Of(Maybe(random, "city" + random.Next(9)), Maybe(random, ""))),
        Maybe(random, Enumerable.Range(0, random.Next(3)).Select(_ => random.Next(4) == 0 ? null : (object?)Row.Of("sku" + random.Next(50), Maybe<object>(random, random.Next(1, 9)))).ToArray()),
        Maybe(random, new byte[] { (byte)i, 0, 255 }), Maybe<object>(random, (float)random.NextDouble()),
        Maybe<object>(random, random.Next(-1000, 1000)), Maybe<object>(random, -1L - i), Maybe<object>(random, -1 - i), Maybe<object>(random, -i * 1_000_000_000L),
        Maybe(random, Row.Of(1_700_000_000L + i, Maybe<object>(random, i * 1000))),
        Maybe(random, Enumerable.Range(0, random.Next(4)).Select(_ => random.Next(4) == 0 ? null : (object?)random.Next(-5, 5)).ToArray()),
        Maybe(random, random.Next(2) == 0 ? "" : "note " + i),
        Maybe(random, "c" + i), Maybe<object>(random, i), Maybe<object>(random, random.Next()),
    ];

    /// <summary>Flink's serializer, spelled with the generated builder: each non-null column set, in column order.</summary>
    private static Order Built(object?[] r, string nullLiteral)
    {
        var o = new Order();
        if (r[0] is long id) o.Id = id;
        if (r[1] is string customer) o.Customer = customer;
        if (r[2] is double amount) o.Amount = amount;
        if (r[3] is bool paid) o.Paid = paid;
        if (r[4] is string status) o.Status = status switch { "ACTIVE" => Status.Active, "BLOCKED" => Status.Blocked, _ => Status.Unknown };
        if (r[5] is object?[] tags) o.Tags.Add(tags.Select(t => (string?)t ?? nullLiteral));
        if (r[6] is Dictionary<object, object?> counts) foreach (var (k, v) in counts) o.Counts[(string)k] = (int?)v ?? 0;
        if (r[7] is Row address)
        {
            o.Address = new Address();
            if (address[0] is string city) o.Address.City = city;
            if (address[1] is string zip) o.Address.Zip = zip;
        }
        if (r[8] is object?[] items)
            foreach (var item in items)
            {
                var built = new Item();
                if (item is Row row)
                {
                    built.Sku = (string)row[0]!;
                    if (row[1] is int quantity) built.Quantity = quantity;
                }
                o.Items.Add(built);
            }
        if (r[9] is byte[] payload) o.Payload = ByteString.CopyFrom(payload);
        if (r[10] is float ratio) o.Ratio = ratio;
        if (r[11] is int delta) o.Delta = delta;
        if (r[12] is long big) o.Big = unchecked((ulong)big);
        if (r[13] is int f32) o.F32 = unchecked((uint)f32);
        if (r[14] is long sf64) o.Sf64 = sf64;
        if (r[15] is Row created)
        {
            o.Created = new Google.Protobuf.WellKnownTypes.Timestamp { Seconds = (long)created[0]! };
            if (created[1] is int nanos) o.Created.Nanos = nanos;
        }
        if (r[16] is object?[] numbers) o.Numbers.Add(numbers.Select(n => (int?)n ?? 0));
        if (r[17] is string note) o.Note = note;
        if (r[18] is string code) o.Code = code;
        if (r[19] is int level) o.Level = level;
        if (r[20] is int u32) o.U32 = unchecked((uint)u32);
        return o;
    }

    [Fact]
    public void Rows_written_parse_with_the_library_into_the_message_its_builder_makes_by_flinks_rules()
    {
        var encoder = Encoder(OrderColumns, ("protobuf.message-class-name", typeof(Order).FullName!), ("protobuf.write-null-string-literal", "<null>"));
        var random = new Random(5);
        for (int i = 0; i < 300; i++)
        {
            var row = RandomRow(random, i);
            byte[] bytes = encoder.Encode(new Row(RowKind.Insert, row));
            var expected = Built(row, "<null>");
            Assert.Equal(expected, Order.Parser.ParseFrom(bytes));
            // The same bytes as the library's own serializer (field order, packing, presence), except map entries:
            // Java's MapEntryLite writes key and value always, C#'s codec leaves out a 0 value.
            if (row[6] is not Dictionary<object, object?> counts || counts.Values.All(v => v is int and not 0))
                Assert.Equal(expected.ToByteArray(), bytes);
        }
    }

    [Fact]
    public void Proto2_fields_are_written_when_set_even_at_their_defaults_and_unknown_enums_take_the_first_value()
    {
        var encoder = Encoder("id INT, label STRING, `value` DOUBLE, color STRING, samples ARRAY<BIGINT>, `inner` ROW<a INT>",
            ("protobuf.message-class-name", typeof(Reading).FullName!));
        var written = Reading.Parser.ParseFrom(encoder.Encode(Row.Of(1, "", 0.0, "BLUE", new object?[] { 5L, null }, Row.Of([null]))));
        Assert.True(written.HasLabel);
        Assert.Equal("", written.Label);
        Assert.True(written.HasValue);
        Assert.Equal(Color.Red, written.Color);
        Assert.Equal([5L, 0L], written.Samples);
        Assert.NotNull(written.Inner);
        Assert.False(written.Inner.HasA);
        var absent = Reading.Parser.ParseFrom(encoder.Encode(Row.Of(2, null, null, null, null, null)));
        Assert.Equal(new Reading { Id = 2 }, absent);

        // Java's builder tests a double's bits: -0.0 is written (and reads back negative), 0.0 is not.
        var order = Encoder("amount DOUBLE", ("protobuf.message-class-name", typeof(Order).FullName!));
        Assert.Equal(BitConverter.DoubleToInt64Bits(-0.0), BitConverter.DoubleToInt64Bits(Order.Parser.ParseFrom(order.Encode(Row.Of(-0.0))).Amount));
        Assert.Empty(order.Encode(Row.Of(0.0)));

        var byNumber = Encoder("id INT, color INT", ("protobuf.message-class-name", typeof(Reading).FullName!));
        Assert.Equal(Color.Green, Reading.Parser.ParseFrom(byNumber.Encode(Row.Of(3, 2))).Color);
        Assert.Equal(Color.Red, Reading.Parser.ParseFrom(byNumber.Encode(Row.Of(3, 9))).Color);
    }

    [Fact]
    public void An_enum_from_a_type_flinks_serializer_cannot_convert_is_refused_naming_the_column()
    {
        var e = Assert.Throws<FormatOptionException>(() => Encoder("id INT, color BIGINT", ("protobuf.message-class-name", typeof(Reading).FullName!)));
        Assert.Equal("protobuf.message-class-name", e.Option);
        Assert.Contains("column 'color'", e.Message);
    }

    private static void Run(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
    }

    [Fact]
    public void A_query_written_into_a_protobuf_topic_reads_back_with_the_library_parser()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "orders");
        Run($$"""
            CREATE TABLE orders (id BIGINT, customer STRING, status STRING, tags ARRAY<STRING>, address ROW<city STRING, zip STRING>) WITH (
              'connector' = 'kafka', 'topic' = 'orders', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'format' = 'protobuf', 'protobuf.message-class-name' = '{{typeof(Order).FullName}}');
            INSERT INTO orders SELECT id, 'c' || CAST(id AS STRING), CASE WHEN id % 2 = 0 THEN 'ACTIVE' ELSE 'BLOCKED' END,
              ARRAY['a', CAST(NULL AS STRING)], ROW('city' || CAST(id AS STRING), CAST(NULL AS STRING))
            FROM (VALUES (1), (2), (3)) AS v(id);
            """);
        var orders = kafka.ReadAll("orders", 1, 3).Select(r => Order.Parser.ParseFrom(r.Message.Value)).OrderBy(o => o.Id).ToList();
        Assert.Equal([1L, 2L, 3L], orders.Select(o => o.Id));
        foreach (var o in orders)
        {
            Assert.Equal("c" + o.Id, o.Customer);
            Assert.Equal(o.Id % 2 == 0 ? Status.Active : Status.Blocked, o.Status);
            Assert.Equal(["a", ""], o.Tags);
            Assert.Equal("city" + o.Id, o.Address.City);
            Assert.Equal("", o.Address.Zip);
        }
    }
}
