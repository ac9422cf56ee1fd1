using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Tests.Distributed;

/// <summary>
/// Where <see cref="StageSplitter"/> cuts a hash edge whose key implies the key of a keyed exchange upstream
/// (<see cref="DataStream{T}.KeyByWithinUpstreamKey{TKey}"/>, a SinkUpsertMaterializer keyed by a primary key that holds
/// its operator's key): inside the upstream operator's stage after a keyed exchange; cut like any hash edge when no
/// keyed exchange comes before it. Planning only (<see cref="StageSplitter.PlanOnly"/>).
/// </summary>
public sealed class StageSplitterTests
{
    /// <summary>A source that says it reads a topic of four partitions; never run.</summary>
    private sealed class Topic : Source<long>, IPartitionedSource
    {
        public override bool IsBounded => false;

        public override SourceReader<long> CreateReader(SourceReaderContext context) => throw new InvalidOperationException("planning only");

        public int PartitionCount() => 4;

        public string Describe() => "'events'";

        public IReadOnlyList<string> Topics() => ["events"];
    }

    private sealed class Pass : KeyedProcessFunction<long, long, long>
    {
        public override void ProcessElement(long value, KeyedContext<long> context, Collector<long> output) => output.Collect(value);
    }

    [Fact]
    public void An_edge_keyed_within_the_upstream_key_stays_in_the_stage_of_the_keyed_operator_before_it()
    {
        var env = StreamEnvironment.Create(new JobConfig());
        env.FromSource(new Topic(), name: "events")
            .KeyBy(v => v % 10).Process(() => new Pass(), "ByTens")
            .KeyByWithinUpstreamKey(v => v).Process(() => new Pass(), "ByValue")
            .ForEach(_ => { }, "Out");
        var stages = StageSplitter.Split(env.Graph, "job", StageSplitter.PlanOnly);
        Assert.Equal(2, stages.Count);
        Assert.Equal("stage 1: Repartition reader: job-2-ByTens-repartition -> ByTens -> ByValue -> Out", stages[1].ToString());
        Assert.Equal(["job-2-ByTens-repartition"], stages[1].Inputs.Select(t => t.Name));
    }

    [Fact]
    public void An_edge_keyed_within_the_upstream_key_after_only_a_source_is_cut_as_any_keyed_edge()
    {
        // No keyed exchange before it: a partition task holds one source partition, whose key the graph does not know.
        var env = StreamEnvironment.Create(new JobConfig());
        env.FromSource(new Topic(), name: "events")
            .KeyByWithinUpstreamKey(v => v).Process(() => new Pass(), "ByValue")
            .ForEach(_ => { }, "Out");
        var stages = StageSplitter.Split(env.Graph, "job", StageSplitter.PlanOnly);
        Assert.Equal(2, stages.Count);
        Assert.Equal("stage 1: Repartition reader: job-2-ByValue-repartition -> ByValue -> Out", stages[1].ToString());
    }
}
