using Eddy.Runtime;
using Eddy.Sql.Plan.Over;
using Eddy.Testing;

namespace Eddy.Sql.Tests;

/// <summary>
/// <c>table.exec.state.ttl</c> on OVER aggregations, driven by a manual processing-time clock. The expected rows are
/// worked by hand from Flink's over functions: ProcTimeUnboundedPrecedingFunction keeps its accumulator as state with
/// TTL (update on create and write: written at t, gone from t + TTL on); ProcTimeRowsBoundedPrecedingFunction and the
/// event-time functions extend KeyedProcessFunctionWithCleanupState with min retention = TTL and max = TTL * 3 / 2:
/// an access at now moves the key's one cleanup timer to now + max when the registered one is before now + min, and
/// the timer clears the key's state unless rows still wait for the watermark (then it is set again at now + max).
/// The rows are (key, value); the aggregate is SUM(value) over the window.
/// </summary>
public class OverStateTtlTests
{
    public struct Rec
    {
        public string K;
        public int V;
    }

    private const long Ttl = 10_000;

    private static OperatorHarness<Rec, string> Over(bool eventTime, bool rows, long? preceding, long ttlMs, bool checkpointing = false,
        IReadOnlyList<SubtaskSnapshot>? restoreFrom = null, long start = 0)
    {
        var op = new KeyedProcessOperator<string, Rec, string>(r => r.K, new OverAggregateFunction<Rec, string, long, string>(
            (r, acc) => acc + r.V, (r, acc) => acc - r.V, (r, acc) => $"[{r.K},{r.V},{acc}]", eventTime, rows, preceding, ttlMs));
        return restoreFrom is null ? new(op, start, checkpointing: checkpointing) : OperatorHarness<Rec, string>.Restored(op, restoreFrom, startProcessingTime: start);
    }

    private static List<string> At(OperatorHarness<Rec, string> h, long processingTime, string key, int value, long rowtime = EventTime.None)
    {
        h.SetProcessingTime(processingTime);
        h.Output.Clear();
        h.Element(new Rec { K = key, V = value }, rowtime);
        return h.Output.Values;
    }

    private static List<string> Watermark(OperatorHarness<Rec, string> h, long processingTime, long watermark)
    {
        h.SetProcessingTime(processingTime);
        h.Output.Clear();
        h.Watermark(watermark);
        return h.Output.Values;
    }

    private static int Keys(OperatorHarness<Rec, string> h) =>
        ((KeyedProcessOperator<string, Rec, string>)h.Operator).State.States.Max(s => s.KeyCount);

    [Fact]
    public void Unbounded_on_processing_time_expires_the_accumulator_ttl_after_its_last_write()
    {
        var h = Over(eventTime: false, rows: true, preceding: null, Ttl);
        Assert.Equal(["[a,1,1]"], At(h, 0, "a", 1));
        Assert.Equal(["[a,2,3]"], At(h, 9_999, "a", 2));
        // Written at 9.999 s: alive until 19.999 s.
        Assert.Equal(["[a,3,6]"], At(h, 19_998, "a", 3));
        // Written at 19.998 s: gone at 29.998 s.
        Assert.Equal(["[a,4,4]"], At(h, 29_998, "a", 4));
        h.SetProcessingTime(39_998);
        Assert.Equal(0, Keys(h));

        var kept = Over(eventTime: false, rows: true, preceding: null, 0);
        At(kept, 0, "a", 1);
        At(kept, 9_999, "a", 2);
        At(kept, 19_998, "a", 3);
        Assert.Equal(["[a,4,10]"], At(kept, 29_998, "a", 4));
    }

    [Fact]
    public void Bounded_rows_on_processing_time_are_cleaned_between_ttl_and_one_and_a_half_ttl_after_the_last_access()
    {
        // ROWS BETWEEN 1 PRECEDING AND CURRENT ROW.
        var h = Over(eventTime: false, rows: true, preceding: 1, Ttl);
        Assert.Equal(["[a,1,1]"], At(h, 0, "a", 1));          // cleanup timer at 15 s
        Assert.Equal(["[a,2,3]"], At(h, 4_000, "a", 2));      // 4 s + 10 s <= 15 s: kept
        // 14.999 s is more than the TTL after 4 s, but the state stays until its timer: the window still holds a2.
        Assert.Equal(["[a,3,5]"], At(h, 14_999, "a", 3));     // 24.999 s > 15 s: the timer moves to 29.999 s
        Assert.Equal(["[b,1,1]"], At(h, 29_998, "b", 1));     // the timer at 15 s was deleted: a is still there
        // 29.999 s: a's timer clears it; the next row starts an empty window.
        Assert.Equal(["[a,4,4]"], At(h, 29_999, "a", 4));

        var kept = Over(eventTime: false, rows: true, preceding: 1, 0);
        At(kept, 0, "a", 1);
        At(kept, 4_000, "a", 2);
        At(kept, 14_999, "a", 3);
        Assert.Equal(["[a,4,7]"], At(kept, 29_999, "a", 4));
    }

    [Fact]
    public void Unbounded_on_event_time_keeps_state_while_rows_wait_and_counts_every_watermark_as_an_access()
    {
        var h = Over(eventTime: true, rows: true, preceding: null, Ttl);
        Assert.Empty(At(h, 0, "a", 1, rowtime: 100));                 // cleanup timer at 15 s
        Assert.Equal(["[a,1,1]"], Watermark(h, 0, 100));
        Assert.Empty(At(h, 12_000, "a", 2, rowtime: 300));            // 22 s > 15 s: timer at 27 s
        Assert.Empty(Watermark(h, 12_000, 200));                      // fires Flink's timer: 22 s <= 27 s, kept
        Assert.Empty(Watermark(h, 20_000, 250));                      // 30 s > 27 s: timer at 35 s
        h.SetProcessingTime(27_000);                                  // that timer was deleted
        // 35 s: a2 still waits for the watermark, so the state stays and the timer is set at 50 s.
        h.SetProcessingTime(35_000);
        Assert.Equal(["[a,2,3]"], Watermark(h, 36_000, 300));         // 46 s <= 50 s: kept
        h.SetProcessingTime(50_000);                                  // nothing waits: cleared
        Assert.Empty(At(h, 50_000, "a", 4, rowtime: 400));
        Assert.Equal(["[a,4,4]"], Watermark(h, 50_000, 400));

        var kept = Over(eventTime: true, rows: true, preceding: null, 0);
        At(kept, 0, "a", 1, rowtime: 100);
        Watermark(kept, 0, 100);
        At(kept, 12_000, "a", 2, rowtime: 300);
        Watermark(kept, 36_000, 300);
        At(kept, 50_000, "a", 4, rowtime: 400);
        Assert.Equal(["[a,4,7]"], Watermark(kept, 50_000, 400));
    }

    [Fact]
    public void Bounded_rows_on_event_time_are_cleaned_after_the_last_access_once_no_row_waits()
    {
        // ROWS BETWEEN 1 PRECEDING AND CURRENT ROW on event time.
        var h = Over(eventTime: true, rows: true, preceding: 1, Ttl);
        Assert.Empty(At(h, 0, "a", 1, rowtime: 100));                 // timer at 15 s
        Assert.Equal(["[a,1,1]"], Watermark(h, 1_000, 100));          // 11 s <= 15 s: kept
        Assert.Empty(At(h, 6_000, "a", 2, rowtime: 200));             // 16 s > 15 s: timer at 21 s
        h.SetProcessingTime(21_000);                                  // a2 waits: kept, timer at 36 s
        Assert.Equal(["[a,2,3]"], Watermark(h, 30_000, 200));         // 40 s > 36 s: timer at 45 s
        h.SetProcessingTime(45_000);                                  // cleared, with the last processed time
        // A row at 150, before the forgotten last processed time (200), is not late any more.
        Assert.Empty(At(h, 45_000, "a", 5, rowtime: 150));
        Assert.Equal(["[a,5,5]"], Watermark(h, 45_000, 201));
    }

    [Fact]
    public void Bounded_range_windows_take_no_ttl_as_in_flink()
    {
        // RANGE BETWEEN 1 s PRECEDING on event time: Flink's RowTimeRangeBoundedPrecedingFunction has no TTL; only rows
        // inside the range are kept, whatever the processing time.
        var h = Over(eventTime: true, rows: false, preceding: 1_000, Ttl);
        At(h, 0, "a", 1, rowtime: 100);
        Watermark(h, 0, 100);
        Assert.Empty(At(h, 100_000, "a", 2, rowtime: 600));
        Assert.Equal(["[a,2,3]"], Watermark(h, 100_000, 600));
    }

    [Fact]
    public void Cleanup_timers_survive_a_checkpoint()
    {
        var h = Over(eventTime: false, rows: true, preceding: 1, Ttl, checkpointing: true);
        At(h, 0, "a", 1);
        At(h, 10_000, "b", 1);                                        // b: timer at 25 s
        At(h, 14_999, "a", 3);                                        // a: timer at 29.999 s
        var snapshot = h.Snapshot();
        var restored = Over(eventTime: false, rows: true, preceding: 1, Ttl, restoreFrom: [snapshot], start: 14_999);
        Assert.Equal(["[a,5,8]"], At(restored, 20_000, "a", 5));      // the window (a1, a3) came back; 30 s > 29.999 s: timer at 35 s
        Assert.Equal(["[b,2,2]"], At(restored, 25_000, "b", 2));      // b's restored timer cleared it at 25 s
        Assert.Equal(["[a,6,11]"], At(restored, 34_999, "a", 6));
        restored.SetProcessingTime(49_999);                           // a: timer at 49.999 s (moved at 34.999 s)
        Assert.Equal(["[a,7,7]"], At(restored, 49_999, "a", 7));
        restored.SetProcessingTime(100_000);
        Assert.Equal(0, Keys(restored));
    }

    [Fact]
    public async Task A_sql_over_with_a_ttl_runs_and_explains_it()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null) { Clock = new ManualClock(0) };
        foreach (var job in session.Execute("""
            SET 'parallelism.default' = '1';
            SET 'table.exec.state.ttl' = '1 h';
            CREATE TABLE o (k STRING, v INT, s INT) WITH ('connector' = 'print');
            INSERT INTO o SELECT k, v, SUM(v) OVER (PARTITION BY k ORDER BY p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
            FROM (SELECT k, v, PROCTIME() AS p FROM (VALUES ('a', 1), ('a', 2), ('b', 5), ('a', 3)) AS t(k, v));
            """))
        {
            var result = await job.Environment.ExecuteAsync(job.Name);
            Assert.Null(result.Failure);
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
        Assert.Equal(["+I[a, 1, 1]", "+I[a, 2, 3]", "+I[b, 5, 5]", "+I[a, 3, 6]"], lines);

        var explain = new StringWriter();
        new SqlSession(TestConnectors.Registry, explain, TextWriter.Null).Execute("""
            SET 'table.exec.state.ttl' = '1 h';
            CREATE TABLE t (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts) WITH ('connector' = 'datagen');
            EXPLAIN SELECT k, SUM(v) OVER (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) FROM t;
            """);
        Assert.Contains("stateTtl=[3600000 ms]", explain.ToString(), StringComparison.Ordinal);
    }
}
