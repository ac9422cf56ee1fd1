namespace Eddy.Runtime;

/// <summary>One chain of operators that runs as a task.</summary>
public sealed record ChainInfo(int Id, string Name, int Parallelism, IReadOnlyList<StreamNode> Nodes, IReadOnlyList<string> Inputs);

/// <summary>
/// The physical plan of a job: nodes grouped into chains (forward edges between equal parallelisms), input gates per
/// subtask, writers per outgoing edge. Built once; <see cref="JobExecution"/> runs it.
/// </summary>
public sealed class JobPlan
{
    internal List<StreamTask> Tasks { get; } = [];

    public List<ChainInfo> Chains { get; } = [];

    public override string ToString() => string.Join(Environment.NewLine, Chains.Select(c =>
        $"task {c.Id}: {c.Name} ×{c.Parallelism}" + (c.Inputs.Count > 0 ? $" ← {string.Join(", ", c.Inputs)}" : "")));

    public static JobPlan Build(StreamGraph graph, JobConfig config) => Build(graph, config, null, null);

    /// <summary>
    /// The stable id of a node's state: its <see cref="StreamNode.Uid"/> when set, else its position in the graph,
    /// what it is (source, or the operator's class) and its name: stable for the same program or SQL script.
    /// </summary>
    public static string StateIdOf(StreamNode node, StreamOperator? instance)
    {
        if (node.Uid is { Length: > 0 } uid) return uid;
        string kind = instance is null ? "source" : instance.GetType().Name;
        int tick = kind.IndexOf('`');
        if (tick > 0) kind = kind[..tick];
        return $"{node.Id}:{kind}:{node.Name}";
    }

    internal static JobPlan Build(StreamGraph graph, JobConfig config, CheckpointCoordinator? coordinator, CheckpointData? restore)
    {
        var plan = new JobPlan();
        var nodes = graph.Nodes;
        var claimed = new HashSet<string>();
        var parallelism = nodes.ToDictionary(n => n, n => n.Parallelism ?? config.DefaultParallelism);
        foreach (var n in nodes) KeyGroups.Validate(parallelism[n], config.MaxParallelism);
        var outEdges = nodes.ToDictionary(n => n, n => new List<StreamEdge>());
        foreach (var n in nodes)
            foreach (var e in n.Inputs) outEdges[e.From].Add(e);

        Partitioning Resolve(StreamEdge e)
        {
            int from = parallelism[e.From], to = parallelism[e.To];
            var p = e.Partitioning ?? (from == to ? Partitioning.Forward : Partitioning.Rebalance);
            if (p == Partitioning.Forward && from != to)
            {
                throw new InvalidOperationException(
                    $"a forward edge needs equal parallelism, but {e.From} has {from} and {e.To} has {to}: use Rebalance()");
            }
            return p;
        }

        bool Chainable(StreamEdge e) =>
            config.Chaining && !e.To.StartsNewChain && e.To.Inputs.Count == 1 && parallelism[e.From] == parallelism[e.To]
            && (Resolve(e) == Partitioning.Forward || parallelism[e.To] == 1);

        // Chains: a node joins its single input's chain when the edge is forward-like.
        var chainOf = new Dictionary<StreamNode, List<StreamNode>>();
        var chains = new List<List<StreamNode>>();
        foreach (var n in nodes)
        {
            if (n.Inputs.Count == 1 && Chainable(n.Inputs[0]))
            {
                var chain = chainOf[n.Inputs[0].From];
                chain.Add(n);
                chainOf[n] = chain;
            }
            else
            {
                var chain = new List<StreamNode> { n };
                chains.Add(chain);
                chainOf[n] = chain;
            }
        }

        // Input gates: one per subtask of each chain head with inputs; each input edge owns a range of channels.
        var gates = new Dictionary<(List<StreamNode>, int), InputGate>();
        var channelOffset = new Dictionary<StreamEdge, int>();
        foreach (var chain in chains)
        {
            var headNode = chain[0];
            if (headNode.Inputs.Count == 0) continue;
            int channels = 0;
            foreach (var e in headNode.Inputs)
            {
                channelOffset[e] = channels;
                channels += Resolve(e) == Partitioning.Forward ? 1 : parallelism[e.From];
            }
            for (int s = 0; s < parallelism[headNode]; s++) gates[(chain, s)] = new InputGate(channels, config.ChannelCapacity);
        }

        bool perBatch = config.WatermarkPerBatch ?? nodes.Where(n => n.IsSource).All(n => n.IsBoundedSource);
        int chainId = 0;
        foreach (var chain in chains)
        {
            chainId++;
            var headNode = chain[0];
            int p = parallelism[headNode];
            string name = string.Join(" -> ", chain.Select(n => n.Name));
            plan.Chains.Add(new ChainInfo(chainId, name, p, chain, headNode.Inputs.Select(e => e.From.Name).ToList()));
            for (int s = 0; s < p; s++)
            {
                var metrics = new SubtaskMetrics(name, s);
                var timers = new ProcessingTimers(config.Clock);
                var instances = new Dictionary<StreamNode, StreamOperator?>();
                foreach (var n in chain) instances[n] = n.CreateOperator();
                var writers = new List<IChannelWriter>();
                object? sourceHead = null;

                // Wire from the tail back, so that each node's consumers exist when it is wired.
                for (int i = chain.Count - 1; i >= 0; i--)
                {
                    var n = chain[i];
                    var byTag = new Dictionary<string, List<object>>();
                    var main = new List<object>();
                    foreach (var e in outEdges[n])
                    {
                        object consumer;
                        if (chainOf[e.To] == chain) consumer = instances[e.To]!;
                        else
                        {
                            var part = Resolve(e);
                            int downP = parallelism[e.To];
                            var downChain = chainOf[e.To];
                            int offset = channelOffset[e];
                            (InputGate, int)[] targets = part == Partitioning.Forward
                                ? [(gates[(downChain, s)], offset)]
                                : Enumerable.Range(0, downP).Select(d => (gates[(downChain, d)], offset + s)).ToArray();
                            var writer = e.CreateWriter(targets, part, metrics, config.MaxParallelism);
                            writers.Add(writer);
                            consumer = writer;
                        }
                        if (e.SideOutputTag is null) main.Add(consumer);
                        else
                        {
                            if (!byTag.TryGetValue(e.SideOutputTag, out var list)) byTag[e.SideOutputTag] = list = [];
                            list.Add(consumer);
                        }
                    }
                    n.SetOutput(instances[n], main, ref sourceHead);
                    if (instances[n] is { } op)
                    {
                        var resolver = new SideOutputs(byTag);
                        op.Setup(new OperatorContext(n.Name, s, p, config.MaxParallelism, timers, metrics, resolver) { CheckpointingEnabled = config.CheckpointingEnabled });
                    }
                }

                var ops = chain.Select(n => instances[n]).OfType<StreamOperator>().ToList();
                foreach (var n in chain)
                {
                    if (instances[n] is not { } op) continue;
                    op.StateId ??= StateIdOf(n, op);
                    claimed.Add(op.StateId);
                    if (op is IConnectorCheckpointing connector)
                    {
                        connector.Configure(config.JobName ?? "job", config.CheckpointingEnabled,
                            restore?.Find(op.StateId)?.ToRestoredState(restore.Id), config.PartitionTask);
                    }
                }
                var keyGroupRange = KeyGroups.RangeOf(s, config.MaxParallelism, p);
                TaskCheckpointing? checkpointing = coordinator is null ? null
                    : new TaskCheckpointing(coordinator, p, keyGroupRange, headNode.IsSource ? StateIdOf(headNode, null) : null);
                if (headNode.IsSource)
                {
                    var (driver, headAdapter) = headNode.CreateDriver(s, p, sourceHead!, config, perBatch);
                    string sourceId = StateIdOf(headNode, null);
                    claimed.Add(sourceId);
                    plan.Tasks.Add(new StreamTask(name, s, null, [], driver, ops, writers, metrics, timers, headAdapter)
                    {
                        SourceStateId = sourceId,
                        Checkpointing = checkpointing,
                        Restore = restore,
                        KeyGroupRange = keyGroupRange,
                    });
                }
                else
                {
                    var gate = gates[(chain, s)];
                    var headOp = instances[headNode]!;
                    var dispatchers = new Action<object>[gate.ChannelCount];
                    foreach (var e in headNode.Inputs)
                    {
                        int count = Resolve(e) == Partitioning.Forward ? 1 : parallelism[e.From];
                        var dispatch = e.BatchDispatcher(headOp, metrics);
                        for (int c = 0; c < count; c++) dispatchers[channelOffset[e] + c] = dispatch;
                    }
                    var adapter = headNode.Inputs[0].HeadAdapter(headOp);
                    plan.Tasks.Add(new StreamTask(name, s, gate, dispatchers, null, ops, writers, metrics, timers, adapter)
                    {
                        Checkpointing = checkpointing,
                        Restore = restore,
                        KeyGroupRange = keyGroupRange,
                    });
                }
            }
        }
        if (restore is not null && !config.AllowNonRestoredState)
        {
            var unclaimed = restore.Operators.Where(o => !claimed.Contains(o.StateId)).Select(o => $"'{o.StateId}'").ToList();
            if (unclaimed.Count > 0)
            {
                throw new InvalidOperationException(
                    $"checkpoint {restore.Id} ({restore.Path ?? "in memory"}) holds state of {string.Join(", ", unclaimed)}, which matches no "
                    + "operator of this job (ids are derived from the plan unless set with .Uid(...)); restore anyway with "
                    + "--allow-non-restored-state (execution.savepoint.ignore-unclaimed-state) to drop it. The job's operators: "
                    + string.Join(", ", claimed.Order().Select(c => $"'{c}'")));
            }
        }
        return plan;
    }

    private sealed class SideOutputs(Dictionary<string, List<object>>? byTag = null) : ISideOutputResolver
    {
        public IBatchInput<T>? Resolve<T>(OutputTag<T> tag) =>
            byTag is not null && byTag.TryGetValue(tag.Id, out var list) ? SourceNode<T>.Combine<T>(list) : null;
    }
}
