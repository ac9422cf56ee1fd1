using Eddy.Windows;
using static Eddy.Tests.Windows.WindowTestKit;

namespace Eddy.Tests.Windows;

public class SessionWindowTests
{
    private static Eddy.Testing.OperatorHarness<(string Key, int Value), WindowResult<string, TimeWindow, long>> SessionHarness(
        SessionWindowAssigner assigner, TimeSpan? lateness = null, OutputTag<(string Key, int Value)>? lateTag = null) =>
        Harness<(string Key, int Value), WindowResult<string, TimeWindow, long>>(s =>
        {
            var windowed = s.KeyBy(e => e.Key).Window<TimeWindow>(assigner);
            if (lateness is { } l) windowed.AllowedLateness(l);
            if (lateTag is not null) windowed.SideOutputLateData(lateTag);
            return windowed.Count();
        });

    [Fact]
    public void In_order_sessions_close_after_the_gap()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithGap(Ms(10)));
        h.Elements(Events(("a", 0), ("a", 5), ("b", 6), ("a", 25)));
        h.Watermark(14);
        Assert.Equal(["+I a [0,15) 2 @14"], h.Output.Shown());
        h.Output.Clear();
        h.Watermark(15);
        Assert.Equal(["+I b [6,16) 1 @15"], h.Output.Shown());
        h.Output.Clear();
        h.EndInput();
        Assert.Equal(["+I a [25,35) 1 @34"], h.Output.Shown());
        Assert.Equal(0, HeldState(h));
    }

    [Fact]
    public void Sessions_that_touch_at_the_gap_boundary_merge()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithGap(Ms(10)));
        // [0,10) and [10,20) touch: one session. [31,41) is 1 ms away from [20,30)... [21,31) would touch it.
        h.Elements(Events(("a", 0), ("a", 10), ("a", 31), ("b", 0), ("b", 11)));
        h.EndInput();
        Assert.Equal(["+I a [0,20) 2 @19", "+I a [31,41) 1 @40", "+I b [0,10) 1 @9", "+I b [11,21) 1 @20"], h.Output.ShownSorted());
    }

    [Fact]
    public void Out_of_order_element_bridges_two_sessions()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithGap(Ms(10)));
        h.Elements(Events(("a", 0), ("a", 18)));
        h.Elements(Events(("a", 9)));
        h.Watermark(27);
        Assert.Equal(["+I a [0,28) 3 @27"], h.Output.Shown());
        Assert.Equal(0, HeldState(h));
    }

    [Fact]
    public void Dynamic_gap_comes_from_each_element()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithDynamicGap(((string Key, int Value) e) => Ms(e.Value)));
        h.Elements([(("a", 5), 0L), (("a", 20), 5L), (("a", 1), 30L), (("b", 3), 0L), (("b", 3), 4L)]);
        h.EndInput();
        // a: [0,5) ∪ [5,25) touch → [0,25); [30,31) alone. b: [0,3) and [4,7) do not touch.
        Assert.Equal(["+I a [0,25) 2 @24", "+I a [30,31) 1 @30", "+I b [0,3) 1 @2", "+I b [4,7) 1 @6"], h.Output.ShownSorted());
    }

    [Fact]
    public void Dynamic_gap_must_be_positive()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithDynamicGap(((string Key, int Value) e) => Ms(e.Value)));
        Assert.Throws<InvalidOperationException>(() => h.Element(("a", 0), 1));
    }

    [Fact]
    public void Dynamic_gap_of_another_type_is_rejected_when_the_job_is_built() =>
        Assert.Throws<ArgumentException>(() => SessionHarness(EventTimeSessionWindows.WithDynamicGap((int e) => Ms(e))));

    [Fact]
    public void Late_element_within_lateness_extends_a_fired_session_with_a_retraction()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithGap(Ms(10)), lateness: Ms(20));
        h.Elements(Events(("a", 0), ("a", 4)));
        h.Watermark(20);
        Assert.Equal(["+I a [0,14) 2 @13"], h.Output.Shown());
        h.Output.Clear();
        // Merges into the fired session; the merged window [0,17) is complete by the watermark: it fires at once.
        h.Elements(Events(("a", 7)));
        Assert.Equal(["-U a [0,14) 2 @13", "+U a [0,17) 3 @16"], h.Output.Shown());
        h.Output.Clear();
        // Merges and extends the session past the watermark: it fires again when the watermark gets there.
        h.Elements(Events(("a", 15)));
        Assert.Empty(h.Output.Records);
        h.Watermark(24);
        Assert.Equal(["-U a [0,17) 3 @16", "+U a [0,25) 4 @24"], h.Output.Shown());
        h.Output.Clear();
        h.Watermark(44);
        Assert.Equal(0, HeldState(h));
        h.Elements(Events(("a", 10)));
        Assert.Equal(1, h.Metrics.LateRecordsDropped);
        Assert.Equal(34, h.Metrics.LastLateRecordLag);
    }

    [Fact]
    public void Late_element_merging_two_fired_sessions_retracts_both()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithGap(Ms(10)), lateness: Ms(100));
        h.Elements(Events(("a", 0), ("a", 15)));
        h.Watermark(30);
        Assert.Equal(["+I a [0,10) 1 @9", "+I a [15,25) 1 @24"], h.Output.Shown());
        h.Output.Clear();
        h.Elements(Events(("a", 8)));
        Assert.Equal(["-U a [0,10) 1 @9", "-U a [15,25) 1 @24", "+U a [0,25) 3 @24"], h.Output.Shown());
    }

    [Fact]
    public void Late_element_opening_a_new_session_within_lateness_fires_as_an_insert()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithGap(Ms(10)), lateness: Ms(100));
        h.Elements(Events(("a", 50)));
        h.Watermark(70);
        h.Output.Clear();
        h.Elements(Events(("a", 5), ("b", 6)));
        Assert.Equal(["+I a [5,15) 1 @14", "+I b [6,16) 1 @15"], h.Output.Shown());
    }

    [Fact]
    public void Late_element_beyond_lateness_is_dropped_or_sent_to_the_side_output()
    {
        var h = SessionHarness(EventTimeSessionWindows.WithGap(Ms(10)));
        h.Elements(Events(("a", 0)));
        h.Watermark(9);
        // [1,11) is not complete at the watermark, so it is kept; b's [-1,9) is complete and past lateness.
        h.Elements(Events(("a", 1), ("b", -1)));
        Assert.Equal(1, h.Metrics.LateRecordsDropped);
        Assert.Equal(10, h.Metrics.LastLateRecordLag);
        h.EndInput();
        Assert.Equal(["+I a [0,10) 1 @9", "+I a [1,11) 1 @10"], h.Output.Shown());

        var tag = new OutputTag<(string Key, int Value)>("late");
        var s = SessionHarness(EventTimeSessionWindows.WithGap(Ms(10)), lateTag: tag);
        s.Watermark(100);
        // [90,100) is complete at watermark 100 and has nothing to merge with; [92,102) is not complete.
        s.Elements(Events(("a", 90), ("a", 92)));
        Assert.Equal([90L], s.SideOutput(tag).Records.Select(r => r.Timestamp));
        Assert.Equal(1, s.Metrics.LateRecordsToSideOutput);
        s.EndInput();
        Assert.Equal(["+I a [92,102) 1 @101"], s.Output.Shown());
    }

    [Fact]
    public void Process_sees_the_elements_of_merged_sessions()
    {
        var h = Harness<(string Key, int Value), string>(s => s.KeyBy(e => e.Key)
            .Window(EventTimeSessionWindows.WithGap(Ms(10)))
            .Process<string>((key, window, elements, output) =>
                output.Collect($"{key} {window.Start}-{window.End}: {string.Join(",", elements.Select(e => e.Value).Order())}")));
        h.Elements([(("a", 1), 0L), (("a", 2), 30L), (("a", 3), 15L), (("a", 4), 8L)]);
        h.EndInput();
        // 8 bridges [0,10) and [15,25); [30,40) stays apart from [0,25).
        Assert.Equal(["a 0-25: 1,3,4", "a 30-40: 2"], h.Output.Values);
        Assert.Equal([24L, 39L], h.Output.Records.Select(r => r.Timestamp));
    }
}
