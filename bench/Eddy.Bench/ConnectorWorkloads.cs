using System.Diagnostics;
using Eddy.Connectors;
using Eddy.Runtime;

namespace Eddy.Bench;

/// <summary>Connector throughput measurements.</summary>
public static class ConnectorWorkloads
{
    /// <summary>
    /// Writes <paramref name="events"/> web-traffic events as JSON lines to a temp file (not timed), then decodes the
    /// file with one <see cref="FileSource"/> reader into rows of <see cref="WebTrafficEvent.Schema"/> and returns the
    /// events decoded per second (best of <paramref name="runs"/>; the first run also warms the JIT).
    /// </summary>
    public static double JsonLinesDecodeEventsPerSecond(int events = 1_000_000, int runs = 3)
    {
        string dir = Path.Combine(Path.GetTempPath(), "eddy-bench-" + Guid.NewGuid().ToString("N"));
        string file = Path.Combine(dir, "traffic.jsonl");
        try
        {
            WriteWebTraffic(file, events);
            var source = new FileSource(new FileConnectorOptions(file, FileFormat.JsonLines), WebTrafficEvent.Schema);
            double best = 0;
            for (int run = 0; run < runs; run++)
            {
                var watch = Stopwatch.StartNew();
                long count = ReadAll(source);
                watch.Stop();
                if (count != events) throw new InvalidOperationException($"read {count} events, expected {events}");
                best = Math.Max(best, count / watch.Elapsed.TotalSeconds);
            }
            return best;
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static void WriteWebTraffic(string file, int events)
    {
        var sink = FileSink.ToFile(new FileConnectorOptions(file, FileFormat.JsonLines), WebTrafficEvent.Schema);
        using var writer = sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("bench", 0)));
        var generator = new WebTrafficGenerator(new WebTrafficOptions { Count = events }, seed: 1);
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
