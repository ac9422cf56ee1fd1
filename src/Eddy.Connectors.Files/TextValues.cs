using System.Globalization;
using System.Text;

namespace Eddy.Connectors;

/// <summary>A record could not be decoded; the reader adds the file and line.</summary>
public sealed class RecordFormatException(string problem) : FormatException(problem);

/// <summary>A record of a file failed to parse: the message names the file, the line and the problem.</summary>
public sealed class FileParseException(string path, long line, string problem)
    : Exception($"{path}:{line}: {problem}")
{
    public string FilePath { get; } = path;

    public long Line { get; } = line;

    public string Problem { get; } = problem;
}

/// <summary>
/// Values of SQL types as text, the way Flink's formats write them: timestamps as <c>yyyy-MM-dd HH:mm:ss[.fff]</c>
/// (ISO-8601 with 'T' and a zone is read too), dates as <c>yyyy-MM-dd</c>, times as <c>HH:mm:ss[.fff]</c>.
/// </summary>
public static class TextValues
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static object Parse(string text, DataType type, string column, char arrayDelimiter = ';')
    {
        switch (type.Kind)
        {
            case TypeKind.String or TypeKind.Char:
                return text;
            case TypeKind.Boolean:
                if (text.Trim().Equals("true", StringComparison.OrdinalIgnoreCase)) return true;
                if (text.Trim().Equals("false", StringComparison.OrdinalIgnoreCase)) return false;
                break;
            case TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt:
                if (long.TryParse(text.AsSpan().Trim(), NumberStyles.AllowLeadingSign, Inv, out long l))
                    return Integer(l, type, column, text);
                break;
            case TypeKind.Float:
                if (double.TryParse(text.AsSpan().Trim(), NumberStyles.Float, Inv, out double f)) return (float)f;
                break;
            case TypeKind.Double:
                if (double.TryParse(text.AsSpan().Trim(), NumberStyles.Float, Inv, out double d)) return d;
                break;
            case TypeKind.Decimal:
                if (decimal.TryParse(text.AsSpan().Trim(), NumberStyles.Float, Inv, out decimal m)) return Decimal(m, type);
                break;
            case TypeKind.Date:
                if (DateOnly.TryParseExact(text.AsSpan().Trim(), "yyyy-MM-dd", Inv, DateTimeStyles.None, out var date)) return date;
                break;
            case TypeKind.Time:
                if (TryParseTimestamp(("1970-01-01 " + text.Trim()).AsSpan(), out var time, out _))
                    return TimeOnly.FromDateTime(Truncate(time, type.Precision));
                break;
            case TypeKind.Timestamp:
                if (TryParseTimestamp(text.AsSpan().Trim(), out var ts, out var offset))
                    return Truncate(offset is { } o ? DateTime.SpecifyKind(ts - o, DateTimeKind.Unspecified) : ts, type.Precision);
                break;
            case TypeKind.TimestampLtz:
                if (TryParseTimestamp(text.AsSpan().Trim(), out var lts, out var loffset))
                    return new DateTimeOffset(Truncate(lts - (loffset ?? TimeSpan.Zero), type.Precision), TimeSpan.Zero);
                break;
            case TypeKind.Array:
                if (text.Length == 0) return Array.Empty<object?>();
                return text.Split(arrayDelimiter)
                    .Select(e => e.Length == 0 ? null : Parse(e, type.Element!, column, arrayDelimiter))
                    .ToArray();
            default:
                throw new RecordFormatException($"column '{column}': {type} cannot be read from text");
        }
        throw Mismatch(column, type, $"'{Shorten(text)}'");
    }

    internal static object Integer(long value, DataType type, string column, string text)
    {
        return type.Kind switch
        {
            // Boxed arm by arm: a switch of numeric arms would widen them all to long.
            TypeKind.TinyInt when value is >= sbyte.MinValue and <= sbyte.MaxValue => (object)(sbyte)value,
            TypeKind.SmallInt when value is >= short.MinValue and <= short.MaxValue => (short)value,
            TypeKind.Int when value is >= int.MinValue and <= int.MaxValue => (int)value,
            TypeKind.BigInt => value,
            _ => throw new RecordFormatException($"column '{column}': {text} is out of the range of {type}"),
        };
    }

    internal static decimal Decimal(decimal value, DataType type) =>
        Math.Round(value, Math.Clamp(type.Scale, 0, 28), MidpointRounding.AwayFromZero);

    internal static RecordFormatException Mismatch(string column, DataType type, string got) =>
        new($"column '{column}': expected {type}, got {got}");

    internal static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    private static DateTime Truncate(DateTime value, int precision)
    {
        if (precision >= 7) return value;
        long unit = (long)Math.Pow(10, 7 - Math.Max(0, precision));
        return new DateTime(value.Ticks - value.Ticks % unit, value.Kind);
    }

    /// <summary>
    /// Reads <c>yyyy-MM-dd[( |T)HH:mm[:ss[.f…]]][Z|±HH:mm|±HHmm]</c>. The offset, when given, is returned apart:
    /// the wall-clock value is as written.
    /// </summary>
    public static bool TryParseTimestamp(ReadOnlySpan<char> s, out DateTime value, out TimeSpan? offset)
    {
        value = default;
        offset = null;
        if (s.Length < 10 || s[4] != '-' || s[7] != '-') return false;
        if (!Digits(s, 0, 4, out int year) || !Digits(s, 5, 2, out int month) || !Digits(s, 8, 2, out int day)) return false;
        int hour = 0, minute = 0, second = 0;
        long fractionTicks = 0;
        int i = 10;
        if (i < s.Length && (s[i] == ' ' || s[i] == 'T'))
        {
            if (s.Length < i + 6 || s[i + 3] != ':' || !Digits(s, i + 1, 2, out hour) || !Digits(s, i + 4, 2, out minute)) return false;
            i += 6;
            if (i < s.Length && s[i] == ':')
            {
                if (!Digits(s, i + 1, 2, out second)) return false;
                i += 3;
                if (i < s.Length && s[i] == '.')
                {
                    i++;
                    int start = i;
                    long scale = TimeSpan.TicksPerSecond;
                    while (i < s.Length && char.IsAsciiDigit(s[i]))
                    {
                        scale /= 10;
                        fractionTicks += (s[i] - '0') * scale;
                        i++;
                    }
                    if (i == start || i - start > 9) return false;
                }
            }
        }
        if (i < s.Length)
        {
            var zone = s[i..];
            if (zone is "Z" or "z") offset = TimeSpan.Zero;
            else if ((zone[0] == '+' || zone[0] == '-') && (zone.Length == 6 && zone[3] == ':' || zone.Length == 5))
            {
                if (!Digits(zone, 1, 2, out int oh) || !Digits(zone, zone.Length - 2, 2, out int om)) return false;
                var o = new TimeSpan(oh, om, 0);
                offset = zone[0] == '-' ? -o : o;
            }
            else return false;
        }
        if (month is < 1 or > 12 || day < 1 || year < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        if (hour > 23 || minute > 59 || second > 59) return false;
        value = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fractionTicks);
        return true;
    }

    private static bool Digits(ReadOnlySpan<char> s, int start, int count, out int value)
    {
        value = 0;
        if (start + count > s.Length) return false;
        for (int i = start; i < start + count; i++)
        {
            if (!char.IsAsciiDigit(s[i])) return false;
            value = value * 10 + (s[i] - '0');
        }
        return true;
    }

    /// <summary>A non-null value as text, as the sink writes it (and the source reads it back).</summary>
    public static string Format(object value, DataType type, char arrayDelimiter = ';', TimestampFormat timestamps = TimestampFormat.Sql) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        DateTime dt => FormatTimestamp(dt, type.Precision, timestamps),
        DateTimeOffset dto => FormatTimestamp(dto.UtcDateTime, type.Precision, timestamps) + "Z",
        DateOnly d => d.ToString("yyyy-MM-dd", Inv),
        TimeOnly t => FormatTimestamp(DateOnly.MinValue.ToDateTime(t), type.Precision)[11..],
        double d => FormatDouble(d),
        float f => FormatDouble(f),
        object?[] items => string.Join(arrayDelimiter,
            items.Select(e => e is null ? "" : Format(e, type.Element ?? DataType.String, arrayDelimiter, timestamps))),
        IFormattable f => f.ToString(null, Inv),
        _ => value.ToString() ?? "",
    };

    private static string FormatDouble(double d) => d switch
    {
        double.PositiveInfinity => "Infinity",
        double.NegativeInfinity => "-Infinity",
        _ => d.ToString("R", Inv),
    };

    /// <summary><c>yyyy-MM-dd HH:mm:ss</c> (or with 'T') with <paramref name="precision"/> fraction digits (at most 7).</summary>
    public static string FormatTimestamp(DateTime value, int precision, TimestampFormat format = TimestampFormat.Sql)
    {
        var sb = new StringBuilder(value.ToString(format == TimestampFormat.Sql ? "yyyy-MM-dd HH:mm:ss" : "yyyy-MM-dd'T'HH:mm:ss", Inv), 30);
        int p = Math.Clamp(precision, 0, 7);
        if (p > 0)
        {
            long fraction = value.Ticks % TimeSpan.TicksPerSecond;
            sb.Append('.').Append(fraction.ToString("0000000", Inv).AsSpan(0, p));
        }
        return sb.ToString();
    }
}
