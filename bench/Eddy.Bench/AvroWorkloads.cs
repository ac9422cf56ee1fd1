using Avro.Generic;
using Avro.IO;
using Eddy.Connectors.Formats;
using Eddy.Connectors.Formats.Avro;
using AvroSchema = Avro.Schema;

namespace Eddy.Bench;

/// <summary>
/// The avro format's decode rate against Apache.Avro 1.12.2's own generic reader of the same bytes, in one run:
/// <c>avro-library</c> (<c>GenericDatumReader&lt;GenericRecord&gt;</c>, reusing its record as the library allows),
/// <c>avro-rows</c> (Eddy's read plan into generic rows), <c>avro-struct</c> (the same plan into the planner's row
/// struct, as a Kafka table whose columns are all in the message reads it). The messages are web-traffic-like
/// records of the schema Flink derives from the columns below (nullable columns: unions), written by Apache.Avro, from a
/// pool of 4,096 distinct messages.
/// </summary>
public static class AvroWorkloads
{
    private static readonly Column[] Columns =
    [
        new("event_time", DataType.BigInt.NotNull()), new("url", DataType.String), new("referrer", DataType.String),
        new("user_agent", DataType.String), new("host", DataType.String), new("ip", DataType.String), new("status", DataType.Int),
        new("bytes", DataType.BigInt), new("latency_ms", DataType.Double), new("cached", DataType.Boolean),
    ];

    private static FormatContext Context() => new("t", new Schema(Columns), [], _ => null, _ => null);

    private static readonly Lazy<AvroSchema> WriterSchema = new(() => AvroFormat.Derive(Context()).Schema);

    private static readonly Lazy<byte[][]> Messages = new(() =>
    {
        var random = new Random(7);
        var schema = (global::Avro.RecordSchema)WriterSchema.Value;
        var writer = new GenericDatumWriter<GenericRecord>(schema);
        return [.. Enumerable.Range(0, 4096).Select(i =>
        {
            var r = new GenericRecord(schema);
            r.Add("event_time", 1_700_000_000_000 + i * 10L);
            r.Add("url", $"https://shop.example.com/products/{random.Next(10_000)}?ref=home");
            r.Add("referrer", random.Next(3) == 0 ? null : "https://www.google.com/search?q=item" + random.Next(1000));
            r.Add("user_agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/" + random.Next(90, 130) + ".0");
            r.Add("host", "shop" + random.Next(8) + ".example.com");
            r.Add("ip", $"{random.Next(256)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}");
            r.Add("status", random.Next(10) == 0 ? 404 : 200);
            r.Add("bytes", (long)random.Next(200, 200_000));
            r.Add("latency_ms", random.NextDouble() * 300);
            r.Add("cached", random.Next(2) == 0);
            using var stream = new MemoryStream();
            writer.Write(r, new BinaryEncoder(stream));
            return stream.ToArray();
        })];
    });

    public static long Library(BenchEvent[] events)
    {
        var schema = WriterSchema.Value;
        var reader = new GenericDatumReader<GenericRecord>(schema, schema);
        var messages = Messages.Value;
        GenericRecord? reuse = null;
        long sum = 0;
        for (int i = 0; i < events.Length; i++)
        {
            reuse = reader.Read(reuse!, new BinaryDecoder(new MemoryStream(messages[i & 4095], writable: false)));
            sum += (long)reuse["bytes"];
        }
        return sum == long.MinValue ? 0 : events.Length;
    }

    public static long Struct(BenchEvent[] events) =>
        (long)typeof(AvroWorkloads).GetMethod(nameof(StructOf), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(RowTypes.For(new Schema(Columns))).Invoke(null, [events])!;

    private static long StructOf<T>(BenchEvent[] events) where T : struct
    {
        var decoder = new AvroFormat().CreateStructDecoder<T>(Context())!;
        var messages = Messages.Value;
        var bytes = RowTypes.FieldGetter<T, long?>(7);
        long sum = 0;
        for (int i = 0; i < events.Length; i++)
        {
            decoder.Decode(messages[i & 4095], out var row);
            sum += bytes(row) ?? 0;
        }
        return sum == long.MinValue ? 0 : events.Length;
    }

    public static long Rows(BenchEvent[] events)
    {
        var decoder = new AvroFormat().CreateDecoder(Context());
        var messages = Messages.Value;
        long sum = 0;
        for (int i = 0; i < events.Length; i++) sum += (long)decoder.DecodeRow(messages[i & 4095])[7]!;
        return sum == long.MinValue ? 0 : events.Length;
    }
}
