using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Testing;
using static Eddy.Tests.Operators.Join.JoinTestKit;

namespace Eddy.Tests.Operators.Join;

/// <summary>
/// The interval join against Flink's TimeIntervalJoin: <c>l.ts BETWEEN r.ts - 10 AND r.ts + 5</c> (ms) unless said
/// otherwise, so a left row waits 10 ms of the other side's time and a right row 5 ms.
/// </summary>
public class IntervalJoinTests
{
    private const long Lower = -10, Upper = 5;

    private static IntervalJoinOperator<int, L, R, O> Operator(JoinType type, bool eventTime = true, Func<L, R, bool>? residual = null,
        long lower = Lower, long upper = Upper) =>
        new(l => l.K, r => r.K, type, lower, upper, eventTime, residual, Combine);

    private static OperatorHarness<JoinInput<L, R>, O> Harness(JoinType type, bool eventTime = true, Func<L, R, bool>? residual = null,
        long lower = Lower, long upper = Upper, long startProcessingTime = 0) =>
        new(Operator(type, eventTime, residual, lower, upper), startProcessingTime, checkpointing: true);

    private static List<string> Push(OperatorHarness<JoinInput<L, R>, O> h, params (JoinInput<L, R>, long, RowKind)[] records)
    {
        h.Output.Clear();
        h.Elements(records);
        return Changelog(h.Output.Records);
    }

    private static string Show(Emitted<O> r) => $"{r.Kind.ShortString()}{r.Value}@{r.Timestamp}";

    [Fact]
    public void Bounds_are_inclusive_on_both_edges()
    {
        var h = Harness(JoinType.Inner);
        h.Elements([Left(new L(1, 89), ts: 89), Left(new L(1, 90), ts: 90), Left(new L(1, 105), ts: 105), Left(new L(1, 106), ts: 106)]);
        h.Output.Clear();
        h.Elements([Right(new R(1, 100), ts: 100)]);
        Assert.Equal(["+I[L1.90,R1.100]@100", "+I[L1.105,R1.100]@105"], h.Output.Records.Select(Show).ToList());
        // And the other way round: right rows first, then a left row at 100 joins r in [95, 110].
        var g = Harness(JoinType.Inner);
        g.Elements([Right(new R(1, 94), ts: 94), Right(new R(1, 95), ts: 95), Right(new R(1, 110), ts: 110), Right(new R(1, 111), ts: 111)]);
        g.Output.Clear();
        g.Elements([Left(new L(1, 100), ts: 100)]);
        Assert.Equal(["+I[L1.100,R1.95]@100", "+I[L1.100,R1.110]@110"], g.Output.Records.Select(Show).ToList());
    }

    [Fact]
    public void Residual_and_keys_restrict_the_pairs()
    {
        var h = Harness(JoinType.Inner, residual: (l, r) => l.V > r.W);
        h.Elements([Left(new L(1, 5), ts: 100), Left(new L(2, 5), ts: 100), Right(new R(1, 4), ts: 100), Right(new R(1, 5), ts: 100)]);
        Assert.Equal(["+I[L1.5,R1.4]"], Changelog(h.Output.Records));
    }

    [Fact]
    public void An_unmatched_outer_row_is_padded_when_the_watermark_passes_its_window()
    {
        // Left row at 100: the cleanup timer is at 100 + 10 + 1 = 111; then rows up to 111 - 10 - 1 = 100 go.
        var h = Harness(JoinType.Left);
        Push(h, Left(new L(1, 0), ts: 100));
        h.Watermark(110);
        Assert.Empty(h.Output.Records);
        h.Watermark(111);
        Assert.Equal(["+I[L1.0,null]@100"], h.Output.Records.Select(Show).ToList());
        Assert.Equal((0, 0), ((IntervalJoinOperator<int, L, R, O>)h.Operator).HeldRows);
    }

    [Fact]
    public void A_right_outer_row_waits_for_its_own_window_and_a_joined_one_is_not_padded()
    {
        // Right rows wait 5 ms: the cleanup timer of a right row at 100 is at 106, rows up to 106 - 5 - 1 = 100 go.
        var h = Harness(JoinType.Full);
        Push(h, Right(new R(1, 0), ts: 100), Right(new R(2, 0), ts: 100), Left(new L(2, 0), ts: 104));
        Assert.Equal(["+I[L2.0,R2.0]@104"], h.Output.Records.Select(Show).ToList());
        h.Output.Clear();
        h.Watermark(105);
        Assert.Empty(h.Output.Records);
        h.Watermark(106);
        Assert.Equal(["+I[null,R1.0]@100"], h.Output.Records.Select(Show).ToList());
        h.Output.Clear();
        h.Watermark(200);
        Assert.Empty(h.Output.Records);
        Assert.Equal((0, 0), ((IntervalJoinOperator<int, L, R, O>)h.Operator).HeldRows);
    }

    [Fact]
    public void A_row_behind_the_watermark_joins_the_rows_still_cached_but_is_not_kept()
    {
        var h = Harness(JoinType.Left);
        Push(h, Right(new R(1, 0), ts: 195));
        h.Watermark(200);
        // The left row at 186 is late (186 + 10 <= 200): it still meets the right row at 195, then is dropped.
        Assert.Equal(["+I[L1.186,R1.0]"], Push(h, Left(new L(1, 186), ts: 186)));
        Assert.Equal((0, 1), ((IntervalJoinOperator<int, L, R, O>)h.Operator).HeldRows);
        // A late left row that meets nothing is padded at once in an outer join, and dropped in an inner join.
        Assert.Equal(["+I[L1.50,null]"], Push(h, Left(new L(1, 50), ts: 50)));
        var inner = Harness(JoinType.Inner);
        inner.Watermark(200);
        Assert.Empty(Push(inner, Left(new L(1, 50), ts: 50)));
        Assert.Equal((0, 0), ((IntervalJoinOperator<int, L, R, O>)inner.Operator).HeldRows);
    }

    [Fact]
    public void The_output_watermark_is_held_back_by_the_larger_relative_window()
    {
        var h = Harness(JoinType.Inner);
        h.Watermark(5).Watermark(100).Watermark(250);
        Assert.Equal([-5L, 90L, 240L], h.Output.Watermarks);
        h.EndInput();
        Assert.Equal(EventTime.MaxWatermark, h.Output.Watermarks[^1]);
        Assert.Equal(1, h.Output.Watermarks.Count(w => w == EventTime.MaxWatermark));
    }

    [Fact]
    public void An_empty_interval_joins_nothing_and_pads_every_outer_row_at_once()
    {
        var h = Harness(JoinType.Left, lower: 5, upper: -5);
        Assert.Equal(["+I[L1.0,null]"], Push(h, Left(new L(1, 0), ts: 100), Right(new R(1, 0), ts: 100)));
    }

    [Fact]
    public void Processing_time_uses_the_clock_at_arrival_and_pads_when_the_clock_passes_the_window()
    {
        var h = Harness(JoinType.Left, eventTime: false, startProcessingTime: 1000);
        Push(h, Left(new L(1, 0)), Left(new L(2, 0)));
        h.SetProcessingTime(1008);
        Assert.Equal(["+I[L1.0,R1.0]"], Push(h, Right(new R(1, 0))));
        h.Output.Clear();
        h.SetProcessingTime(1010);
        Assert.Empty(h.Output.Records);
        h.SetProcessingTime(1011);
        Assert.Equal(["+I[L2.0,null]"], Changelog(h.Output.Records));
        Assert.All(h.Output.Records, r => Assert.Equal(EventTime.None, r.Timestamp));
        // Both left rows are gone; a right row now meets nothing.
        Assert.Empty(Push(h, Right(new R(1, 0))));
    }

    [Fact]
    public void Updating_inputs_are_refused_with_the_operator_named()
    {
        var h = Harness(JoinType.Inner);
        var e = Assert.Throws<InvalidOperationException>(() => h.Elements([Left(new L(1, 0), RowKind.Delete, 5)]));
        Assert.Contains("append-only", e.Message);
        Assert.Contains("IntervalJoinOperator", e.Message);
    }

    /// <summary>
    /// Two interleaved streams, timestamps jittered by up to ±20 ms around a 3 ms step, a watermark 41 ms behind the
    /// largest timestamp after every batch of 50: no row is late, so the result is the whole interval join.
    /// </summary>
    private static List<(JoinInput<L, R> Value, long Timestamp, RowKind Kind)> Stream(int seed, int count)
    {
        var rnd = new Random(seed);
        var list = new List<(JoinInput<L, R>, long, RowKind)>();
        for (int i = 0; i < count; i++)
        {
            long ts = 1000 + i * 3L + rnd.Next(-20, 21);
            list.Add(rnd.Next(2) == 0 ? Left(new L(rnd.Next(20), (int)ts), ts: ts) : Right(new R(rnd.Next(20), (int)ts), ts: ts));
        }
        return list;
    }

    private static void Drive<TH>(List<(JoinInput<L, R> Value, long Timestamp, RowKind Kind)> stream, int from, int to,
        Action<List<(JoinInput<L, R>, long, RowKind)>> push, Action<long> watermark)
    {
        long max = long.MinValue;
        for (int i = from; i < to; i += 50)
        {
            var batch = stream.Skip(i).Take(Math.Min(50, to - i)).ToList();
            push(batch);
            foreach (var e in batch) max = Math.Max(max, e.Item2);
            watermark(max - 41);
        }
    }

    private static List<string> Expected(List<(JoinInput<L, R> Value, long Timestamp, RowKind Kind)> stream, JoinType type)
    {
        // Here V and W are the rows' timestamps.
        var lefts = stream.Where(e => e.Value.IsLeft).Select(e => e.Value.Left).ToList();
        var rights = stream.Where(e => !e.Value.IsLeft).Select(e => e.Value.Right).ToList();
        return NestedLoopJoin(lefts, rights, type, (l, r) => l.K == r.K && l.V >= r.W + Lower && l.V <= r.W + Upper);
    }

    [Theory]
    [InlineData(JoinType.Inner)]
    [InlineData(JoinType.Left)]
    [InlineData(JoinType.Right)]
    [InlineData(JoinType.Full)]
    public void Without_late_rows_the_result_is_the_nested_loop_interval_join(JoinType type)
    {
        var stream = Stream(3, 6000);
        var h = Harness(type);
        Drive<int>(stream, 0, stream.Count, b => h.Elements(b), w => h.Watermark(w));
        h.EndInput();
        Assert.All(h.Output.Records, r => Assert.Equal(RowKind.Insert, r.Kind));
        Assert.Equal(Expected(stream, type), h.Output.Records.Select(r => r.Value.ToString()).Order(StringComparer.Ordinal).ToList());
        // A joined row carries the later time; a padded row its own.
        Assert.All(h.Output.Records, r => Assert.Equal(Math.Max(r.Value.Left?.V ?? 0, r.Value.Right?.W ?? 0), r.Timestamp));
        Assert.Equal((0, 0), ((IntervalJoinOperator<int, L, R, O>)h.Operator).HeldRows);
    }

    [Theory]
    [InlineData(JoinType.Inner, 2, 3)]
    [InlineData(JoinType.Full, 3, 1)]
    [InlineData(JoinType.Left, 1, 2)]
    public void Snapshot_restore_at_another_parallelism_then_finish_equals_an_uninterrupted_run(JoinType type, int before, int after)
    {
        var stream = Stream(5, 6000);
        var whole = new KeyedOperatorHarnesses<int, JoinInput<L, R>, O>(() => Operator(type), KeyOf, 1);
        Drive<int>(stream, 0, stream.Count, b => whole.Elements(b), w => whole.Watermark(w));
        whole.EndInput();

        var a = new KeyedOperatorHarnesses<int, JoinInput<L, R>, O>(() => Operator(type), KeyOf, before);
        Drive<int>(stream, 0, 3000, b => a.Elements(b), w => a.Watermark(w));
        var snapshot = a.Snapshot();
        var b = new KeyedOperatorHarnesses<int, JoinInput<L, R>, O>(() => Operator(type), KeyOf, after, snapshot);
        Drive<int>(stream, 3000, stream.Count, x => b.Elements(x), w => b.Watermark(w));
        b.EndInput();

        static List<string> Sorted(IEnumerable<Emitted<O>> records) => records.Select(Show).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(Sorted(whole.Records), Sorted(a.Records.Concat(b.Records)));
        Assert.Equal(Expected(stream, type), whole.Records.Select(r => r.Value.ToString()).Order(StringComparer.Ordinal).ToList());
    }
}
