namespace Eddy.Functions.Geo;

/// <summary>
/// A bounded least-recently-used cache whose entries also expire after a time to live. One lock: it sits in front
/// of network calls that take milliseconds, so contention on it does not matter.
/// </summary>
public sealed class LruCache<TKey, TValue> where TKey : notnull
{
    private readonly int capacity;
    private readonly TimeSpan timeToLive;
    private readonly TimeProvider clock;
    private readonly Dictionary<TKey, LinkedListNode<(TKey Key, TValue Value, long Expires)>> map;
    private readonly LinkedList<(TKey Key, TValue Value, long Expires)> order = new();
    private readonly Lock gate = new();

    public LruCache(int capacity, TimeSpan timeToLive, TimeProvider? clock = null)
    {
        if (capacity < 1) throw new ArgumentException($"cache size must be at least 1, got {capacity}");
        if (timeToLive <= TimeSpan.Zero) throw new ArgumentException($"cache time to live must be positive, got {timeToLive}");
        this.capacity = capacity;
        this.timeToLive = timeToLive;
        this.clock = clock ?? TimeProvider.System;
        map = new Dictionary<TKey, LinkedListNode<(TKey, TValue, long)>>(Math.Min(capacity, 1 << 16));
    }

    public int Count
    {
        get { lock (gate) return map.Count; }
    }

    public long Evictions { get; private set; }

    public bool TryGet(TKey key, out TValue value)
    {
        long now = clock.GetTimestamp();
        lock (gate)
        {
            if (map.TryGetValue(key, out var node))
            {
                if (node.Value.Expires > now)
                {
                    order.Remove(node);
                    order.AddFirst(node);
                    value = node.Value.Value;
                    return true;
                }
                order.Remove(node);
                map.Remove(key);
            }
        }
        value = default!;
        return false;
    }

    public void Set(TKey key, TValue value)
    {
        long expires = clock.GetTimestamp() + (long)(timeToLive.TotalSeconds * clock.TimestampFrequency);
        lock (gate)
        {
            if (map.TryGetValue(key, out var existing))
            {
                existing.Value = (key, value, expires);
                order.Remove(existing);
                order.AddFirst(existing);
                return;
            }
            if (map.Count >= capacity)
            {
                var last = order.Last!;
                order.RemoveLast();
                map.Remove(last.Value.Key);
                Evictions++;
            }
            map[key] = order.AddFirst((key, value, expires));
        }
    }
}
