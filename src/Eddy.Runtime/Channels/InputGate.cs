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

    /// <summary>Incremented on every put and unblock: a spinning consumer watches it without the lock.</summary>
    private int version;

    /// <summary>
    /// How long a consumer or producer spins before it sleeps on the monitor: adaptive between about 1 and 50 µs,
    /// doubling when spinning paid off and halving when it ended in sleep anyway, so that thin traffic burns little.
    /// </summary>
    private static readonly long MaxSpinTicks = Math.Max(1, Stopwatch.Frequency / 20_000);
    private static readonly long MinSpinTicks = Math.Max(1, Stopwatch.Frequency / 1_000_000);

    /// <summary>The consumer's current spin budget (only the consumer thread uses it).</summary>
    private long consumerSpinTicks = MaxSpinTicks;

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
    /// waiting (the producer's backpressured time). While it sleeps, <paramref name="producer"/>'s
    /// <see cref="SubtaskMetrics.BackPressuredSince"/> says since when, so that a reading taken during a long wait (a
    /// slow sink that takes seconds per batch) already counts it as backpressured rather than busy.
    /// </summary>
    public long Put(int channel, in StreamElement element, SubtaskMetrics? producer = null)
    {
        var ch = channels[channel];
        long waited = 0;
        int capacity = ch.Ring.Length;
        // A full channel usually gets room within microseconds: spin briefly (outside the lock) before sleeping,
        // so that a consumer that is about to take does not have to wake this producer with a system call.
        if (Volatile.Read(ref ch.Count) == capacity && !cancelled)
        {
            long start = Stopwatch.GetTimestamp();
            ch.SpinTicks = Adapt(ch.SpinTicks,
                SpinUntil(static (c, cap) => Volatile.Read(ref c.Count) < cap, ch, capacity, start, ch.SpinTicks));
            waited = Stopwatch.GetTimestamp() - start;
        }
        lock (sync)
        {
            if (ch.Count == capacity)
            {
                long start = Stopwatch.GetTimestamp();
                if (producer is not null) Volatile.Write(ref producer.BackPressuredSince, start);
                producersWaiting++;
                while (ch.Count == capacity && !cancelled) Monitor.Wait(sync);
                producersWaiting--;
                waited += Stopwatch.GetTimestamp() - start;
                if (producer is not null) Volatile.Write(ref producer.BackPressuredSince, 0);
            }
            if (cancelled) throw new OperationCanceledException("the job was cancelled");
            int tail = ch.Head + ch.Count;
            if (tail >= capacity) tail -= capacity;
            ch.Ring[tail] = element;
            Volatile.Write(ref ch.Count, ch.Count + 1);
            if (ch.Count > MaxQueued) MaxQueued = ch.Count;
            Volatile.Write(ref version, version + 1);
            if (consumerWaiting) Monitor.PulseAll(sync);
        }
        return waited;
    }

    /// <summary>
    /// Takes the next element from any unblocked channel, waiting up to <paramref name="timeout"/> (ms; -1 forever).
    /// Returns false when nothing arrived in time.
    /// </summary>
    public bool TryTake(out StreamElement element, out int channel, int timeoutMs) =>
        TryTake(out element, out channel, timeoutMs, spin: true);

    /// <summary>
    /// Takes the next element, spinning briefly (never sleeping) when none is queued: a consumer calls it before it
    /// flushes partial batches and sleeps, so that a busy stream is not cut into small batches at every short gap.
    /// </summary>
    public bool TrySpinTake(out StreamElement element, out int channel)
    {
        int seen;
        lock (sync)
        {
            if (TakeLocked(out element, out channel)) return true;
            seen = version;
        }
        bool arrived = SpinUntil(static (g, s) => Volatile.Read(ref g.version) != s || g.cancelled, this, seen,
            Stopwatch.GetTimestamp(), consumerSpinTicks);
        consumerSpinTicks = Adapt(consumerSpinTicks, arrived);
        if (!arrived && !cancelled) return false;
        lock (sync) return TakeLocked(out element, out channel);
    }

    /// <summary>As <see cref="TryTake(out StreamElement, out int, int)"/>; <paramref name="spin"/> false sleeps at once.</summary>
    internal bool TryTake(out StreamElement element, out int channel, int timeoutMs, bool spin)
    {
        bool spun = !spin;
        while (true)
        {
            int seen;
            lock (sync)
            {
                if (TakeLocked(out element, out channel)) return true;
                if (timeoutMs == 0)
                {
                    channel = -1;
                    return false;
                }
                seen = version;
                if (spun)
                {
                    // Spinning found nothing: sleep until a producer (or a timeout) wakes us.
                    consumerWaiting = true;
                    bool signalled = Monitor.Wait(sync, timeoutMs);
                    consumerWaiting = false;
                    if (TakeLocked(out element, out channel)) return true;
                    if (!signalled || cancelled)
                    {
                        if (cancelled) throw new OperationCanceledException("the job was cancelled");
                        channel = -1;
                        return false;
                    }
                    continue;
                }
            }
            // Nothing queued: spin briefly watching for a put before sleeping on the monitor, since a busy producer
            // usually delivers within microseconds and waking a sleeping consumer costs a system call each time.
            spun = true;
            consumerSpinTicks = Adapt(consumerSpinTicks,
                SpinUntil(static (g, s) => Volatile.Read(ref g.version) != s || g.cancelled, this, seen, Stopwatch.GetTimestamp(), consumerSpinTicks));
        }
    }

    private bool TakeLocked(out StreamElement element, out int channel)
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
            int head = ch.Head + 1;
            ch.Head = head == ch.Ring.Length ? 0 : head;
            int count = ch.Count - 1;
            Volatile.Write(ref ch.Count, count);
            // Wake waiting producers once their channel is half empty rather than at every take from a full
            // channel: a producer then puts several elements per wake-up instead of one.
            if (producersWaiting > 0 && count <= ch.Ring.Length / 2) Monitor.PulseAll(sync);
            channel = i;
            return true;
        }
        element = default;
        channel = -1;
        return false;
    }

    /// <summary>Spins (with yields, never sleeping) until <paramref name="done"/> or <paramref name="budget"/> ticks
    /// passed; returns whether the condition came true.</summary>
    private static bool SpinUntil<TState, TArg>(Func<TState, TArg, bool> done, TState state, TArg arg, long start, long budget)
    {
        var spinner = new SpinWait();
        while (!done(state, arg))
        {
            if (Stopwatch.GetTimestamp() - start > budget) return false;
            spinner.SpinOnce(sleep1Threshold: -1);
        }
        return true;
    }

    private static long Adapt(long budget, bool succeeded) =>
        succeeded ? Math.Min(MaxSpinTicks, budget * 2) : Math.Max(MinSpinTicks, budget / 2);

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
        lock (sync)
        {
            channels[channel].Blocked = true;
            // Producers are woken at half capacity (see TakeLocked); a channel that will not be drained further must
            // wake its producer now if a take already made room, or it would sleep with room in its channel.
            if (producersWaiting > 0) Monitor.PulseAll(sync);
        }
    }

    public void UnblockAll()
    {
        lock (sync)
        {
            foreach (var c in channels) c.Blocked = false;
            Volatile.Write(ref version, version + 1);
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

        /// <summary>The producer's current spin budget when the channel is full.</summary>
        public long SpinTicks = MaxSpinTicks;
    }
}
