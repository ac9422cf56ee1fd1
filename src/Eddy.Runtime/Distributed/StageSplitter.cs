using System.Text;

namespace Eddy.Runtime.Distributed;

/// <summary>
/// Makes a repartition topic's writer and reader: the transport of a keyed exchange between processes (Kafka's in
/// <c>Eddy.Connectors.Kafka/Repartition</c>). The runtime knows only this contract.
/// </summary>
public interface IRepartitionExchange
{
    /// <summary>
    /// A sink that writes each record to the partition of <paramref name="topic"/> that owns its key group (key
    /// groups split by range over the partitions), with its source position; watermarks as control records to
    /// every partition.
    /// </summary>
    Sink<T> CreateWriter<T>(RepartitionTopic topic, Func<T, int> keyHash, int maxParallelism);

    /// <summary>A source over <paramref name="topic"/>: records in, watermark = minimum over the upstream source partitions.</summary>
    Source<T> CreateReader<T>(RepartitionTopic topic);
}

/// <summary>
/// A keyed exchange cut between two stages: the internal topic <c>&lt;job&gt;-&lt;operator uid&gt;-repartition</c>,
/// its partition count (null: the upstream source topic's, looked up when the job runs), the stages it connects and
/// the source whose partitions feed it.
/// </summary>
public sealed record RepartitionTopic(string Name, string KeyedOperator, int? Partitions, int UpstreamStage, int DownstreamStage)
{
    /// <summary>The upstream source as a partitioned source, or null when it is not one.</summary>
    public required IPartitionedSource? UpstreamSource { get; init; }

    /// <summary>
    /// The upstream sources of every repartition topic its downstream stage reads (this one's included): the stage's
    /// partition task p reads partition p of each, so they share one partition count and one key group → partition
    /// mapping (co-partitioned). Empty: this topic's upstream source alone.
    /// </summary>
    public IReadOnlyList<IPartitionedSource?> CoPartitionedSources { get; init; } = [];

    /// <summary>
    /// The partition count: the configured one, else the largest partition count of the co-partitioned topics' source
    /// topics (the upstream source topic's, for a stage reading one repartition topic).
    /// </summary>
    public int ResolvePartitions() => Partitions ?? (CoPartitionedSources.Count > 1
        ? CoPartitionedSources.Max(s => s?.PartitionCount() ?? throw new InvalidOperationException($"repartition topic '{Name}': an upstream source does not say how many partitions it has"))
        : UpstreamSourcePartitions());

    /// <summary>How many partitions the upstream source topic has: the reader's watermark waits for each of them.</summary>
    public int UpstreamSourcePartitions() => UpstreamSource?.PartitionCount()
        ?? throw new InvalidOperationException($"repartition topic '{Name}': the upstream source does not say how many partitions it has");
}

/// <summary>One stage of a distributed job: an ordinary job graph whose inputs are topics and whose outputs are sinks or repartition writers.</summary>
public sealed class Stage
{
    internal Stage(int index, StreamGraph graph, IReadOnlyList<RepartitionTopic> inputs, IReadOnlyList<RepartitionTopic> outputs)
    {
        Index = index;
        Graph = graph;
        Inputs = inputs;
        Outputs = outputs;
    }

    public int Index { get; }

    /// <summary>The stage's operators, every one at parallelism 1 (a stage runs once per partition task).</summary>
    public StreamGraph Graph { get; }

    /// <summary>The repartition topics the stage reads (none: it reads the user's topics).</summary>
    public IReadOnlyList<RepartitionTopic> Inputs { get; }

    /// <summary>The repartition topics the stage writes.</summary>
    public IReadOnlyList<RepartitionTopic> Outputs { get; }

    /// <summary>
    /// Starts the stage as an ordinary job; with <see cref="JobConfig.PartitionTask"/> set, as the partition task
    /// of that partition (what a worker does for each partition it owns).
    /// </summary>
    public JobExecution Start(string jobName, JobConfig config) => new JobExecution(jobName, Graph, config).Start();

    public override string ToString() => $"stage {Index}: " + string.Join(" -> ", Graph.Nodes.Select(n => n.Name));
}

/// <summary>A job that cannot be split into stages (located by the operators involved).</summary>
public sealed class StageSplitException(string message) : Exception(message);

/// <summary>
/// Splits a job graph into stages at its keyed exchanges. A stage runs as one pipeline of parallelism 1 per
/// partition of its input topic, so a keyed exchange inside a stage would see only that partition's records: every
/// hash edge (a key that may differ from how the input topic is partitioned) becomes a repartition topic, and the
/// other edges stay in memory. Conservative by design: an exchange on a key the input is already partitioned by is
/// cut too (an extra hop, never a wrong answer), because the graph does not say which key a topic is partitioned by.
/// The one exception is what the graph does say: a hash edge marked <see cref="StreamEdge.KeyImpliesUpstreamKey"/>
/// after a keyed exchange stays in the stage of the operator before it.
/// </summary>
public static class StageSplitter
{
    /// <summary>
    /// Splits <paramref name="graph"/> (which it takes apart: pass a freshly built one) for job
    /// <paramref name="jobName"/>; <paramref name="partitions"/> is <c>table.exec.repartition.partitions</c> (null: the
    /// source topic's partition count).
    /// </summary>
    public static IReadOnlyList<Stage> Split(StreamGraph graph, string jobName, IRepartitionExchange exchange, int? partitions = null, int maxParallelism = KeyGroups.DefaultMaxParallelism)
    {
        ArgumentNullException.ThrowIfNull(graph);
        ArgumentNullException.ThrowIfNull(exchange);
        if (partitions is { } p && (p < 1 || p > maxParallelism))
            throw new StageSplitException($"'table.exec.repartition.partitions' = {p}: must be within 1..{maxParallelism} (pipeline.max-parallelism): a partition is a range of key groups");
        var nodes = graph.Nodes.ToList();
        // A hash edge whose key implies the key of a keyed exchange upstream of it (a SinkUpsertMaterializer keyed by a
        // primary key holding a join's key) stays in the stage: its records of one key all come from the partition task
        // that owns that upstream key, and keyed state at parallelism 1 holds every key group.
        var cuts = nodes.SelectMany(n => n.Inputs).Where(e => e.Partitioning == Partitioning.Hash && !(e.KeyImpliesUpstreamKey && AfterKeyedExchange(e.From))).ToList();
        var upstreamSources = new Dictionary<StreamEdge, StreamNode>();
        foreach (var e in cuts)
        {
            upstreamSources[e] = SourceBehind(e.From) ?? throw new StageSplitException(
                $"the keyed exchange into '{e.To.Name}' follows '{e.From.Name}', not a source: a repartition topic needs each record's " +
                "source partition and offset (to drop a replay), which only a writer after the source and operators that relay them (a projection, " +
                "a filter, a window table function, a join's input tagging) has; not supported across processes yet");
        }

        // Stages: what stays connected once the keyed exchanges are cut, in the order of the graph.
        var parent = nodes.ToDictionary(n => n, n => n);
        StreamNode Find(StreamNode n) => parent[n] == n ? n : parent[n] = Find(parent[n]);
        foreach (var n in nodes)
            foreach (var e in n.Inputs.Where(e => !cuts.Contains(e)))
                parent[Find(e.From)] = Find(n);
        var roots = new List<StreamNode>();
        foreach (var n in nodes)
        {
            var r = Find(n);
            if (!roots.Contains(r)) roots.Add(r);
        }
        // Upstream stages first: a stage comes after every stage that feeds it.
        var order = new List<StreamNode>();
        var pending = new List<StreamNode>(roots);
        while (pending.Count > 0)
        {
            var ready = pending.First(r => cuts.Where(c => Find(c.To) == r).All(c => order.Contains(Find(c.From))));
            order.Add(ready);
            pending.Remove(ready);
        }
        int StageOf(StreamNode n) => order.IndexOf(Find(n));

        var added = order.Select(_ => (Readers: new List<StreamNode>(), Writers: new List<StreamNode>(),
            Inputs: new List<RepartitionTopic>(), Outputs: new List<RepartitionTopic>())).ToList();
        var usedNames = new HashSet<string>(StringComparer.Ordinal);
        // A stage reading several repartition topics (a join's two sides) reads partition p of each: co-partitioned.
        var coPartitioned = cuts.GroupBy(e => StageOf(e.To)).ToDictionary(g => g.Key,
            g => (IReadOnlyList<IPartitionedSource?>)[.. g.Select(e => upstreamSources[e].SourceObject as IPartitionedSource)]);
        foreach (var e in cuts)
        {
            string uid = e.To.Uid is { Length: > 0 } u ? u : $"{e.To.Id}-{e.To.Name}";
            // A node with several keyed inputs gets a topic per input.
            if (cuts.Count(c => c.To == e.To) > 1) uid += "-" + e.From.Name;
            string name = TopicName($"{jobName}-{uid}-repartition");
            if (!usedNames.Add(name)) throw new StageSplitException($"two keyed exchanges would share the repartition topic '{name}'");
            var topic = new RepartitionTopic(name, e.To.Name, partitions, StageOf(e.From), StageOf(e.To))
            {
                UpstreamSource = upstreamSources[e].SourceObject as IPartitionedSource,
                CoPartitionedSources = coPartitioned[StageOf(e.To)],
            };
            var (writer, reader) = e.Cut(exchange, topic, maxParallelism);
            added[topic.UpstreamStage].Writers.Add(writer);
            added[topic.UpstreamStage].Outputs.Add(topic);
            added[topic.DownstreamStage].Readers.Add(reader);
            added[topic.DownstreamStage].Inputs.Add(topic);
        }

        var stages = new List<Stage>();
        for (int i = 0; i < order.Count; i++)
        {
            var g = new StreamGraph();
            foreach (var n in added[i].Readers.Concat(nodes.Where(n => StageOf(n) == i)).Concat(added[i].Writers))
            {
                n.Parallelism = 1;
                g.Add(n);
            }
            stages.Add(new Stage(i, g, added[i].Inputs, added[i].Outputs));
        }
        return stages;
    }

    /// <summary>
    /// Whether <paramref name="node"/>'s records went through a keyed exchange: the node reads a hash edge, or follows
    /// one through a chain of single-input forward edges. Without one (a chain from a source), a partition task's records
    /// are those of a source partition, whose partitioning the graph does not know: an edge keyed within an upstream key
    /// has no upstream key to be within, and is cut as any hash edge.
    /// </summary>
    private static bool AfterKeyedExchange(StreamNode node)
    {
        while (!node.IsSource)
        {
            if (node.Inputs.Any(e => e.Partitioning == Partitioning.Hash && !e.KeyImpliesUpstreamKey)) return true;
            if (node.Inputs.Count != 1 || node.Inputs[0].SideOutputTag is not null
                || node.Inputs[0].Partitioning is not (null or Partitioning.Forward or Partitioning.Hash)) return false;
            node = node.Inputs[0].From;
        }
        return false;
    }

    /// <summary>
    /// The source whose records reach <paramref name="node"/> with their source positions: the node itself, or the
    /// source behind a chain of operators that relay them (a projection and filter, a window table function, a join's
    /// input tagging); null when there is none.
    /// </summary>
    private static StreamNode? SourceBehind(StreamNode node)
    {
        while (!node.IsSource)
        {
            // Null partitioning is forward within a stage (every node at parallelism 1, so chained).
            if (!node.RelaysSourcePositions || node.Inputs.Count != 1 || node.Inputs[0].Partitioning is not (null or Partitioning.Forward)
                || node.Inputs[0].SideOutputTag is not null) return null;
            node = node.Inputs[0].From;
        }
        return node;
    }

    /// <summary>For plans that are shown, never run (<c>eddy explain --distributed</c>): its writers and readers refuse to start.</summary>
    public static IRepartitionExchange PlanOnly { get; } = new PlanOnlyExchange();

    private sealed class PlanOnlyExchange : IRepartitionExchange
    {
        public Sink<T> CreateWriter<T>(RepartitionTopic topic, Func<T, int> keyHash, int maxParallelism) => new Refused<T>(topic);

        public Source<T> CreateReader<T>(RepartitionTopic topic) => new RefusedSource<T>(topic);

        private sealed class RefusedSource<T>(RepartitionTopic topic) : Source<T>
        {
            public override bool IsBounded => false;

            public override SourceReader<T> CreateReader(SourceReaderContext context) =>
                throw new InvalidOperationException($"repartition topic '{topic.Name}' belongs to a plan made to be shown, not run");
        }

        private sealed class Refused<T>(RepartitionTopic topic) : Sink<T>
        {
            public override SinkWriter<T> CreateWriter(SinkWriterContext context) =>
                throw new InvalidOperationException($"repartition topic '{topic.Name}' belongs to a plan made to be shown, not run");
        }
    }

    /// <summary>Kafka's topic name rules: [a-zA-Z0-9._-], at most 249 characters; anything else becomes '_'.</summary>
    public static string TopicName(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        if (sb.Length > 249) sb.Length = 249;
        return sb.ToString();
    }

    /// <summary>What <c>eddy explain --distributed</c> prints: each stage, its operators and the repartition topics between them.</summary>
    public static string Describe(IReadOnlyList<Stage> stages)
    {
        var sb = new StringBuilder();
        foreach (var s in stages)
        {
            sb.Append("stage ").Append(s.Index).Append(": ").AppendLine(string.Join(" -> ", s.Graph.Nodes.Select(n => n.Name)));
            foreach (var t in s.Inputs)
                sb.Append("  reads  ").Append(t.Name).Append(" (").Append(PartitionsText(t)).Append(") from stage ").Append(t.UpstreamStage).AppendLine();
            if (s.Inputs.Count > 1)
                sb.AppendLine("  co-partitioned: its partition task p reads partition p of each topic it reads (one partition count, one key group → partition mapping)");
            foreach (var t in s.Outputs)
                sb.Append("  writes ").Append(t.Name).Append(" (").Append(PartitionsText(t)).Append(", keyed for '").Append(t.KeyedOperator)
                    .Append("') to stage ").Append(t.DownstreamStage).AppendLine();
        }
        return sb.ToString();

        static string PartitionsText(RepartitionTopic t) => t.Partitions is { } n ? $"{n} partitions"
            : t.CoPartitionedSources.Count > 1
                ? $"partitions: the most of the source topics {string.Join(", ", t.CoPartitionedSources.Select(s => s?.Describe()).Distinct())}"
                : $"partitions: as the source topic{(t.UpstreamSource is { } src ? " " + src.Describe() : "")}";
    }
}
