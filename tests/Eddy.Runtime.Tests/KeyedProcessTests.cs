using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

public class KeyedProcessTests
{
    /// <summary>Emits the sum per key when event time passes the element's timestamp + 10 s, and on processing time.</summary>
    private sealed class DelayedSum : KeyedProcessFunction<string, (string Key, long Value), string>
    {
        public override void ProcessElement((string Key, long Value) value, KeyedContext<string> context, Collector<string> output)
        {
            var sum = context.GetValueState<long>("sum");
            sum.Value += value.Value;
            context.GetListState<long>("seen").Add(value.Value);
            context.GetMapState<long, int>("counts").Put(value.Value, 1 + context.GetMapState<long, int>("counts").Get(value.Value));
            context.RegisterEventTimeTimer(context.Timestamp + 10_000);
            context.RegisterProcessingTimeTimer(context.CurrentProcessingTime + 1000);
        }

        public override void OnTimer(long timestamp, KeyedContext<string> context, Collector<string> output)
        {
            var seen = string.Join("+", context.GetListState<long>("seen").Get());
            output.Collect($"{context.TimeDomain}:{context.CurrentKey}={context.GetValueState<long>("sum").Value}({seen})@{timestamp}");
        }
    }

    [Fact]
    public void State_is_per_key_and_event_timers_fire_in_order_once()
    {
        var op = new KeyedProcessOperator<string, (string Key, long Value), string>(e => e.Key, new DelayedSum());
        var h = new OperatorHarness<(string Key, long Value), string>(op);
        h.Element(("a", 1), 1000).Element(("b", 5), 1000).Element(("a", 2), 1000).Element(("a", 3), 4000);
        h.Watermark(10_999);
        Assert.Empty(h.Output.Records);
        h.Watermark(11_000);
        Assert.Equal(["EventTime:a=6(1+2+3)@11000", "EventTime:b=5(5)@11000"], h.Output.Values.Order().ToList());
        Assert.All(h.Output.Records, r => Assert.Equal(11_000, r.Timestamp));
        h.Output.Clear();
        h.Watermark(20_000);
        Assert.Equal(["EventTime:a=6(1+2+3)@14000"], h.Output.Values);
    }

    [Fact]
    public void Processing_time_timers_follow_the_manual_clock()
    {
        var op = new KeyedProcessOperator<string, (string Key, long Value), string>(e => e.Key, new DelayedSum());
        var h = new OperatorHarness<(string Key, long Value), string>(op, startProcessingTime: 5000);
        h.Element(("a", 1), 0);
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(999));
        Assert.Empty(h.Output.Records);
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Equal(["ProcessingTime:a=1(1)@6000"], h.Output.Values);
        Assert.Equal(EventTime.None, h.Output.Records[0].Timestamp);
    }

    [Fact]
    public void Deleted_timers_do_not_fire()
    {
        var fired = new List<long>();
        var timers = new KeyedTimers<string>(new ProcessingTimers(new ManualClock()), (k, t, d) => fired.Add(t));
        timers.RegisterEventTime("k", 10);
        timers.RegisterEventTime("k", 10);
        timers.RegisterEventTime("k", 20);
        timers.DeleteEventTime("k", 20);
        timers.AdvanceWatermark(100);
        Assert.Equal([10L], fired);
    }
}
