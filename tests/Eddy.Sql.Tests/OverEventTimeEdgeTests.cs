using Eddy.Runtime;
using Eddy.Sql.Plan.Over;
using Eddy.Testing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Two edges of Flink's event-time OVER functions, driven by explicit watermarks. Expected rows are worked by hand
/// from Flink's code (derivations in the comments): the bounded functions (RowTimeRows/RangeBoundedPrecedingFunction)
/// read a missing lastTriggeringTs as 0 and keep a row only when rowtime > lastTriggeringTs, while the unbounded ones
/// compare with the watermark; RowTimeRangeBoundedPrecedingFunction registers, for every kept row whose
/// rowtime + range + 1 is after the current cleanupTs (or with none), an event-time timer at
/// rowtime + (long)(range × 1.5) + 1 that becomes the cleanupTs, never deleting earlier ones; in onTimer a firing at or
/// after cleanupTs clears all state (rows, accumulator, lastTriggeringTs, cleanupTs), any other firing processes the
/// rows of its time if any and then sets lastTriggeringTs to its time. Timers fire in time order when the watermark
/// reaches them. Rows are (key, value); the aggregate is SUM(value).
/// </summary>
public class OverEventTimeEdgeTests
{
    public struct Rec
    {
        public string K;
        public int V;
    }

    private static OperatorHarness<Rec, string> Over(bool rows, long? preceding, bool checkpointing = false, IReadOnlyList<SubtaskSnapshot>? restoreFrom = null)
    {
        var op = new KeyedProcessOperator<string, Rec, string>(r => r.K, new OverAggregateFunction<Rec, string, long, string>(
            (r, acc) => acc + r.V, (r, acc) => acc - r.V, (r, acc) => $"[{r.K},{r.V},{acc}]", eventTime: true, rows, preceding));
        return restoreFrom is null ? new(op, 0, checkpointing: checkpointing) : OperatorHarness<Rec, string>.Restored(op, restoreFrom);
    }

    private static List<string> Row(OperatorHarness<Rec, string> h, string key, int value, long rowtime)
    {
        h.Output.Clear();
        h.Element(new Rec { K = key, V = value }, rowtime);
        return h.Output.Values;
    }

    private static List<string> Watermark(OperatorHarness<Rec, string> h, long watermark)
    {
        h.Output.Clear();
        h.Watermark(watermark);
        return h.Output.Values;
    }

    private static int Keys(OperatorHarness<Rec, string> h) =>
        ((KeyedProcessOperator<string, Rec, string>)h.Operator).State.States.Max(s => s.KeyCount);

    [Theory]
    [InlineData(true, 1L)]        // ROWS BETWEEN 1 PRECEDING AND CURRENT ROW
    [InlineData(false, 1_000L)]   // RANGE BETWEEN INTERVAL '1' SECOND PRECEDING AND CURRENT ROW
    public void Bounded_windows_drop_rows_at_or_before_the_epoch_for_a_key_without_state(bool rows, long preceding)
    {
        var h = Over(rows, preceding);
        // No state: lastTriggeringTs reads as 0, and 0 > 0 and -5 > 0 are false: both late.
        Assert.Empty(Row(h, "a", 1, rowtime: 0));
        Assert.Empty(Row(h, "a", 2, rowtime: -5));
        Assert.Equal(0, Keys(h));
        // 1 > 0: kept, fired at watermark 10 alone.
        Assert.Empty(Row(h, "a", 3, rowtime: 1));
        Assert.Equal(["[a,3,3]"], Watermark(h, 10));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Unbounded_windows_keep_rows_before_the_epoch_while_the_watermark_is_behind(bool rows)
    {
        // Unbounded: a row is kept when its time is after the watermark, which starts at Long.MIN_VALUE.
        var h = Over(rows, preceding: null);
        Assert.Empty(Row(h, "a", 1, rowtime: 0));
        Assert.Empty(Row(h, "a", 2, rowtime: -5));
        // Processed in time order: -5 (sum 2), then 0 (sum 3).
        Assert.Equal(["[a,2,2]", "[a,1,3]"], Watermark(h, 10));
    }

    [Fact]
    public void Bounded_range_cleanup_forgets_the_last_processed_time_so_an_older_row_is_processed_again()
    {
        // RANGE 1000 ms.
        var h = Over(rows: false, preceding: 1_000);
        // Kept (100 > 0): timer 100; cleanupTs none -> timer and cleanupTs at 100 + 1500 + 1 = 1601.
        Assert.Empty(Row(h, "a", 1, rowtime: 100));
        Assert.Equal(["[a,1,1]"], Watermark(h, 100));          // fires 100: sum 1; lastTriggeringTs 100
        Assert.Empty(Watermark(h, 1_600));
        Assert.Empty(Row(h, "a", 2, rowtime: 50));             // 50 <= 100: late
        Assert.Empty(Watermark(h, 1_601));                     // fires 1601 = cleanupTs: state cleared
        Assert.Equal(0, Keys(h));
        // No state: 50 > 0, kept; timer 50; cleanupTs 50 + 1500 + 1 = 1551.
        Assert.Empty(Row(h, "a", 3, rowtime: 50));
        // Fires 50 (sum 3, a fresh accumulator), then 1551 = cleanupTs: cleared again.
        Assert.Equal(["[a,3,3]"], Watermark(h, 1_602));
        Assert.Equal(0, Keys(h));
        // 60 > 0: kept; without the cleanup at 1551 its window would hold a3 (60 - 50 <= 1000): sum 7.
        Assert.Empty(Row(h, "a", 4, rowtime: 60));
        Assert.Equal(["[a,4,4]"], Watermark(h, 1_603));
    }

    [Fact]
    public void An_earlier_range_cleanup_timer_still_fires_and_moves_the_last_processed_time()
    {
        var h = Over(rows: false, preceding: 1_000);
        Assert.Empty(Row(h, "a", 1, rowtime: 100));            // timer 100; cleanup 1601
        // 700 + 1001 = 1701 > 1601: a new cleanup timer at 700 + 1501 = 2201 (cleanupTs); the one at 1601 stays.
        Assert.Empty(Row(h, "a", 2, rowtime: 700));
        // Fires 100 (sum 1), 700 (100 is 600 before: kept, sum 3), 1601 (< cleanupTs 2201: lastTriggeringTs 1601).
        Assert.Equal(["[a,1,1]", "[a,2,3]"], Watermark(h, 1_601));
        Assert.Empty(Row(h, "a", 3, rowtime: 1_500));          // 1500 <= 1601: late
        // 1650 + 1001 = 2651 > 2201: cleanup timer at 1650 + 1501 = 3151 (cleanupTs).
        Assert.Empty(Row(h, "a", 4, rowtime: 1_650));
        // Fires 1650: 100 is 1550 before (> 1000, retracted), 700 is 950 before (kept): 3 - 1 + 4 = 6.
        Assert.Equal(["[a,4,6]"], Watermark(h, 1_650));
        Assert.Empty(Watermark(h, 2_201));                     // 2201 < 3151: lastTriggeringTs 2201
        Assert.Empty(Row(h, "a", 5, rowtime: 2_200));          // 2200 <= 2201: late
        Assert.Empty(Watermark(h, 3_151));                     // cleared
        Assert.Empty(Row(h, "a", 6, rowtime: 1_000));          // kept; cleanup 2501
        Assert.Equal(["[a,6,6]"], Watermark(h, 3_152));        // fires 1000 (sum 6), then 2501: cleared
        Assert.Equal(0, Keys(h));
    }

    [Fact]
    public void Range_cleanup_timers_and_the_last_processed_time_survive_a_checkpoint()
    {
        var h = Over(rows: false, preceding: 1_000, checkpointing: true);
        Row(h, "a", 1, rowtime: 100);                          // timer 100; cleanup 1601
        Row(h, "a", 2, rowtime: 700);                          // cleanup 2201 (cleanupTs); 1601 stays
        Assert.Equal(["[a,1,1]", "[a,2,3]"], Watermark(h, 1_601));   // lastTriggeringTs 1601
        Row(h, "a", 4, rowtime: 1_650);                        // cleanup 3151 (cleanupTs); 2201 stays
        var snapshot = h.Snapshot();
        var restored = Over(rows: false, preceding: 1_000, restoreFrom: [snapshot]);
        Assert.Empty(Row(restored, "a", 3, rowtime: 1_500));   // 1500 <= 1601: late
        Assert.Equal(["[a,4,6]"], Watermark(restored, 1_650)); // as above: 3 - 1 + 4
        // 2100 > 1650: kept; 2100 + 1001 = 3101 <= 3151: no new cleanup timer.
        Assert.Empty(Row(restored, "a", 6, rowtime: 2_100));
        // Fires 2100: 700 is 1400 before (retracted), 1650 kept: 6 - 2 + 6 = 10; then 2201: lastTriggeringTs 2201.
        Assert.Equal(["[a,6,10]"], Watermark(restored, 2_201));
        Assert.Empty(Row(restored, "a", 7, rowtime: 2_150));   // 2150 <= 2201: late
        // 2300 + 1001 = 3301 > 3151: cleanup 2300 + 1501 = 3801 (cleanupTs); 3151 stays.
        Assert.Empty(Row(restored, "a", 8, rowtime: 2_300));
        // Fires 2300: 1650 (650 before) and 2100 kept: 10 + 8 = 18; then 3151 < 3801: lastTriggeringTs 3151.
        Assert.Equal(["[a,8,18]"], Watermark(restored, 3_151));
        Assert.Empty(Row(restored, "a", 9, rowtime: 3_000));   // 3000 <= 3151: late
        Assert.Empty(Watermark(restored, 3_801));              // cleared
        Assert.Equal(0, Keys(restored));
        Assert.Empty(Row(restored, "a", 10, rowtime: 3_000));  // kept (no state): a fresh window
        Assert.Equal(["[a,10,10]"], Watermark(restored, 3_802));
    }
}
