namespace Eddy.Sql.Functions.Builtin;

/// <summary>
/// java.util.Random's linear congruential generator (its documented algorithm), so that a seeded RAND / RAND_INTEGER
/// gives the numbers Flink gives: <c>new Random(42).nextDouble()</c> is 0.7275636800328681.
/// </summary>
public sealed class JavaRandom(long seed)
{
    private const long Multiplier = 0x5DEECE66DL;
    private const long Mask = (1L << 48) - 1;
    private readonly Lock gate = new();
    private long state = (seed ^ Multiplier) & Mask;

    private int Next(int bits)
    {
        state = (state * Multiplier + 0xBL) & Mask;
        return (int)((ulong)state >> (48 - bits));
    }

    public double NextDouble()
    {
        lock (gate) return (((long)Next(26) << 27) + Next(27)) * (1.0 / (1L << 53));
    }

    /// <summary>nextInt(bound): NULL for a NULL bound; a bound below 1 fails, as Java's IllegalArgumentException does in Flink.</summary>
    public int? NextInt(int? bound)
    {
        if (bound is not { } n) return null;
        if (n <= 0) throw new ArgumentOutOfRangeException(nameof(bound), n, "RAND_INTEGER: the bound must be positive");
        lock (gate)
        {
            int r = Next(31);
            int m = n - 1;
            if ((n & m) == 0) return (int)((n * (long)r) >> 31);
            for (int u = r; u - (r = u % n) + m < 0; u = Next(31)) { }
            return r;
        }
    }
}
