using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Testing;
using static Eddy.Tests.Operators.Join.JoinTestKit;

namespace Eddy.Tests.Operators.Join;

/// <summary>
/// The semi/anti join against Flink's StreamingSemiAntiJoinOperator semantics: exact changelogs on hand-worked cases,
/// and the materialized output of random changelogs against LINQ's semi/anti join of the materialized inputs.
/// </summary>
public class SemiAntiJoinTests
{
    private static OperatorHarness<JoinInput<L, R>, L> Harness(bool anti, Func<L, R, bool>? residual = null, TimeSpan? ttl = null) =>
        new(new SemiAntiJoinOperator<int, L, R>(l => l.K, r => r.K, anti, residual, ttl), checkpointing: true);

    private static List<string> Push(OperatorHarness<JoinInput<L, R>, L> h, params (JoinInput<L, R>, long, RowKind)[] records)
    {
        h.Output.Clear();
        h.Elements(records);
        return h.Output.Records.Select(r => r.Kind.ShortString() + r.Value).ToList();
    }

    [Fact]
    public void Semi_join_emits_a_left_row_at_its_first_match_and_retracts_it_after_its_last()
    {
        var h = Harness(anti: false);
        Assert.Empty(Push(h, Left(new L(1, 0))));
        Assert.Equal(["+IL1.0"], Push(h, Right(new R(1, 5))));
        Assert.Empty(Push(h, Right(new R(1, 6))));
        Assert.Equal(["+IL1.1"], Push(h, Left(new L(1, 1))));
        Assert.Empty(Push(h, Right(new R(1, 5), RowKind.Delete)));
        Assert.Equal(["-DL1.0", "-DL1.1"], Push(h, Right(new R(1, 6), RowKind.Delete)));
        Assert.Empty(Push(h, Left(new L(1, 0), RowKind.Delete)));
        Assert.Empty(Push(h, Left(new L(1, 1), RowKind.Delete)));
        Assert.Equal(0, ((SemiAntiJoinOperator<int, L, R>)h.Operator).KeyCount);
    }

    [Fact]
    public void Anti_join_emits_an_unmatched_left_row_deletes_it_at_its_first_match_and_reinserts_it_after_its_last()
    {
        var h = Harness(anti: true);
        Assert.Equal(["+IL1.0"], Push(h, Left(new L(1, 0))));
        Assert.Equal(["-DL1.0"], Push(h, Right(new R(1, 5))));
        Assert.Empty(Push(h, Left(new L(1, 1))));
        Assert.Equal(["+IL1.0", "+IL1.1"], Push(h, Right(new R(1, 5), RowKind.Delete)));
        Assert.Equal(["+IL2.0"], Push(h, Left(new L(2, 0))));
    }

    [Fact]
    public void A_left_row_keeps_its_own_row_kind_and_duplicates_emit_once_per_copy()
    {
        var h = Harness(anti: false);
        Push(h, Right(new R(1, 5)));
        Assert.Equal(["+IL1.0", "+IL1.0"], Push(h, Left(new L(1, 0)), Left(new L(1, 0))));
        Assert.Equal(["-UL1.0", "+UL1.2"], Push(h, Left(new L(1, 0), RowKind.UpdateBefore), Left(new L(1, 2), RowKind.UpdateAfter)));
        Assert.Equal(["-DL1.0", "-DL1.2"], Push(h, Right(new R(1, 5), RowKind.Delete)));
    }

    [Fact]
    public void A_right_update_passes_its_row_kind_to_a_semi_join_but_not_to_an_anti_join()
    {
        // Flink's StreamingSemiAntiJoinOperator emits the left row with the right row's kind in a semi join
        // (+I/+U on the first match, -D/-U on the last), and +I/-D in an anti join.
        var semi = Harness(anti: false);
        Push(semi, Left(new L(1, 0)));
        Assert.Equal(["+IL1.0"], Push(semi, Right(new R(1, 5))));
        Assert.Equal(["-UL1.0", "+UL1.0"], Push(semi, Right(new R(1, 5), RowKind.UpdateBefore), Right(new R(1, 6), RowKind.UpdateAfter)));
        var anti = Harness(anti: true);
        Assert.Equal(["+IL1.0"], Push(anti, Left(new L(1, 0))));
        Assert.Equal(["-DL1.0"], Push(anti, Right(new R(1, 5))));
        Assert.Equal(["+IL1.0", "-DL1.0"], Push(anti, Right(new R(1, 5), RowKind.UpdateBefore), Right(new R(1, 6), RowKind.UpdateAfter)));
    }

    [Fact]
    public void State_ttl_drops_records_not_written_for_the_ttl_and_their_expiry_emits_nothing()
    {
        var h = Harness(anti: false, ttl: TimeSpan.FromSeconds(10));
        Push(h, Right(new R(1, 5)));
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(9_999));
        Assert.Equal(["+IL1.0"], Push(h, Left(new L(1, 0))));
        // The right row was written at 0: expired at 10 000; the left row it matched stays emitted (Flink: no retraction).
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(1));
        Assert.Empty(Push(h, Left(new L(1, 1))));
        // The left rows (written at 9 999 and 10 000) are live: a new right row matches both; L1.0 already had a match.
        Assert.Equal(["+IL1.1"], Push(h, Right(new R(1, 6))));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(30));
        var op = (SemiAntiJoinOperator<int, L, R>)h.Operator;
        Assert.Equal(0, op.KeyCount);
        Assert.Equal((0, 0), op.HeldRecords);
    }

    [Fact]
    public void State_ttl_of_an_anti_join_forgets_the_match_of_an_expired_right_row()
    {
        var h = Harness(anti: true, ttl: TimeSpan.FromSeconds(10));
        Push(h, Right(new R(1, 5)));
        Assert.Empty(Push(h, Left(new L(1, 0))));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(10));
        Assert.Equal(["+IL1.1"], Push(h, Left(new L(1, 1))));
    }

    [Fact]
    public void The_residual_condition_decides_what_matches()
    {
        var h = Harness(anti: false, residual: (l, r) => l.V < r.W);
        Push(h, Left(new L(1, 3)), Left(new L(1, 7)));
        Assert.Equal(["+IL1.3"], Push(h, Right(new R(1, 5))));
        Assert.Equal(["+IL1.7"], Push(h, Right(new R(1, 9))));
        // L1.3 still matches R1.9; deleting that takes the last match of both.
        Assert.Empty(Push(h, Right(new R(1, 5), RowKind.Delete)));
        Assert.Equal(["-DL1.3", "-DL1.7"], Push(h, Right(new R(1, 9), RowKind.Delete)));
    }

    [Theory]
    [InlineData(1, false, false)]
    [InlineData(2, false, true)]
    [InlineData(3, true, false)]
    [InlineData(4, true, true)]
    [InlineData(5, false, true)]
    [InlineData(6, true, true)]
    public void Random_changelogs_materialize_to_the_semi_or_anti_join_of_the_inputs(int seed, bool appendOnly, bool anti)
    {
        var log = RandomChangelog(seed, 300, appendOnly);
        Func<L, R, bool> on = (l, r) => l.K == r.K && (l.V + r.W) % 3 != 0;
        var h = Harness(anti, (l, r) => (l.V + r.W) % 3 != 0);
        h.Elements(log);
        var lefts = LeftBag(log);
        var rights = RightBag(log);
        var expected = lefts.Where(l => rights.Any(r => on(l, r)) != anti).Select(l => l.ToString()).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, Materialize(h.Output.Records.Select(r => (r.Value, r.Kind))));
    }

    [Fact]
    public void A_snapshot_restores_to_the_straight_result_at_any_cut()
    {
        var log = RandomChangelog(11, 120, appendOnly: false);
        foreach (bool anti in new[] { false, true })
        {
            var straight = Harness(anti);
            straight.Elements(log);
            var expected = straight.Output.Records.Select(r => r.Kind.ShortString() + r.Value).ToList();
            for (int cut = 0; cut <= log.Count; cut += 7)
            {
                var h = Harness(anti);
                h.Elements(log.Take(cut).ToList());
                var output = h.Output.Records.Select(r => r.Kind.ShortString() + r.Value).ToList();
                var snapshot = h.Snapshot(1);
                var restored = OperatorHarness<JoinInput<L, R>, L>.Restored(new SemiAntiJoinOperator<int, L, R>(l => l.K, r => r.K, anti, null), [snapshot]);
                restored.Elements(log.Skip(cut).ToList());
                output.AddRange(restored.Output.Records.Select(r => r.Kind.ShortString() + r.Value));
                Assert.Equal(expected, output);
            }
        }
    }
}
