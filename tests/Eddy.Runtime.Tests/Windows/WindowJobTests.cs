using Eddy.Runtime;
using Eddy.Windows;

namespace Eddy.Tests.Windows;

/// <summary>Whole jobs: a source with bounded out-of-orderness, KeyBy, windows, at parallelism 1 and 4.</summary>
public class WindowJobTests
{
    public readonly record struct Click(int User, long Time);

    private static readonly Click[] Clicks = MakeClicks();

    private static Click[] MakeClicks()
    {
        var rnd = new Random(7);
        // Disorder within 80 ms (jitter of ±40 ms), watermark bound 100 ms: nothing is late at any parallelism.
        return Enumerable.Range(0, 20_000).Select(i => new Click(rnd.Next(50), 1_700_000_000_000 + i * 3L + rnd.Next(-40, 40))).ToArray();
    }

    private static List<string> RunJob(int parallelism, Func<KeyedStream<Click, int>, DataStream<string>> windows)
    {
        var env = StreamEnvironment.Create().SetParallelism(parallelism);
        var sink = new CollectSink<string>();
        var strategy = WatermarkStrategy<Click>.ForBoundedOutOfOrderness(TimeSpan.FromMilliseconds(100)).WithTimestampAssigner(c => c.Time);
        windows(env.FromCollection(Clicks, strategy).KeyBy(c => c.User)).SinkTo(sink);
        var result = env.Execute("windows");
        Assert.Equal(JobStatus.Finished, result.Status);
        return sink.Records.Select(r => $"{r.Value} @{r.Timestamp} {r.Kind.ShortString()}").Order(StringComparer.Ordinal).ToList();
    }

    private static string Show(WindowResult<int, TimeWindow, long> r) => $"{r.Key} [{r.Window.Start},{r.Window.End}) {r.Value}";

    [Fact]
    public void Tumbling_count_is_the_same_at_parallelism_1_and_4_and_matches_linq()
    {
        DataStream<string> Job(KeyedStream<Click, int> s) =>
            s.Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(1))).Count().Map(Show);
        var one = RunJob(1, Job);
        var four = RunJob(4, Job);
        Assert.Equal(one, four);
        var expected = Clicks.GroupBy(c => (c.User, Start: c.Time - c.Time % 1000))
            .Select(g => $"{g.Key.User} [{g.Key.Start},{g.Key.Start + 1000}) {g.Count()} @{g.Key.Start + 999} +I")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, one);
    }

    [Fact]
    public void Sliding_count_is_the_same_at_parallelism_1_and_4_and_matches_linq()
    {
        DataStream<string> Job(KeyedStream<Click, int> s) =>
            s.Window(SlidingEventTimeWindows.Of(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(500))).Count().Map(Show);
        var one = RunJob(1, Job);
        Assert.Equal(one, RunJob(4, Job));
        var expected = Clicks
            .SelectMany(c => Enumerable.Range(0, 4).Select(k => (c.User, Start: c.Time - c.Time % 500 - k * 500L)))
            .GroupBy(w => w)
            .Select(g => $"{g.Key.User} [{g.Key.Start},{g.Key.Start + 2000}) {g.Count()} @{g.Key.Start + 1999} +I")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, one);
    }

    [Fact]
    public void Sessions_and_reduce_are_the_same_at_parallelism_1_and_4()
    {
        DataStream<string> Sessions(KeyedStream<Click, int> s) =>
            s.Window(EventTimeSessionWindows.WithGap(TimeSpan.FromMilliseconds(150))).Count().Map(Show);
        var one = RunJob(1, Sessions);
        Assert.Equal(one, RunJob(4, Sessions));
        Assert.Equal(Clicks.Length, one.Sum(r => long.Parse(r.Split(' ')[2])));

        DataStream<string> Latest(KeyedStream<Click, int> s) =>
            s.Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(5)))
                .Reduce((a, b) => a.Time >= b.Time ? a : b, (user, window, latest) => $"{user} {window.Start} {latest.Time}");
        Assert.Equal(RunJob(1, Latest), RunJob(4, Latest));
    }

    [Fact]
    public void Late_data_side_output_and_lateness_updates_in_a_job()
    {
        var env = StreamEnvironment.Create().SetParallelism(1);
        // Watermarks follow each source batch (bounded input): key 1 fills batches so that key 0's records arrive
        // in three batches, with the watermark (max − 1 s) at 4.999 s and then 10.999 s between them.
        static IEnumerable<(int Key, long Ts)> Batch(long fill, params long[] times) =>
            times.Select(t => (Key: 0, Ts: t)).Concat(Enumerable.Repeat((Key: 1, Ts: fill), Batch<int>.DefaultCapacity - times.Length));
        var input = Batch(6000, 1000, 2500, 6000, 4000).Concat(Batch(12000, 3000, 12000)).Append((Key: 0, Ts: 100L)).ToArray();
        var strategy = WatermarkStrategy<(int Key, long Ts)>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(1)).WithTimestampAssigner(e => e.Ts);
        var late = new OutputTag<(int Key, long Ts)>("late");
        var results = new CollectSink<string>();
        var dropped = new CollectSink<(int Key, long Ts)>();
        var counts = env.FromCollection(input, strategy).KeyBy(e => e.Key)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(5)))
            .AllowedLateness(TimeSpan.FromSeconds(2))
            .SideOutputLateData(late)
            .Count();
        counts.Filter(r => r.Key == 0).Map(r => $"{r.Window.Start}-{r.Window.End}:{r.Value}").SinkTo(results);
        counts.GetSideOutput(late).SinkTo(dropped);
        env.Execute("late");
        // 3 s is late but within the lateness of [0 s, 5 s); 0.1 s comes after that window is gone.
        Assert.Equal(["0-5000:3 @4999 +I", "0-5000:3 @4999 -U", "0-5000:4 @4999 +U", "5000-10000:1 @9999 +I", "10000-15000:1 @14999 +I"],
            results.Records.Select(r => $"{r.Value} @{r.Timestamp} {r.Kind.ShortString()}"));
        Assert.Equal([(0, 100L)], dropped.Values);
    }
}
