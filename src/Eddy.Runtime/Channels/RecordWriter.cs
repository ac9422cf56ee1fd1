using System.Runtime.CompilerServices;

namespace Eddy.Runtime;

/// <summary>How records of an edge are spread over the downstream subtasks.</summary>
public enum Partitioning
{
    /// <summary>Subtask i sends to subtask i (equal parallelism): the edge operators chain over.</summary>
    Forward,
    /// <summary>Whole batches round-robin over all downstream subtasks.</summary>
    Rebalance,
    /// <summary>Every downstream subtask gets every record.</summary>
    Broadcast,
    /// <summary>By key: key → key group → subtask, as Flink does.</summary>
    Hash,
}

/// <summary>The control events a task sends on all of its output channels, whatever their record type.</summary>
public interface IChannelWriter
{
    void Broadcast(in StreamElement element);

    void FlushBuffers();
}

/// <summary>
/// The end of a task's chain for one outgoing edge: routes batches to the input gates of the downstream subtasks,
/// splitting them by key for hash edges. Partial per-channel batches are sent on flush, watermark and end of input.
/// </summary>
public sealed class RecordWriter<T> : IBatchInput<T>, IChannelWriter
{
    private readonly (InputGate Gate, int Channel)[] targets;
    private readonly Partitioning partitioning;
    private readonly Func<T, int>? keyHash;
    private readonly int maxParallelism;
    private readonly SubtaskMetrics metrics;
    private readonly Batch<T>?[] buffers;
    private int nextTarget;

    // Hash partitioning: the subtask of every key group, and scratch room for the targets of one batch.
    private readonly int[] targetOfKeyGroup = [];
    private readonly ulong fastModMultiplier;
    private int[] destinations = [];

    public RecordWriter(
        (InputGate Gate, int Channel)[] targets,
        Partitioning partitioning,
        SubtaskMetrics metrics,
        Func<T, int>? keyHash = null,
        int maxParallelism = KeyGroups.DefaultMaxParallelism)
    {
        if (targets.Length == 0) throw new ArgumentException("a writer needs a target", nameof(targets));
        if (partitioning == Partitioning.Hash && keyHash is null) throw new ArgumentNullException(nameof(keyHash));
        this.targets = targets;
        this.partitioning = targets.Length == 1 ? Partitioning.Forward : partitioning;
        this.metrics = metrics;
        this.keyHash = keyHash;
        this.maxParallelism = maxParallelism;
        buffers = this.partitioning == Partitioning.Hash ? new Batch<T>?[targets.Length] : [];
        if (this.partitioning == Partitioning.Hash)
        {
            targetOfKeyGroup = new int[maxParallelism];
            for (int kg = 0; kg < maxParallelism; kg++)
                targetOfKeyGroup[kg] = KeyGroups.SubtaskFor(kg, maxParallelism, targets.Length);
            fastModMultiplier = ulong.MaxValue / (uint)maxParallelism + 1;
        }
    }

    public void OnBatch(Batch<T> batch)
    {
        metrics.RecordsOut += batch.Count;
        switch (partitioning)
        {
            case Partitioning.Forward:
                Send(0, batch);
                break;
            case Partitioning.Rebalance:
                Send(nextTarget, batch);
                nextTarget = (nextTarget + 1) % targets.Length;
                break;
            case Partitioning.Broadcast:
                for (int i = 1; i < targets.Length; i++) Send(i, batch.Copy());
                Send(0, batch);
                break;
            case Partitioning.Hash:
                Split(batch);
                break;
        }
    }

    private void Split(Batch<T> batch)
    {
        int count = batch.Count;
        var values = batch.Values;
        if (destinations.Length < count) destinations = new int[count];
        var dest = destinations;

        // Pass 1: the target of every record. Key group = mixed hash mod max parallelism (as KeyGroups.ForHash,
        // with the division replaced by a multiplication), then a table lookup instead of KeyGroups.SubtaskFor.
        var hash = keyHash!;
        var table = targetOfKeyGroup;
        uint maxP = (uint)maxParallelism;
        ulong multiplier = fastModMultiplier;
        for (int i = 0; i < count; i++)
        {
            uint mixed = (uint)StableHash.Mix(hash(values[i]));
            dest[i] = table[FastMod(mixed, maxP, multiplier)];
        }

        // Pass 2: copy each record to its target's buffer, sending buffers as they fill.
        if (batch.HasKinds)
        {
            for (int i = 0; i < count; i++)
            {
                int target = dest[i];
                var buffer = buffers[target] ??= BatchPool<T>.Rent();
                buffer.AddFrom(batch, i);
                if (buffer.IsFull)
                {
                    buffers[target] = null;
                    Send(target, buffer);
                }
            }
        }
        else
        {
            var timestamps = batch.Timestamps;
            for (int i = 0; i < count; i++)
            {
                int target = dest[i];
                var buffer = buffers[target] ??= BatchPool<T>.Rent();
                // Batch.Add: an insert needs no kind, also in a buffer that holds other kinds (see SetKind).
                buffer.Add(values[i], timestamps[i]);
                if (buffer.IsFull)
                {
                    buffers[target] = null;
                    Send(target, buffer);
                }
            }
        }
        BatchPool<T>.Return(batch);
    }

    /// <summary>value % divisor for 32-bit operands without a division (Lemire's fastmod; exact for all inputs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static uint FastMod(uint value, uint divisor, ulong multiplier) =>
        (uint)(((((multiplier * value) >> 32) + 1) * divisor) >> 32);

    private void Send(int target, Batch<T> batch)
    {
        var (gate, channel) = targets[target];
        metrics.BackPressuredTicks += gate.Put(channel, StreamElement.ForBatch(batch), metrics);
    }

    public void FlushBuffers()
    {
        for (int i = 0; i < buffers.Length; i++)
        {
            if (buffers[i] is { Count: > 0 } b)
            {
                buffers[i] = null;
                Send(i, b);
            }
        }
    }

    public void Broadcast(in StreamElement element)
    {
        FlushBuffers();
        foreach (var (gate, channel) in targets) metrics.BackPressuredTicks += gate.Put(channel, element, metrics);
    }

    public void OnWatermark(long watermark)
    {
        metrics.OutputWatermark = watermark;
        Broadcast(StreamElement.ForWatermark(watermark));
    }

    public void Flush() => FlushBuffers();

    public void OnEndOfInput() => Broadcast(StreamElement.End);
}
