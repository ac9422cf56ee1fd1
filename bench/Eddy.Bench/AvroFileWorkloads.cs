using Avro.File;
using Avro.Generic;
using Eddy.Connectors;
using Eddy.Connectors.Formats.Avro;
using AvroSchema = Avro.Schema;

namespace Eddy.Bench;

/// <summary>
/// The filesystem connector's avro format (object container files) against Apache.Avro 1.12.2's own
/// <c>DataFileWriter</c>/<c>DataFileReader</c> with generic records, in one run: the events as rows (ts TIMESTAMP(3), k
/// INT, payload BIGINT, label STRING from a table of 1,000 strings; Flink's derived schema, nullable columns as unions),
/// codec null (the format's cost, not the compressor's), one part file per run. <c>avro-file-write</c>: Eddy's part
/// writer (rows → record bytes → the library's blocks); <c>avro-file-write-library</c>: generic records through the
/// library's <c>GenericDatumWriter</c>. <c>avro-file-read</c>: Eddy's block reader and read plan into rows;
/// <c>avro-file-read-library</c>: <c>DataFileReader&lt;GenericRecord&gt;</c> reusing its record. Both read the same file,
/// written once outside the timing.
/// </summary>
public static class AvroFileWorkloads
{
    private static readonly Column[] Columns = [new("ts", DataType.Timestamp3), new("k", DataType.Int), new("payload", DataType.BigInt), new("label", DataType.String)];
    private static readonly string[] Labels = Enumerable.Range(0, 1000).Select(i => $"label-{i}").ToArray();
    private static readonly Dictionary<int, string> Written = [];
    private static readonly AvroFileFormat Format = new();

    private static FileConnectorOptions Options(string path) => new(path, FileFormat.Plugged)
    {
        Plugged = Format,
        FormatOptions = new Dictionary<string, string> { [AvroFileFormat.CodecOption] = "null" },
    };

    private static AvroSchema Schema => AvroSchema.Parse(AvroSchemaDerivation.Derive(Columns, legacy: true, legacyOption: null));

    private static DateTime Ts(BenchEvent e) => new(DateTime.UnixEpoch.Ticks + e.Timestamp * TimeSpan.TicksPerMillisecond);

    public static long WriteEddy(BenchEvent[] events)
    {
        string path = File();
        try
        {
            WriteWithEddy(events, path);
            return events.Length;
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    private static void WriteWithEddy(BenchEvent[] events, string path)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
        var writer = Format.CreateWriter(Options(path), Columns, [0, 1, 2, 3], file);
        foreach (var e in events) writer.Write(Row.Of(Ts(e), e.Key, (long)e.Payload, Labels[(uint)e.Payload % 1000]));
        writer.Complete();
    }

    public static long WriteLibrary(BenchEvent[] events)
    {
        string path = File();
        try
        {
            var schema = (global::Avro.RecordSchema)Schema;
            using (var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), path, Codec.CreateCodec(Codec.Type.Null)))
            {
                writer.SetSyncInterval(64_000);
                foreach (var e in events)
                {
                    var record = new GenericRecord(schema);
                    record.Add("ts", DateTime.SpecifyKind(Ts(e), DateTimeKind.Utc));
                    record.Add("k", e.Key);
                    record.Add("payload", (long)e.Payload);
                    record.Add("label", Labels[(uint)e.Payload % 1000]);
                    writer.Append(record);
                }
            }
            return events.Length;
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    public static long ReadEddy(BenchEvent[] events)
    {
        using var reader = Format.OpenReader(Options(Prepared(events)), Prepared(events), Columns);
        long rows = 0, sum = 0;
        while (reader.TryRead(out var values))
        {
            rows++;
            sum += (long)values[2]!;
        }
        return Check(rows, sum, events.Length);
    }

    public static long ReadLibrary(BenchEvent[] events)
    {
        using var reader = DataFileReader<GenericRecord>.OpenReader(Prepared(events));
        long rows = 0, sum = 0;
        while (reader.HasNext())
        {
            var record = reader.Next();
            rows++;
            sum += (long)record["payload"];
        }
        return Check(rows, sum, events.Length);
    }

    private static long Check(long rows, long sum, long expected) =>
        rows == expected && sum != long.MinValue ? rows : throw new InvalidOperationException($"read {rows} rows, expected {expected}");

    /// <summary>The file of these events, written once by Eddy (outside the timing of the read workloads).</summary>
    private static string Prepared(BenchEvent[] events)
    {
        if (Written.TryGetValue(events.Length, out var path)) return path;
        path = File();
        WriteWithEddy(events, path);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => System.IO.File.Delete(path);
        Written[events.Length] = path;
        return path;
    }

    private static string File() => Path.Combine(Path.GetTempPath(), $"eddy-bench-avro-{Guid.NewGuid():N}.avro");
}
