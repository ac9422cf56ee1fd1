using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

public class WatermarkTests
{
    [Fact]
    public void Bounded_out_of_orderness_is_max_minus_bound_minus_one()
    {
        var g = WatermarkStrategy<int>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(15)).CreateGenerator();
        Assert.Equal(EventTime.MinWatermark, g.Current);
        g.OnTimestamp(100_000);
        g.OnTimestamp(90_000);
        Assert.Equal(100_000 - 15_000 - 1, g.Current);
    }

    [Fact]
    public void Monotonous_is_max_minus_one_and_none_never_advances()
    {
        var mono = WatermarkStrategy<int>.ForMonotonousTimestamps().CreateGenerator();
        mono.OnTimestamp(5000);
        Assert.Equal(4999, mono.Current);
        var none = WatermarkStrategy<int>.NoWatermarks().CreateGenerator();
        none.OnTimestamp(5000);
        Assert.Equal(EventTime.MinWatermark, none.Current);
    }

    [Fact]
    public void Valve_forwards_the_minimum_of_its_inputs()
    {
        var valve = new WatermarkValve(2);
        Assert.False(valve.OnWatermark(0, 100, out _));
        Assert.True(valve.OnWatermark(1, 50, out long wm));
        Assert.Equal(50, wm);
        Assert.True(valve.OnWatermark(1, 200, out wm));
        Assert.Equal(100, wm);
    }

    [Fact]
    public void Idle_input_is_left_out_until_data_returns_and_catches_up()
    {
        var valve = new WatermarkValve(2);
        valve.OnWatermark(0, 1000, out _);
        Assert.True(valve.OnStatus(1, true, out long wm));
        Assert.Equal(1000, wm);
        Assert.False(valve.AllIdle);
        // Input 1 comes back behind the output: it cannot pull the watermark back.
        Assert.False(valve.OnWatermark(1, 500, out wm));
        Assert.Equal(1000, wm);
        Assert.True(valve.OnWatermark(0, 3000, out wm));
        Assert.Equal(3000, wm);
        // Once caught up, input 1 holds the minimum again.
        Assert.False(valve.OnWatermark(1, 3000, out _));
        Assert.False(valve.OnWatermark(0, 5000, out _));
        Assert.True(valve.OnWatermark(1, 4000, out wm));
        Assert.Equal(4000, wm);
    }

    [Fact]
    public void All_inputs_idle_makes_the_output_idle_and_ended_inputs_do_not_count()
    {
        var valve = new WatermarkValve(2);
        valve.OnStatus(0, true, out _);
        valve.OnStatus(1, true, out _);
        Assert.True(valve.AllIdle);
        valve.OnStatus(1, false, out _);
        Assert.False(valve.AllIdle);
        Assert.True(valve.OnWatermark(1, 10, out long wm));
        Assert.Equal(10, wm);
        valve.OnStatus(0, false, out _);
        valve.OnWatermark(0, 20, out _);
        // An ended input no longer holds the minimum: only input 0 counts.
        Assert.True(valve.OnEnd(1, out wm));
        Assert.Equal(20, wm);
        Assert.True(valve.OnEnd(0, out wm));
        Assert.Equal(EventTime.MaxWatermark, wm);
    }

    [Fact]
    public void A_valve_of_channels_flushes_to_the_largest_watermark_when_the_last_active_input_holding_it_turns_idle()
    {
        // Flink's StatusWatermarkValve: inputs at 100 and 200, output 100. Input 1 turns idle: 0 still holds 100.
        // Input 0 turns idle holding the output: nothing will advance it any more, so the output becomes 200.
        var channels = new WatermarkValve(2, flushWhenAllIdle: true);
        channels.OnWatermark(0, 100, out _);
        channels.OnWatermark(1, 200, out _);
        Assert.False(channels.OnStatus(1, true, out long wm));
        Assert.Equal(100, wm);
        Assert.True(channels.OnStatus(0, true, out wm));
        Assert.Equal(200, wm);
        Assert.True(channels.AllIdle);

        // The other order: input 0 idle first lets 200 out; input 1 then turns idle at the output: nothing to flush.
        var other = new WatermarkValve(2, flushWhenAllIdle: true);
        other.OnWatermark(0, 100, out _);
        other.OnWatermark(1, 200, out _);
        Assert.True(other.OnStatus(0, true, out wm));
        Assert.Equal(200, wm);
        Assert.False(other.OnStatus(1, true, out wm));
        Assert.Equal(200, wm);

        // Flink's CombinedWatermarkStatus (the splits of one source reader) keeps the output where it is.
        var splits = new WatermarkValve(2);
        splits.OnWatermark(0, 100, out _);
        splits.OnWatermark(1, 200, out _);
        splits.OnStatus(1, true, out _);
        Assert.False(splits.OnStatus(0, true, out wm));
        Assert.Equal(100, wm);
    }

    [Fact]
    public void Timestamp_assigner_emits_watermarks_per_batch_and_only_the_final_upstream_one()
    {
        var op = new TimestampsAndWatermarksOperator<(string K, long T)>(
            WatermarkStrategy<(string K, long T)>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(1)).WithTimestampAssigner(e => e.T),
            TimeSpan.FromMilliseconds(200), emitPerBatch: true);
        var h = new OperatorHarness<(string, long), (string, long)>(op);
        h.Element(("a", 10_000)).Watermark(50_000).Element(("b", 8_000));
        Assert.Equal([10_000L, 8_000L], h.Output.Records.Select(r => r.Timestamp));
        Assert.Equal([10_000L - 1000 - 1], h.Output.Watermarks);
        h.EndInput();
        Assert.Equal(EventTime.MaxWatermark, h.Output.Watermarks[^1]);
        Assert.True(h.Output.Ended);
    }

    [Fact]
    public void Timestamp_assigner_emits_periodically_on_processing_time()
    {
        var op = new TimestampsAndWatermarksOperator<long>(
            WatermarkStrategy<long>.ForMonotonousTimestamps().WithTimestampAssigner(e => e),
            TimeSpan.FromMilliseconds(200), emitPerBatch: false);
        var h = new OperatorHarness<long, long>(op);
        h.Element(1000).Element(2000);
        Assert.Empty(h.Output.Watermarks);
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(199));
        Assert.Empty(h.Output.Watermarks);
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal([1999L], h.Output.Watermarks);
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(200));
        Assert.Single(h.Output.Watermarks);
    }
}
