namespace Eddy.Connectors;

/// <summary>
/// A small seeded generator (xoshiro256**, seeded by SplitMix64). Unlike <see cref="System.Random"/> its sequence for a
/// seed is fixed by this code, not by the .NET version, so seeded data stays the same across upgrades.
/// </summary>
public sealed class FastRandom
{
    private ulong s0, s1, s2, s3;

    public FastRandom(long seed)
    {
        ulong x = (ulong)seed;
        s0 = SplitMix(ref x);
        s1 = SplitMix(ref x);
        s2 = SplitMix(ref x);
        s3 = SplitMix(ref x);
    }

    /// <summary>Writes the generator's state (a checkpoint of a datagen reader).</summary>
    public void Save(BinaryWriter state)
    {
        state.Write(s0);
        state.Write(s1);
        state.Write(s2);
        state.Write(s3);
    }

    /// <summary>Continues from a state written by <see cref="Save"/>.</summary>
    public void Load(BinaryReader state)
    {
        s0 = state.ReadUInt64();
        s1 = state.ReadUInt64();
        s2 = state.ReadUInt64();
        s3 = state.ReadUInt64();
    }

    /// <summary>A seed that differs per stream (subtask, purpose) but is fixed for the same inputs.</summary>
    public static long Mix(long seed, long stream)
    {
        ulong x = (ulong)seed ^ ((ulong)stream * 0x9E3779B97F4A7C15UL);
        return (long)SplitMix(ref x);
    }

    private static ulong SplitMix(ref ulong x)
    {
        ulong z = x += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    public ulong NextULong()
    {
        ulong result = ulong.RotateLeft(s1 * 5, 7) * 9;
        ulong t = s1 << 17;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= t;
        s3 = ulong.RotateLeft(s3, 45);
        return result;
    }

    /// <summary>A double in [0, 1).</summary>
    public double NextDouble() => (NextULong() >> 11) * (1.0 / (1UL << 53));

    public bool NextBool() => (NextULong() >> 63) != 0;

    /// <summary>A long in [min, max], both inclusive, without modulo bias.</summary>
    public long NextLong(long min, long max)
    {
        if (max < min) throw new ArgumentOutOfRangeException(nameof(max), $"max {max} is less than min {min}");
        ulong range = (ulong)(max - min);
        if (range == ulong.MaxValue) return (long)NextULong();
        ulong bound = range + 1;
        ulong hi = Math.BigMul(NextULong(), bound, out ulong lo);
        if (lo < bound)
        {
            ulong threshold = (0 - bound) % bound;
            while (lo < threshold) hi = Math.BigMul(NextULong(), bound, out lo);
        }
        return (long)((ulong)min + hi);
    }

    /// <summary>An int in [0, count).</summary>
    public int NextInt(int count) => (int)NextLong(0, count - 1);

    public T Pick<T>(IReadOnlyList<T> items) => items[NextInt(items.Count)];
}
