using System.Text;
using Eddy.Connectors.Formats.Protobuf;
using Eddy.Connectors.Formats.Tests.Proto;
using Reading = Eddy.Connectors.Formats.Tests.Proto2.Reading;
using Color = Eddy.Connectors.Formats.Tests.Proto2.Color;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Sql;
using Eddy.Sql.Catalog;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;
using static Eddy.Connectors.Formats.Tests.FormatTestSql;

namespace Eddy.Connectors.Formats.Tests;

/// <summary>
/// Messages written by the protobuf library itself (the classes protoc generated from Proto/*.proto) decoded by Eddy,
/// compared field by field with the objects that were written.
/// </summary>
public class ProtobufTests
{
    private static MessageDecoder Decoder(string columns, params (string Key, string Value)[] options)
    {
        var o = options.ToDictionary(x => x.Key, x => x.Value);
        return new ProtobufFormat().CreateDecoder(new FormatContext("t", Columns(columns), [], o.GetValueOrDefault, UserCode.FindHostType));
    }

    private static Order RandomOrder(Random random, int i)
    {
        var order = new Order
        {
            Id = i,
            Customer = "customer-" + random.Next(100),
            Amount = Math.Round(random.NextDouble() * 1000, 2),
            Paid = random.Next(2) == 0,
            Status = (Status)random.Next(3),
            Payload = ByteString.CopyFrom([(byte)i, 0, 255]),
            Ratio = (float)random.NextDouble(),
            Delta = random.Next(-1000, 1000),
            Big = ulong.MaxValue - (ulong)i,
            F32 = uint.MaxValue - (uint)i,
            Sf64 = -i * 1_000_000_000L,
            U32 = (uint)random.Next(),
        };
        for (int t = random.Next(3); t > 0; t--) order.Tags.Add("tag" + random.Next(10));
        for (int c = random.Next(3); c > 0; c--) order.Counts["k" + random.Next(5)] = random.Next(100);
        for (int n = random.Next(4); n > 0; n--) order.Numbers.Add(random.Next(-5, 5));
        for (int n = random.Next(3); n > 0; n--) order.Items.Add(new Item { Sku = "sku" + random.Next(50), Quantity = random.Next(1, 9) });
        if (random.Next(2) == 0) order.Address = new Address { City = "city" + random.Next(9), Zip = random.Next(2) == 0 ? "" : "7500" + random.Next(10) };
        if (random.Next(2) == 0) order.Created = Timestamp.FromDateTimeOffset(DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_000 + i * 1234L));
        if (random.Next(2) == 0) order.Note = "note " + i;
        switch (random.Next(3))
        {
            case 0: order.Code = "c" + i; break;
            case 1: order.Level = i; break;
        }
        return order;
    }

    /// <summary>What Flink gives for a proto3 message: every field, absent ones as their defaults.</summary>
    private static object?[] Expected(Order o) =>
    [
        o.Id, o.Customer, o.Amount, o.Paid, o.Status.ToString().ToUpperInvariant(),
        o.Tags.Cast<object?>().ToArray(),
        o.Counts.ToDictionary(kv => (object)kv.Key, kv => (object?)kv.Value),
        Row.Of(o.Address?.City ?? "", o.Address?.Zip ?? ""),
        o.Items.Select(i => (object?)Row.Of(i.Sku, i.Quantity)).ToArray(),
        o.Payload.ToByteArray(), o.Ratio, o.Delta, unchecked((long)o.Big), unchecked((int)o.F32), o.Sf64,
        Row.Of(o.Created?.Seconds ?? 0L, o.Created?.Nanos ?? 0),
        o.Numbers.Cast<object?>().ToArray(),
        o.HasNote ? o.Note : "",
        o.HasCode ? o.Code : "", o.HasLevel ? o.Level : 0,
        unchecked((int)o.U32),
    ];

    private static void AssertRow(object?[] expected, Row actual)
    {
        Assert.Equal(expected.Length, actual.Arity);
        for (int i = 0; i < expected.Length; i++)
        {
            switch (expected[i])
            {
                case object?[] array:
                    var got = Assert.IsType<object?[]>(actual[i]);
                    Assert.Equal(array.Length, got.Length);
                    for (int j = 0; j < array.Length; j++) Assert.Equal(array[j], got[j]);
                    break;
                case Dictionary<object, object?> map:
                    Assert.Equal(map.OrderBy(kv => kv.Key), Assert.IsType<Dictionary<object, object?>>(actual[i]).OrderBy(kv => kv.Key));
                    break;
                default:
                    Assert.Equal(expected[i], actual[i]);
                    break;
            }
        }
    }

    [Fact]
    public void Messages_written_by_the_library_decode_field_by_field_by_message_class()
    {
        var decoder = Decoder(OrderColumns, ("protobuf.message-class-name", typeof(Order).FullName!));
        var random = new Random(3);
        for (int i = 0; i < 200; i++)
        {
            var order = RandomOrder(random, i);
            AssertRow(Expected(order), decoder.DecodeRow(order.ToByteArray()));
        }
    }

    private static Row ViaStruct<T>(StructDecoder<T> decoder, Schema schema, byte[] message) where T : struct
    {
        decoder.Decode(message, out var row);
        return RowTypes.ToRow<T>(schema)(row, RowKind.Insert);
    }

    [Theory]
    [InlineData(OrderColumns, typeof(Order))]
    [InlineData("id INT, label STRING, `value` DOUBLE, color STRING, samples ARRAY<BIGINT>, `inner` ROW<a INT>", typeof(Reading))]
    public void Decoding_straight_into_the_row_struct_gives_the_rows_of_the_row_decoder(string columns, System.Type message)
    {
        var schema = Columns(columns);
        foreach (bool defaults in new[] { false, true })
        {
            var options = new Dictionary<string, string> { ["protobuf.message-class-name"] = message.FullName!, ["protobuf.read-default-values"] = defaults ? "true" : "false" };
            var context = new FormatContext("t", schema, [], options.GetValueOrDefault, UserCode.FindHostType);
            var format = new ProtobufFormat();
            var rows = format.CreateDecoder(context);
            var rowType = RowTypes.For(schema);
            var structs = typeof(ProtobufFormat).GetMethod(nameof(ProtobufFormat.CreateStructDecoder))!.MakeGenericMethod(rowType).Invoke(format, [context])!;
            var via = typeof(ProtobufTests).GetMethod(nameof(ViaStruct), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(rowType);
            var random = new Random(17);
            var messages = message == typeof(Order)
                ? Enumerable.Range(0, 100).Select(i => RandomOrder(random, i).ToByteArray()).ToList()
                : [new Reading { Id = 1 }.ToByteArray(), new Reading { Id = 2, Label = "x", Value = 2.5, Color = Color.Green, Inner = new() { A = 3 } }.ToByteArray()];
            foreach (var bytes in messages)
            {
                var expected = rows.DecodeRow(bytes);
                var actual = (Row)via.Invoke(null, [structs, schema, bytes])!;
                AssertRow(expected.Fields.ToArray(), actual);
            }
        }
    }

    [Fact]
    public void A_descriptor_set_file_reads_the_same_as_the_generated_class()
    {
        string path = Path.Combine(Path.GetTempPath(), $"orders-{Environment.ProcessId}-{Guid.NewGuid():N}.pb");
        // What protoc --descriptor_set_out --include_imports writes: the imports first.
        var set = new FileDescriptorSet();
        set.File.Add(FileDescriptorProto.Parser.ParseFrom(TimestampReflection.Descriptor.SerializedData));
        set.File.Add(FileDescriptorProto.Parser.ParseFrom(Order.Descriptor.File.SerializedData));
        File.WriteAllBytes(path, set.ToByteArray());
        try
        {
            var decoder = Decoder(OrderColumns, ("protobuf.descriptor-file", path), ("protobuf.message-name", "eddy.tests.Order"));
            var random = new Random(5);
            for (int i = 0; i < 50; i++)
            {
                var order = RandomOrder(random, i);
                AssertRow(Expected(order), decoder.DecodeRow(order.ToByteArray()));
            }
            var e = Assert.Throws<FormatOptionException>(() => Decoder(OrderColumns, ("protobuf.descriptor-file", path), ("protobuf.message-name", "eddy.tests.Nope")));
            Assert.Contains("has no message 'eddy.tests.Nope'", e.Message);
            Assert.Contains("eddy.tests.Order", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Proto2_absent_fields_are_null_unless_read_default_values_gives_the_declared_defaults()
    {
        const string columns = "id INT, label STRING, `value` DOUBLE, color STRING, samples ARRAY<BIGINT>, `inner` ROW<a INT>";
        var bare = new Reading { Id = 1 };
        var nested = new Reading { Id = 2, Inner = new Reading.Types.Inner(), Color = Color.Green };
        nested.Samples.Add([5L, -6L]);
        var nulls = Decoder(columns, ("protobuf.message-class-name", typeof(Reading).FullName!));
        Assert.Equal(Row.Of(1, null, null, null, null, null), nulls.DecodeRow(bare.ToByteArray()));
        AssertRow([2, null, null, "GREEN", new object?[] { 5L, -6L }, Row.Of([null])], nulls.DecodeRow(nested.ToByteArray()));

        var defaults = Decoder(columns, ("protobuf.message-class-name", typeof(Reading).FullName!), ("protobuf.read-default-values", "true"));
        // The declared defaults ([default = ...]), else the first enum value, empty repeated fields, the default message.
        AssertRow([1, "none", 1.5, "RED", Array.Empty<object?>(), Row.Of(7)], defaults.DecodeRow(bare.ToByteArray()));
        AssertRow([2, "none", 1.5, "GREEN", new object?[] { 5L, -6L }, Row.Of(7)], defaults.DecodeRow(nested.ToByteArray()));
    }

    [Fact]
    public void The_wire_forms_a_parser_accepts_unpacked_repeated_values_merged_messages_unknown_fields_and_enum_numbers()
    {
        var bytes = new MemoryStream();
        var output = new CodedOutputStream(bytes);
        // numbers (17) unpacked, then packed: both accumulate.
        output.WriteTag(17, WireFormat.WireType.Varint);
        output.WriteInt32(4);
        output.WriteTag(17, WireFormat.WireType.Varint);
        output.WriteInt32(-2);
        output.WriteTag(17, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(ByteString.CopyFrom(new byte[] { 9 }));
        // address (8) twice: the second merges into the first.
        output.WriteTag(8, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(new Address { City = "Lyon" }.ToByteString());
        output.WriteTag(8, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(new Address { Zip = "69001" }.ToByteString());
        // A field the message does not have, and id (1) with the wrong wire type: both skipped as unknown fields.
        output.WriteTag(99, WireFormat.WireType.Fixed64);
        output.WriteFixed64(123);
        output.WriteTag(1, WireFormat.WireType.Fixed32);
        output.WriteFixed32(5);
        // status (5) as a number, and a value the enum does not have (proto3: open enums).
        output.WriteTag(5, WireFormat.WireType.Varint);
        output.WriteEnum(2);
        output.Flush();
        var message = bytes.ToArray();
        // The library agrees on what the bytes hold.
        var parsed = Order.Parser.ParseFrom(message);
        Assert.Equal([4, -2, 9], parsed.Numbers);
        Assert.Equal(("Lyon", "69001"), (parsed.Address.City, parsed.Address.Zip));

        var names = Decoder("id BIGINT, numbers ARRAY<INT>, address ROW<city STRING, zip STRING>, status STRING", ("protobuf.message-class-name", typeof(Order).FullName!));
        AssertRow([0L, new object?[] { 4, -2, 9 }, Row.Of("Lyon", "69001"), "BLOCKED"], names.DecodeRow(message));
        var numbers = Decoder("status TINYINT", ("protobuf.message-class-name", typeof(Order).FullName!));
        Assert.Equal(Row.Of((sbyte)2), numbers.DecodeRow(message));
        var unknownEnum = new Order { Status = (Status)7 }.ToByteArray();
        Assert.Equal(Row.Of("UNRECOGNIZED"), Decoder("status STRING", ("protobuf.message-class-name", typeof(Order).FullName!)).DecodeRow(unknownEnum));
        Assert.Throws<RecordFormatException>(() => numbers.DecodeRow(unknownEnum));
        Assert.Throws<RecordFormatException>(() => names.DecodeRow([0x0a, 0x05, 0x41]));
    }

    [Theory]
    [InlineData("id STRING", "column 'id' is STRING, but protobuf field eddy.tests.Order.id is Int64")]
    [InlineData("tags STRING", "column 'tags' is STRING, but protobuf field eddy.tests.Order.tags is repeated String")]
    [InlineData("address ROW<town STRING>", "column 'address.town' is not a field of protobuf message eddy.tests.Address")]
    [InlineData("nope INT", "column 'nope' is not a field of protobuf message eddy.tests.Order")]
    [InlineData("status DOUBLE", "column 'status' is DOUBLE")]
    public void Columns_that_do_not_fit_the_message_are_refused_naming_them(string columns, string expected)
    {
        var e = Assert.Throws<FormatOptionException>(() => Decoder(columns, ("protobuf.message-class-name", typeof(Order).FullName!)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void A_missing_or_wrong_class_is_refused()
    {
        Assert.Contains("was not found", Assert.Throws<FormatOptionException>(() => Decoder("id BIGINT", ("protobuf.message-class-name", "No.Such.Order"))).Message);
        Assert.Contains("is not a protobuf message class", Assert.Throws<FormatOptionException>(() => Decoder("id BIGINT", ("protobuf.message-class-name", typeof(ProtobufTests).FullName!))).Message);
        Assert.Contains("required", Assert.Throws<FormatOptionException>(() => Decoder("id BIGINT")).Message);
    }

    [Fact]
    public void A_topic_of_library_written_messages_reads_through_sql_and_bad_messages_follow_the_bad_record_mode()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "orders");
        var random = new Random(9);
        var orders = Enumerable.Range(0, 30).Select(i => RandomOrder(random, i)).ToList();
        kafka.ProduceBytes([.. orders.Select(o => o.ToByteArray()), Encoding.UTF8.GetBytes("not a protobuf message")]);
        string table = $$"""
            CREATE TABLE orders ({{OrderColumns}}) WITH (
              'connector' = 'kafka', 'topic' = 'orders', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
              'format' = 'protobuf', 'protobuf.message-class-name' = '{{typeof(Order).FullName}}' OPTIONS);
            CREATE TABLE out_t (id BIGINT, customer STRING, status STRING, city STRING, tags INT, items INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, customer, status, address.city, CARDINALITY(tags), CARDINALITY(items) FROM orders;
            """;
        var lines = Run(table.Replace("OPTIONS", ", 'protobuf.ignore-parse-errors' = 'true'"));
        Assert.Equal(orders.Select(o => $"+I[{o.Id}, {o.Customer}, {o.Status.ToString().ToUpperInvariant()}, {o.Address?.City ?? ""}, {o.Tags.Count}, {o.Items.Count}]"), lines);
        var e = Assert.ThrowsAny<Exception>(() => Run(table.Replace("OPTIONS", "")));
        Assert.Contains("at offset 30", e.ToString());
        Assert.Contains("invalid protobuf message eddy.tests.Order", e.ToString());
    }

    [Fact]
    public void The_message_class_comes_from_an_assembly_added_with_add_jar()
    {
        // Shop.Messages.dll: protoc's C# output built as a library of its own (tests/Eddy.Connectors.Formats.Tests.Messages), not referenced here.
        string jar = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "..", "Eddy.Connectors.Formats.Tests.Messages", "bin",
            Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd('/'))!), "net10.0", "Shop.Messages.dll");
        Assert.True(File.Exists(jar), jar);
        Assert.Null(UserCode.FindHostType("Shop.Messages.Shipment"));
        // The wire bytes of Shipment { id: 7, carrier: "dhl", parcels: ["p1", "p2"] }, written with the library's writer.
        var bytes = new MemoryStream();
        var output = new CodedOutputStream(bytes);
        output.WriteTag(1, WireFormat.WireType.Varint);
        output.WriteInt64(7);
        output.WriteTag(2, WireFormat.WireType.LengthDelimited);
        output.WriteString("dhl");
        foreach (var parcel in new[] { "p1", "p2" })
        {
            output.WriteTag(3, WireFormat.WireType.LengthDelimited);
            output.WriteString(parcel);
        }
        output.Flush();
        using var kafka = new KafkaFixture(partitions: 1, topic: "shipments");
        kafka.ProduceBytes(bytes.ToArray());
        var printed = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, printed, TextWriter.Null, _ => null);
        var jobs = session.Execute($$"""
            ADD JAR '{{jar}}';
            CREATE TABLE shipments (id BIGINT, carrier STRING, parcels ARRAY<STRING>) WITH (
              'connector' = 'kafka', 'topic' = 'shipments', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset',
              'format' = 'protobuf', 'protobuf.message-class-name' = 'Shop.Messages.Shipment');
            CREATE TABLE out_t (id BIGINT, carrier STRING, parcels INT, first_parcel STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, carrier, CARDINALITY(parcels), parcels[1] FROM shipments;
            """);
        RunJobs(jobs);
        Assert.Equal(["+I[7, dhl, 2, p1]"], printed.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public void Options_of_the_format_are_checked_when_the_table_is_read()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "orders");
        var e = Assert.ThrowsAny<Exception>(() => Run($$"""
            CREATE TABLE orders (id STRING) WITH (
              'connector' = 'kafka', 'topic' = 'orders', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.bounded.mode' = 'latest-offset', 'format' = 'protobuf', 'protobuf.message-class-name' = '{{typeof(Order).FullName}}');
            CREATE TABLE out_t (id STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id FROM orders;
            """));
        Assert.Contains("option 'protobuf.message-class-name'", e.Message);
        Assert.Contains("column 'id' is STRING", e.Message);
    }
}
