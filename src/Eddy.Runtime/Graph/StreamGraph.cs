using Eddy.Runtime.Distributed;

namespace Eddy.Runtime;

/// <summary>The logical dataflow of a job: operators (nodes) and the edges between them, as the API built it.</summary>
public sealed class StreamGraph
{
    private readonly List<StreamNode> nodes = [];

    public IReadOnlyList<StreamNode> Nodes => nodes;

    internal T Add<T>(T node) where T : StreamNode
    {
        node.Id = nodes.Count + 1;
        nodes.Add(node);
        return node;
    }

    public IEnumerable<StreamEdge> OutEdges(StreamNode node) =>
        nodes.SelectMany(n => n.Inputs).Where(e => e.From == node);
}

/// <summary>An operator or source of the graph, with its parallelism and name.</summary>
public abstract class StreamNode
{
    public int Id { get; internal set; }

    public required string Name { get; set; }

    /// <summary>A stable id for state matching across job versions (defaults to one derived from the plan).</summary>
    public string? Uid { get; set; }

    /// <summary>Null: the job's default.</summary>
    public int? Parallelism { get; set; }

    public bool StartsNewChain { get; set; }

    public List<StreamEdge> Inputs { get; } = [];

    public abstract Type OutputType { get; }

    public virtual bool IsSource => false;

    /// <summary>
    /// An operator that makes its records of each input record in input order and hands each the source position of
    /// the record it came from (<see cref="Distributed.SourcePositions.Relay"/>), numbering them (ordinals) when it makes
    /// several of one: a repartition writer after it still knows each record's source partition and offset. A map, a
    /// projection and filter (zero or one of each), a window table function (one per window).
    /// </summary>
    public bool RelaysSourcePositions { get; init; }

    /// <summary>For sources: the <see cref="Source{T}"/> read.</summary>
    internal virtual object? SourceObject => null;

    /// <summary>For sources of partitioned topics (Kafka, repartition topics): the source, else null.</summary>
    public Distributed.IPartitionedSource? PartitionedSource => SourceObject as Distributed.IPartitionedSource;

    /// <summary>For sources: whether the input ends by itself.</summary>
    internal virtual bool IsBoundedSource => false;

    internal virtual (ISourceDriver Driver, IBatchInput Head) CreateDriver(int subtask, int parallelism, object output,
        JobConfig config, bool watermarkPerBatch) => throw new InvalidOperationException($"{this} is not a source");

    /// <summary>For sinks: the node has no main output.</summary>
    public virtual bool IsSink => false;

    /// <summary>A new operator instance for one subtask (sources: none, they are driven by the task).</summary>
    internal abstract StreamOperator? CreateOperator();

    /// <summary>Connects an instance's main output to its consumers (one or several, of type IBatchInput&lt;Out&gt;).</summary>
    internal abstract void SetOutput(object? instance, IReadOnlyList<object> consumers, ref object? sourceOutput);

    public override string ToString() => $"{Name} (#{Id})";
}

public sealed class SourceNode<T>(Source<T> source, WatermarkStrategy<T> strategy) : StreamNode
{
    public Source<T> Source { get; } = source;

    public WatermarkStrategy<T> Strategy { get; } = strategy;

    public override Type OutputType => typeof(T);

    public override bool IsSource => true;

    internal override object? SourceObject => Source;

    internal override bool IsBoundedSource => Source.IsBounded;

    internal override StreamOperator? CreateOperator() => null;

    internal override (ISourceDriver Driver, IBatchInput Head) CreateDriver(int subtask, int parallelism, object output,
        JobConfig config, bool watermarkPerBatch)
    {
        var head = (IBatchInput<T>)output;
        return (new SourceDriver<T>(this, subtask, parallelism, head, config, watermarkPerBatch), new HeadAdapter<T>(head));
    }

    internal override void SetOutput(object? instance, IReadOnlyList<object> consumers, ref object? sourceOutput) =>
        sourceOutput = Combine<T>(consumers);

    internal static IBatchInput<TOut> Combine<TOut>(IReadOnlyList<object> consumers) => consumers.Count switch
    {
        0 => DiscardingInput<TOut>.Instance,
        1 => (IBatchInput<TOut>)consumers[0],
        _ => new FanOutInput<TOut>(consumers.Cast<IBatchInput<TOut>>().ToArray()),
    };
}

public sealed class OperatorNode<TIn, TOut>(Func<StreamOperator<TIn, TOut>> factory) : StreamNode
{
    public override Type OutputType => typeof(TOut);

    public override bool IsSink => typeof(TOut) == typeof(NoOutput);

    internal override StreamOperator CreateOperator() => factory();

    internal override void SetOutput(object? instance, IReadOnlyList<object> consumers, ref object? sourceOutput) =>
        ((StreamOperator<TIn, TOut>)instance!).SetOutput(SourceNode<TOut>.Combine<TOut>(consumers));
}

/// <summary>
/// A connection from a node's output (its main output, or a side output by tag) to a consumer node. The edge knows
/// the record type, so it makes the writers and adapters of its type.
/// </summary>
public abstract class StreamEdge
{
    public required StreamNode From { get; init; }

    public required StreamNode To { get; init; }

    /// <summary>Null: forward when the parallelisms are equal, rebalance otherwise.</summary>
    public Partitioning? Partitioning { get; init; }

    /// <summary>The side output this edge carries, or null for the main output.</summary>
    public string? SideOutputTag { get; init; }

    /// <summary>
    /// For a hash edge: its key determines the key of the keyed exchange the records last went through upstream (a
    /// SinkUpsertMaterializer keyed by a primary key that holds a join's key columns), so all records of one key here
    /// come from the producer instance that owns one key there. Read only by <see cref="StageSplitter"/>: in a partition
    /// task, which owns whole key groups of that upstream exchange, such an edge stays inside the stage.
    /// </summary>
    public bool KeyImpliesUpstreamKey { get; init; }

    public abstract Type ElementType { get; }

    internal abstract IChannelWriter CreateWriter((InputGate, int)[] targets, Partitioning partitioning, SubtaskMetrics metrics, int maxParallelism);

    /// <summary>Adapts an untyped batch from a gate to the typed input of the chain's head.</summary>
    internal abstract Action<object> BatchDispatcher(object head, SubtaskMetrics metrics);

    internal abstract IBatchInput HeadAdapter(object head);

    /// <summary>
    /// Cuts this keyed edge for a stage split: the producer gets a repartition writer in place of the edge, the
    /// consumer reads the topic through a new source node instead. Returns both new nodes.
    /// </summary>
    internal abstract (StreamNode Writer, StreamNode Reader) Cut(IRepartitionExchange exchange, RepartitionTopic topic, int maxParallelism);
}

public sealed class StreamEdge<T> : StreamEdge
{
    /// <summary>For hash edges: the stable hash of each record's key.</summary>
    public Func<T, int>? KeyHash { get; init; }

    public override Type ElementType => typeof(T);

    internal override IChannelWriter CreateWriter((InputGate, int)[] targets, Partitioning partitioning, SubtaskMetrics metrics, int maxParallelism) =>
        new RecordWriter<T>(targets, partitioning, metrics, KeyHash, maxParallelism);

    internal override IBatchInput HeadAdapter(object head) => new HeadAdapter<T>((IBatchInput<T>)head);

    internal override (StreamNode Writer, StreamNode Reader) Cut(IRepartitionExchange exchange, RepartitionTopic topic, int maxParallelism)
    {
        var keyHash = KeyHash ?? throw new InvalidOperationException($"the keyed edge {From} -> {To} has no key");
        var sink = exchange.CreateWriter(topic, keyHash, maxParallelism);
        var writer = new OperatorNode<T, NoOutput>(() => new SinkOperator<T>(sink)) { Name = $"Repartition writer: {topic.Name}", Uid = topic.Name + "-writer" };
        writer.Inputs.Add(new StreamEdge<T> { From = From, To = writer, Partitioning = Runtime.Partitioning.Forward, SideOutputTag = SideOutputTag });
        var reader = new SourceNode<T>(exchange.CreateReader<T>(topic), WatermarkStrategy<T>.NoWatermarks())
        {
            Name = $"Repartition reader: {topic.Name}",
            Uid = topic.Name + "-reader",
        };
        int at = To.Inputs.IndexOf(this);
        To.Inputs[at] = new StreamEdge<T> { From = reader, To = To, Partitioning = Runtime.Partitioning.Forward };
        return (writer, reader);
    }

    internal override Action<object> BatchDispatcher(object head, SubtaskMetrics metrics)
    {
        var input = (IBatchInput<T>)head;
        return batch =>
        {
            var b = (Batch<T>)batch;
            metrics.RecordsIn += b.Count;
            input.OnBatch(b);
        };
    }
}
