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
}
