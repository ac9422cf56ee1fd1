using Eddy.Runtime;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Plan.Rank;
using Eddy.Testing;
using Eddy.Windows;

namespace Eddy.Sql.Tests;

/// <summary>
/// <c>table.exec.state.ttl</c> on the non-windowed GROUP BY and on deduplication, driven by a manual processing-time
/// clock. The expected changelogs are worked by hand from Flink's table runtime: state TTL with update on create and
/// write, never returning expired state, on processing time (a key's state written at t is gone from t + TTL on);
/// GroupAggFunction and the deduplicate functions then start the key again (+I), and with a TTL they emit an
/// unchanged result (-U/+U) instead of nothing.
/// </summary>
public class StateTtlTests
{
    public struct Rec
    {
        public string K;
        public int V;
        public long T;

        public override readonly string ToString() => $"[{K},{V}]";
    }

    private static Rec R(string k, int v, long t = 0) => new() { K = k, V = v, T = t };

    private struct SumAggregate : IAggregateFunction<Rec, long, long>
    {
        public readonly long CreateAccumulator() => 0;
        public readonly long Add(Rec value, long accumulator) => accumulator + value.V;
        public readonly long Merge(long a, long b) => a + b;
        public readonly long GetResult(long accumulator) => accumulator;
    }

    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);

    private static OperatorHarness<Rec, string> GroupSum(long ttlMs, bool checkpointing = false) => new(
        new KeyedProcessOperator<string, Rec, string>(r => r.K,
            new GroupAggregateFunction<Rec, string, long, string>(default(SumAggregate), (k, sum) => $"[{k},{sum}]", emitsUpdates: true, stateTtlMs: ttlMs)),
        checkpointing: checkpointing);

    private static List<string> Push<TOut>(OperatorHarness<Rec, TOut> h, params (Rec Row, RowKind Kind)[] rows)
    {
        h.Output.Clear();
        h.Elements(rows.Select(r => (r.Row, 0L, r.Kind)));
        return h.Output.Records.Select(e => e.Kind.ShortString() + e.Value).ToList();
    }

    private static List<string> Push<TOut>(OperatorHarness<Rec, TOut> h, params Rec[] rows) => Push(h, rows.Select(r => (r, RowKind.Insert)).ToArray());

    private static int Keys<TIn, TOut>(OperatorHarness<TIn, TOut> h) =>
        ((KeyedProcessOperator<string, TIn, TOut>)h.Operator).State.States.Max(s => s.KeyCount);

    [Fact]
    public void Group_aggregate_starts_a_key_again_after_the_ttl_and_emits_unchanged_results()
    {
        var h = GroupSum((long)Ttl.TotalMilliseconds);
        Assert.Equal(["+I[a,1]"], Push(h, R("a", 1)));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
        Assert.Equal(["-U[a,1]", "+U[a,3]"], Push(h, R("a", 2)));
        // Written at 5 s: alive until 15 s. An unchanged sum is emitted (Flink: so that downstream state is refreshed).
        h.AdvanceProcessingTime(TimeSpan.FromMilliseconds(9_999));
        Assert.Equal(["-U[a,3]", "+U[a,3]"], Push(h, R("a", 0)));
        // Written at 14.999 s: gone at 24.999 s; the key starts from nothing.
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(10));
        Assert.Equal(["+I[a,5]", "+I[b,1]"], Push(h, R("a", 5), R("b", 1)));
        // Keys never seen again are freed by their timers.
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(11));
        Assert.Equal(0, Keys(h));

        // Without a TTL the same input keeps the key and emits nothing for an unchanged sum.
        var kept = GroupSum(0);
        Push(kept, R("a", 1));
        kept.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
        Push(kept, R("a", 2));
        kept.AdvanceProcessingTime(TimeSpan.FromMilliseconds(9_999));
        Assert.Empty(Push(kept, R("a", 0)));
        kept.AdvanceProcessingTime(TimeSpan.FromSeconds(10));
        Assert.Equal(["-U[a,3]", "+U[a,8]"], Push(kept, R("a", 5)));
    }

    [Fact]
    public void Group_aggregate_over_a_changelog_ignores_a_retraction_for_an_expired_key()
    {
        var h = new OperatorHarness<Rec, string>(new KeyedProcessOperator<string, Rec, string>(r => r.K,
            new RetractingGroupAggregateFunction<Rec, string, (long Sum, long Rows), string>(
                (r, acc) => (acc.Sum + r.V, acc.Rows + 1), (r, acc) => (acc.Sum - r.V, acc.Rows - 1), acc => acc.Rows,
                (k, acc) => $"[{k},{acc.Sum}]", emitsUpdates: true, stateTtlMs: (long)Ttl.TotalMilliseconds)));
        Assert.Equal(["+I[a,4]"], Push(h, (R("a", 4), RowKind.Insert)));
        h.AdvanceProcessingTime(Ttl);
        // The -U of the row that made the sum is for a key Flink no longer has: ignored; the +U starts it again.
        Assert.Equal(["+I[a,6]"], Push(h, (R("a", 4), RowKind.UpdateBefore), (R("a", 6), RowKind.UpdateAfter)));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(3));
        Assert.Equal(["-D[a,6]"], Push(h, (R("a", 6), RowKind.Delete)));
        Assert.Equal(0, Keys(h));
    }

    private static OperatorHarness<Rec, Rec> Dedup(RankStrategy strategy, long ttlMs, bool checkpointing = false) => new(
        new KeyedProcessOperator<string, Rec, Rec>(r => r.K,
            new DeduplicateFunction<Rec, string>(strategy, (x, y) => x.T.CompareTo(y.T), (x, y) => x.K == y.K && x.V == y.V, ttlMs)),
        checkpointing: checkpointing);

    [Fact]
    public void Deduplication_keeping_the_first_row_emits_a_key_again_once_its_state_expired()
    {
        var h = Dedup(RankStrategy.KeepFirstProctime, (long)Ttl.TotalMilliseconds);
        Assert.Equal(["+I[a,1]"], Push(h, R("a", 1)));
        // Later rows do not write the state: it expires 10 s after the first row.
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(6));
        Assert.Empty(Push(h, R("a", 2)));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(4));
        Assert.Equal(["+I[a,3]"], Push(h, R("a", 3)));
    }

    [Fact]
    public void Deduplication_keeping_the_last_row_on_processing_time_emits_equal_rows_with_a_ttl()
    {
        var h = Dedup(RankStrategy.KeepLastProctime, (long)Ttl.TotalMilliseconds);
        Assert.Equal(["+I[a,1]"], Push(h, R("a", 1)));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(6));
        Assert.Equal(["-U[a,1]", "+U[a,1]"], Push(h, R("a", 1)));
        // Every row writes the state: written at 6 s, alive at 15 s.
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(9));
        Assert.Equal(["-U[a,1]", "+U[a,2]"], Push(h, R("a", 2)));
        h.AdvanceProcessingTime(Ttl);
        Assert.Equal(["+I[a,3]"], Push(h, R("a", 3)));
        // Without a TTL an equal row emits nothing.
        var kept = Dedup(RankStrategy.KeepLastProctime, 0);
        Push(kept, R("a", 1));
        Assert.Empty(Push(kept, R("a", 1)));
    }

    [Fact]
    public void Deduplication_on_event_time_expires_from_the_last_replacement()
    {
        var h = Dedup(RankStrategy.KeepLastRowtime, (long)Ttl.TotalMilliseconds);
        Assert.Equal(["+I[a,1]"], Push(h, R("a", 1, t: 100)));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(4));
        Assert.Equal(["-U[a,1]", "+U[a,2]"], Push(h, R("a", 2, t: 200)));
        // An older row does not replace the kept one, so it does not write the state (written at 4 s).
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
        Assert.Empty(Push(h, R("a", 3, t: 50)));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
        // 14 s: expired; an older rowtime than the forgotten row's is a first row now.
        Assert.Equal(["+I[a,4]"], Push(h, R("a", 4, t: 10)));
    }

    [Fact]
    public void Expiry_times_survive_a_checkpoint()
    {
        var h = GroupSum((long)Ttl.TotalMilliseconds, checkpointing: true);
        Push(h, R("a", 1));
        h.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
        Push(h, R("b", 1));
        var snapshot = h.Snapshot();
        var restored = OperatorHarness<Rec, string>.Restored(new KeyedProcessOperator<string, Rec, string>(r => r.K,
            new GroupAggregateFunction<Rec, string, long, string>(default(SumAggregate), (k, sum) => $"[{k},{sum}]", emitsUpdates: true,
                stateTtlMs: (long)Ttl.TotalMilliseconds)), [snapshot], startProcessingTime: 5_000);
        restored.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
        // a (written at 0) is gone at 10 s, b (written at 5 s) is not.
        Assert.Equal(["+I[a,2]", "-U[b,1]", "+U[b,3]"], Push(restored, R("a", 2), R("b", 2)));
        restored.AdvanceProcessingTime(TimeSpan.FromSeconds(20));
        Assert.Equal(0, Keys(restored));
    }

    [Fact]
    public async Task A_sql_group_by_with_a_ttl_runs_and_emits_unchanged_results()
    {
        // The clock of a SQL session in tests does not move: nothing expires, but Flink's aggregation with a TTL emits
        // a -U/+U pair for an unchanged result (the rows adding 0).
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { Clock = new ManualClock(0) };
        foreach (var job in session.Execute("""
            SET 'parallelism.default' = '1';
            SET 'table.exec.state.ttl' = '1 h';
            CREATE TABLE o (k STRING, s INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, SUM(v) FROM (VALUES ('a', 1), ('a', 0), ('b', 2), ('a', 0)) AS t(k, v) GROUP BY k;
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            Assert.Null(result.Failure);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(["+I[a, 1]", "-U[a, 1]", "+U[a, 1]", "+I[b, 2]", "-U[a, 1]", "+U[a, 1]"], lines);
    }

    [Fact]
    public async Task The_state_ttl_hint_names_a_group_bys_input()
    {
        // As Flink's STATE_TTL for group aggregates: the hint names the aggregation's input (table, alias or view).
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { Clock = new ManualClock(0) };
        foreach (var job in session.Execute("""
            SET 'parallelism.default' = '1';
            CREATE TABLE o (k STRING, s INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT /*+ STATE_TTL('t' = '1 h') */ k, SUM(v) FROM (VALUES ('a', 1), ('a', 0)) AS t(k, v) GROUP BY k;
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            Assert.Null(result.Failure);
        }
        Assert.Equal(["+I[a, 1]", "-U[a, 1]", "+U[a, 1]"], output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
        var e = Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute("""
            CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');
            EXPLAIN SELECT /*+ STATE_TTL('t' = '1 h') */ k, COUNT(*) FROM t GROUP BY TUMBLE(ts, INTERVAL '1' MINUTE), k;
            """));
        Assert.Contains("not to a window aggregation", e.Message, StringComparison.Ordinal);
        var distinct = Assert.Throws<SqlParseException>(() => new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null).Execute("""
            CREATE TABLE t (k STRING, v INT) WITH ('connector' = 'datagen');
            EXPLAIN SELECT /*+ STATE_TTL('t' = '1 h') */ k, COUNT(DISTINCT v) FROM t GROUP BY k;
            """));
        Assert.Contains("STATE_TTL hint", distinct.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SELECT k, COUNT(DISTINCT v) FROM t GROUP BY k", "DISTINCT aggregate", 1, 1)]
    [InlineData("SELECT DISTINCT k FROM t", "GROUP BY without aggregates", 1, 1)]
    [InlineData("SELECT k, MAX(n) FROM (SELECT k, COUNT(*) AS n FROM t GROUP BY k) GROUP BY k", "over an updating input", 1, 1)]
    [InlineData("SELECT k, ARRAY_AGG(v) OVER (PARTITION BY k ORDER BY p) FROM t", "in an unbounded OVER on processing time", 1, 11)]
    public void What_eddy_cannot_expire_as_flink_does_is_refused_with_a_ttl(string query, string message, int line, int column)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute("""
            SET 'table.exec.state.ttl' = '1 h';
            CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), p AS PROCTIME(), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');
            """);
        var e = Assert.Throws<SqlParseException>(() => session.Execute("EXPLAIN " + query));
        Assert.Contains("'table.exec.state.ttl'", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal((line, column + 8), (e.Span.Line, e.Span.Column));
    }
}
