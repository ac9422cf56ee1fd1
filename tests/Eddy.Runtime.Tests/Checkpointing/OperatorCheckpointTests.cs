using Eddy.Runtime;
using Eddy.Testing;
using Eddy.Windows;
using static Eddy.Tests.Checkpointing.CheckpointTestKit;

namespace Eddy.Tests.Checkpointing;

/// <summary>
/// Every stateful runtime operator, snapshotted after each step of a random input and restored into a fresh
/// instance, gives what a straight run gives: late data, allowed lateness, sessions merging across the snapshot,
/// pending timers, and rescaling 2 → 3 and 3 → 1 included.
/// </summary>
public class OperatorCheckpointTests
{
    private static readonly OutputTag<(string Key, int Value)> Late = new("late");

    private static Func<StreamOperator<(string Key, int Value), TOut>> Factory<TOut>(
        Func<DataStream<(string Key, int Value)>, DataStream<TOut>> build)
    {
        var env = StreamEnvironment.Create();
        var stream = build(env.FromCollection(Array.Empty<(string Key, int Value)>()));
        return () => (StreamOperator<(string Key, int Value), TOut>)stream.Node.CreateOperator()!;
    }

    public static TheoryData<string> WindowKinds =>
    [
        "tumble", "tumble-late", "hop-late", "cumulate", "cumulate-late", "session-late", "dynamic-session", "global-count",
        "process", "reduce", "average", "min",
    ];

    /// <summary>One operator under test, whatever its output type.</summary>
    private interface ICase
    {
        List<string> Straight(IReadOnlyList<Step<(string Key, int Value)>> steps);

        List<string> Restored(IReadOnlyList<Step<(string Key, int Value)>> steps, int cut, int from = 1, int to = 1);
    }

    private sealed class Case<TOut>(Func<StreamOperator<(string Key, int Value), TOut>> create, bool hasLate) : ICase
    {
        private Func<OperatorHarness<(string Key, int Value), TOut>, IEnumerable<string>>? Side =>
            hasLate ? h => h.SideOutput(Late).Records.Select(r => r.ToString()) : null;

        public List<string> Straight(IReadOnlyList<Step<(string Key, int Value)>> steps) =>
            CheckpointTestKit.Straight(create, e => e.Key, steps, side: Side);

        public List<string> Restored(IReadOnlyList<Step<(string Key, int Value)>> steps, int cut, int from = 1, int to = 1) =>
            CheckpointTestKit.Restored(create, e => e.Key, steps, cut, from, to, Side);
    }

    private static Case<TOut> Make<TOut>(Func<DataStream<(string Key, int Value)>, DataStream<TOut>> build, bool hasLate = false) =>
        new(Factory(build), hasLate);

    private static ICase Window(string kind)
    {
        static TimeSpan Ms(long ms) => TimeSpan.FromMilliseconds(ms);
        return kind switch
        {
            "tumble" => Make(s => s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(Ms(30))).Count()),
            "tumble-late" => Make(s => s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(Ms(30)))
                .AllowedLateness(Ms(60)).SideOutputLateData(Late).Sum(e => e.Value), true),
            "hop-late" => Make(s => s.KeyBy(e => e.Key).Window(SlidingEventTimeWindows.Of(Ms(50), Ms(20)))
                .AllowedLateness(Ms(45)).SideOutputLateData(Late).Sum(e => e.Value), true),
            "cumulate" => Make(s => s.KeyBy(e => e.Key).Window(CumulativeEventTimeWindows.Of(Ms(60), Ms(20))).Sum(e => e.Value)),
            "cumulate-late" => Make(s => s.KeyBy(e => e.Key).Window(CumulativeEventTimeWindows.Of(Ms(60), Ms(15)))
                .AllowedLateness(Ms(40)).SideOutputLateData(Late).Count(), true),
            "session-late" => Make(s => s.KeyBy(e => e.Key).Window(EventTimeSessionWindows.WithGap(Ms(12)))
                .AllowedLateness(Ms(50)).SideOutputLateData(Late).Sum(e => e.Value), true),
            "dynamic-session" => Make(s => s.KeyBy(e => e.Key)
                .Window(EventTimeSessionWindows.WithDynamicGap<(string Key, int Value)>(e => Ms(5 + e.Value % 20))).Count()),
            "global-count" => Make(s => s.KeyBy(e => e.Key).CountWindow(3).Sum(e => e.Value)),
            "process" => Make(s => s.KeyBy(e => e.Key).Window(SlidingEventTimeWindows.Of(Ms(40), Ms(20)))
                .Process<string>((key, w, elements, o) => o.Collect($"{key} {w} [{string.Join(",", elements.Select(e => e.Value).Order())}]"))),
            "reduce" => Make(s => s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(Ms(25)))
                .Reduce((a, b) => (a.Key, a.Value * 31 % 1000 + b.Value))),
            "average" => Make(s => s.KeyBy(e => e.Key).Window(SlidingEventTimeWindows.Of(Ms(60), Ms(30))).Average(e => e.Value)),
            "min" => Make(s => s.KeyBy(e => e.Key).Window(CumulativeEventTimeWindows.Of(Ms(40), Ms(10)))
                .AllowedLateness(Ms(30)).Min(e => e.Value)),
            _ => throw new ArgumentException(kind),
        };
    }

    [Theory]
    [MemberData(nameof(WindowKinds))]
    public void Window_operator_restored_after_any_step_gives_the_straight_result(string kind)
    {
        var op = Window(kind);
        for (int seed = 1; seed <= 4; seed++)
        {
            var steps = RandomEvents(seed);
            var straight = op.Straight(steps);
            Assert.NotEmpty(straight);
            for (int cut = 0; cut <= steps.Count; cut++) Assert.Equal(straight, op.Restored(steps, cut));
        }
    }

    [Theory]
    [MemberData(nameof(WindowKinds))]
    public void Window_operator_rescales_through_key_groups(string kind)
    {
        var op = Window(kind);
        var steps = RandomEvents(seed: 11, keys: 30);
        var straight = op.Straight(steps);
        foreach (int cut in new[] { 0, steps.Count / 3, steps.Count / 2, steps.Count - 1 })
        {
            Assert.Equal(straight, op.Restored(steps, cut, from: 2, to: 3));
            Assert.Equal(straight, op.Restored(steps, cut, from: 3, to: 1));
        }
    }

    [Fact]
    public void Late_data_stays_late_after_a_restore()
    {
        var op = Window("tumble-late");
        var steps = new List<Step<(string Key, int Value)>>
        {
            new Step<(string, int)>.Records([(("a", 1), 5), (("a", 2), 35)]),
            new Step<(string, int)>.Watermark(200),
            // Window [0,30) is past its lateness (60): the record is late; without the restored watermark it would count.
            new Step<(string, int)>.Records([(("a", 7), 10)]),
        };
        var straight = op.Straight(steps);
        Assert.Contains(straight, s => s.StartsWith("late ", StringComparison.Ordinal));
        Assert.Equal(straight, op.Restored(steps, cut: 2));
    }

    [Fact]
    public void Sessions_merge_across_the_snapshot()
    {
        var op = Window("session-late");
        var steps = new List<Step<(string Key, int Value)>>
        {
            new Step<(string, int)>.Records([(("a", 1), 0), (("a", 2), 30)]),
            new Step<(string, int)>.Watermark(5),
            // Bridges the two sessions [0,12) and [30,42) into one.
            new Step<(string, int)>.Records([(("a", 4), 11), (("a", 8), 22)]),
            new Step<(string, int)>.Watermark(100),
        };
        var straight = op.Straight(steps);
        // One session of all four records.
        Assert.Contains("Value = 15 }", Assert.Single(straight), StringComparison.Ordinal);
        Assert.Equal(straight, op.Restored(steps, cut: 2));
        // The comparison can fail: an operator that lost the first half emits other sessions.
        Assert.NotEqual(straight, op.Straight(steps.Skip(2).ToList()));
    }

    [Fact]
    public void Processing_time_windows_restore_their_slices_and_fire_on_the_new_clock()
    {
        var create = Factory(s => s.KeyBy(e => e.Key).Window(TumblingProcessingTimeWindows.Of(TimeSpan.FromMilliseconds(10))).Count());
        var steps = new List<Step<(string Key, int Value)>>
        {
            new Step<(string, int)>.Records([(("a", 1), 0), (("b", 1), 0)]),
            new Step<(string, int)>.ProcessingTime(4),
            new Step<(string, int)>.Records([(("a", 1), 0)]),
            new Step<(string, int)>.ProcessingTime(12),
            new Step<(string, int)>.Records([(("a", 1), 0), (("c", 1), 0)]),
            new Step<(string, int)>.ProcessingTime(35),
        };
        var straight = Straight(create, e => e.Key, steps);
        Assert.Equal(4, straight.Count);
        for (int cut = 0; cut <= steps.Count; cut++) Assert.Equal(straight, Restored(create, e => e.Key, steps, cut));
    }

    /// <summary>Value, list and map state with event- and processing-time timers, pending across snapshots.</summary>
    private sealed class StatefulFunction : KeyedProcessFunction<string, (string Key, int Value), string>
    {
        private ValueState<string, long>? sum;
        private ListState<string, int>? recent;
        private MapState<string, int, int>? histogram;

        public override void Open(KeyedContext<string> context)
        {
            sum = context.GetValueState<long>("sum");
            recent = context.GetListState<int>("recent");
            histogram = context.GetMapState<int, int>("histogram");
        }

        public override void ProcessElement((string Key, int Value) value, KeyedContext<string> context, Collector<string> output)
        {
            sum!.Value += value.Value;
            recent!.Add(value.Value);
            if (recent.Get().Count > 3) recent.Update(recent.Get().Skip(1));
            int bucket = value.Value / 25;
            histogram!.Put(bucket, histogram.Get(bucket) + 1);
            context.RegisterEventTimeTimer(context.Timestamp + 20);
            context.RegisterProcessingTimeTimer(context.CurrentProcessingTime + 15);
            if (value.Value % 7 == 0) context.DeleteEventTimeTimer(context.Timestamp + 20);
        }

        public override void OnTimer(long timestamp, KeyedContext<string> context, Collector<string> output)
        {
            string buckets = string.Join(",", histogram!.Entries().OrderBy(e => e.Key).Select(e => $"{e.Key}:{e.Value}"));
            output.Collect($"{context.TimeDomain} {context.CurrentKey} t={timestamp} sum={sum!.Value} recent=[{string.Join(",", recent!.Get())}] h={buckets}");
            if (context.TimeDomain == TimeDomain.ProcessingTime) histogram.Clear();
        }
    }

    private static List<Step<(string Key, int Value)>> WithClock(List<Step<(string Key, int Value)>> steps)
    {
        var result = new List<Step<(string Key, int Value)>>();
        long clock = 0;
        foreach (var s in steps)
        {
            result.Add(s);
            if (s is Step<(string, int)>.Records) result.Add(new Step<(string, int)>.ProcessingTime(clock += 6));
        }
        return result;
    }

    [Fact]
    public void Keyed_process_state_and_timers_survive_a_restore_at_every_step()
    {
        var create = Factory(s => s.KeyBy(e => e.Key).Process(() => new StatefulFunction()));
        for (int seed = 1; seed <= 3; seed++)
        {
            var steps = WithClock(RandomEvents(seed, batches: 20));
            var straight = Straight(create, e => e.Key, steps);
            Assert.Contains(straight, s => s.Contains("ProcessingTime", StringComparison.Ordinal));
            Assert.Contains(straight, s => s.Contains("EventTime", StringComparison.Ordinal));
            for (int cut = 0; cut <= steps.Count; cut++) Assert.Equal(straight, Restored(create, e => e.Key, steps, cut));
        }
    }

    [Fact]
    public void Keyed_process_state_rescales_through_key_groups()
    {
        var create = Factory(s => s.KeyBy(e => e.Key).Process(() => new StatefulFunction()));
        var steps = WithClock(RandomEvents(5, batches: 20, keys: 40));
        var straight = Straight(create, e => e.Key, steps);
        foreach (int cut in new[] { 1, steps.Count / 2, steps.Count - 2 })
        {
            Assert.Equal(straight, Restored(create, e => e.Key, steps, cut, from: 2, to: 3));
            Assert.Equal(straight, Restored(create, e => e.Key, steps, cut, from: 3, to: 1));
        }
    }

    [Fact]
    public void A_snapshot_holds_only_the_key_groups_of_its_keys()
    {
        var create = Factory(s => s.KeyBy(e => e.Key).Window(TumblingEventTimeWindows.Of(TimeSpan.FromMilliseconds(10))).Count());
        var h = new OperatorHarness<(string Key, int Value), WindowResult<string, TimeWindow, long>>(create(), checkpointing: true);
        h.Elements([(("a", 1), 1L), (("b", 1), 2L), (("a", 1), 3L)]);
        var snapshot = h.Snapshot();
        var expected = new[] { "a", "b" }.Select(k => KeyGroups.ForKey(k, KeyGroups.DefaultMaxParallelism)).Distinct().Order();
        Assert.Equal(expected, snapshot.KeyGroups.Keys.Order());
    }

    private sealed class Opaque
    {
        private int hidden;

        public int Peek() => hidden++;
    }

    [Fact]
    public void An_unserializable_state_type_fails_at_open_naming_operator_and_type()
    {
        var env = StreamEnvironment.Create();
        var stream = env.FromCollection(Array.Empty<(string Key, int Value)>()).KeyBy(e => e.Key)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromMilliseconds(10)))
            .Aggregate(new OpaqueAggregate(), "Opaque window");
        var op = (StreamOperator<(string Key, int Value), int>)stream.Node.CreateOperator()!;
        var e = Assert.Throws<StateSerializationException>(() => new OperatorHarness<(string Key, int Value), int>(op, checkpointing: true));
        Assert.Contains("Opaque", e.Message, StringComparison.Ordinal);
        Assert.Contains("hidden", e.Message, StringComparison.Ordinal);
        Assert.Contains("operator '", e.Message, StringComparison.Ordinal);
        // Without checkpoints the same job runs.
        var plain = (StreamOperator<(string Key, int Value), int>)stream.Node.CreateOperator()!;
        new OperatorHarness<(string Key, int Value), int>(plain).Element(("a", 1), 1).EndInput();
    }

    private sealed class OpaqueAggregate : IAggregateFunction<(string Key, int Value), Opaque, int>
    {
        public Opaque CreateAccumulator() => new();

        public Opaque Add((string Key, int Value) value, Opaque accumulator) => accumulator;

        public Opaque Merge(Opaque a, Opaque b) => a;

        public int GetResult(Opaque accumulator) => accumulator.Peek();
    }
}

public class WatermarkAssignerCheckpointTests
{
    [Fact]
    public void A_restored_assigner_continues_from_the_largest_timestamp_seen()
    {
        TimestampsAndWatermarksOperator<long> Make() =>
            new(WatermarkStrategy<long>.ForBoundedOutOfOrderness(TimeSpan.FromMilliseconds(10)).WithTimestampAssigner(v => v), TimeSpan.FromSeconds(1), emitPerBatch: true);
        var before = new OperatorHarness<long, long>(Make(), checkpointing: true);
        before.Elements([(100L, 0L), (50L, 0L)]);
        Assert.Equal([89L], before.Output.Watermarks);
        var after = OperatorHarness<long, long>.Restored(Make(), [before.Snapshot()]);
        // An earlier timestamp moves nothing, as in a straight run; a fresh assigner would emit 59.
        after.Elements([(70L, 0L)]);
        Assert.Empty(after.Output.Watermarks);
        after.Elements([(120L, 0L)]);
        Assert.Equal([109L], after.Output.Watermarks);
    }
}
