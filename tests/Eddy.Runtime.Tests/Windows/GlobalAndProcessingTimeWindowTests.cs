using Eddy.Windows;
using static Eddy.Tests.Windows.WindowTestKit;

namespace Eddy.Tests.Windows;

public class GlobalAndProcessingTimeWindowTests
{
    [Fact]
    public void Count_trigger_fires_and_purges_every_n_elements_per_key()
    {
        var h = Harness<(string Key, int Value), WindowResult<string, GlobalWindow, int>>(s =>
            s.KeyBy(e => e.Key).Window(GlobalWindows.Create()).Trigger(CountTrigger.Of(3)).Sum(e => e.Value));
        h.Elements(Enumerable.Range(1, 7).Select(i => (("a", i), (long)i)).Concat([(("b", 100), 1L), (("b", 200), 2L)]));
        h.EndInput();
        Assert.Equal([("a", 6), ("a", 15)], h.Output.Values.Select(r => (r.Key, r.Value)));
        Assert.All(h.Output.Records, r => Assert.Equal(long.MaxValue, r.Timestamp));
        Assert.Equal(2, HeldState(h));
    }

    [Fact]
    public void Count_window_is_shorthand_for_a_global_window_with_a_count_trigger()
    {
        var h = Harness<(string Key, int Value), WindowResult<string, GlobalWindow, long>>(s =>
            s.KeyBy(e => e.Key).CountWindow(2).Count());
        h.Elements(Events(("a", 1), ("b", 1), ("a", 2), ("a", 3), ("b", 4)));
        Assert.Equal(["a", "b"], h.Output.Values.Select(r => r.Key));
    }

    [Fact]
    public void Global_windows_without_a_trigger_are_rejected() =>
        Assert.Throws<InvalidOperationException>(() =>
            Harness<(string Key, int Value), WindowResult<string, GlobalWindow, long>>(s =>
                s.KeyBy(e => e.Key).Window(GlobalWindows.Create()).Count()));

    [Fact]
    public void Time_windows_take_no_trigger() =>
        Assert.Throws<NotSupportedException>(() => StreamEnvironment.Create().FromCollection(new[] { 1 })
            .KeyBy(x => x).Window(TumblingEventTimeWindows.Of(Ms(1))).Trigger(CountTrigger.Of(1)));

    [Fact]
    public void Processing_time_tumbling_windows_fire_on_the_clock()
    {
        var h = Harness<(string Key, int Value), WindowResult<string, TimeWindow, long>>(s =>
            s.KeyBy(e => e.Key).Window(TumblingProcessingTimeWindows.Of(Ms(10))).Count(), startProcessingTime: 3);
        // Event timestamps do not matter in processing time.
        h.Elements(Events(("a", 500), ("b", -7), ("a", 1)));
        h.Watermark(1000);
        Assert.Empty(h.Output.Records);
        h.AdvanceProcessingTime(Ms(5));
        Assert.Empty(h.Output.Records);
        h.AdvanceProcessingTime(Ms(1));
        Assert.Equal(["+I a [0,10) 2 @9", "+I b [0,10) 1 @9"], h.Output.Shown());
        h.Output.Clear();
        h.AdvanceProcessingTime(Ms(20));
        h.Elements(Events(("a", 0)));
        h.AdvanceProcessingTime(Ms(100));
        Assert.Equal(["+I a [20,30) 1 @29"], h.Output.Shown());
        Assert.Equal(0, HeldState(h));
    }

    [Fact]
    public void Processing_time_sliding_windows_fire_every_slide()
    {
        var h = Harness<(string Key, int Value), WindowResult<string, TimeWindow, long>>(s =>
            s.KeyBy(e => e.Key).Window(SlidingProcessingTimeWindows.Of(Ms(10), Ms(5))).Count());
        h.SetProcessingTime(2);
        h.Elements(Events(("a", 0)));
        h.SetProcessingTime(7);
        h.Elements(Events(("a", 0)));
        h.SetProcessingTime(8);
        Assert.Equal(["+I a [-5,5) 1 @4"], h.Output.Shown());
        h.SetProcessingTime(100);
        Assert.Equal(["+I a [-5,5) 1 @4", "+I a [0,10) 2 @9", "+I a [5,15) 1 @14"], h.Output.Shown());
    }

    [Fact]
    public void Processing_time_windows_take_no_lateness() =>
        Assert.Throws<NotSupportedException>(() => StreamEnvironment.Create().FromCollection(new[] { 1 })
            .KeyBy(x => x).Window(TumblingProcessingTimeWindows.Of(Ms(1))).AllowedLateness(Ms(1)));
}
