using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Eddy.Joins;

/// <summary>
/// The records of one join input as a multiset per join key, as Flink's join record state views: each distinct record
/// with its count, its number of associations (matches on the other side, for an outer side) and the processing time
/// it was last written (for state TTL). Entries live in one pooled struct array, linked per key in insertion order; a
/// hash index by record finds a record's entry in one lookup (equal records have equal join keys, so one index serves
/// every key).
/// </summary>
internal sealed class JoinRecordStore<T> where T : notnull
{
    public const int None = -1;

    public struct Entry
    {
        public T Value;
        public int Count;
        public int Associations;
        public long WrittenAt;
        public int Prev;
        public int Next;
    }

    private Entry[] entries = new Entry[64];
    private int used;
    private int freeHead = None;
    private readonly Dictionary<T, int> index = [];

    /// <summary>Distinct records held.</summary>
    public int Count => index.Count;

    public ref Entry this[int slot] => ref entries[slot];

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(T value) => index.TryGetValue(value, out int slot) ? slot : None;

    /// <summary>Appends a new distinct record to the list of <paramref name="first"/>/<paramref name="last"/> (slots + 1, 0 = empty).</summary>
    public int Append(ref int first, ref int last, T value, int count, int associations, long writtenAt)
    {
        int slot;
        if (freeHead != None)
        {
            slot = freeHead;
            freeHead = entries[slot].Next;
        }
        else
        {
            if (used == entries.Length) Array.Resize(ref entries, used * 2);
            slot = used++;
        }
        ref var e = ref entries[slot];
        e.Value = value;
        e.Count = count;
        e.Associations = associations;
        e.WrittenAt = writtenAt;
        e.Next = None;
        e.Prev = last - 1;
        if (last == 0) first = slot + 1;
        else entries[last - 1].Next = slot;
        last = slot + 1;
        index.Add(value, slot);
        return slot;
    }

    /// <summary>Unlinks and frees <paramref name="slot"/>.</summary>
    public void Remove(ref int first, ref int last, int slot)
    {
        ref var e = ref entries[slot];
        if (e.Prev == None) first = e.Next + 1;
        else entries[e.Prev].Next = e.Next;
        if (e.Next == None) last = e.Prev + 1;
        else entries[e.Next].Prev = e.Prev;
        index.Remove(e.Value);
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>()) e.Value = default!;
        e.Next = freeHead;
        freeHead = slot;
    }

    /// <summary>The entries of a key (first slot + 1) as a list, for snapshots and tests.</summary>
    public int CountOf(int first)
    {
        int n = 0;
        for (int s = first - 1; s != None; s = entries[s].Next) n++;
        return n;
    }

    public Span<Entry> Entries => entries.AsSpan(0, used);
}

/// <summary>Where a key's two record lists start and end (slots + 1, 0 = empty).</summary>
internal struct JoinKeyLists
{
    public int LeftFirst;
    public int LeftLast;
    public int RightFirst;
    public int RightLast;

    public readonly bool IsEmpty => LeftFirst == 0 && RightFirst == 0;
}

internal static class JoinKeyIndex
{
    public static ref JoinKeyLists Lists<TKey>(Dictionary<TKey, JoinKeyLists> keys, TKey key) where TKey : notnull =>
        ref CollectionsMarshal.GetValueRefOrAddDefault(keys, key, out _);
}
