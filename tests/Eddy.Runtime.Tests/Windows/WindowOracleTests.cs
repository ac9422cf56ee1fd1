using Eddy.Runtime;
using Eddy.Windows;
using static Eddy.Tests.Windows.WindowTestKit;

namespace Eddy.Tests.Windows;

/// <summary>
/// Randomised out-of-order input against an oracle computed here from Flink's definitions: which windows an element
/// belongs to, and that an element counts in a window when it arrives while the watermark is below the window's
/// max timestamp plus the allowed lateness.
/// </summary>
public class WindowOracleTests
{
    public readonly record struct Ev(int Key, long Ts, int Id);

    private static long Mod(long a, long m) => ((a % m) + m) % m;

    private static IEnumerable<(long Start, long End)> Tumbling(long ts, long size, long offset)
    {
        long start = ts - Mod(ts - offset, size);
        yield return (start, start + size);
    }

    private static IEnumerable<(long Start, long End)> Sliding(long ts, long size, long slide, long offset)
    {
        for (long start = ts - Mod(ts - offset, slide); start > ts - size; start -= slide) yield return (start, start + size);
    }

    private static IEnumerable<(long Start, long End)> Cumulative(long ts, long maxSize, long step, long offset)
    {
        long group = ts - Mod(ts - offset, maxSize);
        for (long end = group + step; end <= group + maxSize; end += step)
            if (end > ts) yield return (group, end);
    }

    /// <summary>Events with disorder, some far behind, and the watermark each saw on arrival (batches of random size).</summary>
    private static (List<(Ev Event, long WatermarkOnArrival)> Arrivals, List<List<Ev>> Batches) Generate(int seed, int n, int keys, long spacing, int jitter, int bound)
    {
        var rnd = new Random(seed);
        var events = new List<Ev>();
        for (int i = 0; i < n; i++)
        {
            long ts = i * spacing - 5_000 + rnd.Next(-jitter, jitter + 1);
            if (rnd.Next(20) == 0) ts -= rnd.Next(0, 400);
            events.Add(new Ev(rnd.Next(keys), ts, i));
        }
        var arrivals = new List<(Ev, long)>();
        var batches = new List<List<Ev>>();
        long watermark = long.MinValue;
        long max = long.MinValue;
        for (int i = 0; i < events.Count;)
        {
            int size = rnd.Next(1, 40);
            var batch = events.Skip(i).Take(size).ToList();
            foreach (var e in batch)
            {
                arrivals.Add((e, watermark));
                max = Math.Max(max, e.Ts);
            }
            batches.Add(batch);
            watermark = Math.Max(watermark, max - bound - 1);
            i += size;
        }
        return (arrivals, batches);
    }

    private static List<string> Run(WindowAssigner<TimeWindow> assigner, long lateness, List<List<Ev>> batches, out long dropped)
    {
        var h = Harness<Ev, WindowResult<int, TimeWindow, long>>(s =>
        {
            var w = s.KeyBy(e => e.Key).Window(assigner);
            if (lateness > 0) w.AllowedLateness(Ms(lateness));
            return w.Count();
        });
        long max = long.MinValue;
        foreach (var batch in batches)
        {
            h.Elements(batch.Select(e => (e, e.Ts)));
            max = Math.Max(max, batch.Max(e => e.Ts));
            h.Watermark(max - 50 - 1);
        }
        h.EndInput();
        dropped = h.Metrics.LateRecordsDropped;
        Assert.Equal(0, HeldState(h));
        // Apply the changelog: every retraction must remove a result emitted before.
        var results = new List<string>();
        foreach (var r in h.Output.Records)
        {
            Assert.Equal(r.Value.Window.End - 1, r.Timestamp);
            string s = $"{r.Value.Key} [{r.Value.Window.Start},{r.Value.Window.End}) {r.Value.Value}";
            if (r.Kind == RowKind.UpdateBefore) Assert.True(results.Remove(s), $"retraction of {s} that was not emitted");
            else results.Add(s);
        }
        if (lateness == 0) Assert.All(h.Output.Records, r => Assert.Equal(RowKind.Insert, r.Kind));
        return results.Order(StringComparer.Ordinal).ToList();
    }

    private static List<string> Oracle(List<(Ev Event, long WatermarkOnArrival)> arrivals, Func<long, IEnumerable<(long Start, long End)>> windowsOf,
        long lateness, out long dropped)
    {
        var counts = new Dictionary<(int Key, long Start, long End), long>();
        dropped = 0;
        foreach (var (e, w) in arrivals)
        {
            bool kept = false;
            foreach (var (start, end) in windowsOf(e.Ts))
            {
                if (end - 1 + lateness <= w) continue;
                kept = true;
                counts[(e.Key, start, end)] = counts.GetValueOrDefault((e.Key, start, end)) + 1;
            }
            // Flink counts an element that no window takes as late only when it is behind the watermark by more
            // than the lateness (which is always the case when it has windows, all of them late).
            if (!kept && e.Ts + lateness <= w) dropped++;
        }
        return counts.Select(kv => $"{kv.Key.Key} [{kv.Key.Start},{kv.Key.End}) {kv.Value}").Order(StringComparer.Ordinal).ToList();
    }

    public static TheoryData<int, long> Seeds => new() { { 1, 0 }, { 2, 0 }, { 3, 120 }, { 4, 500 } };

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Tumbling_matches_the_oracle(int seed, long lateness)
    {
        var (arrivals, batches) = Generate(seed, 3000, 7, 7, 40, 50);
        var actual = Run(TumblingEventTimeWindows.Of(Ms(100), Ms(-30)), lateness, batches, out long dropped);
        Assert.Equal(Oracle(arrivals, ts => Tumbling(ts, 100, -30), lateness, out long expectedDropped), actual);
        Assert.Equal(expectedDropped, dropped);
        if (lateness == 0) Assert.True(dropped > 0);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Sliding_matches_the_oracle(int seed, long lateness)
    {
        var (arrivals, batches) = Generate(seed, 3000, 7, 7, 40, 50);
        var actual = Run(SlidingEventTimeWindows.Of(Ms(250), Ms(100), Ms(20)), lateness, batches, out long dropped);
        Assert.Equal(Oracle(arrivals, ts => Sliding(ts, 250, 100, 20), lateness, out long expectedDropped), actual);
        Assert.Equal(expectedDropped, dropped);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Sliding_with_gaps_between_windows_matches_the_oracle(int seed, long lateness)
    {
        var (arrivals, batches) = Generate(seed, 3000, 7, 7, 40, 50);
        var actual = Run(SlidingEventTimeWindows.Of(Ms(60), Ms(150), Ms(-70)), lateness, batches, out long dropped);
        Assert.Equal(Oracle(arrivals, ts => Sliding(ts, 60, 150, -70), lateness, out long expectedDropped), actual);
        Assert.Equal(expectedDropped, dropped);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Cumulative_matches_the_oracle(int seed, long lateness)
    {
        var (arrivals, batches) = Generate(seed, 3000, 7, 7, 40, 50);
        var actual = Run(CumulativeEventTimeWindows.Of(Ms(300), Ms(60), Ms(10)), lateness, batches, out long dropped);
        Assert.Equal(Oracle(arrivals, ts => Cumulative(ts, 300, 60, 10), lateness, out long expectedDropped), actual);
        Assert.Equal(expectedDropped, dropped);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Cumulative_with_many_steps_matches_the_oracle(int seed, long lateness)
    {
        var (arrivals, batches) = Generate(seed, 3000, 7, 7, 40, 50);
        var actual = Run(CumulativeEventTimeWindows.Of(Ms(600), Ms(20)), lateness, batches, out long dropped);
        Assert.Equal(Oracle(arrivals, ts => Cumulative(ts, 600, 20, 0), lateness, out long expectedDropped), actual);
        Assert.Equal(expectedDropped, dropped);
    }

    /// <summary>Sessions are the connected components of overlapping-or-touching [t, t + gap) intervals per key.</summary>
    private static List<string> SessionOracle(IEnumerable<Ev> events, Func<Ev, long> gapOf)
    {
        var results = new List<string>();
        foreach (var g in events.GroupBy(e => e.Key))
        {
            long start = 0, end = long.MinValue, count = 0;
            foreach (var e in g.OrderBy(e => e.Ts))
            {
                if (count > 0 && e.Ts > end)
                {
                    results.Add($"{g.Key} [{start},{end}) {count}");
                    count = 0;
                }
                if (count == 0)
                {
                    start = e.Ts;
                    end = e.Ts + gapOf(e);
                }
                else end = Math.Max(end, e.Ts + gapOf(e));
                count++;
            }
            results.Add($"{g.Key} [{start},{end}) {count}");
        }
        return results.Order(StringComparer.Ordinal).ToList();
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, false)]
    [InlineData(3, true)]
    [InlineData(4, true)]
    public void Sessions_match_the_oracle(int seed, bool dynamicGap)
    {
        var rnd = new Random(seed);
        // Bursts separated by pauses, disorder within the watermark bound: nothing is late.
        var events = new List<Ev>();
        long t = 0;
        for (int i = 0; i < 4000; i++)
        {
            t += rnd.Next(10) == 0 ? rnd.Next(20, 120) : rnd.Next(0, 8);
            events.Add(new Ev(rnd.Next(5), t + rnd.Next(-40, 41), i));
        }
        Func<Ev, long> gapOf = dynamicGap ? e => 10 + e.Id % 30 : _ => 25;
        var h = Harness<Ev, WindowResult<int, TimeWindow, long>>(s => s.KeyBy(e => e.Key)
            .Window(dynamicGap ? EventTimeSessionWindows.WithDynamicGap((Ev e) => Ms(gapOf(e))) : (SessionWindowAssigner)EventTimeSessionWindows.WithGap(Ms(25)))
            .Count());
        long max = long.MinValue;
        foreach (var batch in events.Chunk(17))
        {
            h.Elements(batch.Select(e => (e, e.Ts)));
            max = Math.Max(max, batch.Max(e => e.Ts));
            h.Watermark(max - 81);
        }
        h.EndInput();
        Assert.Equal(0, h.Metrics.LateRecordsDropped);
        Assert.Equal(0, HeldState(h));
        var actual = h.Output.Records.Select(r => $"{r.Value.Key} [{r.Value.Window.Start},{r.Value.Window.End}) {r.Value.Value}")
            .Order(StringComparer.Ordinal).ToList();
        Assert.Equal(SessionOracle(events, gapOf), actual);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void Sessions_with_late_data_and_lateness_converge_to_the_oracle(int seed)
    {
        // With a lateness longer than any delay, nothing is dropped: after the changelog is applied, the sessions are
        // those of all the data, however late each element came.
        var rnd = new Random(seed);
        var events = Enumerable.Range(0, 2000).Select(i => new Ev(rnd.Next(4), i * 5L + rnd.Next(-300, 300), i)).ToList();
        var h = Harness<Ev, WindowResult<int, TimeWindow, long>>(s => s.KeyBy(e => e.Key)
            .Window(EventTimeSessionWindows.WithGap(Ms(12))).AllowedLateness(Ms(1000)).Count());
        long max = long.MinValue;
        foreach (var batch in events.Chunk(9))
        {
            h.Elements(batch.Select(e => (e, e.Ts)));
            max = Math.Max(max, batch.Max(e => e.Ts));
            h.Watermark(max - 20);
        }
        h.EndInput();
        Assert.Equal(0, h.Metrics.LateRecordsDropped);
        var results = new List<string>();
        foreach (var r in h.Output.Records)
        {
            Assert.Equal(r.Value.Window.End - 1, r.Timestamp);
            string s = $"{r.Value.Key} [{r.Value.Window.Start},{r.Value.Window.End}) {r.Value.Value}";
            if (r.Kind == RowKind.UpdateBefore) Assert.True(results.Remove(s), $"retraction of {s} that was not emitted");
            else results.Add(s);
        }
        Assert.Contains(h.Output.Records, r => r.Kind == RowKind.UpdateBefore);
        Assert.Equal(SessionOracle(events, _ => 12), results.Order(StringComparer.Ordinal).ToList());
    }
}
