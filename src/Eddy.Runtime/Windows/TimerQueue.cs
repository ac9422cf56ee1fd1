namespace Eddy.Windows;

/// <summary>
/// A min-queue of timers specialised for mostly ordered times: a timer not earlier than the latest one appended goes
/// to a FIFO ring (constant time), any other to a binary heap. In-order input (the common case) never touches the heap.
/// </summary>
internal sealed class TimerQueue<T>
{
    private (T Item, long Time)[] ring = new (T, long)[64];
    private int head;
    private int count;
    private long lastAppended = long.MinValue;
    private readonly PriorityQueue<T, long> heap = new();

    public int Count => count + heap.Count;

    /// <summary>Whether a timer at <paramref name="time"/> would be appended in constant time.</summary>
    public bool AppendsAt(long time) => time >= lastAppended;

    public void Enqueue(T item, long time)
    {
        if (time < lastAppended)
        {
            heap.Enqueue(item, time);
            return;
        }
        if (count == ring.Length) GrowRing();
        ring[(head + count) & (ring.Length - 1)] = (item, time);
        count++;
        lastAppended = time;
    }

    public bool TryPeek(out T item, out long time)
    {
        bool inRing = count > 0;
        bool inHeap = heap.TryPeek(out var heapItem, out long heapTime);
        if (inRing && (!inHeap || ring[head].Time <= heapTime))
        {
            (item, time) = ring[head];
            return true;
        }
        item = heapItem!;
        time = heapTime;
        return inHeap;
    }

    /// <summary>Removes the timer <see cref="TryPeek"/> returned.</summary>
    public void Dequeue()
    {
        if (count > 0 && (heap.Count == 0 || (heap.TryPeek(out _, out long heapTime) && ring[head].Time <= heapTime)))
        {
            ring[head] = default;
            head = (head + 1) & (ring.Length - 1);
            count--;
        }
        else
        {
            heap.Dequeue();
        }
    }

    private void GrowRing()
    {
        var bigger = new (T, long)[ring.Length * 2];
        for (int i = 0; i < count; i++) bigger[i] = ring[(head + i) & (ring.Length - 1)];
        ring = bigger;
        head = 0;
    }
}
