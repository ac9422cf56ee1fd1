using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Testing;
using static Eddy.Tests.Operators.Join.JoinTestKit;

namespace Eddy.Tests.Operators.Join;

/// <summary>
/// The regular join against Flink's StreamingJoinOperator semantics: exact changelogs on hand-worked cases, and the
/// materialized output of random changelogs against a nested-loop join of the materialized inputs.
/// </summary>
public class StreamingJoinTests
{
    private static StreamingJoinOperator<int, L, R, O> Operator(JoinType type, Func<L, R, bool>? residual = null, TimeSpan? ttl = null) =>
        new(l => l.K, r => r.K, type, residual, Combine, ttl);

    private static OperatorHarness<JoinInput<L, R>, O> Harness(JoinType type, Func<L, R, bool>? residual = null, TimeSpan? ttl = null) =>
        new(Operator(type, residual, ttl), checkpointing: true);

    private static List<string> Push(OperatorHarness<JoinInput<L, R>, O> h, params (JoinInput<L, R>, long, RowKind)[] records)
    {
        h.Output.Clear();
        h.Elements(records);
        return Changelog(h.Output.Records);
    }

    [Fact]
    public void Left_join_pads_retracts_the_padding_at_the_first_match_and_pads_again_after_the_last()
    {
        var h = Harness(JoinType.Left);
        Assert.Equal(["+I[L1.0,null]"], Push(h, Left(new L(1, 0))));
        Assert.Equal(["-D[L1.0,null]", "+I[L1.0,R1.5]"], Push(h, Right(new R(1, 5))));
        Assert.Equal(["+I[L1.0,R1.6]"], Push(h, Right(new R(1, 6))));
        Assert.Equal(["-D[L1.0,R1.5]"], Push(h, Right(new R(1, 5), RowKind.Delete)));
        Assert.Equal(["-D[L1.0,R1.6]", "+I[L1.0,null]"], Push(h, Right(new R(1, 6), RowKind.Delete)));
        Assert.Equal(["-D[L1.0,null]"], Push(h, Left(new L(1, 0), RowKind.Delete)));
        Assert.Equal(0, ((StreamingJoinOperator<int, L, R, O>)h.Operator).KeyCount);
    }

    [Fact]
    public void Inner_join_passes_the_input_row_kind_on()
    {
        var h = Harness(JoinType.Inner);
        Assert.Empty(Push(h, Left(new L(1, 0))));
        Assert.Equal(["+I[L1.0,R1.5]"], Push(h, Right(new R(1, 5))));
        Assert.Equal(["-U[L1.0,R1.5]", "+U[L1.1,R1.5]"],
            Push(h, Left(new L(1, 0), RowKind.UpdateBefore), Left(new L(1, 1), RowKind.UpdateAfter)));
        Assert.Equal(["-D[L1.1,R1.5]"], Push(h, Right(new R(1, 5), RowKind.Delete)));
        Assert.Empty(Push(h, Right(new R(2, 5))));
    }

    [Fact]
    public void With_an_outer_side_accumulations_emit_inserts_and_an_outer_input_retracts_with_deletes()
    {
        // Flink: an accumulation emits +I when either side is outer; a retraction emits -D when its own side is outer
        // and keeps its kind (-U here) when only the other side is.
        var h = Harness(JoinType.Left);
        Push(h, Left(new L(1, 0)), Right(new R(1, 5)));
        Assert.Equal(["-U[L1.0,R1.5]", "+I[L1.0,null]"], Push(h, Right(new R(1, 5), RowKind.UpdateBefore)));
        Assert.Equal(["-D[L1.0,null]", "+I[L1.0,R1.7]"], Push(h, Right(new R(1, 7), RowKind.UpdateAfter)));
        Assert.Equal(["-D[L1.0,R1.7]"], Push(h, Left(new L(1, 0), RowKind.UpdateBefore)));
    }

    [Fact]
    public void Full_join_pads_both_sides()
    {
        var h = Harness(JoinType.Full);
        Assert.Equal(["+I[L1.0,null]"], Push(h, Left(new L(1, 0))));
        Assert.Equal(["+I[null,R2.0]"], Push(h, Right(new R(2, 0))));
        Assert.Equal(["-D[L1.0,null]", "+I[L1.0,R1.3]"], Push(h, Right(new R(1, 3))));
        Assert.Equal(["-D[L1.0,R1.3]", "+I[null,R1.3]"], Push(h, Left(new L(1, 0), RowKind.Delete)));
        Assert.Equal(["-D[null,R1.3]"], Push(h, Right(new R(1, 3), RowKind.Delete)));
    }

    [Fact]
    public void Right_join_mirrors_left_join()
    {
        var h = Harness(JoinType.Right);
        Assert.Empty(Push(h, Left(new L(1, 0))));
        Assert.Equal(["+I[L1.0,R1.1]"], Push(h, Right(new R(1, 1))));
        Assert.Equal(["+I[null,R3.1]"], Push(h, Right(new R(3, 1))));
        Assert.Equal(["-D[L1.0,R1.1]", "+I[null,R1.1]"], Push(h, Left(new L(1, 0), RowKind.Delete)));
    }

    [Fact]
    public void Duplicates_count_each_copy()
    {
        var h = Harness(JoinType.Left);
        Assert.Equal(["+I[L1.0,null]", "+I[L1.0,null]"], Push(h, Left(new L(1, 0)), Left(new L(1, 0))));
        Assert.Equal(["-D[L1.0,null]", "-D[L1.0,null]", "+I[L1.0,R1.0]", "+I[L1.0,R1.0]"], Push(h, Right(new R(1, 0))));
        Assert.Equal(["-D[L1.0,R1.0]"], Push(h, Left(new L(1, 0), RowKind.Delete)));
        Assert.Equal(["-D[L1.0,R1.0]", "+I[L1.0,null]"], Push(h, Right(new R(1, 0), RowKind.Delete)));
    }

    [Fact]
    public void Residual_condition_decides_what_matches_and_what_stays_padded()
    {
        var h = Harness(JoinType.Left, (l, r) => l.V <= r.W);
        Assert.Equal(["+I[L1.5,null]"], Push(h, Left(new L(1, 5))));
        Assert.Empty(Push(h, Right(new R(1, 3))));
        Assert.Equal(["-D[L1.5,null]", "+I[L1.5,R1.7]"], Push(h, Right(new R(1, 7))));
        Assert.Equal(["+I[L1.2,R1.3]", "+I[L1.2,R1.7]"], Push(h, Left(new L(1, 2))));
    }

    [Theory]
    [InlineData(JoinType.Inner, true, false)]
    [InlineData(JoinType.Left, true, false)]
    [InlineData(JoinType.Right, true, false)]
    [InlineData(JoinType.Full, true, false)]
    [InlineData(JoinType.Inner, false, false)]
    [InlineData(JoinType.Left, false, false)]
    [InlineData(JoinType.Right, false, false)]
    [InlineData(JoinType.Full, false, false)]
    [InlineData(JoinType.Inner, false, true)]
    [InlineData(JoinType.Left, false, true)]
    [InlineData(JoinType.Right, false, true)]
    [InlineData(JoinType.Full, false, true)]
    public void Materialized_output_equals_a_nested_loop_join_of_the_materialized_inputs(JoinType type, bool appendOnly, bool withResidual)
    {
        Func<L, R, bool>? residual = withResidual ? (l, r) => l.V != r.W : null;
        for (int seed = 1; seed <= 5; seed++)
        {
            var log = RandomChangelog(seed, 1000, appendOnly);
            var h = Harness(type, residual);
            h.Elements(log);
            var expected = NestedLoopJoin(LeftBag(log), RightBag(log), type, (l, r) => l.K == r.K && (residual?.Invoke(l, r) ?? true));
            Assert.Equal(expected, Materialize(h.Output.Records));
            if (appendOnly && type == JoinType.Inner) Assert.All(h.Output.Records, r => Assert.Equal(RowKind.Insert, r.Kind));
        }
    }

    [Fact]
    public void State_ttl_drops_records_not_written_for_the_ttl()
    {
        var h = Harness(JoinType.Inner, ttl: TimeSpan.FromSeconds(10));
        Push(h, Left(new L(1, 0)));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(9_999));
        Assert.Equal(["+I[L1.0,R1.1]"], Push(h, Right(new R(1, 1))));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        // The left row was written at 0: expired at 10 000 (Flink: expired when write time + TTL <= now).
        Assert.Empty(Push(h, Right(new R(1, 2))));
        // The right rows (written at 9 999 and 10 000) still join.
        Assert.Equal(["+I[L1.3,R1.1]", "+I[L1.3,R1.2]"], Push(h, Left(new L(1, 3))));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(30));
        var op = (StreamingJoinOperator<int, L, R, O>)h.Operator;
        Assert.Equal(0, op.KeyCount);
        Assert.Equal((0, 0), op.HeldRecords);
    }

    [Fact]
    public void State_ttl_is_refreshed_when_an_outer_record_counts_a_new_match()
    {
        // Updating the association count writes the left record: its TTL starts again (Flink: update on write).
        var h = Harness(JoinType.Left, ttl: TimeSpan.FromSeconds(10));
        Assert.Equal(["+I[L1.0,null]"], Push(h, Left(new L(1, 0))));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
        Assert.Equal(["-D[L1.0,null]", "+I[L1.0,R1.1]"], Push(h, Right(new R(1, 1))));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(7));
        Assert.Equal(["+I[L1.0,R1.2]"], Push(h, Right(new R(1, 2))));
        // Without the refresh the same run in an inner join loses the left row at 10 s.
        var inner = Harness(JoinType.Inner, ttl: TimeSpan.FromSeconds(10));
        Push(inner, Left(new L(1, 0)));
        inner.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
        Push(inner, Right(new R(1, 1)));
        inner.AdvanceProcessingTime(TimeSpan.FromSeconds(7));
        Assert.Empty(Push(inner, Right(new R(1, 2))));
    }

    [Fact]
    public void Each_side_can_have_its_own_ttl()
    {
        // Flink's STATE_TTL hint: left rows live 10 s, right rows 60 s.
        var op = new StreamingJoinOperator<int, L, R, O>(l => l.K, r => r.K, JoinType.Inner, null, Combine,
            TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(60));
        var h = new OperatorHarness<JoinInput<L, R>, O>(op, checkpointing: true);
        Assert.Equal(["+I[L1.0,R1.0]"], Push(h, Left(new L(1, 0)), Right(new R(1, 0))));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(20));
        Assert.Empty(Push(h, Right(new R(1, 1))));
        Assert.Equal(["+I[L1.2,R1.0]", "+I[L1.2,R1.1]"], Push(h, Left(new L(1, 2))));
        Assert.Equal((1, 2), op.HeldRecords);
    }

    [Theory]
    [InlineData(JoinType.Inner, 2, 3)]
    [InlineData(JoinType.Left, 2, 1)]
    [InlineData(JoinType.Full, 1, 4)]
    [InlineData(JoinType.Right, 3, 2)]
    public void Snapshot_restore_at_another_parallelism_then_finish_equals_an_uninterrupted_run(JoinType type, int before, int after)
    {
        var log = RandomChangelog(11, 1200, appendOnly: false);
        var first = log.Take(600).ToList();
        var rest = log.Skip(600).ToList();

        var whole = new KeyedOperatorHarnesses<int, JoinInput<L, R>, O>(() => Operator(type), KeyOf, 1);
        whole.Elements(log).EndInput();

        var a = new KeyedOperatorHarnesses<int, JoinInput<L, R>, O>(() => Operator(type), KeyOf, before);
        a.Elements(first);
        var snapshot = a.Snapshot();
        var b = new KeyedOperatorHarnesses<int, JoinInput<L, R>, O>(() => Operator(type), KeyOf, after, snapshot);
        b.Elements(rest).EndInput();

        var resumed = Materialize(a.Records.Concat(b.Records));
        Assert.Equal(Materialize(whole.Records), resumed);
        Assert.Equal(NestedLoopJoin(LeftBag(log), RightBag(log), type, (l, r) => l.K == r.K), resumed);
    }

    [Fact]
    public void A_state_type_that_cannot_be_serialized_fails_at_open_naming_the_operator()
    {
        var op = new StreamingJoinOperator<int, Func<int>, R, int>(_ => 0, r => r.K, JoinType.Inner, null, (_, _, _, _) => 0);
        var e = Assert.Throws<StateSerializationException>(() => new OperatorHarness<JoinInput<Func<int>, R>, int>(op, checkpointing: true));
        Assert.Contains("StreamingJoinOperator", e.Message);
    }
}
