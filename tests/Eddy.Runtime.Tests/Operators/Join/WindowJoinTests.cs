using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Testing;
using static Eddy.Tests.Operators.Join.JoinTestKit;

namespace Eddy.Tests.Operators.Join;

/// <summary>
/// The window join against Flink's WindowJoinOperator: tumbling windows of 10 ms given by the row's value (the window
/// of <c>V</c> ends at <c>(V / 10 + 1) * 10</c>); rows join per key and window when the watermark reaches the end - 1;
/// rows of a window already fired are dropped. Expected results are nested-loop joins of the rows that were not late.
/// </summary>
public class WindowJoinTests
{
    private static long EndOf(int v) => (v / 10 + 1) * 10L;

    private static WindowJoinOperator<int, L, R, O> Operator(WindowJoinType type, Func<L, R, bool>? residual = null) =>
        new(l => l.K, r => r.K, l => EndOf(l.V), r => EndOf(r.W), type, residual, Combine);

    private static OperatorHarness<JoinInput<L, R>, O> Harness(WindowJoinType type, Func<L, R, bool>? residual = null) =>
        new(Operator(type, residual), checkpointing: true);

    private static JoinType Plain(WindowJoinType t) => t switch
    {
        WindowJoinType.Left => JoinType.Left,
        WindowJoinType.Right => JoinType.Right,
        WindowJoinType.Full => JoinType.Full,
        _ => JoinType.Inner,
    };

    /// <summary>A stream of rows mostly in time order with some behind the watermark, and watermarks in between.</summary>
    private static List<object> RandomStream(int seed, int steps)
    {
        var rnd = new Random(seed);
        var events = new List<object>();
        int now = 0;
        long watermark = long.MinValue;
        for (int i = 0; i < steps; i++)
        {
            now += rnd.Next(3);
            int time = Math.Max(0, now - rnd.Next(15));
            int k = rnd.Next(4);
            events.Add(rnd.Next(2) == 0 ? Left(new L(k, time)) : Right(new R(k, time)));
            if (rnd.Next(6) == 0 && now - 5 > watermark)
            {
                watermark = now - 5;
                events.Add(watermark);
            }
        }
        return events;
    }

    /// <summary>The expected output: per key and window, the join of the rows whose window had not fired when they arrived.</summary>
    private static List<string> Expected(List<object> events, WindowJoinType type, Func<L, R, bool> residual)
    {
        long watermark = long.MinValue;
        var lefts = new List<L>();
        var rights = new List<R>();
        foreach (var e in events)
        {
            if (e is long w) watermark = w;
            else
            {
                var (v, _, _) = ((JoinInput<L, R>, long, RowKind))e;
                if (v.IsLeft && EndOf(v.Left.V) - 1 > watermark) lefts.Add(v.Left);
                if (!v.IsLeft && EndOf(v.Right.W) - 1 > watermark) rights.Add(v.Right);
            }
        }
        bool On(L l, R r) => l.K == r.K && EndOf(l.V) == EndOf(r.W) && residual(l, r);
        return type switch
        {
            WindowJoinType.Semi => lefts.Where(l => rights.Any(r => On(l, r))).Select(l => new O(l, null).ToString()).Order(StringComparer.Ordinal).ToList(),
            WindowJoinType.Anti => lefts.Where(l => !rights.Any(r => On(l, r))).Select(l => new O(l, null).ToString()).Order(StringComparer.Ordinal).ToList(),
            _ => NestedLoopJoin(lefts, rights, Plain(type), On),
        };
    }

    private static void Drive(OperatorHarness<JoinInput<L, R>, O> h, IEnumerable<object> events)
    {
        foreach (var e in events)
        {
            if (e is long w) h.Watermark(w);
            else h.Elements([((JoinInput<L, R>, long, RowKind))e]);
        }
    }

    public static TheoryData<WindowJoinType> Types => [WindowJoinType.Inner, WindowJoinType.Left, WindowJoinType.Right, WindowJoinType.Full, WindowJoinType.Semi, WindowJoinType.Anti];

    [Theory]
    [MemberData(nameof(Types))]
    public void Random_streams_join_per_window_and_drop_late_rows(WindowJoinType type)
    {
        Func<L, R, bool> residual = (l, r) => (l.V + r.W) % 3 != 0;
        for (int seed = 0; seed < 20; seed++)
        {
            var events = RandomStream(seed, 200);
            var h = Harness(type, residual);
            Drive(h, events);
            h.EndInput();
            Assert.All(h.Output.Records, r => Assert.Equal(RowKind.Insert, r.Kind));
            Assert.Equal(Expected(events, type, residual), Materialize(h.Output.Records));
            Assert.Equal((0, 0), ((WindowJoinOperator<int, L, R, O>)h.Operator).HeldRows);
        }
    }

    [Fact]
    public void A_window_fires_at_its_end_minus_one_and_a_row_for_it_afterwards_is_late()
    {
        var h = Harness(WindowJoinType.Full);
        h.Elements([Left(new L(1, 3)), Right(new R(1, 9)), Right(new R(2, 5))]);
        h.Watermark(8);
        Assert.Empty(h.Output.Records);
        h.Watermark(9);
        Assert.Equal(["+I[L1.3,R1.9]@9", "+I[null,R2.5]@9"], h.Output.Records.Select(r => $"{r.Kind.ShortString()}{r.Value}@{r.Timestamp}").ToList());
        h.Output.Clear();
        h.Elements([Left(new L(2, 7)), Left(new L(2, 10))]);
        var op = (WindowJoinOperator<int, L, R, O>)h.Operator;
        Assert.Equal(1, op.LateRecords);
        Assert.Equal((1, 0), op.HeldRows);
        h.EndInput();
        Assert.Equal(["+I[L2.10,null]"], Changelog(h.Output.Records));
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Snapshot_restore_finish_gives_the_straight_result(WindowJoinType type)
    {
        Func<L, R, bool> residual = (l, r) => l.V <= r.W + 4;
        for (int seed = 0; seed < 10; seed++)
        {
            var events = RandomStream(100 + seed, 120);
            var straight = Harness(type, residual);
            Drive(straight, events);
            straight.EndInput();
            var expected = Materialize(straight.Output.Records);
            foreach (int cut in new[] { 0, 30, 60, 119 })
            {
                var h = Harness(type, residual);
                Drive(h, events.Take(cut));
                var before = h.Output.Records.ToList();
                var restored = OperatorHarness<JoinInput<L, R>, O>.Restored(Operator(type, residual), [h.Snapshot(3)]);
                Drive(restored, events.Skip(cut));
                restored.EndInput();
                Assert.Equal(expected, Materialize(before.Concat(restored.Output.Records)));
            }
        }
    }

    [Fact]
    public void State_moves_by_key_group_when_the_parallelism_changes()
    {
        var events = RandomStream(7, 150);
        var straight = Harness(WindowJoinType.Left);
        Drive(straight, events);
        straight.EndInput();
        static int KeyOfInput(JoinInput<L, R> v) => v.IsLeft ? v.Left.K : v.Right.K;
        var two = new KeyedOperatorHarnesses<int, JoinInput<L, R>, O>(() => Operator(WindowJoinType.Left), KeyOfInput, 2);
        var firstHalf = events.Take(75).ToList();
        foreach (var e in firstHalf)
        {
            if (e is long w) two.Watermark(w);
            else two.Elements([((JoinInput<L, R>, long, RowKind))e]);
        }
        var before = two.Records;
        var three = new KeyedOperatorHarnesses<int, JoinInput<L, R>, O>(() => Operator(WindowJoinType.Left), KeyOfInput, 3, two.Snapshot(4));
        foreach (var e in events.Skip(75))
        {
            if (e is long w) three.Watermark(w);
            else three.Elements([((JoinInput<L, R>, long, RowKind))e]);
        }
        three.EndInput();
        Assert.Equal(Materialize(straight.Output.Records), Materialize(before.Concat(three.Records)));
    }
}
