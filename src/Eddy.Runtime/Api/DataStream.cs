using Eddy.Runtime;

namespace Eddy;

/// <summary>Where a stream comes from: a node's main output or one of its side outputs.</summary>
public readonly record struct StreamProducer(StreamNode Node, string? SideOutputTag);

/// <summary>A stream of <typeparamref name="T"/> in a job being built.</summary>
public class DataStream<T>
{
    internal DataStream(StreamEnvironment env, IReadOnlyList<StreamProducer> producers,
        Partitioning? partitioning = null, Func<T, int>? keyHash = null, bool keyImpliesUpstreamKey = false)
    {
        Environment = env;
        Producers = producers;
        PartitioningHint = partitioning;
        KeyHash = keyHash;
        KeyImpliesUpstreamKey = keyImpliesUpstreamKey;
    }

    public StreamEnvironment Environment { get; }

    internal IReadOnlyList<StreamProducer> Producers { get; }

    internal Partitioning? PartitioningHint { get; }

    internal Func<T, int>? KeyHash { get; }

    /// <summary>See <see cref="StreamEdge.KeyImpliesUpstreamKey"/>.</summary>
    internal bool KeyImpliesUpstreamKey { get; }

    /// <summary>The node that produced this stream (the last operator added).</summary>
    public StreamNode Node => Producers[0].Node;

    /// <summary>
    /// Adds an operator that consumes this stream. <paramref name="relaysSourcePositions"/>: the operator hands the
    /// source positions of its input on to what it makes (<see cref="StreamNode.RelaysSourcePositions"/>).
    /// </summary>
    public DataStream<TOut> Transform<TOut>(string name, Func<StreamOperator<T, TOut>> factory, int? parallelism = null, bool relaysSourcePositions = false)
    {
        var node = Environment.AddNode(new OperatorNode<T, TOut>(factory) { Name = name, Parallelism = parallelism, RelaysSourcePositions = relaysSourcePositions });
        Connect(node);
        return new DataStream<TOut>(Environment, [new(node, null)]);
    }

    internal void Connect(StreamNode consumer)
    {
        foreach (var p in Producers)
        {
            consumer.Inputs.Add(new StreamEdge<T>
            {
                From = p.Node,
                To = consumer,
                Partitioning = PartitioningHint,
                SideOutputTag = p.SideOutputTag,
                KeyHash = KeyHash,
                KeyImpliesUpstreamKey = KeyImpliesUpstreamKey,
            });
        }
    }

    public DataStream<TOut> Map<TOut>(Func<T, TOut> map, string name = "Map")
    {
        var node = Environment.AddNode(new OperatorNode<T, TOut>(() => new MapOperator<T, TOut>(map)) { Name = name, RelaysSourcePositions = true });
        Connect(node);
        return new DataStream<TOut>(Environment, [new(node, null)]);
    }

    /// <summary>
    /// Flink's async I/O (<c>AsyncDataStream.orderedWait/unorderedWait</c>): calls <paramref name="function"/> without
    /// blocking the task, with bounded concurrency, a timeout per element and the output mode of <paramref name="options"/>.
    /// </summary>
    public DataStream<TOut> MapAsync<TOut>(Func<IAsyncFunction<T, TOut>> function, AsyncOptions? options = null, string name = "Async") =>
        Transform(name, () => new AsyncWaitOperator<T, TOut>(function, options));

    public DataStream<T> Filter(Func<T, bool> predicate, string name = "Filter") =>
        Transform(name, () => new FilterOperator<T>(predicate));

    public DataStream<TOut> FlatMap<TOut>(Action<T, Collector<TOut>> flatMap, string name = "FlatMap") =>
        Transform(name, () => new FlatMapOperator<T, TOut>(flatMap));

    public DataStream<TOut> FlatMap<TOut>(Func<T, IEnumerable<TOut>> flatMap, string name = "FlatMap") =>
        FlatMap<TOut>((v, output) =>
        {
            foreach (var o in flatMap(v)) output.Collect(o);
        }, name);

    /// <summary>A process function; a fresh instance per subtask comes from <paramref name="function"/>.</summary>
    public DataStream<TOut> Process<TOut>(Func<ProcessFunction<T, TOut>> function, string name = "Process") =>
        Transform(name, () => new ProcessOperator<T, TOut>(function()));

    public DataStream<T> AssignTimestampsAndWatermarks(WatermarkStrategy<T> strategy, string name = "Timestamps/Watermarks")
    {
        return Transform(name, () => new TimestampsAndWatermarksOperator<T>(
            strategy, Environment.Config.AutoWatermarkInterval, Environment.Config.WatermarkPerBatch ?? AllSourcesBounded()));
    }

    private bool AllSourcesBounded() => Environment.Graph.Nodes.Where(n => n.IsSource).All(n => n.IsBoundedSource);

    /// <summary>Partitions by key: records with equal keys reach the same subtask (through key groups).</summary>
    public KeyedStream<T, TKey> KeyBy<TKey>(Func<T, TKey> keySelector) where TKey : notnull =>
        new(Environment, Producers, keySelector, keyImpliesUpstreamKey: false);

    /// <summary>
    /// Partitions by key as <see cref="KeyBy{TKey}"/> does, and states that the key determines the key of the keyed
    /// exchange this stream's records last went through (<see cref="StreamEdge.KeyImpliesUpstreamKey"/>): every record
    /// of one key here was made by the operator instance that owns one key there. In one process the exchange is an
    /// ordinary hash exchange; a stage split keeps it inside the upstream operator's stage instead of cutting it.
    /// </summary>
    public KeyedStream<T, TKey> KeyByWithinUpstreamKey<TKey>(Func<T, TKey> keySelector) where TKey : notnull =>
        new(Environment, Producers, keySelector, keyImpliesUpstreamKey: true);

    public DataStream<T> Rebalance() => new(Environment, Producers, Partitioning.Rebalance);

    public DataStream<T> Broadcast() => new(Environment, Producers, Partitioning.Broadcast);

    /// <summary>Requires forward edges (equal parallelism) to the next operator.</summary>
    public DataStream<T> Forward() => new(Environment, Producers, Partitioning.Forward);

    public DataStream<T> Union(params DataStream<T>[] others) =>
        new(Environment, [.. Producers, .. others.SelectMany(o => o.Producers)]);

    /// <summary>The records an operator sent to side output <paramref name="tag"/>.</summary>
    public DataStream<TSide> GetSideOutput<TSide>(OutputTag<TSide> tag) =>
        new(Environment, Producers.Select(p => new StreamProducer(p.Node, tag.Id)).ToArray());

    public DataStream<T> Name(string name)
    {
        Node.Name = name;
        return this;
    }

    public DataStream<T> Uid(string uid)
    {
        Node.Uid = uid;
        return this;
    }

    public DataStream<T> SetParallelism(int parallelism)
    {
        Node.Parallelism = parallelism;
        return this;
    }

    public DataStream<T> StartNewChain()
    {
        Node.StartsNewChain = true;
        return this;
    }

    public DataStream<NoOutput> SinkTo(Sink<T> sink, string name = "Sink") => Transform(name, () => new SinkOperator<T>(sink));

    /// <summary>Calls <paramref name="write"/> for every record (thread-safe function needed above parallelism 1).</summary>
    public DataStream<NoOutput> ForEach(Action<T> write, string name = "ForEach") =>
        SinkTo(new FunctionSink<T>((v, _, _) => write(v)), name);
}

/// <summary>A stream partitioned by key: keyed state, timers and windows apply per key.</summary>
public sealed partial class KeyedStream<T, TKey> : DataStream<T> where TKey : notnull
{
    internal KeyedStream(StreamEnvironment env, IReadOnlyList<StreamProducer> producers, Func<T, TKey> keySelector, bool keyImpliesUpstreamKey)
        : base(env, producers, Partitioning.Hash, v => StableHash.OfKey(keySelector(v)), keyImpliesUpstreamKey)
    {
        KeySelector = keySelector;
    }

    public Func<T, TKey> KeySelector { get; }

    public DataStream<TOut> Process<TOut>(Func<KeyedProcessFunction<TKey, T, TOut>> function, string name = "KeyedProcess") =>
        Transform(name, () => new KeyedProcessOperator<TKey, T, TOut>(KeySelector, function()));
}
