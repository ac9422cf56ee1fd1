using System.Numerics;
using System.Runtime.CompilerServices;

namespace Eddy.Windows;

/// <summary>
/// An open-addressing hash table from key to accumulator, with entries stored densely in insertion order: one per
/// slice (or the scratch table where a window merges its slices). Clearing keeps the arrays, so that a pooled table
/// serves slice after slice without allocating.
/// </summary>
internal sealed class KeyedAccumulators<TKey, TAcc> where TKey : notnull
{
    private int[] buckets;   // entry index + 1; 0 is empty
    private int[] hashes;
    private TKey[] keys;
    private TAcc[] accumulators;
    private int[]? slots;
    private int count;
    private int shift;
    // Entries appended by a restore are placed in the buckets only by IndexAll, in bucket order.
    private bool unindexed;

    /// <param name="withSlots">Keep a <see cref="KeySlots{TKey}"/> slot per entry (see <see cref="SetSlotOfLast"/>).</param>
    public KeyedAccumulators(bool withSlots, int capacity = 16)
    {
        int size = Math.Max(16, (int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2));
        buckets = new int[size];
        shift = 32 - BitOperations.Log2((uint)size);
        hashes = new int[size / 2];
        keys = new TKey[size / 2];
        accumulators = new TAcc[size / 2];
        if (withSlots) slots = new int[size / 2];
    }

    public int Count => count;

    public TKey KeyAt(int index) => keys[index];

    public ref TAcc AccumulatorAt(int index) => ref accumulators[index];

    public int SlotAt(int index) => slots![index];

    /// <summary>Sets the slot of the entry added last.</summary>
    public void SetSlotOfLast(int slot) => slots![count - 1] = slot;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int HashOf(TKey key) => key.GetHashCode();

    /// <summary>The accumulator of <paramref name="key"/>; a new entry holds default when <paramref name="added"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ref TAcc GetOrAdd(TKey key, out bool added)
    {
        int hash = HashOf(key);
        int[] b = buckets;
        int mask = b.Length - 1;
        // Fibonacci hashing spreads sequential keys, which plain masking would cluster.
        int i = (int)(((uint)hash * 0x9E3779B9u) >> shift);
        while (true)
        {
            int e = b[i] - 1;
            if (e < 0) break;
            if (hashes[e] == hash && EqualityComparer<TKey>.Default.Equals(keys[e], key))
            {
                added = false;
                return ref accumulators[e];
            }
            i = (i + 1) & mask;
        }
        added = true;
        return ref Insert(key, hash, i);
    }

    /// <summary>The accumulator of <paramref name="key"/>, or a null reference.</summary>
    public ref TAcc Find(TKey key)
    {
        int hash = HashOf(key);
        int[] b = buckets;
        int mask = b.Length - 1;
        int i = (int)(((uint)hash * 0x9E3779B9u) >> shift);
        while (true)
        {
            int e = b[i] - 1;
            if (e < 0) return ref Unsafe.NullRef<TAcc>();
            if (hashes[e] == hash && EqualityComparer<TKey>.Default.Equals(keys[e], key)) return ref accumulators[e];
            i = (i + 1) & mask;
        }
    }

    private ref TAcc Insert(TKey key, int hash, int bucket)
    {
        if (count == keys.Length)
        {
            Grow();
            bucket = FreeBucket(hash);
        }
        int e = count++;
        hashes[e] = hash;
        keys[e] = key;
        accumulators[e] = default!;
        buckets[bucket] = e + 1;
        return ref accumulators[e];
    }

    private int FreeBucket(int hash)
    {
        int mask = buckets.Length - 1;
        int i = (int)(((uint)hash * 0x9E3779B9u) >> shift);
        while (buckets[i] != 0) i = (i + 1) & mask;
        return i;
    }

    // The load factor stays at most one half: entries grow with the buckets.
    private void Grow()
    {
        int size = buckets.Length * 2;
        buckets = new int[size];
        shift--;
        Array.Resize(ref hashes, size / 2);
        Array.Resize(ref keys, size / 2);
        Array.Resize(ref accumulators, size / 2);
        if (slots is not null) Array.Resize(ref slots, size / 2);
        if (!unindexed) for (int e = 0; e < count; e++) buckets[FreeBucket(hashes[e])] = e + 1;
    }

    /// <summary>
    /// Appends a key known to be absent without placing it in the buckets (a restore: the keys of a slice are
    /// distinct); no lookup works until <see cref="IndexAll"/>. Returns the new entry's accumulator.
    /// </summary>
    public ref TAcc AppendUnindexed(TKey key)
    {
        unindexed = true;
        if (count == keys.Length) Grow();
        int e = count++;
        hashes[e] = HashOf(key);
        keys[e] = key;
        return ref accumulators[e];
    }

    /// <summary>
    /// Places the appended entries in the buckets in bucket order: (hash, entry) pairs are grouped by the top 12 bits of
    /// their home bucket (a counting sort, 4,096 write streams that stay in cache), then placed group by group, so the
    /// buckets are filled front to back and nothing is read at random. The entries keep their order, so a snapshot
    /// writes the same bytes.
    /// </summary>
    public void IndexAll()
    {
        if (!unindexed) return;
        unindexed = false;
        Array.Clear(buckets);
        int n = count;
        int bits = Math.Min(12, BitOperations.Log2((uint)buckets.Length));
        int sortShift = 32 - bits;
        var starts = new int[(1 << bits) + 1];
        for (int e = 0; e < n; e++) starts[(int)(((uint)hashes[e] * 0x9E3779B9u) >> sortShift) + 1]++;
        for (int g = 0; g < 1 << bits; g++) starts[g + 1] += starts[g];
        var sorted = System.Buffers.ArrayPool<long>.Shared.Rent(Math.Max(1, n));
        for (int e = 0; e < n; e++)
        {
            uint hash = (uint)hashes[e];
            sorted[starts[(int)((hash * 0x9E3779B9u) >> sortShift)]++] = ((long)hash << 32) | (uint)e;
        }
        for (int i = 0; i < n; i++)
        {
            long pair = sorted[i];
            buckets[FreeBucket((int)(pair >> 32))] = (int)pair + 1;
        }
        System.Buffers.ArrayPool<long>.Shared.Return(sorted);
    }

    /// <summary>
    /// Adds a key known to be absent (a restore, whose keys of one slice are distinct): no comparison of keys, only a
    /// free bucket to find. Returns the new entry's accumulator.
    /// </summary>
    public ref TAcc AddNew(TKey key)
    {
        int hash = HashOf(key);
        if (count == keys.Length) Grow();
        return ref Insert(key, hash, FreeBucket(hash));
    }

    /// <summary>
    /// Asks the CPU to fetch the bucket a key will land in (a restore inserts keys in an order unrelated to their
    /// buckets: without this, each insert waits for a cache miss).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchBucket(TKey key)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        int i = (int)(((uint)HashOf(key) * 0x9E3779B9u) >> shift);
        fixed (int* b = &buckets[i]) System.Runtime.Intrinsics.X86.Sse.Prefetch0(b);
    }

    /// <summary>Asks the CPU to fetch an entry's key and accumulator (a snapshot visits entries by key group).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public unsafe void PrefetchEntry(int index)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref keys[index]));
        System.Runtime.Intrinsics.X86.Sse.Prefetch0(Unsafe.AsPointer(ref accumulators[index]));
    }

    /// <summary>Grows once to hold <paramref name="capacity"/> entries (a restore knows how many are coming).</summary>
    public void EnsureCapacity(int capacity)
    {
        if (capacity <= keys.Length) return;
        int size = (int)BitOperations.RoundUpToPowerOf2((uint)capacity * 2);
        buckets = new int[size];
        shift = 32 - BitOperations.Log2((uint)size);
        Array.Resize(ref hashes, size / 2);
        Array.Resize(ref keys, size / 2);
        Array.Resize(ref accumulators, size / 2);
        if (slots is not null) Array.Resize(ref slots, size / 2);
        if (!unindexed) for (int e = 0; e < count; e++) buckets[FreeBucket(hashes[e])] = e + 1;
    }

    // Deferred snapshots that still read this table (copy-on-write): while any does, the operator writes to a copy.
    private int snapshotReaders;

    /// <summary>Whether a deferred snapshot still reads this table: it must not change, the operator writes to a <see cref="Copy"/>.</summary>
    public bool IsShared => Volatile.Read(ref snapshotReaders) != 0;

    /// <summary>A deferred snapshot starts reading this table (on the task thread, at the barrier).</summary>
    public void Share() => Interlocked.Increment(ref snapshotReaders);

    /// <summary>A deferred snapshot is done with this table (on any thread).</summary>
    public void Unshare() => Interlocked.Decrement(ref snapshotReaders);

    /// <summary>
    /// A private copy to write to (the first write after a barrier to a table a snapshot still reads): the arrays are
    /// copied as they are, buckets included, so nothing is hashed again.
    /// </summary>
    public KeyedAccumulators<TKey, TAcc> Copy()
    {
        var copy = (KeyedAccumulators<TKey, TAcc>)MemberwiseClone();
        copy.snapshotReaders = 0;
        copy.buckets = (int[])buckets.Clone();
        copy.hashes = (int[])hashes.Clone();
        copy.keys = (TKey[])keys.Clone();
        copy.accumulators = (TAcc[])accumulators.Clone();
        copy.slots = (int[]?)slots?.Clone();
        return copy;
    }

    public void Clear()
    {
        if (count == 0) return;
        Array.Clear(buckets);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TKey>()) Array.Clear(keys, 0, count);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<TAcc>()) Array.Clear(accumulators, 0, count);
        count = 0;
    }
}
