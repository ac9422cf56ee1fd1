using System.Runtime.CompilerServices;

namespace Eddy;

/// <summary>
/// Key → key group → subtask, as Flink assigns them. The number of key groups (max parallelism) is fixed for the
/// life of a job's state; a subtask owns a contiguous range of key groups, so that state moves between parallelisms
/// (or between processes) by whole key groups.
/// </summary>
public static class KeyGroups
{
    public const int DefaultMaxParallelism = 128;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ForHash(int stableHash, int maxParallelism) =>
        (int)((uint)StableHash.Mix(stableHash) % (uint)maxParallelism);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int ForKey<TKey>(TKey key, int maxParallelism) => ForHash(StableHash.OfKey(key), maxParallelism);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int SubtaskFor(int keyGroup, int maxParallelism, int parallelism) =>
        keyGroup * parallelism / maxParallelism;

    /// <summary>The key groups a subtask owns: [start, end).</summary>
    public static (int Start, int End) RangeOf(int subtask, int maxParallelism, int parallelism)
    {
        int start = (subtask * maxParallelism + parallelism - 1) / parallelism;
        int end = ((subtask + 1) * maxParallelism + parallelism - 1) / parallelism;
        return (start, end);
    }

    public static void Validate(int parallelism, int maxParallelism)
    {
        if (maxParallelism < 1 || maxParallelism > 32768)
            throw new ArgumentOutOfRangeException(nameof(maxParallelism), maxParallelism, "max parallelism must be within 1..32768");
        if (parallelism < 1 || parallelism > maxParallelism)
            throw new ArgumentOutOfRangeException(nameof(parallelism), parallelism,
                $"parallelism must be within 1..max parallelism ({maxParallelism})");
    }
}
