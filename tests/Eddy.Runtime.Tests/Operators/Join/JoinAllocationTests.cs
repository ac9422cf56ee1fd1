using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Testing;
using static Eddy.Tests.Operators.Join.JoinTestKit;

namespace Eddy.Tests.Operators.Join;

/// <summary>In steady state the join operators allocate nothing per record: state slots, key lists and batches are reused.</summary>
public class JoinAllocationTests
{
    private static void Open<TOut>(StreamOperator<JoinInput<L, R>, TOut> op, ManualClock clock)
    {
        op.SetOutput(DiscardingInput<TOut>.Instance);
        op.Setup(new OperatorContext("join", 0, 1, KeyGroups.DefaultMaxParallelism, new ProcessingTimers(clock), new SubtaskMetrics("join", 0)));
        op.Open();
    }

    private static void Push(IBatchInput<JoinInput<L, R>> op, Func<int, (JoinInput<L, R> Value, long Ts, RowKind Kind)> record, int count)
    {
        var batch = BatchPool<JoinInput<L, R>>.Rent();
        for (int i = 0; i < count; i++)
        {
            var (v, ts, kind) = record(i);
            batch.Add(v, ts, kind);
        }
        op.OnBatch(batch);
        op.Flush();
    }

    [Fact]
    public void Regular_join_allocates_nothing_per_record_in_steady_state()
    {
        var op = new StreamingJoinOperator<int, L, R, O>(l => l.K, r => r.K, JoinType.Full, null, Combine, TimeSpan.FromHours(1));
        Open(op, new ManualClock());
        Push(op, i => Left(new L(i, 0)), 500);
        void Round()
        {
            Push(op, i => Right(new R(i % 500, i / 500)), 1000);
            Push(op, i => Right(new R(i % 500, i / 500), RowKind.Delete), 1000);
        }
        for (int i = 0; i < 20; i++) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        const int rounds = 100;
        for (int i = 0; i < rounds; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < rounds * 2000, $"{allocated} bytes for {rounds * 2000} records");
        Assert.Equal((500, 0), op.HeldRecords);
    }

    [Fact]
    public void Interval_join_allocates_nothing_per_record_in_steady_state()
    {
        var op = new IntervalJoinOperator<int, L, R, O>(l => l.K, r => r.K, JoinType.Left, -10, 5, eventTime: true, null, Combine);
        Open(op, new ManualClock());
        long t = 1000;
        void Round()
        {
            long at = t;
            Push(op, i => i % 2 == 0 ? Left(new L(i % 200, 0), ts: at + i % 7) : Right(new R(i % 200, 0), ts: at + i % 7), 1000);
            t += 20;
            op.OnWatermark(t - 10);
        }
        for (int i = 0; i < 50; i++) Round();
        long before = GC.GetAllocatedBytesForCurrentThread();
        const int rounds = 200;
        for (int i = 0; i < rounds; i++) Round();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < rounds * 1000, $"{allocated} bytes for {rounds * 1000} records");
    }
}
