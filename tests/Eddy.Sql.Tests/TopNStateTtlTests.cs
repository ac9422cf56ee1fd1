using Eddy.Runtime;
using Eddy.Sql.Plan.Rank;
using Eddy.Testing;

namespace Eddy.Sql.Tests;

/// <summary>
/// <c>table.exec.state.ttl</c> on Top-N over an append-only input, driven by a manual processing-time clock. The
/// expected changelogs are worked by hand from Flink's AppendOnlyTopNFunction and AppendOnlyFirstNFunction:
/// AppendOnlyTopNFunction keeps a map state sort key → rows whose entries each expire the TTL after their last write,
/// and ranks from a heap buffer of it, cached per key and dropped the TTL after it was loaded (Guava's
/// expireAfterWrite), so entries expired in the state still rank until the buffer is loaded again;
/// AppendOnlyFirstNFunction keeps a count with state TTL, written by the first N rows only. Rows are named; the
/// ranking is by value, descending.
/// </summary>
public class TopNStateTtlTests
{
    public struct Rec
    {
        public string K;
        public int V;
        public string N;
    }

    private const long Ttl = 10_000;

    private static readonly Comparison<Rec> ByValueDescending = (a, b) => b.V.CompareTo(a.V);

    private static string Output(Rec r, long rank) => rank == 0 ? r.N : $"{r.N}#{rank}";

    private static OperatorHarness<Rec, string> TopN(long n, bool withRowNumber, bool checkpointing = false,
        IReadOnlyList<SubtaskSnapshot>? restoreFrom = null, long start = 0)
    {
        var op = new KeyedProcessOperator<string, Rec, string>(r => r.K,
            new AppendOnlyTopNWithTtlFunction<Rec, string, string>(ByValueDescending, 1, n, withRowNumber, Output, Ttl));
        return restoreFrom is null ? new(op, start, checkpointing: checkpointing) : OperatorHarness<Rec, string>.Restored(op, restoreFrom, startProcessingTime: start);
    }

    private static List<string> At(OperatorHarness<Rec, string> h, long processingTime, string name, int value, string key = "a")
    {
        h.SetProcessingTime(processingTime);
        h.Output.Clear();
        h.Element(new Rec { K = key, V = value, N = name });
        return h.Output.Records.Select(e => e.Kind.ShortString() + e.Value).ToList();
    }

    private static int Keys(OperatorHarness<Rec, string> h) =>
        ((KeyedProcessOperator<string, Rec, string>)h.Operator).State.States.Max(s => s.KeyCount);

    [Fact]
    public void Top_n_ranks_from_its_cached_buffer_until_the_ttl_after_loading_then_from_the_unexpired_state()
    {
        var h = TopN(2, withRowNumber: false);
        Assert.Equal(["+Ip5"], At(h, 0, "p5", 5));                    // buffer loaded at 0
        Assert.Equal(["+Ip3"], At(h, 1_000, "p3", 3));
        Assert.Equal(["-Dp3", "+Ip4"], At(h, 9_000, "p4", 4));
        // 10 s: the buffer expired; loaded again, without p5 (written at 0). p1 takes the free place, and nothing
        // retracts p5, as in Flink.
        Assert.Equal(["+Ip1"], At(h, 10_000, "p1", 1));
        Assert.Equal(["-Dp1", "+Ip2"], At(h, 15_000, "p2", 2));
        // 19 s: p4's entry expired in the state, but the buffer loaded at 10 s still holds it: q0 is not in the top 2.
        Assert.Empty(At(h, 19_000, "q0", 0));
        // 20 s: loaded again, without p4.
        Assert.Equal(["+Ir0"], At(h, 20_000, "r0", 0));
        h.SetProcessingTime(40_000);
        Assert.Equal(0, Keys(h));

        var kept = new OperatorHarness<Rec, string>(new KeyedProcessOperator<string, Rec, string>(r => r.K,
            new AppendOnlyTopNFunction<Rec, string, string>(ByValueDescending, 1, 2, false, Output)));
        At(kept, 0, "p5", 5);
        At(kept, 1_000, "p3", 3);
        At(kept, 9_000, "p4", 4);
        Assert.Empty(At(kept, 10_000, "p1", 1));
    }

    [Fact]
    public void With_the_row_number_the_groups_reached_past_rank_n_stay_and_move_up_when_earlier_ones_expire()
    {
        var h = TopN(2, withRowNumber: true);
        Assert.Equal(["+Ix#1"], At(h, 0, "x", 5));
        Assert.Equal(["+Iy#2"], At(h, 5_000, "y", 3));
        // w takes rank 2; y goes to rank 3 but its sort key was reached, so it stays in the buffer and the state.
        Assert.Equal(["-Uy#2", "+Uw#2"], At(h, 6_000, "w", 4));
        // 10 s: loaded again without x (written at 0): w is at rank 1 and y at rank 2 when v comes in first.
        Assert.Equal(["-Uw#1", "+Uv#1", "-Uy#2", "+Uw#2"], At(h, 10_000, "v", 6));
    }

    [Fact]
    public void The_buffer_cache_is_not_checkpointed_so_a_restored_key_loads_its_unexpired_state()
    {
        var h = TopN(2, withRowNumber: false, checkpointing: true);
        At(h, 0, "p5", 5);
        At(h, 1_000, "p3", 3);
        At(h, 9_000, "p4", 4);
        At(h, 10_000, "p1", 1);
        At(h, 15_000, "p2", 2);
        h.SetProcessingTime(19_000);
        var snapshot = h.Snapshot();
        // Uninterrupted, the cached buffer still ranks p4 at 19 s (see above); restored, the key loads its state, where
        // p4 (written at 9 s) has expired.
        var restored = TopN(2, withRowNumber: false, restoreFrom: [snapshot], start: 19_000);
        Assert.Equal(["+Iq0", "-Dq0", "+Iq1"], [.. At(restored, 19_000, "q0", 0), .. At(restored, 19_000, "q1", 1)]);
        restored.SetProcessingTime(40_000);
        Assert.Equal(0, Keys(restored));
    }

    [Fact]
    public void First_n_on_processing_time_starts_a_key_again_the_ttl_after_its_nth_row()
    {
        var h = new OperatorHarness<Rec, string>(new KeyedProcessOperator<string, Rec, string>(r => r.K,
            new AppendOnlyFirstNFunction<Rec, string, string>(1, 2, true, Output, Ttl)));
        Assert.Equal(["+Ix#1"], At(h, 0, "x", 0));
        Assert.Equal(["+Iy#2"], At(h, 1_000, "y", 0));
        Assert.Empty(At(h, 5_000, "z", 0));                            // not written: the count stays from 1 s
        Assert.Empty(At(h, 10_999, "u", 0));
        Assert.Equal(["+Iv#1"], At(h, 11_000, "v", 0));
        h.SetProcessingTime(30_000);
        Assert.Equal(0, Keys(h));
    }

    [Fact]
    public void First_n_counts_and_their_expiry_survive_a_checkpoint()
    {
        KeyedProcessOperator<string, Rec, string> FirstN() => new(r => r.K, new AppendOnlyFirstNFunction<Rec, string, string>(1, 2, false, Output, Ttl));
        var h = new OperatorHarness<Rec, string>(FirstN(), checkpointing: true);
        At(h, 0, "x", 0);
        At(h, 1_000, "y", 0);
        At(h, 2_000, "b1", 0, key: "b");
        var snapshot = h.Snapshot();
        var restored = OperatorHarness<Rec, string>.Restored(FirstN(), [snapshot], startProcessingTime: 2_000);
        Assert.Empty(At(restored, 5_000, "z", 0));                    // a has its 2 rows
        Assert.Equal(["+Ib2"], At(restored, 5_000, "b2", 0, key: "b"));
        Assert.Equal(["+Iv"], At(restored, 11_000, "v", 0));         // a's count, written at 1 s, expired at 11 s
        restored.SetProcessingTime(30_000);
        Assert.Equal(0, Keys(restored));
    }

    private static KeyedProcessOperator<string, Rec, string> Top1() =>
        new(r => r.K, new FastTop1WithTtlFunction<Rec, string, string>(ByValueDescending, (r, _) => r.N, Ttl));

    [Fact]
    public void Top_1_expires_its_cached_row_the_ttl_after_it_was_put_unless_a_checkpoint_wrote_it_to_the_state()
    {
        var h = new OperatorHarness<Rec, string>(Top1(), checkpointing: true);
        Assert.Equal(["+Ix"], At(h, 0, "x", 5));                       // cached at 0
        Assert.Empty(At(h, 2_000, "y", 3));
        h.SetProcessingTime(9_000);
        var snapshot = h.Snapshot();                                   // x written to the state at 9 s
        // 10 s: the cache entry expired; the state (alive until 19 s) still has x, and is read without being cached.
        Assert.Empty(At(h, 10_000, "v", 4));
        Assert.Empty(At(h, 18_999, "u", 1));
        Assert.Equal(["+It"], At(h, 19_000, "t", 2));
        h.SetProcessingTime(100_000);
        Assert.Equal(0, Keys(h));

        // Without a checkpoint the state is never written: the key starts again when its cache entry expires.
        var withoutCheckpoints = new OperatorHarness<Rec, string>(Top1());
        At(withoutCheckpoints, 0, "x", 5);
        Assert.Equal(["+Iv"], At(withoutCheckpoints, 10_000, "v", 4));

        // Restored, the cache is empty and the key ranks against the state from the checkpoint.
        var restored = OperatorHarness<Rec, string>.Restored(Top1(), [snapshot], startProcessingTime: 9_000);
        Assert.Empty(At(restored, 9_500, "v", 4));
        Assert.Equal(["-Ux", "+Uw"], At(restored, 9_600, "w", 7));
        Assert.Equal(["-Uw", "+Us"], At(restored, 19_599, "s", 8));   // w cached at 9.6 s
        restored.SetProcessingTime(100_000);
        Assert.Equal(0, Keys(restored));
    }

    [Fact]
    public async Task A_sql_top_n_with_a_ttl_runs()
    {
        // The clock of a SQL session in tests does not move: nothing expires, and the changelog is the one without a TTL.
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { Clock = new ManualClock(0) };
        foreach (var job in session.Execute("""
            SET 'parallelism.default' = '1';
            SET 'table.exec.state.ttl' = '1 h';
            CREATE TABLE o (k STRING, v INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, v FROM (SELECT k, v, ROW_NUMBER() OVER (PARTITION BY k ORDER BY v DESC) AS rn
                FROM (VALUES ('a', 1), ('a', 3), ('a', 2)) AS t(k, v)) WHERE rn <= 2;
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            Assert.Null(result.Failure);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(["+I[a, 1]", "+I[a, 3]", "-D[a, 1]", "+I[a, 2]"], lines);
    }

    // RetractableTopNFunction with a TTL: the sorted map (sort key → count) is written by every row of the key; the data
    // state (sort key → rows) entry of a sort key only when a row of that sort key is added or retracted.
    private static readonly Func<Rec, Rec, bool> SameRec = (a, b) => a.K == b.K && a.V == b.V && a.N == b.N;

    private static KeyedProcessOperator<string, Rec, string> Retractable(long n, bool withRowNumber) =>
        new(r => r.K, new RetractableTopNWithTtlFunction<Rec, string, string>(ByValueDescending, SameRec, 1, n, withRowNumber, Output, Ttl));

    private static List<string> Retract(OperatorHarness<Rec, string> h, long processingTime, string name, int value, string key = "a")
    {
        h.SetProcessingTime(processingTime);
        h.Output.Clear();
        h.Element(new Rec { K = key, V = value, N = name }, kind: RowKind.Delete);
        return h.Output.Records.Select(e => e.Kind.ShortString() + e.Value).ToList();
    }

    /// <summary>The first steps of the retractable cases below, up to w at 10.5 s (see there).</summary>
    private static void RetractableUpToW(OperatorHarness<Rec, string> h)
    {
        Assert.Equal(["+Ix#1"], At(h, 0, "x", 5));
        Assert.Equal(["+Iy#2"], At(h, 1_000, "y", 3));
        Assert.Equal(["-Uy#2", "+Uz#2", "+Iy#3"], At(h, 8_000, "z", 4));
        // 10.5 s: x's rows (written at 0) expired; the sorted map (written at 8 s) still counts sort key 5. The walk
        // after w's sort key meets 5, finds no rows, drops it and does not count it; z and y each move one rank
        // down from where the walk is, so Flink retracts z at rank 1 and inserts y at rank 3 again.
        Assert.Equal(["-Uz#1", "+Uw#1", "-Uy#2", "+Uz#2", "+Iy#3"], At(h, 10_500, "w", 6));
    }

    [Fact]
    public void Retractable_top_n_drops_a_sort_key_whose_rows_expired_when_the_walk_reaches_it_and_ignores_a_retraction_of_it()
    {
        var h = new OperatorHarness<Rec, string>(Retractable(3, withRowNumber: true));
        RetractableUpToW(h);
        // 12 s: y's rows (written at 1 s) expired: its retraction drops sort key 3 and emits nothing.
        Assert.Empty(Retract(h, 12_000, "y", 3));
        // y again: a new row at rank 3 (6 and 4 before it).
        Assert.Equal(["+Iy#3"], At(h, 13_000, "y", 3));
        // 19 s: z's rows (8 s) expired, but sort keys before the new row's are counted from the sorted map: v is rank 4.
        Assert.Empty(At(h, 19_000, "v", 2));
        // u goes after 6; the walk then drops 4 (no rows) and moves y and v down.
        Assert.Equal(["-Uy#2", "+Uu#2", "-Uv#3", "+Uy#3"], At(h, 19_500, "u", 5));
        // The sorted map was last written at 19.5 s: from 29.5 s on the key starts again, and its memory is freed.
        h.SetProcessingTime(29_500);
        Assert.Equal(0, Keys(h));
        Assert.Equal(["+Ir#1"], At(h, 30_000, "r", 1));
    }

    [Fact]
    public void Retractable_top_n_without_the_row_number_emits_nothing_for_a_retraction_whose_rows_expired()
    {
        var h = new OperatorHarness<Rec, string>(Retractable(2, withRowNumber: false));
        Assert.Equal(["+Ip"], At(h, 0, "p", 5));
        Assert.Equal(["+Iq"], At(h, 1_000, "q", 3));
        Assert.Empty(At(h, 2_000, "r", 1));                             // rank 3
        // 10.5 s: p's rows expired (the sorted map, written at 2 s, has not): q's retraction counts p's sort key
        // without reading it, and r moves up to rank 2.
        Assert.Equal(["-Dq", "+Ir"], Retract(h, 10_500, "q", 3));
        // p's retraction finds no rows: its sort key leaves the sorted map, nothing is emitted (p stays downstream).
        Assert.Empty(Retract(h, 11_000, "p", 5));
        // s takes rank 1 and r (written at 2 s, alive until 12 s) rank 2: nothing leaves the top 2.
        Assert.Equal(["+Is"], At(h, 11_500, "s", 4));
    }

    [Fact]
    public void Retractable_top_n_fails_as_flink_does_when_a_sort_key_has_fewer_rows_left_than_its_count()
    {
        var h = new OperatorHarness<Rec, string>(Retractable(2, withRowNumber: false));
        Assert.Equal(["+Ia1"], At(h, 0, "a1", 5));
        Assert.Equal(["+Ib"], At(h, 1_000, "b", 3));
        // 10.5 s: a1's rows expired; a2 starts new rows for sort key 5 while its count goes on to 2, so a2 is rank 2.
        Assert.Equal(["-Db", "+Ia2"], At(h, 10_500, "a2", 5));
        // c is rank 1; the row pushed out is sort key 5's second, which Flink reads past the end of its one row.
        var e = Assert.Throws<InvalidOperationException>(() => At(h, 12_000, "c", 6));
        Assert.Contains("IndexOutOfBoundsException", e.Message, StringComparison.Ordinal);
        Assert.Contains("'table.exec.state.ttl'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Retractable_top_n_state_and_its_expiry_times_survive_a_checkpoint()
    {
        var h = new OperatorHarness<Rec, string>(Retractable(3, withRowNumber: true), checkpointing: true);
        RetractableUpToW(h);
        At(h, 10_600, "b1", 7, key: "b");
        var snapshot = h.Snapshot();
        var restored = OperatorHarness<Rec, string>.Restored(Retractable(3, withRowNumber: true), [snapshot], startProcessingTime: 10_600);
        // As uninterrupted (above): y's rows still expire at 11 s, sort key 5 is gone, z's rows expire at 18 s.
        Assert.Empty(Retract(restored, 12_000, "y", 3));
        Assert.Equal(["+Iy#3"], At(restored, 13_000, "y", 3));
        Assert.Empty(At(restored, 19_000, "v", 2));
        Assert.Equal(["-Uy#2", "+Uu#2", "-Uv#3", "+Uy#3"], At(restored, 19_500, "u", 5));
        // b's sorted map, written at 10.6 s, lives until 20.6 s; written again at 20 s, it has expired at 30.6 s.
        Assert.Equal(["-Ub1#1", "+Ub2#1", "+Ib1#2"], At(restored, 20_000, "b2", 8, key: "b"));
        Assert.Equal(["+Ib3#1"], At(restored, 30_600, "b3", 1, key: "b"));
        restored.SetProcessingTime(60_000);
        Assert.Equal(0, Keys(restored));
    }

    [Fact]
    public async Task A_sql_top_n_over_a_group_by_with_a_ttl_runs_as_flinks_retract_strategy()
    {
        // The clock does not move: nothing expires, and the changelog is the one worked by hand in RankTests for
        // the same query without a TTL.
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { Clock = new ManualClock(0) };
        foreach (var job in session.Execute("""
            SET 'parallelism.default' = '1';
            SET 'table.exec.state.ttl' = '1 h';
            CREATE TABLE out_t (k STRING, cnt BIGINT, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, cnt, rn FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt ASC) AS rn FROM
                (SELECT k, COUNT(*) AS cnt FROM (VALUES ('a'), ('b'), ('a'), ('c'), ('b'), ('a')) AS t(k) GROUP BY k)) WHERE rn <= 2;
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            Assert.Null(result.Failure);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal([
            "+I[a, 1, 1]",
            "+I[b, 1, 2]",
            "-U[a, 1, 1]", "+U[b, 1, 1]", "-D[b, 1, 2]",
            "+I[a, 2, 2]",
            "-U[a, 2, 2]", "+U[c, 1, 2]",
            "-U[b, 1, 1]", "+U[c, 1, 1]", "-U[c, 1, 2]", "+U[a, 2, 2]",
            "-U[a, 2, 2]", "+U[b, 2, 2]",
        ], lines);
    }

    // UpdatableTopNFunction with a TTL (N > 1 under the UpdateFastStrategy): the unique key is the name; rows show their
    // value. The ranking comes from a buffer cached per key for the TTL after it was loaded; the state, row key →
    // (row, inner rank) with state TTL, is written with the changed rows at checkpoints only.
    private static string OutputWithValue(Rec r, long rank) => rank == 0 ? $"{r.N}{r.V}" : $"{r.N}{r.V}#{rank}";

    private static KeyedProcessOperator<string, Rec, string> Updatable(long n, bool withRowNumber) =>
        new(r => r.K, new UpdatableTopNWithTtlFunction<Rec, string, string>(ByValueDescending, (a, b) => a.N == b.N, 1, n, withRowNumber, OutputWithValue, Ttl));

    private static void UpdatableUpToC(OperatorHarness<Rec, string> h)
    {
        Assert.Equal(["+Ia5#1"], At(h, 0, "a", 5));                   // buffer loaded at 0
        Assert.Equal(["+Ib3#2"], At(h, 1_000, "b", 3));
        h.SetProcessingTime(2_000);
        h.Snapshot();                                                  // a5 and b3 written at 2 s
        Assert.Equal(["-Ub3#2", "+Ub4#2"], At(h, 3_000, "b", 4));
        Assert.Equal(["-Ua5#1", "+Uc6#1", "-Ub4#2", "+Ua5#2", "+Ib4#3"], At(h, 4_000, "c", 6));
    }

    [Fact]
    public void Updatable_top_n_reloads_the_rows_of_the_last_checkpoints_when_its_cached_buffer_expires()
    {
        var h = new OperatorHarness<Rec, string>(Updatable(3, withRowNumber: true), checkpointing: true);
        UpdatableUpToC(h);
        // 10 s: the buffer (loaded at 0) expired; loaded again from the state: a5 and b3 (written at 2 s). c and b's
        // update to 4 were never checkpointed: forgotten, and not retracted. a moves up within rank 1.
        Assert.Equal(["-Ua5#1", "+Ua7#1"], At(h, 10_000, "a", 7));
        Assert.Equal(["+Id2#3"], At(h, 10_500, "d", 2));
        // The state (2 s) is gone at 12 s, the buffer loaded at 10 s at 20 s: then the key's memory is freed.
        h.SetProcessingTime(20_000);
        Assert.Equal(0, Keys(h));
    }

    [Fact]
    public void Updatable_top_n_without_checkpoints_starts_a_key_again_when_its_cached_buffer_expires()
    {
        var h = new OperatorHarness<Rec, string>(Updatable(2, withRowNumber: false));
        Assert.Equal(["+Ia5"], At(h, 0, "a", 5));
        Assert.Equal(["+Ib3"], At(h, 1_000, "b", 3));
        Assert.Equal(["-Db3", "+Ic4"], At(h, 2_000, "c", 4));
        Assert.Equal(["-Ua5", "+Ua6"], At(h, 9_999, "a", 6));
        Assert.Equal(["+Ie1"], At(h, 10_000, "e", 1));                // nothing was written: an empty buffer
        Assert.Equal(["+Ia7"], At(h, 11_000, "a", 7));                // a is a new row now
    }

    [Fact]
    public void Updatable_top_n_restored_loads_the_checkpointed_rows_with_their_expiry_times()
    {
        var h = new OperatorHarness<Rec, string>(Updatable(3, withRowNumber: true), checkpointing: true);
        UpdatableUpToC(h);
        var snapshot = h.Snapshot();                                   // at 4 s: b4 and c6 written; a5 stays from 2 s
        var restored = OperatorHarness<Rec, string>.Restored(Updatable(3, withRowNumber: true), [snapshot], startProcessingTime: 4_000);
        // Loaded at 5 s: c6, a5, b4. d sorts after the full top 3.
        Assert.Empty(At(restored, 5_000, "d", 1));
        // b moves from rank 3 to 1: -U of the row it passes, -U of its old version, +U itself, then each row one down.
        Assert.Equal(["-Uc6#1", "-Ub4#3", "+Ub8#1", "-Ua5#2", "+Uc6#2", "+Ua5#3"], At(restored, 6_000, "b", 8));
        // 15 s: the buffer loaded at 5 s expired; the state rows (a5 at 2 s, b4 and c6 at 4 s; b8 never written) too.
        Assert.Equal(["+Ie0#1"], At(restored, 15_000, "e", 0));
        restored.SetProcessingTime(60_000);
        Assert.Equal(0, Keys(restored));
    }

    [Fact]
    public void Updatable_top_n_stops_where_flinks_reload_would_depend_on_its_state_backends_order()
    {
        var h = new OperatorHarness<Rec, string>(Updatable(3, withRowNumber: false), checkpointing: true);
        Assert.Equal(["+Ia5"], At(h, 0, "a", 5));                      // inner rank 1
        Assert.Equal(["+Ib5"], At(h, 0, "b", 5));                      // inner rank 2
        h.SetProcessingTime(1_000);
        h.Snapshot();
        // 10 s: loaded again (a and b written at 1 s); b's new version keeps its inner rank 2 and is written at 10.5 s.
        Assert.Equal(["-Ub5", "+Ub5"], At(h, 10_000, "b", 5));
        h.SetProcessingTime(10_500);
        h.Snapshot();
        // 20 s: loaded again without a (expired at 11 s): b alone, still inner rank 2; c joins sort key 5 as its
        // second row, inner rank 2 too, and is written at 20.1 s.
        Assert.Equal(["+Ic5"], At(h, 20_000, "c", 5));
        h.SetProcessingTime(20_100);
        var snapshot = h.Snapshot();
        // Restored, the key loads b and c with the same inner rank: Flink keeps one, by its state backend's order.
        var restored = OperatorHarness<Rec, string>.Restored(Updatable(3, withRowNumber: false), [snapshot], startProcessingTime: 20_100);
        var e = Assert.Throws<InvalidOperationException>(() => At(restored, 20_200, "d", 9));
        Assert.Contains("same inner rank", e.Message, StringComparison.Ordinal);
        Assert.Contains("'table.exec.state.ttl'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sql_update_fast_top_n_with_a_ttl_runs_as_flinks_updatable_top_n()
    {
        // The clock does not move: nothing expires, and the changelog is the one worked by hand in RankTests for the
        // same query without a TTL.
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { Clock = new ManualClock(0) };
        foreach (var job in session.Execute("""
            SET 'parallelism.default' = '1';
            SET 'table.exec.state.ttl' = '1 h';
            CREATE TABLE out_t (k STRING, cnt BIGINT, rn BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT k, cnt, rn FROM (SELECT k, cnt, ROW_NUMBER() OVER (ORDER BY cnt DESC) AS rn FROM
                (SELECT k, COUNT(*) AS cnt FROM (VALUES ('a'), ('b'), ('a'), ('c'), ('b'), ('a')) AS t(k) GROUP BY k)) WHERE rn <= 2;
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            Assert.Null(result.Failure);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal([
            "+I[a, 1, 1]", "+I[b, 1, 2]",
            "-U[a, 1, 1]", "+U[a, 2, 1]",
            "-U[b, 1, 2]", "+U[b, 2, 2]",
            "-U[a, 2, 1]", "+U[a, 3, 1]",
        ], lines);
    }
}
