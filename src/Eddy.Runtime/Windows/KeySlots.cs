using System.Runtime.InteropServices;

namespace Eddy.Windows;

/// <summary>
/// Dense numbers for the keys that some slice holds, counted by reference: a key keeps its slot while any slice
/// has an entry for it. Windows that span several slices merge them through arrays indexed by slot, with no hashing.
/// </summary>
internal sealed class KeySlots<TKey> where TKey : notnull
{
    private readonly Dictionary<TKey, int> slotOf = [];
    private TKey[] keys = new TKey[64];
    private int[] references = new int[64];
    private readonly Stack<int> free = new();
    private int used;

    /// <summary>Every slot is below this.</summary>
    public int Capacity => keys.Length;

    public int Count => slotOf.Count;

    public TKey KeyOf(int slot) => keys[slot];

    /// <summary>The slot of <paramref name="key"/>, taking one reference to it.</summary>
    public int Acquire(TKey key)
    {
        ref int slot = ref CollectionsMarshal.GetValueRefOrAddDefault(slotOf, key, out bool exists);
        if (!exists)
        {
            if (!free.TryPop(out slot))
            {
                if (used == keys.Length)
                {
                    Array.Resize(ref keys, used * 2);
                    Array.Resize(ref references, used * 2);
                }
                slot = used++;
            }
            keys[slot] = key;
        }
        references[slot]++;
        return slot;
    }

    public void Release(int slot)
    {
        if (--references[slot] > 0) return;
        slotOf.Remove(keys[slot]);
        keys[slot] = default!;
        free.Push(slot);
    }
}
