using Eddy.Joins;
using Eddy.Runtime;
using static Eddy.Tests.Operators.Join.JoinTestKit;

namespace Eddy.Tests.Operators.Join;

/// <summary>
/// Whole jobs through the typed entry points: two sources, tagged, unioned and keyed into one join operator, at
/// parallelism 1 and 3, against a nested-loop join.
/// </summary>
public class JoinJobTests
{
    private static (L[] Lefts, R[] Rights) Inputs()
    {
        var rnd = new Random(17);
        // V and W are the rows' event times: ascending per source with ±20 ms of disorder.
        var lefts = Enumerable.Range(0, 3000).Select(i => new L(rnd.Next(40), 1000 + i * 4 + rnd.Next(-20, 21))).ToArray();
        var rights = Enumerable.Range(0, 2000).Select(i => new R(rnd.Next(40), 1000 + i * 6 + rnd.Next(-20, 21))).ToArray();
        return (lefts, rights);
    }

    private static List<string> Run(int parallelism, Func<DataStream<L>, DataStream<R>, DataStream<O>> join)
    {
        var (lefts, rights) = Inputs();
        var env = StreamEnvironment.Create().SetParallelism(parallelism);
        var sink = new CollectSink<O>();
        var left = env.FromCollection(lefts, WatermarkStrategy<L>.ForBoundedOutOfOrderness(TimeSpan.FromMilliseconds(40)).WithTimestampAssigner(l => l.V));
        var right = env.FromCollection(rights, WatermarkStrategy<R>.ForBoundedOutOfOrderness(TimeSpan.FromMilliseconds(40)).WithTimestampAssigner(r => r.W));
        join(left, right).SinkTo(sink);
        var result = env.Execute("join");
        Assert.Equal(JobStatus.Finished, result.Status);
        return Materialize(sink.Records.Select(r => (r.Value, r.Kind)));
    }

    [Theory]
    [InlineData(JoinType.Inner)]
    [InlineData(JoinType.Left)]
    [InlineData(JoinType.Full)]
    public void Regular_join_job_at_parallelism_1_and_3_equals_a_nested_loop_join(JoinType type)
    {
        var (lefts, rights) = Inputs();
        var expected = NestedLoopJoin(lefts, rights, type, (l, r) => l.K == r.K && l.V < r.W);
        DataStream<O> Job(DataStream<L> l, DataStream<R> r) => l.Join(r, x => x.K, y => y.K, type, (x, y) => x.V < y.W, Combine);
        Assert.Equal(expected, Run(1, Job));
        Assert.Equal(expected, Run(3, Job));
    }

    [Theory]
    [InlineData(JoinType.Inner)]
    [InlineData(JoinType.Right)]
    public void Interval_join_job_at_parallelism_1_and_3_equals_a_nested_loop_join(JoinType type)
    {
        var (lefts, rights) = Inputs();
        var expected = NestedLoopJoin(lefts, rights, type, (l, r) => l.K == r.K && l.V >= r.W - 30 && l.V <= r.W + 15);
        DataStream<O> Job(DataStream<L> l, DataStream<R> r) => l.IntervalJoin(r, x => x.K, y => y.K, type,
            TimeSpan.FromMilliseconds(-30), TimeSpan.FromMilliseconds(15), null, Combine);
        Assert.Equal(expected, Run(1, Job));
        Assert.Equal(expected, Run(3, Job));
    }
}
