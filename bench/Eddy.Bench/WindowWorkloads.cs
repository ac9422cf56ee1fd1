using Eddy.Runtime;
using Eddy.Windows;

namespace Eddy.Bench;

/// <summary>
/// The window workloads: each builds a job at parallelism 1 reading pre-generated events from memory (event i has
/// time <c>timestamps[i]</c> and key <c>keys[i]</c>), runs it to the end into a counting sink, and returns the
/// number of window results.
/// </summary>
public static class WindowWorkloads
{
    /// <summary>The workloads by number, with the key count each is specified for and how to run it.</summary>
    public static IReadOnlyList<(int Number, string Name, int KeyCount, Func<int[], long[], long> Run)> All { get; } =
    [
        (2, "tumbling-1m-count", 10_000, TumblingCount),
        (3, "sliding-1m-10s-count", 10_000, SlidingCount),
        (4, "session-5s-count", 100_000, Session5sCount),
        (5, "session-30s-count", 1_000, Session30sCount),
    ];

    /// <summary>Event i at i × 10 ms with a pseudo-random key in [0, <paramref name="keyCount"/>).</summary>
    public static (int[] Keys, long[] Timestamps) GenerateEvents(int count, int keyCount, int seed = 42)
    {
        var rnd = new Random(seed);
        var keys = new int[count];
        var timestamps = new long[count];
        for (int i = 0; i < count; i++)
        {
            keys[i] = rnd.Next(keyCount);
            timestamps[i] = i * 10L;
        }
        return (keys, timestamps);
    }

    /// <summary>(2) Count per key in 1-minute tumbling windows (10,000 keys).</summary>
    public static long TumblingCount(int[] keys, long[] timestamps) =>
        Run(keys, timestamps, s => s.Window(TumblingEventTimeWindows.Of(TimeSpan.FromMinutes(1))).Count());

    /// <summary>(3) Count per key in 1-minute windows sliding by 10 s (10,000 keys).</summary>
    public static long SlidingCount(int[] keys, long[] timestamps) =>
        Run(keys, timestamps, s => s.Window(SlidingEventTimeWindows.Of(TimeSpan.FromMinutes(1), TimeSpan.FromSeconds(10))).Count());

    /// <summary>(4) Count per key in session windows with a 5 s gap (100,000 keys).</summary>
    public static long Session5sCount(int[] keys, long[] timestamps) => SessionCount(keys, timestamps, TimeSpan.FromSeconds(5));

    /// <summary>(5) Count per key in session windows with a 30 s gap (1,000 keys).</summary>
    public static long Session30sCount(int[] keys, long[] timestamps) => SessionCount(keys, timestamps, TimeSpan.FromSeconds(30));

    public static long SessionCount(int[] keys, long[] timestamps, TimeSpan gap) =>
        Run(keys, timestamps, s => s.Window(EventTimeSessionWindows.WithGap(gap)).Count());

    private static long Run<TOut>(int[] keys, long[] timestamps, Func<KeyedStream<int, int>, DataStream<TOut>> windows)
    {
        var env = StreamEnvironment.Create().SetParallelism(1);
        var sink = new CountingSink<TOut>();
        var events = env.FromSource(new ArraySource(keys, timestamps), WatermarkStrategy<int>.ForMonotonousTimestamps(), "Events");
        windows(events.KeyBy(k => k)).SinkTo(sink);
        env.Execute("window-bench");
        return sink.Count;
    }

    /// <summary>Keys with their timestamps, straight from arrays.</summary>
    private sealed class ArraySource(int[] keys, long[] timestamps) : Source<int>
    {
        public override bool IsBounded => true;

        public override SourceReader<int> CreateReader(SourceReaderContext context) =>
            new Reader(keys, timestamps, context.SubtaskIndex, context.Parallelism);

        private sealed class Reader(int[] keys, long[] timestamps, int subtask, int parallelism) : SourceReader<int>
        {
            private int next = (int)((long)keys.Length * subtask / parallelism);
            private readonly int end = (int)((long)keys.Length * (subtask + 1) / parallelism);

            public override SourceStatus Read(SourceOutput<int> output)
            {
                int n = Math.Min(output.Room, end - next);
                for (int i = 0; i < n; i++) output.Add(keys[next + i], timestamps[next + i]);
                next += n;
                return next < end ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
            }
        }
    }

    private sealed class CountingSink<T> : Sink<T>
    {
        private long count;

        public long Count => Interlocked.Read(ref count);

        public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(this);

        private sealed class Writer(CountingSink<T> sink) : SinkWriter<T>
        {
            public override void Write(Batch<T> batch) => Interlocked.Add(ref sink.count, batch.Count);
        }
    }
}
