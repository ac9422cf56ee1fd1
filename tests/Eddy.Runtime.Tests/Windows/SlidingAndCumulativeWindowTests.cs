using Eddy.Windows;
using static Eddy.Tests.Windows.WindowTestKit;

namespace Eddy.Tests.Windows;

public class SlidingAndCumulativeWindowTests
{
    private static Eddy.Testing.OperatorHarness<(string Key, int Value), WindowResult<string, TimeWindow, long>> CountHarness<TW>(
        TW assigner, TimeSpan? lateness = null, OutputTag<(string Key, int Value)>? lateTag = null) where TW : WindowAssigner<TimeWindow> =>
        Harness<(string Key, int Value), WindowResult<string, TimeWindow, long>>(s =>
        {
            var windowed = s.KeyBy(e => e.Key).Window<TimeWindow>(assigner);
            if (lateness is { } l) windowed.AllowedLateness(l);
            if (lateTag is not null) windowed.SideOutputLateData(lateTag);
            return windowed.Count();
        });

    [Fact]
    public void Sliding_windows_count_each_element_in_every_window_that_covers_it()
    {
        var h = CountHarness(SlidingEventTimeWindows.Of(Ms(10), Ms(5)));
        h.Elements(Events(("a", 3), ("a", 7), ("b", 8), ("a", 12)));
        h.Watermark(9);
        Assert.Equal(["+I a [-5,5) 1 @4", "+I a [0,10) 2 @9", "+I b [0,10) 1 @9"], h.Output.Shown());
        h.Output.Clear();
        h.EndInput();
        Assert.Equal(["+I a [5,15) 2 @14", "+I b [5,15) 1 @14", "+I a [10,20) 1 @19"], h.Output.Shown());
        Assert.Equal(0, HeldState(h));
    }

    [Fact]
    public void Sliding_windows_out_of_order()
    {
        var h = CountHarness(SlidingEventTimeWindows.Of(Ms(10), Ms(5)));
        h.Elements(Events(("a", 12), ("a", 3), ("a", 7)));
        h.EndInput();
        Assert.Equal(["+I a [-5,5) 1 @4", "+I a [0,10) 2 @9", "+I a [5,15) 2 @14", "+I a [10,20) 1 @19"], h.Output.Shown());
    }

    [Fact]
    public void Sliding_windows_whose_size_is_not_a_multiple_of_the_slide()
    {
        var h = CountHarness(SlidingEventTimeWindows.Of(Ms(25), Ms(10)));
        h.Elements(Events(("a", 0), ("a", 7), ("a", 12)));
        h.EndInput();
        // Flink: windows start on the slide grid ([−20,5), [−10,15), [0,25), [10,35)).
        Assert.Equal(["+I a [-20,5) 1 @4", "+I a [-10,15) 3 @14", "+I a [0,25) 3 @24", "+I a [10,35) 1 @34"], h.Output.Shown());
    }

    [Fact]
    public void Sliding_windows_with_a_slide_larger_than_the_size_skip_the_gaps()
    {
        var h = CountHarness(SlidingEventTimeWindows.Of(Ms(5), Ms(10)));
        h.Elements(Events(("a", 3), ("a", 7), ("a", 12), ("a", 18)));
        h.EndInput();
        Assert.Equal(["+I a [0,5) 1 @4", "+I a [10,15) 1 @14"], h.Output.Shown());
        Assert.Equal(0, h.Metrics.LateRecordsDropped);
    }

    [Fact]
    public void Sliding_windows_with_offset_and_negative_timestamps()
    {
        var h = CountHarness(SlidingEventTimeWindows.Of(Ms(10), Ms(5), Ms(2)));
        h.Elements(Events(("a", -4), ("a", 1)));
        h.EndInput();
        Assert.Equal(["+I a [-13,-3) 1 @-4", "+I a [-8,2) 2 @1", "+I a [-3,7) 1 @6"], h.Output.Shown());
    }

    [Fact]
    public void Sliding_late_element_within_lateness_updates_every_fired_window_it_belongs_to()
    {
        var h = CountHarness(SlidingEventTimeWindows.Of(Ms(10), Ms(5)), lateness: Ms(10));
        h.Elements(Events(("a", 6), ("a", 8)));
        h.Watermark(14);
        Assert.Equal(["+I a [0,10) 2 @9", "+I a [5,15) 2 @14"], h.Output.Shown());
        h.Output.Clear();
        h.Elements(Events(("a", 7)));
        Assert.Equal(["-U a [0,10) 2 @9", "+U a [0,10) 3 @9", "-U a [5,15) 2 @14", "+U a [5,15) 3 @14"], h.Output.Shown());
        h.Output.Clear();
        // [0,10) is cleaned at 9 + 10 = 19; [5,15) stays until 24.
        h.Watermark(19);
        h.Elements(Events(("a", 9)));
        Assert.Equal(["-U a [5,15) 3 @14", "+U a [5,15) 4 @14"], h.Output.Shown());
        h.Output.Clear();
        h.Watermark(24);
        h.Elements(Events(("a", 9)));
        Assert.Empty(h.Output.Records);
        Assert.Equal(1, h.Metrics.LateRecordsDropped);
        Assert.Equal(15, h.Metrics.LastLateRecordLag);
        Assert.Equal(0, HeldState(h));
    }

    [Fact]
    public void Sliding_element_late_for_some_windows_only_counts_in_the_others()
    {
        var h = CountHarness(SlidingEventTimeWindows.Of(Ms(10), Ms(5)));
        h.Elements(Events(("a", 1)));
        h.Watermark(9);
        h.Output.Clear();
        h.Elements(Events(("a", 7)));
        Assert.Equal(0, h.Metrics.LateRecordsDropped);
        h.EndInput();
        Assert.Equal(["+I a [5,15) 1 @14"], h.Output.Shown());
    }

    [Fact]
    public void Sliding_late_beyond_lateness_goes_to_the_side_output()
    {
        var tag = new OutputTag<(string Key, int Value)>("late");
        var h = CountHarness(SlidingEventTimeWindows.Of(Ms(10), Ms(5)), lateTag: tag);
        h.Elements(Events(("a", 11)));
        h.Watermark(14);
        // 5 is late for [0,10) and [5,15), both fired; 10 is late for the watermark but [10,20) has not fired.
        h.Elements(Events(("a", 4), ("a", 5), ("a", 10)));
        Assert.Equal([4L, 5L], h.SideOutput(tag).Records.Select(r => r.Timestamp));
        Assert.Equal(2, h.Metrics.LateRecordsToSideOutput);
        h.EndInput();
        Assert.Equal(["+I a [5,15) 1 @14", "+I a [10,20) 2 @19"], h.Output.Shown());
    }

    [Fact]
    public void Cumulative_windows_grow_by_step_up_to_the_max_size()
    {
        var h = CountHarness(CumulativeEventTimeWindows.Of(Ms(30), Ms(10)));
        h.Elements(Events(("a", 5), ("a", 15), ("b", 25), ("a", 35)));
        h.Watermark(19);
        Assert.Equal(["+I a [0,10) 1 @9", "+I a [0,20) 2 @19"], h.Output.Shown());
        h.Output.Clear();
        h.EndInput();
        Assert.Equal(["+I a [0,30) 2 @29", "+I b [0,30) 1 @29", "+I a [30,40) 1 @39", "+I a [30,50) 1 @49", "+I a [30,60) 1 @59"],
            h.Output.Shown());
        Assert.Equal(0, HeldState(h));
    }

    [Fact]
    public void Cumulative_windows_out_of_order_with_offset_and_lateness()
    {
        var h = CountHarness(CumulativeEventTimeWindows.Of(Ms(30), Ms(10), Ms(5)), lateness: Ms(25));
        h.Elements(Events(("a", 14), ("a", 6)));
        h.Watermark(24);
        Assert.Equal(["+I a [5,15) 2 @14", "+I a [5,25) 2 @24"], h.Output.Shown());
        h.Output.Clear();
        h.Elements(Events(("a", 20)));
        Assert.Equal(["-U a [5,25) 2 @24", "+U a [5,25) 3 @24"], h.Output.Shown());
        h.Output.Clear();
        h.Elements(Events(("a", 3)));
        Assert.Equal(["+I a [-25,5) 1 @4"], h.Output.Shown());
        h.Output.Clear();
        h.EndInput();
        Assert.Equal(["+I a [5,35) 3 @34"], h.Output.Shown());
    }

    [Fact]
    public void Cumulative_process_sees_every_element_of_the_growing_window()
    {
        var h = Harness<(string Key, int Value), string>(s => s.KeyBy(e => e.Key)
            .Window(CumulativeEventTimeWindows.Of(Ms(30), Ms(10)))
            .Process<string>((key, window, elements, output) =>
                output.Collect($"{key} [{window.Start},{window.End}) {string.Join(",", elements.Select(e => e.Value))}")));
        h.Elements([(("a", 1), 1L), (("b", 2), 12L), (("a", 3), 15L), (("a", 4), 27L), (("a", 5), 31L)]);
        h.EndInput();
        Assert.Equal(["a [0,10) 1", "a [0,20) 1,3", "b [0,20) 2", "a [0,30) 1,3,4", "b [0,30) 2", "a [30,40) 5", "a [30,50) 5", "a [30,60) 5"],
            h.Output.Values);
    }

    [Fact]
    public void Cumulative_max_size_must_be_a_multiple_of_the_step() =>
        Assert.Throws<ArgumentException>(() => CumulativeEventTimeWindows.Of(Ms(25), Ms(10)));
}
