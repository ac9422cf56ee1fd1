using System.Diagnostics;
using System.Runtime.InteropServices;
using Eddy.Runtime;

namespace Eddy.Bench;

/// <summary>Runs workloads, measures them, and provides the pieces workloads are built from.</summary>
public static class Harness
{
    /// <summary>Event i has event time i × <see cref="EventSpacingMs"/>.</summary>
    public const long EventSpacingMs = 10;

    /// <summary>The seed of the key and payload generator: every run sees the same events.</summary>
    public const ulong Seed = 0x5EED_EDD1;

    /// <summary>The benchmark input: event i at i × 10 ms, key and payload from a fixed-seed SplitMix64.</summary>
    public static BenchEvent[] Generate(int count, int keys)
    {
        var events = GC.AllocateUninitializedArray<BenchEvent>(count);
        ulong state = Seed;
        for (int i = 0; i < count; i++)
        {
            ulong r = SplitMix64(ref state);
            int key = (int)((r >> 32) % (ulong)keys);
            events[i] = new BenchEvent(i * EventSpacingMs, key, (int)r);
        }
        return events;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The events as a bounded stream with event time from <see cref="BenchEvent.Timestamp"/> and
    /// monotonous watermarks.</summary>
    public static DataStream<BenchEvent> Events(StreamEnvironment env, BenchEvent[] events, string name = "Events") =>
        env.FromCollection(events,
            WatermarkStrategy<BenchEvent>.ForMonotonousTimestamps().WithTimestampAssigner(e => e.Timestamp), name);

    // ---- workload (1) and its parallel variants ----

    public static long FilterPassThrough(BenchEvent[] events)
    {
        var env = StreamEnvironment.Create();
        var sink = new CountingSink<BenchEvent>();
        Events(env, events).Filter(e => e.Payload != 0 || e.Key >= 0).SinkTo(sink);
        env.Execute("filter");
        return sink.Count;
    }

    /// <summary>Source in one task, filter and sink in another, connected by a rebalance edge (an input gate).</summary>
    public static long FilterRebalance(BenchEvent[] events)
    {
        var env = StreamEnvironment.Create();
        var sink = new CountingSink<BenchEvent>();
        Events(env, events).Rebalance().Filter(e => e.Payload != 0 || e.Key >= 0).StartNewChain().SinkTo(sink);
        env.Execute("filter-rebalance");
        return sink.Count;
    }

    /// <summary>Everything at parallelism 2: two sources rebalance into two filter → sink tasks.</summary>
    public static long FilterParallel2(BenchEvent[] events)
    {
        var env = StreamEnvironment.Create().SetParallelism(2);
        var sink = new CountingSink<BenchEvent>();
        Events(env, events).Rebalance().Filter(e => e.Payload != 0 || e.Key >= 0).SinkTo(sink);
        env.Execute("filter-p2");
        return sink.Count;
    }

    /// <summary>Parallelism 2 with a hash exchange: two sources split every batch by key into two filter → sink tasks.</summary>
    public static long FilterHashParallel2(BenchEvent[] events)
    {
        var env = StreamEnvironment.Create().SetParallelism(2);
        var sink = new CountingSink<BenchEvent>();
        Events(env, events).KeyBy(e => e.Key).Filter(e => e.Payload != 0 || e.Key >= 0).SinkTo(sink);
        env.Execute("filter-hash-p2");
        return sink.Count;
    }

    // ---- measurement ----

    private static readonly TimeSpan WarmupTime = TimeSpan.FromSeconds(2);

    public static int Run(IReadOnlyList<Workload> workloads, Options options)
    {
        PrintMachine();
        Console.WriteLine($"events: {options.Events:N0}, runs: {options.Runs}, keys: {options.Keys:N0}, load average: {LoadAverage()}");
        // Events per key count, generated before any timing (workloads (4) and (5) specify their own key counts).
        var generated = new Dictionary<int, (BenchEvent[] Events, BenchEvent[] Warmup)>();
        (BenchEvent[] Events, BenchEvent[] Warmup) EventsFor(int keys)
        {
            if (!generated.TryGetValue(keys, out var e))
            {
                var all = Generate((int)options.Events, keys);
                e = (all, all.AsSpan(0, (int)Math.Min(all.Length, 2_000_000)).ToArray());
                generated[keys] = e;
            }
            return e;
        }
        foreach (var k in workloads.Select(w => w.Keys ?? options.Keys).Distinct()) EventsFor(k);
        Console.WriteLine($"generated {generated.Count} event set(s) of {options.Events:N0} ({options.Events * Marshal.SizeOf<BenchEvent>() / (1 << 20)} MiB each)");
        Console.WriteLine();
        Console.WriteLine($"{"workload",-18} {"best ev/s",14} {"median ev/s",14} {"B/event",9} {"CPU ns/ev",10} {"results",14}  runs (M ev/s)");
        int failures = 0;
        foreach (var w in workloads)
        {
            var (events, warmup) = EventsFor(w.Keys ?? options.Keys);
            try
            {
                // Warm up for a while (at least 3 runs, about 2 s) so that the timed runs see tier-1 code: tiered
                // compilation only starts counting calls after 100 ms without new tier-0 methods.
                var warm = Stopwatch.StartNew();
                for (int i = 0; i < 3 || warm.Elapsed < WarmupTime; i++) w.Run(warmup);
                var rates = new double[options.Runs];
                var allocs = new double[options.Runs];
                var cpuNs = new double[options.Runs];
                using var process = Process.GetCurrentProcess();
                long results = 0;
                for (int r = 0; r < options.Runs; r++)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    GC.Collect();
                    long before = GC.GetTotalAllocatedBytes(true);
                    var cpuBefore = process.TotalProcessorTime;
                    long start = Stopwatch.GetTimestamp();
                    results = w.Run(events);
                    double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                    process.Refresh();
                    var cpu = process.TotalProcessorTime - cpuBefore;
                    long after = GC.GetTotalAllocatedBytes(true);
                    rates[r] = events.Length / seconds;
                    allocs[r] = (double)(after - before) / events.Length;
                    cpuNs[r] = cpu.TotalNanoseconds / events.Length;
                }
                var sorted = rates.Order().ToArray();
                double median = sorted.Length % 2 == 1
                    ? sorted[sorted.Length / 2]
                    : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
                Console.WriteLine(
                    $"{w.Name,-18} {sorted[^1],14:N0} {median,14:N0} {allocs.Min(),9:F3} {cpuNs.Min(),10:F2} {results,14:N0}  " +
                    string.Join(" ", rates.Select(x => (x / 1e6).ToString("F1", System.Globalization.CultureInfo.InvariantCulture))));
            }
            catch (Exception e)
            {
                failures++;
                Console.WriteLine($"{w.Name,-18} FAILED: {e.GetType().Name}: {e.Message}");
            }
        }
        return failures == 0 ? 0 : 1;
    }

    /// <summary>The 1-minute load average: other processes on the machine make the figures noisy.</summary>
    private static string LoadAverage()
    {
        try
        {
            return File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Split(' ')[0] : "n/a";
        }
        catch (IOException)
        {
            return "n/a";
        }
    }

    private static void PrintMachine()
    {
        string cpu = "unknown";
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null) cpu = line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }
        Console.WriteLine($"machine: {Environment.ProcessorCount} cores, CPU {cpu}, {RuntimeInformation.FrameworkDescription}, " +
            $"{RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture}, GC {(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
    }
}

/// <summary>A sink that only counts the records it receives (all subtasks together).</summary>
public sealed class CountingSink<T> : Sink<T>
{
    private long count;

    /// <summary>Records received by every writer that has been closed (read it after the job ended).</summary>
    public long Count => Interlocked.Read(ref count);

    public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(this);

    private sealed class Writer(CountingSink<T> owner) : SinkWriter<T>
    {
        private long local;

        public override void Write(Batch<T> batch) => local += batch.Count;

        public override void Dispose()
        {
            Interlocked.Add(ref owner.count, local);
            local = 0;
            base.Dispose();
        }
    }
}
