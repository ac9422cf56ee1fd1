using Eddy.Windows;
using static Eddy.Tests.Windows.WindowTestKit;

namespace Eddy.Tests.Windows;

public class TumblingWindowTests
{
    private static Eddy.Testing.OperatorHarness<(string Key, int Value), WindowResult<string, TimeWindow, long>> CountHarness(
        TimeSpan size, TimeSpan? offset = null, TimeSpan? lateness = null, OutputTag<(string Key, int Value)>? lateTag = null) =>
        Harness<(string Key, int Value), WindowResult<string, TimeWindow, long>>(s =>
        {
            var windowed = s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(size, offset ?? TimeSpan.Zero));
            if (lateness is { } l) windowed.AllowedLateness(l);
            if (lateTag is not null) windowed.SideOutputLateData(lateTag);
            return windowed.Count();
        });

    [Fact]
    public void In_order_input_fires_each_window_when_the_watermark_reaches_its_end()
    {
        var h = CountHarness(Ms(10));
        h.Elements(Events(("a", 1), ("a", 5), ("b", 7)));
        h.Watermark(8);
        Assert.Empty(h.Output.Records);
        h.Elements(Events(("a", 12)));
        h.Watermark(9);
        Assert.Equal(["+I a [0,10) 2 @9", "+I b [0,10) 1 @9"], h.Output.Shown());
        h.Output.Clear();
        h.Watermark(19);
        Assert.Equal(["+I a [10,20) 1 @19"], h.Output.Shown());
        Assert.Equal(0, HeldState(h));
    }

    [Fact]
    public void Out_of_order_input_within_the_watermark_is_counted_in_its_window()
    {
        var h = CountHarness(Ms(10));
        h.Elements(Events(("a", 12), ("a", 3), ("b", 15), ("a", 9), ("b", 0)));
        h.Watermark(9);
        Assert.Equal(["+I a [0,10) 2 @9", "+I b [0,10) 1 @9"], h.Output.ShownSorted());
        h.Output.Clear();
        h.EndInput();
        Assert.Equal(["+I a [10,20) 1 @19", "+I b [10,20) 1 @19"], h.Output.ShownSorted());
        Assert.True(h.Output.Ended);
    }

    [Fact]
    public void Late_element_within_lateness_retracts_and_corrects_the_result()
    {
        var h = CountHarness(Ms(10), lateness: Ms(5));
        h.Elements(Events(("a", 1), ("a", 2), ("b", 3)));
        h.Watermark(9);
        Assert.Equal(["+I a [0,10) 2 @9", "+I b [0,10) 1 @9"], h.Output.Shown());
        h.Output.Clear();

        h.Elements(Events(("a", 4)));
        Assert.Equal(["-U a [0,10) 2 @9", "+U a [0,10) 3 @9"], h.Output.Shown());
        h.Output.Clear();

        h.Watermark(13);
        h.Elements(Events(("a", 0)));
        Assert.Equal(["-U a [0,10) 3 @9", "+U a [0,10) 4 @9"], h.Output.Shown());
        h.Output.Clear();

        // 9 + 5 = 14: the window's state is gone; the next late element is dropped.
        h.Watermark(14);
        h.Elements(Events(("a", 6)));
        Assert.Empty(h.Output.Records);
        Assert.Equal(1, h.Metrics.LateRecordsDropped);
        Assert.Equal(8, h.Metrics.LastLateRecordLag);
        Assert.Equal(0, HeldState(h));
    }

    [Fact]
    public void Late_element_for_a_window_that_fired_empty_is_emitted_as_an_insert()
    {
        var h = CountHarness(Ms(10), lateness: Ms(100));
        h.Elements(Events(("a", 25)));
        h.Watermark(30);
        Assert.Equal(["+I a [20,30) 1 @29"], h.Output.Shown());
        h.Output.Clear();
        h.Elements(Events(("a", 5)));
        Assert.Equal(["+I a [0,10) 1 @9"], h.Output.Shown());
    }

    [Fact]
    public void Late_element_beyond_lateness_is_dropped_and_counted()
    {
        var h = CountHarness(Ms(10));
        h.Elements(Events(("a", 1)));
        h.Watermark(9);
        h.Output.Clear();
        h.Elements(Events(("a", 2), ("a", 9), ("a", 10)));
        Assert.Equal(2, h.Metrics.LateRecordsDropped);
        Assert.Equal(0, h.Metrics.LateRecordsToSideOutput);
        Assert.Equal(0, h.Metrics.LastLateRecordLag);
        h.EndInput();
        Assert.Equal(["+I a [10,20) 1 @19"], h.Output.Shown());
    }

    [Fact]
    public void Late_element_beyond_lateness_goes_to_the_side_output_when_asked()
    {
        var tag = new OutputTag<(string Key, int Value)>("late");
        var h = CountHarness(Ms(10), lateness: Ms(5), lateTag: tag);
        h.Elements(Events(("a", 1)));
        h.Watermark(20);
        h.Elements([(("a", 7), 3L), (("b", 8), 11L)]);
        var late = h.SideOutput(tag).Records;
        Assert.Equal([(("a", 7), 3L)], late.Select(r => (r.Value, r.Timestamp)));
        Assert.Equal(1, h.Metrics.LateRecordsToSideOutput);
        Assert.Equal(0, h.Metrics.LateRecordsDropped);
        Assert.Equal(17, h.Metrics.LastLateRecordLag);
        // 11 is late for the watermark but its window [10,20) is within lateness: it fires as a first result.
        Assert.Equal(["+I a [0,10) 1 @9", "+I b [10,20) 1 @19"], h.Output.Shown());
    }

    [Fact]
    public void Offset_shifts_the_window_grid()
    {
        var h = CountHarness(Ms(100), offset: Ms(30));
        h.Elements(Events(("a", 25), ("a", 29), ("a", 30), ("a", 129), ("a", 130)));
        h.EndInput();
        Assert.Equal(["+I a [-70,30) 2 @29", "+I a [30,130) 2 @129", "+I a [130,230) 1 @229"], h.Output.Shown());
    }

    [Fact]
    public void Negative_timestamps_fall_in_windows_that_start_below_them()
    {
        var h = CountHarness(Ms(10));
        h.Elements(Events(("a", -1), ("a", -10), ("a", -11), ("a", 0), ("a", -25)));
        h.EndInput();
        Assert.Equal(["+I a [-30,-20) 1 @-21", "+I a [-20,-10) 1 @-11", "+I a [-10,0) 2 @-1", "+I a [0,10) 1 @9"], h.Output.Shown());
    }

    [Theory]
    [InlineData(-1, 0, 10, -10)]
    [InlineData(-10, 0, 10, -10)]
    [InlineData(-11, 0, 10, -20)]
    [InlineData(0, 0, 10, 0)]
    [InlineData(9, 0, 10, 0)]
    [InlineData(-15, 3, 10, -17)]
    [InlineData(2, 3, 10, -7)]
    [InlineData(3, 3, 10, 3)]
    [InlineData(1, -3, 10, -3)]
    [InlineData(-4, -3, 10, -13)]
    public void Window_start_matches_flink(long timestamp, long offset, long size, long start) =>
        Assert.Equal(start, TimeWindow.GetWindowStartWithOffset(timestamp, offset, size));

    [Fact]
    public void Windows_far_apart_fire_without_walking_the_gap()
    {
        var h = CountHarness(Ms(10));
        h.Elements(Events(("a", -4_000_000_000_000), ("a", 4_000_000_000_000)));
        h.EndInput();
        Assert.Equal(2, h.Output.Records.Count);
    }

    [Fact]
    public void Reduce_aggregate_and_process_give_the_same_answers()
    {
        var input = Events(("a", 1), ("b", 2), ("a", 3), ("a", 14)).Select(e => ((e.Item1.Key, (int)e.Item2), e.Item2)).ToList();

        var reduce = Harness<(string Key, int Value), (string Key, int Value)>(s =>
            s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(Ms(10))).Reduce((x, y) => (x.Key, x.Value + y.Value)));
        reduce.Elements(input).EndInput();
        Assert.Equal([("a", 4), ("b", 2), ("a", 14)], reduce.Output.Values);
        Assert.Equal([9L, 9L, 19L], reduce.Output.Records.Select(r => r.Timestamp));

        var aggregate = Harness<(string Key, int Value), string>(s =>
            s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(Ms(10)))
                .Aggregate(new AverageAggregate<(string Key, int Value), int>(e => e.Value), (key, window, avg) => $"{key}{window.Start}:{avg}"));
        aggregate.Elements(input).EndInput();
        Assert.Equal(["a0:2", "b0:2", "a10:14"], aggregate.Output.Values);

        var process = Harness<(string Key, int Value), string>(s =>
            s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(Ms(10)))
                .Process<string>((key, window, elements, output) =>
                {
                    foreach (var e in elements) output.Collect($"{key}{window.Start}:{e.Value}");
                }));
        process.Elements(input).EndInput();
        Assert.Equal(["a0:1", "a0:3", "b0:2", "a10:14"], process.Output.Values);
    }

    private sealed class Describe : ProcessWindowFunction<long, string, string, TimeWindow>
    {
        public override void Process(string key, TimeWindow window, IReadOnlyList<long> elements, Eddy.Runtime.Collector<string> output) =>
            output.Collect($"{key} {window} {string.Join(",", elements)}");
    }

    [Fact]
    public void Aggregate_with_a_process_window_function_sees_the_result_only()
    {
        var h = Harness<(string Key, int Value), string>(s => s.KeyBy(e => e.Key)
            .Window(TumblingEventTimeWindows.Of(Ms(10)))
            .Aggregate(new CountAggregate<(string Key, int Value)>(), () => new Describe()));
        h.Elements(Events(("a", 1), ("a", 2), ("b", 3))).EndInput();
        Assert.Equal(["a [1970-01-01 00:00:00.000, 1970-01-01 00:00:00.010) 2", "b [1970-01-01 00:00:00.000, 1970-01-01 00:00:00.010) 1"],
            h.Output.Values);
    }

    [Fact]
    public void Built_in_aggregates_compute_sum_min_max_and_average()
    {
        var input = new (string, int)[] { ("a", 5), ("a", -2), ("a", 9), ("b", 4) }.Select((e, i) => (e, (long)i)).ToList();
        string Run<TValue>(Func<WindowedStream<(string Key, int Value), string, TimeWindow>, DataStream<WindowResult<string, TimeWindow, TValue>>> f)
        {
            var h = Harness<(string Key, int Value), WindowResult<string, TimeWindow, TValue>>(s =>
                f(s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(Ms(10)))));
            h.Elements(input).EndInput();
            return string.Join(",", h.Output.Values.Select(r => $"{r.Key}={r.Value}"));
        }
        Assert.Equal("a=12,b=4", Run(w => w.Sum(e => e.Value)));
        Assert.Equal("a=-2,b=4", Run(w => w.Min(e => e.Value)));
        Assert.Equal("a=9,b=4", Run(w => w.Max(e => e.Value)));
        Assert.Equal("a=4,b=4", Run(w => w.Average(e => e.Value)));
        Assert.Equal("a=3,b=1", Run(w => w.Count()));
    }

    [Fact]
    public void Struct_aggregate_with_explicit_type_arguments_is_specialised()
    {
        var h = Harness<(string Key, int Value), long>(s =>
            s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(Ms(10)))
                .Aggregate<CountAggregate<(string Key, int Value)>, long, long>(default));
        h.Elements(Events(("a", 1), ("a", 2), ("b", 3))).EndInput();
        Assert.Equal([2L, 1L], h.Output.Values);
    }
}
