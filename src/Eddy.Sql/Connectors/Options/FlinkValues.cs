using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Eddy.Sql.Connectors.Options;

/// <summary>
/// Flink's duration and memory-size syntax, the one parser of both for SET options and every connector: a whole number
/// with an optional unit (<c>5000</c>, <c>10 s</c>, <c>1min</c>, <c>2 h</c>, <c>1 d</c>; <c>128MB</c>, <c>1 kb</c>).
/// Flink takes whole numbers only (<c>TimeUtils.parseDuration</c>, <c>MemorySize.parse</c>): so does this.
/// </summary>
public static class FlinkValues
{
    public const string DurationForm = "a duration such as '5000', '10 s' or '1 min'";

    public const string MemorySizeForm = "a size such as '128MB' or '1 kb'";

    /// <summary>A duration, or the problem in words (which does not name the option: callers do).</summary>
    public static bool TryParseDuration(string text, out TimeSpan duration, [NotNullWhen(false)] out string? problem)
    {
        duration = default;
        if (!TrySplit(text, out long n, out string unit))
        {
            problem = $"expected {DurationForm}, got '{text}'";
            return false;
        }
        long unitMs = unit.ToLowerInvariant() switch
        {
            "" or "ms" or "milli" or "millis" or "millisecond" or "milliseconds" => 1,
            "s" or "sec" or "secs" or "second" or "seconds" => 1000,
            "m" or "min" or "mins" or "minute" or "minutes" => 60_000,
            "h" or "hour" or "hours" => 3_600_000,
            "d" or "day" or "days" => 86_400_000,
            _ => 0,
        };
        if (unitMs == 0)
        {
            problem = $"unknown time unit '{unit}' in '{text}'; use ms, s, min, h or d";
            return false;
        }
        if (n > TimeSpan.MaxValue.TotalMilliseconds / unitMs)
        {
            problem = $"'{text}' is too long";
            return false;
        }
        duration = TimeSpan.FromMilliseconds(n * unitMs);
        problem = null;
        return true;
    }

    /// <summary>A size in bytes (units are powers of 1024, as Flink's), or the problem in words.</summary>
    public static bool TryParseMemorySize(string text, out long bytes, [NotNullWhen(false)] out string? problem)
    {
        bytes = 0;
        if (!TrySplit(text, out long n, out string unit))
        {
            problem = $"expected {MemorySizeForm}, got '{text}'";
            return false;
        }
        int shift = unit.ToLowerInvariant() switch
        {
            "" or "b" or "bytes" => 0,
            "k" or "kb" or "kibibytes" => 10,
            "m" or "mb" or "mebibytes" => 20,
            "g" or "gb" or "gibibytes" => 30,
            "t" or "tb" or "tebibytes" => 40,
            _ => -1,
        };
        if (shift < 0)
        {
            problem = $"unknown size unit '{unit}' in '{text}' (b, kb, mb, gb, tb)";
            return false;
        }
        if (n > long.MaxValue >> shift)
        {
            problem = $"'{text}' is too large";
            return false;
        }
        bytes = n << shift;
        problem = null;
        return true;
    }

    private static bool TrySplit(string text, out long number, out string unit)
    {
        var t = text.Trim();
        int digits = 0;
        while (digits < t.Length && char.IsAsciiDigit(t[digits])) digits++;
        unit = t[digits..].Trim();
        number = 0;
        return digits > 0 && unit.All(char.IsAsciiLetter)
            && long.TryParse(t.AsSpan(0, digits), NumberStyles.None, CultureInfo.InvariantCulture, out number);
    }
}
