using System.Globalization;

namespace Eddy.Sql.Codegen;

/// <summary>
/// The accumulator of Flink's internal WELFORD_M2 aggregate, which its planner rewrites STDDEV_POP, STDDEV_SAMP,
/// VAR_POP, VAR_SAMP (and STDDEV, VARIANCE) into: the count, running mean and sum of squared deviations (M2) of the
/// non-NULL values, updated by Welford's online algorithm so that large values do not cancel catastrophically. It
/// retracts a value exactly as Flink's does (the inverse update), so the variances work over a changelog. The same
/// floating-point operations in the same order as Flink's WelfordM2AggFunction, so results agree to the bit.
/// </summary>
public struct WelfordM2
{
    public long N;
    public double Mean;
    public double M2;

    public static WelfordM2 Accumulate(WelfordM2 acc, double value)
    {
        acc.N += 1;
        // A count at or below zero (more retractions than rows so far) keeps counting but leaves mean and M2 alone.
        if (acc.N <= 0) return acc;
        double delta = value - acc.Mean;
        acc.Mean += delta / acc.N;
        double delta2 = value - acc.Mean;
        acc.M2 += delta * delta2;
        return acc;
    }

    public static WelfordM2 Retract(WelfordM2 acc, double value)
    {
        acc.N -= 1;
        if (acc.N <= 0)
        {
            if (acc.N == 0)
            {
                acc.Mean = 0;
                acc.M2 = 0;
            }
            return acc;
        }
        double delta2 = value - acc.Mean;
        acc.Mean -= delta2 / acc.N;
        double delta = value - acc.Mean;
        acc.M2 -= delta * delta2;
        return acc;
    }

    /// <summary>Chan's parallel combination of two partial accumulators (window slices, session merges).</summary>
    public static WelfordM2 Merge(WelfordM2 acc, WelfordM2 other)
    {
        if (other.N <= 0)
        {
            acc.N += other.N;
        }
        else if (acc.N == 0)
        {
            acc = other;
        }
        else
        {
            long n = acc.N + other.N;
            double deltaMean = other.Mean - acc.Mean;
            double mean = acc.Mean + (double)other.N / n * deltaMean;
            double m2 = acc.M2 + other.M2 + (double)acc.N * other.N / n * deltaMean * deltaMean;
            acc.N = n;
            acc.Mean = mean;
            acc.M2 = m2;
        }
        if (acc.N <= 0)
        {
            acc.Mean = 0;
            acc.M2 = 0;
        }
        return acc;
    }

    /// <summary>M2, or NULL without values (or when rounding drove it below zero), as Flink's getValue.</summary>
    public static double? Value(WelfordM2 acc) => acc.N <= 0 || acc.M2 < 0 ? null : acc.M2;

    /// <summary>A DECIMAL as the nearest DOUBLE (Java's BigDecimal.doubleValue rounds correctly; parsing does too).</summary>
    public static double ToDouble(decimal value) => double.Parse(value.ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
}

/// <summary>
/// The scalar steps after an aggregate's accumulator: for the variance functions (Flink's rewrite) POWER(x, 0.5) for
/// the standard deviations, then a CAST to the call's type, which for integer types is Java's primitive narrowing
/// (truncation toward zero, saturating to INT/BIGINT, then wrapping to SMALLINT/TINYINT); for SUM of TINYINT or
/// SMALLINT the INT sum wrapped to the argument's type (Flink's ByteSum/ShortSum add in byte/short arithmetic, which
/// wraps; adding in INT and wrapping once gives the same value, modulo 2^8 or 2^16).
/// </summary>
public static class AggregateResultOps
{
    public static double? Sqrt(double? variance) => variance is { } v ? Math.Pow(v, 0.5) : null;

    public static long? ToBigInt(double? value) => value is { } v ? JavaLong(v) : null;

    public static int? ToInt(double? value) => value is { } v ? JavaInt(v) : null;

    public static short? ToSmallInt(double? value) => value is { } v ? unchecked((short)JavaInt(v)) : null;

    public static sbyte? ToTinyInt(double? value) => value is { } v ? unchecked((sbyte)JavaInt(v)) : null;

    public static short? WrapToSmallInt(int? sum) => sum is { } s ? unchecked((short)s) : null;

    public static sbyte? WrapToTinyInt(int? sum) => sum is { } s ? unchecked((sbyte)s) : null;

    private static int JavaInt(double v) => double.IsNaN(v) ? 0 : v >= int.MaxValue ? int.MaxValue : v <= int.MinValue ? int.MinValue : (int)v;

    private static long JavaLong(double v) => double.IsNaN(v) ? 0 : v >= long.MaxValue ? long.MaxValue : v <= long.MinValue ? long.MinValue : (long)v;
}
