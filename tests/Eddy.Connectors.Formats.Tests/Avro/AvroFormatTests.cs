using Avro.Generic;
using Avro.IO;
using Eddy.Connectors.Formats.Avro;
using AvroSchema = Avro.Schema;

namespace Eddy.Connectors.Formats.Tests.Avro;

/// <summary>
/// The avro format against Apache.Avro 1.12.2 as the independent writer and reader: expected values are the values
/// given to (or read back by) that library, and the expected schema is Flink's documented type mapping written out.
/// </summary>
public class AvroFormatTests
{
    internal static readonly Column[] AllTypes =
    [
        new("s", DataType.String.NotNull()),
        new("b", DataType.Boolean),
        new("t", DataType.TinyInt),
        new("sm", DataType.SmallInt),
        new("i", DataType.Int.NotNull()),
        new("l", DataType.BigInt),
        new("f", DataType.Float),
        new("d", DataType.Double),
        new("dec", DataType.Decimal(10, 2)),
        new("day", DataType.Date),
        new("tod", DataType.Time),
        new("ts", DataType.Timestamp3),
        new("ts6", new DataType(TypeKind.Timestamp, Precision: 6)),
        new("bin", new DataType(TypeKind.Binary)),
        new("arr", DataType.ArrayOf(DataType.Int)),
        new("m", DataType.MapOf(DataType.String.NotNull(), DataType.BigInt)),
        new("r", DataType.RowOf(new Column("x", DataType.Int.NotNull()), new Column("y", DataType.String))),
    ];

    /// <summary>Flink's avro format docs: the mapping table, nullable types as union(null, T), nested rows named after their field.</summary>
    private const string FlinkSchema = """
        {"type": "record", "name": "record", "namespace": "org.apache.flink.avro.generated", "fields": [
          {"name": "s", "type": "string"},
          {"name": "b", "type": ["null", "boolean"], "default": null},
          {"name": "t", "type": ["null", "int"], "default": null},
          {"name": "sm", "type": ["null", "int"], "default": null},
          {"name": "i", "type": "int"},
          {"name": "l", "type": ["null", "long"], "default": null},
          {"name": "f", "type": ["null", "float"], "default": null},
          {"name": "d", "type": ["null", "double"], "default": null},
          {"name": "dec", "type": ["null", {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2}], "default": null},
          {"name": "day", "type": ["null", {"type": "int", "logicalType": "date"}], "default": null},
          {"name": "tod", "type": ["null", {"type": "int", "logicalType": "time-millis"}], "default": null},
          {"name": "ts", "type": ["null", {"type": "long", "logicalType": "timestamp-millis"}], "default": null},
          {"name": "ts6", "type": ["null", {"type": "long", "logicalType": "timestamp-micros"}], "default": null},
          {"name": "bin", "type": ["null", "bytes"], "default": null},
          {"name": "arr", "type": ["null", {"type": "array", "items": ["null", "int"]}], "default": null},
          {"name": "m", "type": ["null", {"type": "map", "values": ["null", "long"]}], "default": null},
          {"name": "r", "type": ["null", {"type": "record", "name": "record_r", "fields": [
            {"name": "x", "type": "int"}, {"name": "y", "type": ["null", "string"], "default": null}]}], "default": null}
        ]}
        """;

    internal static FormatContext Context(IReadOnlyList<Column> columns, Dictionary<string, string>? options = null) =>
        new("t", new Schema(columns), [], name => options?.GetValueOrDefault(name), _ => null);

    [Fact]
    public void The_schema_derived_from_the_columns_is_Flinks_mapping()
    {
        var (schema, _) = AvroFormat.Derive(Context(AllTypes));
        Assert.Equal(AvroSchema.Parse(FlinkSchema).ToString(), schema.ToString());
    }

    [Fact]
    public void The_non_legacy_timestamp_mapping_uses_local_timestamps_and_maps_timestamp_ltz()
    {
        Column[] columns = [new("ts", DataType.Timestamp3.NotNull()), new("ltz", DataType.TimestampLtz3.NotNull())];
        var legacy = Assert.Throws<FormatOptionException>(() => AvroFormat.Derive(Context(columns)));
        Assert.Equal("avro.timestamp_mapping.legacy", legacy.Option);
        Assert.Contains("column 'ltz'", legacy.Message);
        var (schema, _) = AvroFormat.Derive(Context(columns, new() { ["avro.timestamp_mapping.legacy"] = "false" }));
        Assert.Equal(AvroSchema.Parse("""
            {"type": "record", "name": "record", "namespace": "org.apache.flink.avro.generated", "fields": [
              {"name": "ts", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
              {"name": "ltz", "type": {"type": "long", "logicalType": "timestamp-millis"}}]}
            """).ToString(), schema.ToString());
    }

    [Theory]
    [InlineData("avro.encoding", "json", "binary encoding only")]
    [InlineData("avro.codec", "snappy", "container files")]
    [InlineData("avro.timestamp_mapping.legacy", "maybe", "expected true or false")]
    public void Unsupported_options_are_refused_naming_them(string option, string value, string expected)
    {
        var e = Assert.Throws<FormatOptionException>(() => new AvroFormat().CreateDecoder(Context(AllTypes, new() { [option] = value })));
        Assert.Equal(option, e.Option);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Types_avro_cannot_hold_are_refused_naming_the_column()
    {
        var time = Assert.Throws<FormatOptionException>(() => AvroFormat.Derive(Context([new("t9", new DataType(TypeKind.Time, Precision: 6))])));
        Assert.Contains("column 't9'", time.Message);
        var ts = Assert.Throws<FormatOptionException>(() => AvroFormat.Derive(Context([new("ts9", new DataType(TypeKind.Timestamp, Precision: 9))])));
        Assert.Contains("precision up to 6", ts.Message);
        var map = Assert.Throws<FormatOptionException>(() => AvroFormat.Derive(Context([new("m", DataType.MapOf(DataType.Int, DataType.Int))])));
        Assert.Contains("map keys are strings", map.Message);
    }

    /// <summary>A full record for <see cref="AllTypes"/>, as Apache.Avro's generic API takes it, and the row Eddy should read.</summary>
    internal static (GenericRecord Record, object?[] Expected) Sample(AvroSchema schema, int seed)
    {
        var record = new GenericRecord((global::Avro.RecordSchema)schema);
        var nested = new GenericRecord((global::Avro.RecordSchema)((global::Avro.UnionSchema)((global::Avro.RecordSchema)schema)["r"].Schema).Schemas[1]);
        nested.Add("x", seed);
        nested.Add("y", seed % 2 == 0 ? null : "why");
        var ts = new DateTime(2024, 2, 29, 23, 59, 58, 123, DateTimeKind.Utc).AddDays(seed);
        var ts6 = new DateTime(1969, 12, 31, 23, 59, 59, 999, DateTimeKind.Utc).AddTicks(8760 - seed * 10);
        var values = new (string Name, object? Avro, object? Eddy)[]
        {
            ("s", "héllo " + seed, "héllo " + seed),
            ("b", seed % 2 == 0, seed % 2 == 0),
            ("t", -7 - seed, (sbyte)(-7 - seed)),
            ("sm", 30000 + seed, (short)(30000 + seed)),
            ("i", int.MinValue + seed, int.MinValue + seed),
            ("l", seed == 1 ? null : 1L << 40, seed == 1 ? null : 1L << 40),
            ("f", 1.5f * seed, 1.5f * seed),
            ("d", -0.1 * seed, -0.1 * seed),
            ("dec", new global::Avro.AvroDecimal(-1234567.89m - seed), -1234567.89m - seed),
            ("day", new DateTime(1900, 1, 1).AddDays(seed), DateOnly.FromDateTime(new DateTime(1900, 1, 1).AddDays(seed))),
            ("tod", new TimeSpan(0, 23, 59, 59, 999 - seed), new TimeOnly(23, 59, 59, 999 - seed)),
            ("ts", ts, DateTime.SpecifyKind(ts, DateTimeKind.Unspecified)),
            ("ts6", ts6, DateTime.SpecifyKind(ts6, DateTimeKind.Unspecified)),
            ("bin", new byte[] { 0, 255, (byte)seed }, new byte[] { 0, 255, (byte)seed }),
            ("arr", new object?[] { 1, null, seed }, new object?[] { 1, null, seed }),
            ("m", new Dictionary<string, object?> { ["a"] = 1L, ["b"] = null }, new Dictionary<object, object?> { ["a"] = 1L, ["b"] = null }),
            ("r", nested, new Row(RowKind.Insert, [seed, seed % 2 == 0 ? null : "why"])),
        };
        foreach (var (name, avro, _) in values) record.Add(name, avro);
        return (record, [.. values.Select(v => v.Eddy)]);
    }

    internal static byte[] WriteWithApacheAvro(AvroSchema schema, GenericRecord record)
    {
        using var stream = new MemoryStream();
        new GenericDatumWriter<GenericRecord>(schema).Write(record, new BinaryEncoder(stream));
        return stream.ToArray();
    }

    [Fact]
    public void Records_written_by_Apache_Avro_are_read_into_the_columns()
    {
        var (schema, _) = AvroFormat.Derive(Context(AllTypes));
        var decoder = new AvroFormat().CreateDecoder(Context(AllTypes));
        for (int seed = 0; seed < 3; seed++)
        {
            var (record, expected) = Sample(schema, seed);
            var row = decoder.DecodeRow(WriteWithApacheAvro(schema, record));
            Assert.Equal(RowKind.Insert, row.Kind);
            Assert.Equal(expected, row.Fields.ToArray());
        }
    }

    [Fact]
    public void Rows_written_by_Eddy_are_read_back_by_Apache_Avro()
    {
        var (schema, _) = AvroFormat.Derive(Context(AllTypes));
        var (record, values) = Sample(schema, 1);
        // The row carries an extra leading column, to check that the writer takes the given positions.
        var row = new Row(RowKind.Insert, ["ignored", .. values]);
        var encoder = new AvroFormat().CreateEncoder(Context(AllTypes), [.. Enumerable.Range(1, AllTypes.Length)]);
        var bytes = encoder.Encode(row);
        var back = new GenericDatumReader<GenericRecord>(schema, schema).Read(null!, new BinaryDecoder(new MemoryStream(bytes)));
        foreach (var field in ((global::Avro.RecordSchema)schema).Fields)
        {
            object? expected = record[field.Name], actual = back[field.Name];
            switch (expected)
            {
                case GenericRecord nested:
                    Assert.Equal(nested["x"], ((GenericRecord)actual!)["x"]);
                    Assert.Equal(nested["y"], ((GenericRecord)actual!)["y"]);
                    break;
                case DateTime dt when field.Name != "day":
                    Assert.Equal(dt, ((DateTime)actual!).ToUniversalTime());
                    break;
                case global::Avro.AvroDecimal dec:
                    Assert.Equal(dec.ToString(), ((global::Avro.AvroDecimal)actual!).ToString());
                    break;
                default:
                    Assert.Equal(expected, actual);
                    break;
            }
        }
        Assert.Equal(bytes, WriteWithApacheAvro(schema, record));
    }

    [Fact]
    public void Bad_messages_are_format_errors()
    {
        var decoder = new AvroFormat().CreateDecoder(Context(AllTypes));
        var (schema, _) = AvroFormat.Derive(Context(AllTypes));
        var bytes = WriteWithApacheAvro(schema, Sample(schema, 2).Record);
        var truncated = Assert.Throws<FormatException>(() => decoder.DecodeRow(bytes[..^3]));
        Assert.Contains("ends inside a value", truncated.Message);
        var trailing = Assert.Throws<FormatException>(() => decoder.DecodeRow([.. bytes, 1, 2]));
        Assert.Contains("2 bytes follow the record", trailing.Message);
        var narrow = new AvroFormat().CreateDecoder(Context([new("t", DataType.TinyInt.NotNull())]));
        var e = Assert.Throws<FormatException>(() => narrow.DecodeRow([0x80, 0x02])); // the varint 256, zig-zag for 128
        Assert.Contains("column 't': 128 is out of range", e.Message);
        var notNull = new AvroFormat().CreateEncoder(Context([new("i", DataType.Int.NotNull())]), [0]);
        var nullValue = Assert.Throws<FormatException>(() => notNull.Encode(new Row(RowKind.Insert, [null])));
        Assert.Contains("column 'i' is INT NOT NULL and holds null", nullValue.Message);
    }
}
