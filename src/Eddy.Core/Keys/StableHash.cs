using System.Numerics;
using System.Runtime.CompilerServices;

namespace Eddy;

/// <summary>
/// Hashes that are equal in every process and on every run. Key groups are derived from them, so that
/// several Eddy processes (and a restore from a checkpoint) agree on which subtask owns which key.
/// <see cref="object.GetHashCode"/> is randomised per process for strings and cannot serve.
/// </summary>
public static class StableHash
{
    /// <summary>Murmur3's 32-bit finaliser: spreads the bits of an already computed hash.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Mix(int h)
    {
        uint x = (uint)h;
        x ^= x >> 16;
        x *= 0x85ebca6b;
        x ^= x >> 13;
        x *= 0xc2b2ae35;
        x ^= x >> 16;
        return (int)x;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Of(long value) => Mix((int)value ^ (int)(value >> 32) * 0x27d4eb2d);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Of(int value) => Mix(value);

    public static int Of(string? value)
    {
        if (value is null) return 0;
        // FNV-1a over UTF-16 code units, then mixed: stable, cheap, and good enough for bucketing.
        uint h = 2166136261;
        foreach (char c in value)
        {
            h = (h ^ c) * 16777619;
        }
        return Mix((int)h);
    }

    public static int Combine(int h1, int h2) => (int)BitOperations.RotateLeft((uint)h1, 5) ^ h2 * -1640531535;

    /// <summary>
    /// A stable hash of any key value: primitives, strings, enums, <see cref="IStableHashable"/>, tuples and
    /// records of those. For a value type the JIT removes the type tests that do not apply.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int OfKey<T>(T key)
    {
        if (typeof(T) == typeof(int)) return Of(Unsafe.As<T, int>(ref key));
        if (typeof(T) == typeof(long)) return Of(Unsafe.As<T, long>(ref key));
        if (typeof(T) == typeof(string)) return Of(Unsafe.As<T, string>(ref key));
        return OfObject(key);
    }

    public static int OfObject(object? key) => key switch
    {
        null => 0,
        string s => Of(s),
        int i => Of(i),
        long l => Of(l),
        short s16 => Of(s16),
        byte b => Of(b),
        sbyte sb => Of(sb),
        bool b => Of(b ? 1 : 0),
        char c => Of(c),
        double d => Of(BitConverter.DoubleToInt64Bits(d == 0 ? 0d : d)),
        float f => Of(BitConverter.SingleToInt32Bits(f == 0 ? 0f : f)),
        decimal m => Of(m.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        DateTime dt => Of(dt.Ticks),
        DateTimeOffset dto => Of(dto.UtcTicks),
        TimeSpan ts => Of(ts.Ticks),
        Guid g => Of(g.ToString("N")),
        Enum e => Of(Convert.ToInt64(e, System.Globalization.CultureInfo.InvariantCulture)),
        IStableHashable h => h.GetStableHashCode(),
        ITuple t => OfTuple(t),
        Row r => OfFields(r.Fields),
        _ => throw new NotSupportedException(
            $"Eddy cannot compute a stable hash for keys of type {key.GetType()}: use primitives, strings, " +
            "tuples of them, or implement IStableHashable so that key groups are the same in every process."),
    };

    private static int OfTuple(ITuple tuple)
    {
        int h = 17;
        for (int i = 0; i < tuple.Length; i++) h = Combine(h, OfObject(tuple[i]));
        return h;
    }

    public static int OfFields(ReadOnlySpan<object?> fields)
    {
        int h = 17;
        foreach (var f in fields) h = Combine(h, OfObject(f));
        return h;
    }
}

/// <summary>Implemented by key types whose stable hash Eddy cannot derive by itself.</summary>
public interface IStableHashable
{
    int GetStableHashCode();
}
