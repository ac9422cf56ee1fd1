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

    private static long Run<TOut>(BenchEvent[] events, Func<KeyedStream<BenchEvent, int>, DataStream<TOut>> windows)
    {
        var env = StreamEnvironment.Create().SetParallelism(1);
        var sink = new CountingSink<TOut>();
        windows(Harness.Events(env, events).KeyBy(e => e.Key)).SinkTo(sink);
        env.Execute("window-bench");
        return sink.Count;
    }
}
