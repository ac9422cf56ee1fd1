using System.Buffers.Binary;
using Avro.Generic;
using Eddy.Connectors.Formats.Avro;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// Avro decoded straight into the planner's row struct: the values are those given to Apache.Avro's writer (the
/// independent encoder), as in the row path's tests.
/// </summary>
public class AvroStructTests
{
    private static Row ViaStruct<T>(StructDecoder<T> decoder, Schema schema, byte[] message) where T : struct
    {
        decoder.Decode(message, out var row);
        return RowTypes.ToRow<T>(schema)(row, RowKind.Insert);
    }

    /// <summary>Decodes through <c>CreateStructDecoder&lt;RowTypes.For(schema)&gt;</c>, the type the planner makes.</summary>
    private static Func<byte[], Row> StructReader(IStructFormat format, FormatContext context)
    {
        var rowType = RowTypes.For(context.Physical);
        var decoder = typeof(IStructFormat).GetMethod(nameof(IStructFormat.CreateStructDecoder))!.MakeGenericMethod(rowType).Invoke(format, [context])!;
        var via = typeof(AvroStructTests).GetMethod(nameof(ViaStruct), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.MakeGenericMethod(rowType);
        return bytes =>
        {
            try
            {
                return (Row)via.Invoke(null, [decoder, context.Physical, bytes])!;
            }
            catch (System.Reflection.TargetInvocationException e) when (e.InnerException is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        };
    }

    [Fact]
    public void Every_type_of_flinks_mapping_reads_into_the_struct_as_apache_avro_wrote_it()
    {
        var context = AvroFormatTests.Context(AvroFormatTests.AllTypes);
        var (schema, _) = AvroFormat.Derive(context);
        var read = StructReader(new AvroFormat(), context);
        for (int seed = 0; seed < 4; seed++)
        {
            var (record, expected) = AvroFormatTests.Sample(schema, seed);
            Assert.Equal(expected, read(AvroFormatTests.WriteWithApacheAvro(schema, record)).Fields.ToArray());
        }
        // Every nullable column null: the union's null branch leaves the struct's field null.
        var nulls = new GenericRecord((global::Avro.RecordSchema)schema);
        foreach (var field in ((global::Avro.RecordSchema)schema).Fields) nulls.Add(field.Name, null);
        nulls.Add("s", "only");
        nulls.Add("i", 42);
        object?[] expectedNulls = [.. AvroFormatTests.AllTypes.Select(c => c.Name switch { "s" => "only", "i" => (object?)42, _ => null })];
        Assert.Equal(expectedNulls, read(AvroFormatTests.WriteWithApacheAvro(schema, nulls)).Fields.ToArray());
        var trailing = Assert.Throws<FormatException>(() => read([.. AvroFormatTests.WriteWithApacheAvro(schema, nulls), 0]));
        Assert.Contains("1 bytes follow the record", trailing.Message);
    }

    [Fact]
    public void The_typed_steps_cover_the_primitive_columns_and_their_nullable_unions()
    {
        Column[] columns = [new("a", DataType.Int.NotNull()), new("b", DataType.BigInt), new("c", DataType.String), new("d", DataType.Double.NotNull()),
            new("e", DataType.Boolean), new("f", DataType.Decimal(10, 2))];
        var (schema, _) = AvroFormat.Derive(AvroFormatTests.Context(columns));
        var reader = typeof(AvroStructReader<>).MakeGenericType(RowTypes.For(new Schema(columns)))
            .GetConstructors()[0].Invoke([AvroReadPlan.Build(schema, columns)]);
        // All but the decimal, which is read as an object.
        Assert.Equal(5, (int)reader.GetType().GetProperty("TypedSteps", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(reader)!);
    }

    private const string OrderV2 = """
        {"type": "record", "name": "Order", "namespace": "shop", "fields": [
          {"name": "extra", "type": {"type": "array", "items": "string"}},
          {"name": "id", "type": "int"},
          {"name": "item", "type": ["string", "null"]},
          {"name": "size", "type": {"type": "enum", "name": "Size", "symbols": ["S", "M", "L"]}},
          {"name": "ratio", "type": "float"}
        ]}
        """;

    [Fact]
    public void Avro_confluent_reads_each_writer_schema_into_the_struct_by_resolution()
    {
        Column[] columns = [new("id", DataType.BigInt.NotNull()), new("item", DataType.String), new("size", DataType.String), new("ratio", DataType.Double), new("note", DataType.String)];
        using var registry = new SchemaRegistryStandIn();
        var schema = AvroSchema.Parse(OrderV2);
        int id = registry.Register("orders-value", OrderV2);
        var context = new FormatContext("t", new Schema(columns), [], name => name == "avro-confluent.url" ? registry.Url : null, _ => null);
        var read = StructReader(new AvroConfluentFormat(), context);
        for (int i = 0; i < 3; i++)
        {
            var record = new GenericRecord((global::Avro.RecordSchema)schema);
            record.Add("extra", new object[] { "x" });
            record.Add("id", i);
            record.Add("item", i == 1 ? null : "pen" + i);
            record.Add("size", new GenericEnum((global::Avro.EnumSchema)((global::Avro.RecordSchema)schema)["size"].Schema, "M"));
            record.Add("ratio", 0.5f * i);
            var body = AvroFormatTests.WriteWithApacheAvro(schema, record);
            var message = new byte[5 + body.Length];
            BinaryPrimitives.WriteInt32BigEndian(message.AsSpan(1), id);
            body.CopyTo(message, 5);
            Assert.Equal(new object?[] { (long)i, i == 1 ? null : "pen" + i, "M", 0.5 * i, null }, read(message).Fields.ToArray());
        }
        Assert.Single(registry.Requests, r => r == $"GET /schemas/ids/{id}");
        int bad = registry.Register("x-value", """{"type": "record", "name": "R", "fields": [{"name": "id", "type": "string"}]}""");
        var e = Assert.Throws<FormatException>(() => read([0, 0, 0, 0, (byte)bad, 2, (byte)'a']));
        Assert.Contains($"writer schema of id {bad} cannot be read", e.Message);
    }
}
