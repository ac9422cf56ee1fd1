using Eddy.Runtime;

namespace Eddy.Tests;

public class PipelineTests
{
    private sealed class RunningCount : KeyedProcessFunction<int, int, (int Key, int Count)>
    {
        public override void ProcessElement(int value, KeyedContext<int> context, Collector<(int Key, int Count)> output)
        {
            var count = context.GetValueState<int>("count");
            count.Value++;
            output.Collect((context.CurrentKey, count.Value));
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void Keyed_running_count_is_the_same_at_every_parallelism(int parallelism)
    {
        var env = StreamEnvironment.Create().SetParallelism(parallelism);
        var input = Enumerable.Range(0, 10_000).ToArray();
        var sink = new CollectSink<(int Key, int Count)>();
        env.FromCollection(input)
            .Map(x => x * 3)
            .Filter(x => x % 2 == 0)
            .KeyBy(x => x % 7)
            .Process(() => new RunningCount())
            .SinkTo(sink);
        var result = env.Execute("count");
        Assert.Equal(JobStatus.Finished, result.Status);
        var finals = sink.Values.GroupBy(r => r.Key).ToDictionary(g => g.Key, g => g.Max(r => r.Count));
        var expected = input.Select(x => x * 3).Where(x => x % 2 == 0).GroupBy(x => x % 7).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(expected.OrderBy(kv => kv.Key), finals.OrderBy(kv => kv.Key));
        Assert.Equal(expected.Values.Sum(), sink.Values.Count);
    }
}
