using Eddy.Connectors;
using Eddy.Runtime;

namespace Eddy.Bench;

/// <summary>
/// The filesystem connector's parquet format: writing the events as rows (ts TIMESTAMP(3), k INT, payload BIGINT,
/// label STRING from a table of 1,000 strings) into part files, and reading such files back, each through a one-task
/// job; the JSON lines workloads of the same rows are the reference in the same run.
/// </summary>
public static class ParquetWorkloads
{
    private static readonly Schema RowSchema = Schema.Of(("ts", DataType.Timestamp3), ("k", DataType.Int), ("payload", DataType.BigInt), ("label", DataType.String));
    private static readonly string[] Labels = Enumerable.Range(0, 1000).Select(i => $"label-{i}").ToArray();
    private static readonly Dictionary<(FileFormat, int), string> Written = [];

    private static Row ToRow(BenchEvent e) =>
        Row.Of(new DateTime(DateTime.UnixEpoch.Ticks + e.Timestamp * TimeSpan.TicksPerMillisecond), e.Key, (long)e.Payload, Labels[(uint)e.Payload % 1000]);

    public static long WriteParquet(BenchEvent[] events) => Write(events, FileFormat.Parquet, Folder("write"));

    public static long WriteJson(BenchEvent[] events) => Write(events, FileFormat.JsonLines, Folder("write"));

    public static long ReadParquet(BenchEvent[] events) => Read(Prepared(events, FileFormat.Parquet), FileFormat.Parquet, events.Length);

    public static long ReadJson(BenchEvent[] events) => Read(Prepared(events, FileFormat.JsonLines), FileFormat.JsonLines, events.Length);

    private static long Write(BenchEvent[] events, FileFormat format, string dir)
    {
        try
        {
            var env = StreamEnvironment.Create();
            Harness.Events(env, events).Map(ToRow).SinkTo(FileSink.ToFolder(new FileConnectorOptions(dir, format), RowSchema));
            env.Execute("file-write");
            return events.Length;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>The files of these events in this format, written once (outside the timing of later runs).</summary>
    private static string Prepared(BenchEvent[] events, FileFormat format)
    {
        if (Written.TryGetValue((format, events.Length), out var dir)) return dir;
        dir = Folder("read");
        var env = StreamEnvironment.Create();
        Harness.Events(env, events).Map(ToRow).SinkTo(FileSink.ToFolder(new FileConnectorOptions(dir, format), RowSchema));
        env.Execute("file-prepare");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(dir, recursive: true);
        Written[(format, events.Length)] = dir;
        return dir;
    }

    private static long Read(string dir, FileFormat format, long expected)
    {
        var sink = new BlackholeSink<Row>();
        var env = StreamEnvironment.Create();
        env.FromSource(new FileSource(new FileConnectorOptions(dir, format), RowSchema), name: "files").SinkTo(sink);
        env.Execute("file-read");
        if (sink.Count != expected) throw new InvalidOperationException($"read {sink.Count} rows, expected {expected}");
        return sink.Count;
    }

    private static string Folder(string what) => Path.Combine(Path.GetTempPath(), $"eddy-bench-{what}-" + Guid.NewGuid().ToString("N"));
}
