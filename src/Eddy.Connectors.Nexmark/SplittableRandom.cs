using System.Runtime.CompilerServices;

namespace Eddy.Connectors.Nexmark;

/// <summary>
/// Java's <c>java.util.SplittableRandom</c> (SplitMix64 with the golden gamma), draw for draw: Nexmark's generator
/// takes every value from one, so the same seed gives the same events as a Java generator seeded alike.
/// </summary>
public sealed class SplittableRandom
{
    private const ulong GoldenGamma = 0x9e3779b97f4a7c15UL;
    private ulong seed;

    public SplittableRandom(long seed) => this.seed = unchecked((ulong)seed);

    /// <summary>The state, to continue the same sequence after a restore.</summary>
    public long State
    {
        get => unchecked((long)seed);
        set => seed = unchecked((ulong)value);
    }

    private static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9UL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebUL;
        return z ^ (z >> 31);
    }

    private static int Mix32(ulong z)
    {
        z = (z ^ (z >> 33)) * 0x62a9d9ed799705f5UL;
        return unchecked((int)(((z ^ (z >> 28)) * 0xcb24d0a5c88c35b3UL) >> 32));
    }

    private ulong NextSeed() => seed += GoldenGamma;

    public int NextInt() => Mix32(NextSeed());

    public long NextLong() => unchecked((long)Mix64(NextSeed()));

    /// <summary>A value in [0, bound): Java's rejection loop, so that draws stay aligned with Java's.</summary>
    // Inlined: with a constant bound (the strings' 13 and 26) the remainder becomes a multiplication.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int NextInt(int bound)
    {
        if (bound <= 0) throw new ArgumentOutOfRangeException(nameof(bound), bound, "must be positive");
        int r = Mix32(NextSeed());
        int m = bound - 1;
        if ((bound & m) == 0) return r & m;
        // Java: for (u = r >>> 1; u + m - (r = u % bound) < 0; u = nextInt() >>> 1); int overflow is the test.
        for (int u = (int)((uint)r >> 1); unchecked(u + m - (r = u % bound)) < 0; u = (int)((uint)Mix32(NextSeed()) >> 1))
        {
        }
        return r;
    }

    public double NextDouble() => (Mix64(NextSeed()) >> 11) * (1.0 / (1L << 53));
}
