using System.Diagnostics;

namespace Eddy.Runtime;

/// <summary>
/// The input side of a task: one bounded ring per upstream channel, all behind one lock. A producer that finds its
/// ring full waits (backpressure); the consumer takes from the channels in turn, skipping channels it has blocked
/// (barrier alignment) so that a blocked channel's producer is held back by its own bound, not buffered without limit.
/// </summary>
public sealed class InputGate
{
    public const int DefaultChannelCapacity = 8;

    private readonly object sync = new();
    private readonly Channel[] channels;
    private int nextChannel;
    private bool consumerWaiting;
    private int producersWaiting;
    private volatile bool cancelled;

    public InputGate(int channelCount, int channelCapacity = DefaultChannelCapacity)
    {
        if (channelCount < 1) throw new ArgumentOutOfRangeException(nameof(channelCount));
        channels = new Channel[channelCount];
        for (int i = 0; i < channelCount; i++) channels[i] = new Channel(channelCapacity);
        Capacity = channelCapacity;
    }

    public int ChannelCount => channels.Length;

    public int Capacity { get; }

    /// <summary>Queued elements of the fullest moment since the gate was made: a bound check for tests.</summary>
    public int MaxQueued { get; private set; }

    public double Fill
    {
        get
        {
            int queued = 0;
            foreach (var c in channels) queued += c.Count;
            return (double)queued / (channels.Length * Capacity);
        }
    }

    /// <summary>
    /// Appends to channel <paramref name="channel"/>, waiting while it is full. Returns the stopwatch ticks spent
    /// waiting (the producer's backpressured time).
    /// </summary>
    public long Put(int channel, in StreamElement element)
    {
        var ch = channels[channel];
        long waited = 0;
        lock (sync)
        {
            if (ch.Count == ch.Ring.Length)
            {
                long start = Stopwatch.GetTimestamp();
                producersWaiting++;
                while (ch.Count == ch.Ring.Length && !cancelled) Monitor.Wait(sync);
                producersWaiting--;
                waited = Stopwatch.GetTimestamp() - start;
            }
            if (cancelled) throw new OperationCanceledException("the job was cancelled");
            ch.Ring[(ch.Head + ch.Count) % ch.Ring.Length] = element;
            ch.Count++;
            if (ch.Count > MaxQueued) MaxQueued = ch.Count;
            if (consumerWaiting) Monitor.PulseAll(sync);
        }
        return waited;
    }

    /// <summary>
    /// Takes the next element from any unblocked channel, waiting up to <paramref name="timeout"/> (ms; -1 forever).
    /// Returns false when nothing arrived in time.
    /// </summary>
    public bool TryTake(out StreamElement element, out int channel, int timeoutMs)
    {
        lock (sync)
        {
            while (true)
            {
                if (cancelled) throw new OperationCanceledException("the job was cancelled");
                for (int n = 0; n < channels.Length; n++)
                {
                    int i = nextChannel;
                    nextChannel = i + 1 == channels.Length ? 0 : i + 1;
                    var ch = channels[i];
                    if (ch.Count == 0 || ch.Blocked) continue;
                    element = ch.Ring[ch.Head];
                    ch.Ring[ch.Head] = default;
                    ch.Head = (ch.Head + 1) % ch.Ring.Length;
                    bool wasFull = ch.Count == ch.Ring.Length;
                    ch.Count--;
                    if (wasFull && producersWaiting > 0) Monitor.PulseAll(sync);
                    channel = i;
                    return true;
                }
                if (timeoutMs == 0)
                {
                    element = default;
                    channel = -1;
                    return false;
                }
                consumerWaiting = true;
                bool signalled = Monitor.Wait(sync, timeoutMs);
                consumerWaiting = false;
                if (!signalled)
                {
                    timeoutMs = 0;
                }
            }
        }
    }

    /// <summary>True when some unblocked channel has an element queued.</summary>
    public bool HasQueued
    {
        get
        {
            lock (sync)
            {
                foreach (var c in channels)
                    if (c.Count > 0 && !c.Blocked) return true;
                return false;
            }
        }
    }

    /// <summary>Stops taking from a channel (it has delivered the barrier being aligned).</summary>
    public void Block(int channel)
    {
        lock (sync) channels[channel].Blocked = true;
    }

    public void UnblockAll()
    {
        lock (sync)
        {
            foreach (var c in channels) c.Blocked = false;
            Monitor.PulseAll(sync);
        }
    }

    public void Cancel()
    {
        cancelled = true;
        lock (sync) Monitor.PulseAll(sync);
    }

    private sealed class Channel(int capacity)
    {
        public readonly StreamElement[] Ring = new StreamElement[capacity];
        public int Head;
        public int Count;
        public bool Blocked;
    }
}
