namespace Eddy.Runtime;

/// <summary>
/// The layout operators share inside a key group's stream: sections, each a tag byte (never 0) and the operator's
/// payload, ended by a 0 byte. An operator opens each key group once per snapshot (as the writer requires) and may
/// write sections of several kinds into it in any order.
/// </summary>
public sealed class KeyGroupSectionWriter(OperatorStateWriter writer, int maxParallelism)
{
    private readonly BinaryWriter?[] opened = new BinaryWriter?[maxParallelism];

    public int MaxParallelism => maxParallelism;

    /// <summary>The stream of <paramref name="keyGroup"/> positioned for a new section with tag <paramref name="tag"/>.</summary>
    public BinaryWriter Section(int keyGroup, byte tag)
    {
        if (tag == KeyGroupSections.End) throw new ArgumentOutOfRangeException(nameof(tag), "tag 0 ends a key group");
        var w = opened[keyGroup] ??= writer.KeyGroup(keyGroup);
        w.Write(tag);
        return w;
    }

    /// <summary>Ends every key group written to.</summary>
    public void Complete()
    {
        foreach (var w in opened) w?.Write(KeyGroupSections.End);
    }
}

public static class KeyGroupSections
{
    public const byte End = 0;

    /// <summary>Reads every section of every key group of the new subtask, in key-group order.</summary>
    public static void Read(OperatorStateReader reader, Action<int, byte, BinaryReader> section)
    {
        foreach (var (kg, r) in reader.KeyGroups)
        {
            while (true)
            {
                byte tag = r.ReadByte();
                if (tag == End) break;
                section(kg, tag, r);
            }
        }
    }

    /// <summary>
    /// Orders <paramref name="count"/> entries by key group (a counting sort, no comparisons): the entries of key
    /// group g are <c>order[starts[g]..starts[g + 1]]</c>. Arrays are reused across calls when large enough.
    /// </summary>
    public static void GroupByKeyGroup(ReadOnlySpan<int> keyGroupOf, int maxParallelism, ref int[] order, ref int[] starts)
    {
        int n = keyGroupOf.Length;
        if (order.Length < n) order = new int[Math.Max(n, order.Length * 2)];
        if (starts.Length < maxParallelism + 1) starts = new int[maxParallelism + 1];
        Array.Clear(starts, 0, maxParallelism + 1);
        foreach (int kg in keyGroupOf) starts[kg + 1]++;
        for (int g = 0; g < maxParallelism; g++) starts[g + 1] += starts[g];
        // A running copy of the starts, shifted by one, fills the order.
        Span<int> next = maxParallelism <= 1024 ? stackalloc int[maxParallelism] : new int[maxParallelism];
        starts.AsSpan(0, maxParallelism).CopyTo(next);
        for (int i = 0; i < n; i++) order[next[keyGroupOf[i]]++] = i;
    }
}

/// <summary>The operator-state header every stateful operator writes first: a format version it checks on restore.</summary>
public static class OperatorStateFormat
{
    public static void WriteVersion(BinaryWriter w, byte version) => w.Write(version);

    public static void CheckVersion(BinaryReader r, byte expected, string operatorName)
    {
        byte v = r.ReadByte();
        if (v != expected)
            throw new InvalidDataException($"operator '{operatorName}': state format version {v} in the checkpoint, this build reads {expected}");
    }
}
