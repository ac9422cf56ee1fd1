using System.Diagnostics;
using Eddy.Connectors;
using Eddy.Runtime;

namespace Eddy.Bench;

/// <summary>Events per second of wall time and of CPU time, and the bytes of the input.</summary>
public sealed record DecodeThroughput(double EventsPerSecond, double EventsPerCpuSecond, long Bytes);

/// <summary>Connector throughput measurements.</summary>
public static class ConnectorWorkloads
{
    /// <summary>
    /// Writes <paramref name="events"/> web-traffic events as JSON lines to a temp file (not timed), then decodes the
    /// file with one <see cref="FileSource"/> reader into rows of <see cref="WebTrafficEvent.Schema"/> and returns the
    /// events decoded per second (best of <paramref name="runs"/>; the first run also warms the JIT).
    /// </summary>
    public static double JsonLinesDecodeEventsPerSecond(int events = 1_000_000, int runs = 3) =>
        JsonLinesDecode(events, runs).EventsPerSecond;

    /// <summary>
    /// As <see cref="JsonLinesDecodeEventsPerSecond"/>, also per second of CPU time of this process (steadier than
    /// wall time on a shared machine) and with the file size.
    /// </summary>
    public static DecodeThroughput JsonLinesDecode(int events = 1_000_000, int runs = 3)
    {
        string dir = Path.Combine(Path.GetTempPath(), "eddy-bench-" + Guid.NewGuid().ToString("N"));
        string file = Path.Combine(dir, "traffic.jsonl");
        try
        {
            WriteWebTraffic(file, events);
            var source = new FileSource(new FileConnectorOptions(file, FileFormat.JsonLines), WebTrafficEvent.Schema);
            double best = 0, bestCpu = 0;
            var process = Process.GetCurrentProcess();
            for (int run = 0; run < runs; run++)
            {
                process.Refresh();
                var cpuBefore = process.TotalProcessorTime;
                var watch = Stopwatch.StartNew();
                long count = ReadAll(source);
                watch.Stop();
                process.Refresh();
                var cpu = process.TotalProcessorTime - cpuBefore;
                if (count != events) throw new InvalidOperationException($"read {count} events, expected {events}");
                best = Math.Max(best, count / watch.Elapsed.TotalSeconds);
                bestCpu = Math.Max(bestCpu, count / cpu.TotalSeconds);
            }
            return new DecodeThroughput(best, bestCpu, new FileInfo(file).Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A whole job, file source (JSON lines, <paramref name="parallelism"/> files of the events) to a blackhole sink at
    /// <paramref name="parallelism"/>: events per second of wall time, best of <paramref name="runs"/>.
    /// </summary>
    public static double JsonLinesJobEventsPerSecond(int events = 1_000_000, int parallelism = 1, int runs = 3)
    {
        string dir = Path.Combine(Path.GetTempPath(), "eddy-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            for (int f = 0; f < parallelism; f++)
                WriteWebTraffic(Path.Combine(dir, $"traffic-{f}.jsonl"), events / parallelism + (f < events % parallelism ? 1 : 0), seed: f);
            double best = 0;
            for (int run = 0; run < runs; run++)
            {
                var sink = new BlackholeSink<Row>();
                var env = StreamEnvironment.Create().SetParallelism(parallelism);
                env.FromSource(new FileSource(new FileConnectorOptions(dir, FileFormat.JsonLines), WebTrafficEvent.Schema), name: "files")
                    .SinkTo(sink);
                var watch = Stopwatch.StartNew();
                env.Execute("json-lines-job");
                watch.Stop();
                if (sink.Count != events) throw new InvalidOperationException($"read {sink.Count} events, expected {events}");
                best = Math.Max(best, events / watch.Elapsed.TotalSeconds);
            }
            return best;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void WriteWebTraffic(string file, int events, long seed = 1)
    {
        var sink = FileSink.ToFile(new FileConnectorOptions(file, FileFormat.JsonLines), WebTrafficEvent.Schema);
        using var writer = sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("bench", 0)));
        var generator = new WebTrafficGenerator(new WebTrafficOptions { Count = events }, seed);
        var batch = new Batch<Row>();
        while (generator.TryNext(out var e, out long ts))
        {
            batch.Add(e.ToRow(), ts);
            if (batch.IsFull)
            {
                writer.Write(batch);
                batch.Clear();
            }
        }
        writer.Write(batch);
        writer.Flush();
    }

    private static long ReadAll(Source<Row> source)
    {
        using var reader = source.CreateReader(new SourceReaderContext(0, 1, TimeProvider.System, new SubtaskMetrics("bench", 0)));
        var output = new SourceOutput<Row>();
        long count = 0;
        SourceStatus status;
        do
        {
            status = reader.Read(output);
            count += output.Count;
            output.Batch.Clear();
        }
        while (status != SourceStatus.EndOfInput);
        return count;
    }
}
