using System.Runtime.CompilerServices;

namespace Eddy.Runtime;

/// <summary>
/// The unit that moves between operators and tasks: up to <see cref="Capacity"/> records with their event
/// timestamps and, for changelog streams, their row kinds. Batches are pooled: whoever receives one owns it and
/// either passes it on or returns it with <see cref="BatchPool{T}.Return"/>.
/// </summary>
public sealed class Batch<T>
{
    public const int DefaultCapacity = 1024;

    private RowKind[]? kinds;
    private bool hasKinds;

    public Batch(int capacity = DefaultCapacity)
    {
        Values = new T[capacity];
        Timestamps = new long[capacity];
    }

    public T[] Values { get; }

    /// <summary>Event time of each record in ms, or <see cref="EventTime.None"/>.</summary>
    public long[] Timestamps { get; }

    public int Count;

    public int Capacity => Values.Length;

    public bool IsFull => Count == Values.Length;

    /// <summary>True when some record is not an insert (the batch belongs to a changelog stream).</summary>
    public bool HasKinds => hasKinds;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Add(T value, long timestamp)
    {
        int i = Count;
        Values[i] = value;
        Timestamps[i] = timestamp;
        Count = i + 1;
    }

    public void Add(T value, long timestamp, RowKind kind)
    {
        int i = Count;
        Add(value, timestamp);
        if (kind != RowKind.Insert || hasKinds) SetKind(i, kind);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public RowKind KindAt(int index) => hasKinds ? kinds![index] : RowKind.Insert;

    public void SetKind(int index, RowKind kind)
    {
        if (!hasKinds)
        {
            if (kind == RowKind.Insert) return;
            // Every other slot holds an insert now: a reused array may still hold kinds of an earlier use.
            if (kinds is null) kinds = new RowKind[Values.Length];
            else Array.Clear(kinds);
            hasKinds = true;
        }
        kinds![index] = kind;
    }

    /// <summary>Copies record <paramref name="from"/> of <paramref name="source"/> to the end of this batch.</summary>
    public void AddFrom(Batch<T> source, int from)
    {
        int i = Count;
        Values[i] = source.Values[from];
        Timestamps[i] = source.Timestamps[from];
        Count = i + 1;
        if (source.hasKinds || hasKinds) SetKind(i, source.KindAt(from));
    }

    /// <summary>Moves record <paramref name="from"/> to position <paramref name="to"/> (to ≤ from): compaction in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Move(int from, int to)
    {
        Values[to] = Values[from];
        Timestamps[to] = Timestamps[from];
        if (hasKinds) kinds![to] = kinds[from];
    }

    public void Truncate(int count)
    {
        if (count < Count)
        {
            if (RuntimeHelpers.IsReferenceOrContainsReferences<T>()) Array.Clear(Values, count, Count - count);
            // Slots past the count must read as inserts when records are added to them later without a kind.
            if (hasKinds) Array.Clear(kinds!, count, Count - count);
        }
        Count = count;
    }

    public void Clear()
    {
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>()) Array.Clear(Values, 0, Count);
        if (hasKinds)
        {
            Array.Clear(kinds!, 0, Count);
            hasKinds = false;
        }
        Count = 0;
    }

    public Batch<T> Copy()
    {
        var copy = BatchPool<T>.Rent();
        Array.Copy(Values, copy.Values, Count);
        Array.Copy(Timestamps, copy.Timestamps, Count);
        copy.Count = Count;
        if (hasKinds)
        {
            for (int i = 0; i < Count; i++) copy.SetKind(i, kinds![i]);
        }
        return copy;
    }

    public IEnumerable<(T Value, long Timestamp, RowKind Kind)> Records()
    {
        for (int i = 0; i < Count; i++) yield return (Values[i], Timestamps[i], KindAt(i));
    }
}

/// <summary>
/// A process-wide pool of batches of one record type. Renting and returning take a short lock; both happen once
/// per batch, never per record.
/// </summary>
public static class BatchPool<T>
{
    private const int MaxPooled = 1024;
    private static readonly Batch<T>[] Pooled = new Batch<T>[MaxPooled];
    private static readonly Lock Sync = new();
    private static int count;
    private static long outstanding;

    /// <summary>Batches rented and not yet returned: tests use it to find leaks.</summary>
    public static long Outstanding => Volatile.Read(ref outstanding);

    public static Batch<T> Rent()
    {
        Interlocked.Increment(ref outstanding);
        lock (Sync)
        {
            if (count > 0)
            {
                var b = Pooled[--count];
                Pooled[count] = null!;
                return b;
            }
        }
        return new Batch<T>();
    }

    public static void Return(Batch<T> batch)
    {
        Interlocked.Decrement(ref outstanding);
        if (batch.Capacity != Batch<T>.DefaultCapacity) return;
        batch.Clear();
        lock (Sync)
        {
            if (count < MaxPooled) Pooled[count++] = batch;
        }
    }
}
