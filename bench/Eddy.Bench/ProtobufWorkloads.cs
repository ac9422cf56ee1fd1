using Eddy.Bench.Proto;
using Eddy.Connectors.Formats;
using Eddy.Connectors.Formats.Protobuf;
using Google.Protobuf;

namespace Eddy.Bench;

/// <summary>
/// The protobuf format's decode rate against the library's own parse of the same bytes (the generated class's
/// <c>Parser.ParseFrom</c>), in one run: <c>protobuf-library</c>, <c>protobuf-struct</c> (Eddy into the planner's row
/// struct, as a Kafka table reads it), <c>protobuf-rows</c> (Eddy into generic rows). Each decodes the benchmark's
/// events as web-traffic-like messages, from a pool of 4,096 distinct serialized messages.
/// </summary>
public static class ProtobufWorkloads
{
    private const string Columns = "event_time BIGINT, url STRING, referrer STRING, user_agent STRING, host STRING, ip STRING, status INT, bytes BIGINT, latency_ms DOUBLE, cached BOOLEAN";

    private static readonly Lazy<byte[][]> Messages = new(() =>
    {
        var random = new Random(7);
        return [.. Enumerable.Range(0, 4096).Select(i => new ClickEvent
        {
            EventTime = 1_700_000_000_000 + i * 10L,
            Url = $"https://shop.example.com/products/{random.Next(10_000)}?ref=home",
            Referrer = random.Next(3) == 0 ? "" : "https://www.google.com/search?q=item" + random.Next(1000),
            UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/" + random.Next(90, 130) + ".0",
            Host = "shop" + random.Next(8) + ".example.com",
            Ip = $"{random.Next(256)}.{random.Next(256)}.{random.Next(256)}.{random.Next(256)}",
            Status = random.Next(10) == 0 ? 404 : 200,
            Bytes = random.Next(200, 200_000),
            LatencyMs = random.NextDouble() * 300,
            Cached = random.Next(2) == 0,
        }.ToByteArray())];
    });

    private static readonly Lazy<Schema> TableSchema = new(() =>
    {
        var session = new Eddy.Sql.SqlSession(BenchConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute($"CREATE TABLE t ({Columns}) WITH ('connector' = 'print');").ToList();
        session.Catalog.TryGetTable("t", out var table);
        return table!.PhysicalSchema;
    });

    private static FormatContext Context() => new("t", TableSchema.Value, [],
        name => name == "protobuf.message-class-name" ? typeof(ClickEvent).FullName : null, Eddy.Sql.Catalog.UserCode.FindHostType);

    /// <summary>The library's parse: a message object per event (what a consumer of the generated class pays).</summary>
    public static long Library(BenchEvent[] events)
    {
        var messages = Messages.Value;
        long sum = 0;
        for (int i = 0; i < events.Length; i++) sum += ClickEvent.Parser.ParseFrom(messages[i & 4095]).Bytes;
        return sum == long.MinValue ? 0 : events.Length;
    }

    public static long Struct(BenchEvent[] events) =>
        (long)typeof(ProtobufWorkloads).GetMethod(nameof(StructOf), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(RowTypes.For(TableSchema.Value)).Invoke(null, [events])!;

    private static long StructOf<T>(BenchEvent[] events) where T : struct
    {
        var decoder = new ProtobufFormat().CreateStructDecoder<T>(Context())!;
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
        var decoder = new ProtobufFormat().CreateDecoder(Context());
        var messages = Messages.Value;
        long sum = 0;
        for (int i = 0; i < events.Length; i++) sum += (long)decoder.DecodeRow(messages[i & 4095])[7]!;
        return sum == long.MinValue ? 0 : events.Length;
    }
}
