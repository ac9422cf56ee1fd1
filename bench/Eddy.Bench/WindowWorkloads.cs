using Eddy.Runtime;
using Eddy.Windows;

namespace Eddy.Bench;

/// <summary>
/// The window workloads (2)-(5): each builds a job at parallelism 1 over the pre-generated events (event i at
/// i × 10 ms, a pseudo-random key), runs it to the end into a counting sink, and returns the number of window results.
/// </summary>
public static class WindowWorkloads
{
    /// <summary>(2) Count per key in 1-minute tumbling windows.</summary>
    public static long TumblingCount(BenchEvent[] events) =>
        Run(events, s => s.Window(TumblingEventTimeWindows.Of(TimeSpan.FromMinutes(1))).Count());

    /// <summary>(3) Count per key in 1-minute windows sliding by 10 s.</summary>
    public static long SlidingCount(BenchEvent[] events) =>
        Run(events, s => s.Window(SlidingEventTimeWindows.Of(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10))).Count());

    /// <summary>(4) Count per key in session windows with a 5 s gap.</summary>
    public static long Session5sCount(BenchEvent[] events) =>
        Run(events, s => s.Window(EventTimeSessionWindows.WithGap(TimeSpan.FromSeconds(5))).Count());

    /// <summary>(5) Count per key in session windows with a 30 s gap.</summary>
    public static long Session30sCount(BenchEvent[] events) =>
        Run(events, s => s.Window(EventTimeSessionWindows.WithGap(TimeSpan.FromSeconds(30))).Count());

    /// <summary>
    /// (2) with a checkpoint every second into a temporary folder: the cost of barriers, alignment, snapshots and
    /// storage. The source's position, the sink's and every stateful operator's state are written; the window
    /// operator's accumulators count only once the window operators snapshot their state.
    /// </summary>
    public static long TumblingCountCheckpointed(BenchEvent[] events) =>
        Checkpointed(events, "tumbling-ck1s", s => s.Window(TumblingEventTimeWindows.Of(TimeSpan.FromMinutes(1))).Count());

    /// <summary>
    /// Count per key in 1-day tumbling windows: with 2,000,000 keys each window holds about 2 M accumulators (a day
    /// is 8.64 M events at 10 ms apart), the large state that issue 7's checkpoint cost is about.
    /// </summary>
    public static long TumblingDayCount(BenchEvent[] events) =>
        Run(events, s => s.Window(TumblingEventTimeWindows.Of(TimeSpan.FromDays(1))).Count());

    /// <summary>The same with a checkpoint every second: each holds the open day's ~2 M (key, count) pairs (~24 MB).</summary>
    public static long TumblingDayCountCheckpointed(BenchEvent[] events) =>
        Checkpointed(events, "tumbling-day-ck1s", s => s.Window(TumblingEventTimeWindows.Of(TimeSpan.FromDays(1))).Count());

    private static long Checkpointed<TOut>(BenchEvent[] events, string label, Func<KeyedStream<BenchEvent, int>, DataStream<TOut>> windows)
    {
        string dir = Path.Combine(Path.GetTempPath(), "eddy-bench-ck-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            var config = new JobConfig { CheckpointInterval = TimeSpan.FromSeconds(1), CheckpointDirectory = dir };
            var (results, job) = Run(events, windows, config);
            var done = job.Checkpoints.Where(c => c.Status == CheckpointStatus.Completed).ToList();
            if (done.Count > 0)
            {
                static double Median(IEnumerable<double> values)
                {
                    var sorted = values.Order().ToList();
                    return sorted[sorted.Count / 2];
                }
                Console.Error.WriteLine($"  [{label}] {done.Count} checkpoints, largest {done.Max(c => c.StateSize):N0} bytes of state "
                    + $"(last: {string.Join(", ", done[^1].StateSizeByOperator.Select(kv => $"{kv.Key}: {kv.Value:N0}"))}), "
                    + $"median duration {Median(done.Select(c => c.Duration.TotalMilliseconds)):F1} ms, "
                    + $"median sync phase {Median(done.Select(c => c.SyncDuration.TotalMilliseconds)):F2} ms (max {done.Max(c => c.SyncDuration.TotalMilliseconds):F2}), "
                    + $"median async phase {Median(done.Select(c => c.AsyncDuration.TotalMilliseconds)):F1} ms");
            }
            return results;
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        }
    }

    private static long Run<TOut>(BenchEvent[] events, Func<KeyedStream<BenchEvent, int>, DataStream<TOut>> windows) =>
        Run(events, windows, new JobConfig()).Results;

    private static (long Results, JobExecution Job) Run<TOut>(BenchEvent[] events,
        Func<KeyedStream<BenchEvent, int>, DataStream<TOut>> windows, JobConfig config)
    {
        var env = StreamEnvironment.Create(config).SetParallelism(1);
        var sink = new CountingSink<TOut>();
        windows(Harness.Events(env, events).KeyBy(e => e.Key)).SinkTo(sink);
        var job = env.Start("window-bench");
        var result = job.Completion.GetAwaiter().GetResult();
        if (result.Failure is not null) throw result.Failure;
        return (sink.Count, job);
    }
}
