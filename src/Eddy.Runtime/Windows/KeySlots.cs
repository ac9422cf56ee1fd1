using System.Numerics;
using System.Runtime.CompilerServices;

namespace Eddy.Windows;

/// <summary>
/// Dense numbers for the keys that some slice holds, counted by reference: a key keeps its slot while any slice
/// has an entry for it. Windows that span several slices merge them through arrays indexed by slot, with no hashing.
/// The key-to-slot index is open addressing with linear probing and backward-shift deletion (no tombstones), since
/// keys come and go as slices do.
/// </summary>
internal sealed class KeySlots<TKey> where TKey : notnull
{
    private int[] buckets = new int[128];   // slot + 1; 0 is empty
    private int shift = 32 - 7;
    private TKey[] keys = new TKey[64];
    private int[] hashes = new int[64];
    private int[] references = new int[64];
    private int[] free = new int[64];
    private int freeCount;
    private int used;
    private int count;

    /// <summary>Every slot is below this.</summary>
    public int Capacity => keys.Length;

    public int Count => count;

    public TKey KeyOf(int slot) => keys[slot];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int BucketOf(int hash) => (int)(((uint)hash * 0x9E3779B9u) >> shift);

    /// <summary>The slot of <paramref name="key"/>, taking one reference to it.</summary>
    public int Acquire(TKey key)
    {
        int hash = key.GetHashCode();
        int mask = buckets.Length - 1;
        int i = BucketOf(hash);
        while (true)
        {
            int slot = buckets[i] - 1;
            if (slot < 0) break;
            if (hashes[slot] == hash && EqualityComparer<TKey>.Default.Equals(keys[slot], key))
            {
                references[slot]++;
                return slot;
            }
            i = (i + 1) & mask;
        }
        return Add(key, hash, i);
    }

    private int Add(TKey key, int hash, int bucket)
    {
        int slot;
        if (freeCount > 0)
        {
            slot = free[--freeCount];
        }
        else
        {
            if (used == keys.Length)
            {
                Array.Resize(ref keys, used * 2);
                Array.Resize(ref hashes, used * 2);
                Array.Resize(ref references, used * 2);
                Array.Resize(ref free, used * 2);
            }
            slot = used++;
        }
        keys[slot] = key;
        hashes[slot] = hash;
        references[slot] = 1;
        count++;
        if (count * 2 > buckets.Length) Rehash();
        else buckets[bucket] = slot + 1;
        return slot;
    }

    public void Release(int slot)
    {
        if (--references[slot] > 0) return;
        RemoveFromIndex(slot);
        keys[slot] = default!;
        free[freeCount++] = slot;
        count--;
    }

    private void RemoveFromIndex(int slot)
    {
        int mask = buckets.Length - 1;
        int i = BucketOf(hashes[slot]);
        while (buckets[i] != slot + 1) i = (i + 1) & mask;
        // Backward shift: move later entries of the probe run into the hole unless that would put them before
        // their home bucket.
        int j = i;
        while (true)
        {
            j = (j + 1) & mask;
            int other = buckets[j] - 1;
            if (other < 0) break;
            int home = BucketOf(hashes[other]);
            bool movable = i <= j ? home <= i || home > j : home <= i && home > j;
            if (!movable) continue;
            buckets[i] = buckets[j];
            i = j;
        }
        buckets[i] = 0;
    }

    private void Rehash()
    {
        buckets = new int[buckets.Length * 2];
        shift = 32 - BitOperations.Log2((uint)buckets.Length);
        int mask = buckets.Length - 1;
        for (int slot = 0; slot < used; slot++)
        {
            if (references[slot] == 0) continue;
            int i = BucketOf(hashes[slot]);
            while (buckets[i] != 0) i = (i + 1) & mask;
            buckets[i] = slot + 1;
        }
    }
}
