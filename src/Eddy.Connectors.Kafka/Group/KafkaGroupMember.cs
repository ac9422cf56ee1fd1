using Confluent.Kafka;

namespace Eddy.Connectors.Kafka.Group;

/// <summary>What a group member tells its owner; each call returns when the owner has acted (a revoke after the final checkpoints).</summary>
public interface IPartitionOwner
{
    /// <summary>Partitions newly given to this member (cooperative: only the ones that moved here).</summary>
    void Assigned(IReadOnlyList<int> partitions);

    /// <summary>Partitions this member gives up in an orderly rebalance: the owner checkpoints them before returning.</summary>
    void Revoked(IReadOnlyList<int> partitions);

    /// <summary>Partitions this member lost without a rebalance (its session expired): another member may own them already.</summary>
    void Lost(IReadOnlyList<int> partitions);
}

/// <summary>One rebalance as this member saw it.</summary>
public sealed record Rebalance(DateTimeOffset At, string Kind, IReadOnlyList<int> Partitions, TimeSpan Duration);

public sealed record KafkaGroupOptions
{
    public required string BootstrapServers { get; init; }

    public required string GroupId { get; init; }

    /// <summary>The topic whose partitions the group divides; co-partitioned inputs follow its partition numbers.</summary>
    public required string Topic { get; init; }

    /// <summary>Further librdkafka consumer properties (security, <c>session.timeout.ms</c>, <c>heartbeat.interval.ms</c>).</summary>
    public IReadOnlyDictionary<string, string> Properties { get; init; } = new Dictionary<string, string>();
}

/// <summary>
/// Membership of a consumer group with the cooperative-sticky protocol, used only to decide who owns which partition:
/// the member never hands records to anyone (its partitions are paused as soon as they are assigned; the partition
/// tasks read with consumers of their own, from their checkpointed offsets). A join or leave moves only the partitions
/// it must; the owner is called on the member's thread, and a revocation completes only when the owner returns.
/// </summary>
public sealed class KafkaGroupMember : IDisposable
{
    private static readonly TimeSpan PollWait = TimeSpan.FromMilliseconds(200);

    private readonly KafkaGroupOptions options;
    private readonly IPartitionOwner owner;
    private readonly IConsumer<Ignore, Ignore> consumer;
    private readonly List<TopicPartition> toPause = [];
    private readonly List<Rebalance> rebalances = [];
    private readonly SortedSet<int> owned = [];
    private readonly CancellationTokenSource stop = new();
    private Thread? thread;
    private Exception? failure;
    private bool closed;

    public KafkaGroupMember(KafkaGroupOptions options, IPartitionOwner owner)
    {
        this.options = options;
        this.owner = owner;
        KafkaNative.EnsureLoaded();
        var config = new ConsumerConfig(KafkaProperties.WithConsumerDefaults(options.Properties))
        {
            BootstrapServers = options.BootstrapServers,
            GroupId = options.GroupId,
            PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = false,
            AutoOffsetReset = AutoOffsetReset.Latest,
            // Nothing is read through the member: fetches stay small until its partitions are paused.
            MaxPartitionFetchBytes = 1024,
        };
        if (!options.Properties.ContainsKey("session.timeout.ms")) config.SessionTimeoutMs = 10_000;
        if (!options.Properties.ContainsKey("heartbeat.interval.ms")) config.HeartbeatIntervalMs = 2_000;
        consumer = new ConsumerBuilder<Ignore, Ignore>(config)
            .SetLogHandler((_, _) => { })
            // The Action forms: with the cooperative protocol the client assigns incrementally itself, and a handler
            // that throws would make it unassign eagerly (an error in this protocol), so the handlers never throw.
            .SetPartitionsAssignedHandler((_, partitions) => Guard(() => OnAssigned(partitions)))
            .SetPartitionsRevokedHandler((_, partitions) => Guard(() => OnRevoked([.. partitions.Select(p => p.TopicPartition)], lost: false)))
            .SetPartitionsLostHandler((_, partitions) => Guard(() => OnRevoked([.. partitions.Select(p => p.TopicPartition)], lost: true)))
            .Build();
    }

    /// <summary>The partitions this member owns now.</summary>
    public IReadOnlyList<int> Owned
    {
        get
        {
            lock (owned) return [.. owned];
        }
    }

    /// <summary>Every rebalance so far, oldest first.</summary>
    public IReadOnlyList<Rebalance> Rebalances
    {
        get
        {
            lock (rebalances) return [.. rebalances];
        }
    }

    /// <summary>The member's id in the group (empty before it joined).</summary>
    public string MemberId => consumer.MemberId ?? "";

    /// <summary>Why the member stopped by itself (an owner that threw, a fatal client error), or null.</summary>
    public Exception? Failure => Volatile.Read(ref failure);

    /// <summary>Completes when the member's thread has ended (after <see cref="Leave"/> or a failure).</summary>
    public Task Stopped => stopped.Task;

    private readonly TaskCompletionSource stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>An owner's failure stops the member (the worker then exits, and the group moves its partitions).</summary>
    private void Guard(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, e, null);
            stop.Cancel();
        }
    }

    /// <summary>Subscribes and starts taking part in rebalances on a thread of its own.</summary>
    public void Start()
    {
        consumer.Subscribe(options.Topic);
        thread = new Thread(Loop) { IsBackground = true, Name = $"group {options.GroupId}" };
        thread.Start();
    }

    private void Loop()
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                // Records fetched before a partition was paused are not this member's to process: dropped.
                consumer.Consume(PollWait);
                PauseNew();
            }
            // Leaving: the revoke handler runs inside Close, so every owned partition is checkpointed before the group
            // hears that this member has gone.
            consumer.Close();
            closed = true;
        }
        catch (Exception e)
        {
            Interlocked.CompareExchange(ref failure, e, null);
        }
        finally
        {
            stopped.TrySetResult();
        }
    }

    private void PauseNew()
    {
        List<TopicPartition> pause;
        lock (toPause)
        {
            if (toPause.Count == 0) return;
            pause = [.. toPause];
            toPause.Clear();
        }
        var assigned = consumer.Assignment.ToHashSet();
        pause = pause.Where(assigned.Contains).ToList();
        if (pause.Count > 0) consumer.Pause(pause);
    }

    private void OnAssigned(List<TopicPartition> partitions)
    {
        var numbers = partitions.Where(p => p.Topic == options.Topic).Select(p => p.Partition.Value).Order().ToList();
        lock (toPause) toPause.AddRange(partitions);
        var watch = System.Diagnostics.Stopwatch.StartNew();
        if (numbers.Count > 0)
        {
            lock (owned) owned.UnionWith(numbers);
            owner.Assigned(numbers);
        }
        lock (rebalances) rebalances.Add(new Rebalance(DateTimeOffset.UtcNow, "assigned", numbers, watch.Elapsed));
    }

    private void OnRevoked(List<TopicPartition> partitions, bool lost)
    {
        var numbers = partitions.Where(p => p.Topic == options.Topic).Select(p => p.Partition.Value).Order().ToList();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        if (numbers.Count > 0)
        {
            if (lost) owner.Lost(numbers);
            else owner.Revoked(numbers);
            lock (owned) owned.ExceptWith(numbers);
        }
        lock (rebalances) rebalances.Add(new Rebalance(DateTimeOffset.UtcNow, lost ? "lost" : "revoked", numbers, watch.Elapsed));
    }

    /// <summary>Leaves the group in order: the owner is asked to give up every partition first. Waits for the member's thread.</summary>
    public void Leave()
    {
        stop.Cancel();
        if (thread is not null && Thread.CurrentThread != thread) thread.Join();
    }

    public void Dispose()
    {
        Leave();
        if (!closed)
        {
            try
            {
                consumer.Close();
            }
            catch (KafkaException)
            {
            }
        }
        consumer.Dispose();
        stop.Dispose();
    }
}
