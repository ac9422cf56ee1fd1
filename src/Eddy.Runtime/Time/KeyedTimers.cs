namespace Eddy.Runtime;

public enum TimeDomain
{
    EventTime,
    ProcessingTime,
}

/// <summary>
/// Timers of a keyed operator, per key and time, each at most once (registering the same (key, time) twice makes
/// one timer), as Flink's internal timer service. Event-time timers fire as the watermark passes them; processing-time
/// timers through the task's <see cref="ProcessingTimers"/>.
/// </summary>
public sealed class KeyedTimers<TKey> where TKey : notnull
{
    private readonly PriorityQueue<TKey, long> eventQueue = new();
    private readonly HashSet<(TKey, long)> eventSet = [];
    private readonly PriorityQueue<TKey, long> processingQueue = new();
    private readonly HashSet<(TKey, long)> processingSet = [];
    private readonly ProcessingTimers clock;
    private readonly Action<TKey, long, TimeDomain> onTimer;
    private long scheduledWakeUp = long.MaxValue;

    public KeyedTimers(ProcessingTimers clock, Action<TKey, long, TimeDomain> onTimer)
    {
        this.clock = clock;
        this.onTimer = onTimer;
    }

    public int EventTimerCount => eventSet.Count;

    public int ProcessingTimerCount => processingSet.Count;

    public void RegisterEventTime(TKey key, long time)
    {
        if (eventSet.Add((key, time))) eventQueue.Enqueue(key, time);
    }

    public void DeleteEventTime(TKey key, long time) => eventSet.Remove((key, time));

    public void RegisterProcessingTime(TKey key, long time)
    {
        if (!processingSet.Add((key, time))) return;
        processingQueue.Enqueue(key, time);
        if (time < scheduledWakeUp)
        {
            scheduledWakeUp = time;
            clock.Register(time, FireProcessingTime);
        }
    }

    public void DeleteProcessingTime(TKey key, long time) => processingSet.Remove((key, time));

    /// <summary>Writes every pending timer into the key group of its key (a section per timer: tag, key, time).</summary>
    public void Snapshot(KeyGroupSectionWriter writer, byte eventTag, byte processingTag)
    {
        var keys = StateSerializers.For<TKey>();
        Write(eventSet, eventTag);
        Write(processingSet, processingTag);

        void Write(HashSet<(TKey Key, long Time)> timers, byte tag)
        {
            foreach (var (key, time) in timers)
            {
                var w = writer.Section(KeyGroups.ForKey(key, writer.MaxParallelism), tag);
                keys.Write(w, key);
                w.Write(time);
            }
        }
    }

    /// <summary>Reads one timer section written by <see cref="Snapshot"/> and registers the timer again.</summary>
    public void RestoreTimer(BinaryReader reader, TimeDomain domain)
    {
        var key = StateSerializers.For<TKey>().Read(reader);
        long time = reader.ReadInt64();
        if (domain == TimeDomain.EventTime) RegisterEventTime(key, time);
        else RegisterProcessingTime(key, time);
    }

    /// <summary>Fires, in time order, every event-time timer at or before <paramref name="watermark"/>.</summary>
    public void AdvanceWatermark(long watermark)
    {
        while (eventQueue.TryPeek(out var key, out long time) && time <= watermark)
        {
            eventQueue.Dequeue();
            if (eventSet.Remove((key, time))) onTimer(key, time, TimeDomain.EventTime);
        }
    }

    private void FireProcessingTime(long now)
    {
        scheduledWakeUp = long.MaxValue;
        long current = Math.Max(now, clock.Now);
        while (processingQueue.TryPeek(out var key, out long time) && time <= current)
        {
            processingQueue.Dequeue();
            if (processingSet.Remove((key, time))) onTimer(key, time, TimeDomain.ProcessingTime);
        }
        if (processingQueue.TryPeek(out _, out long next) && next < scheduledWakeUp)
        {
            scheduledWakeUp = next;
            clock.Register(next, FireProcessingTime);
        }
    }
}
