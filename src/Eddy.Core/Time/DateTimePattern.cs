using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace Eddy;

/// <summary>
/// A Java date-time pattern (<c>yyyy-MM-dd'T'HH:mm:ss.SSS'Z'</c>, as Flink's TO_TIMESTAMP and DATE_FORMAT take)
/// compiled once into a list of fields, then parsed and formatted without allocation per value.
/// Letters: y, M (number or name), d, H, h, k, K, m, s, S (fraction), a, E, D, X/x/Z (offset), quoted literals.
/// <para>Formatting remembers its last result: a pattern without a fraction of a second gives the same text for every
/// time in one second, minute, hour or day (the finest field it has), so a stream of nearby times (a <c>yyyy-MM-dd</c>
/// group key per event) formats once per day and shares one string.</para>
/// </summary>
public sealed class DateTimePattern
{
    private static readonly ConcurrentDictionary<string, DateTimePattern> Cache = new();

    // The pattern the thread used last: a compiled DATE_FORMAT passes the same literal for every row, and comparing
    // it costs less than hashing it into the cache.
    [ThreadStatic] private static DateTimePattern? lastUsed;
    private static readonly string[] MonthNames = CultureInfo.InvariantCulture.DateTimeFormat.AbbreviatedMonthNames;
    private static readonly string[] DayNames = CultureInfo.InvariantCulture.DateTimeFormat.AbbreviatedDayNames;

    /// <summary>Flink's default for TO_TIMESTAMP: <c>yyyy-MM-dd HH:mm:ss</c>.</summary>
    public const string DefaultTimestamp = "yyyy-MM-dd HH:mm:ss";

    private readonly Part[] parts;

    // The span of time one formatted text covers (ticks; 0: a fraction of a second is formatted, nothing is reused).
    private readonly long sameTextTicks;

    // Replaced whole, never changed: threads formatting with the same pattern see either the old or the new memo.
    private sealed record Formatted(long Unit, string Text);
    private Formatted? lastFormatted;

    private DateTimePattern(string pattern, Part[] parts)
    {
        Pattern = pattern;
        this.parts = parts;
        sameTextTicks = SameTextTicks(parts);
    }

    /// <summary>
    /// The length of the aligned periods (from 0001-01-01) over which the formatted text cannot change: a day unless the
    /// pattern has a time-of-day field, then its finest one.
    /// </summary>
    private static long SameTextTicks(Part[] parts)
    {
        long ticks = TimeSpan.TicksPerDay;
        foreach (var part in parts)
        {
            long field = part.Literal is not null ? TimeSpan.TicksPerDay : part.Letter switch
            {
                'S' => 0,
                's' => TimeSpan.TicksPerSecond,
                'm' => TimeSpan.TicksPerMinute,
                'H' or 'k' or 'h' or 'K' or 'a' => TimeSpan.TicksPerHour,
                _ => TimeSpan.TicksPerDay,
            };
            ticks = Math.Min(ticks, field);
        }
        return ticks;
    }

    public string Pattern { get; }

    private readonly record struct Part(char Letter, int Count, string? Literal);

    public static DateTimePattern Of(string pattern)
    {
        var last = lastUsed;
        if (last is not null && string.Equals(last.Pattern, pattern, StringComparison.Ordinal)) return last;
        return lastUsed = Cache.GetOrAdd(pattern, Compile);
    }

    private static DateTimePattern Compile(string pattern)
    {
        var parts = new List<Part>();
        var literal = new StringBuilder();
        void FlushLiteral()
        {
            if (literal.Length == 0) return;
            parts.Add(new Part('\0', 0, literal.ToString()));
            literal.Clear();
        }
        for (int i = 0; i < pattern.Length;)
        {
            char c = pattern[i];
            if (c == '\'')
            {
                if (i + 1 < pattern.Length && pattern[i + 1] == '\'')
                {
                    literal.Append('\'');
                    i += 2;
                    continue;
                }
                int end = i + 1;
                while (true)
                {
                    if (end >= pattern.Length) throw new FormatException($"unterminated quote in date-time pattern '{pattern}'");
                    if (pattern[end] == '\'')
                    {
                        if (end + 1 < pattern.Length && pattern[end + 1] == '\'')
                        {
                            literal.Append('\'');
                            end += 2;
                            continue;
                        }
                        break;
                    }
                    literal.Append(pattern[end++]);
                }
                i = end + 1;
                continue;
            }
            if (char.IsAsciiLetter(c))
            {
                if ("yuMLdHhkKmsSaEDXxZ".IndexOf(c) < 0)
                    throw new FormatException($"unsupported letter '{c}' in date-time pattern '{pattern}'");
                int n = 1;
                while (i + n < pattern.Length && pattern[i + n] == c) n++;
                FlushLiteral();
                parts.Add(new Part(c, n, null));
                i += n;
                continue;
            }
            literal.Append(c);
            i++;
        }
        FlushLiteral();
        return new DateTimePattern(pattern, parts.ToArray());
    }

    /// <summary>
    /// Parses <paramref name="text"/> as a wall-clock time (an offset in the text, if any, converts it to UTC).
    /// Returns false (Flink's TO_TIMESTAMP then gives NULL) when the text does not match.
    /// </summary>
    public bool TryParse(ReadOnlySpan<char> text, out DateTime value)
    {
        value = default;
        int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0, dayOfYear = -1;
        long fractionTicks = 0;
        bool pm = false, hasAmPm = false;
        int offsetMinutes = 0;
        bool hasOffset = false;
        int pos = 0;
        for (int p = 0; p < parts.Length; p++)
        {
            var part = parts[p];
            if (part.Literal is { } lit)
            {
                if (!text[pos..].StartsWith(lit, StringComparison.Ordinal)) return false;
                pos += lit.Length;
                continue;
            }
            // A numeric field followed directly by another numeric field takes exactly its width.
            bool adjacent = p + 1 < parts.Length && parts[p + 1].Literal is null && IsNumeric(parts[p + 1]);
            switch (part.Letter)
            {
                case 'y' or 'u':
                    if (!ReadInt(text, ref pos, part.Count == 2 ? 2 : part.Count, adjacent || part.Count == 2 ? part.Count : 9, out year)) return false;
                    if (part.Count == 2) year += year < 70 ? 2000 : 1900;
                    break;
                case 'M' or 'L' when part.Count >= 3:
                    if (!ReadName(text, ref pos, MonthNames, out month)) return false;
                    month++;
                    break;
                case 'M' or 'L':
                    if (!ReadInt(text, ref pos, part.Count, adjacent ? part.Count : 2, out month)) return false;
                    break;
                case 'd':
                    if (!ReadInt(text, ref pos, part.Count, adjacent ? part.Count : 2, out day)) return false;
                    break;
                case 'D':
                    if (!ReadInt(text, ref pos, part.Count, adjacent ? part.Count : 3, out dayOfYear)) return false;
                    break;
                case 'H' or 'k':
                    if (!ReadInt(text, ref pos, part.Count, adjacent ? part.Count : 2, out hour)) return false;
                    if (part.Letter == 'k' && hour == 24) hour = 0;
                    break;
                case 'h' or 'K':
                    if (!ReadInt(text, ref pos, part.Count, adjacent ? part.Count : 2, out hour)) return false;
                    if (part.Letter == 'h' && hour == 12) hour = 0;
                    break;
                case 'm':
                    if (!ReadInt(text, ref pos, part.Count, adjacent ? part.Count : 2, out minute)) return false;
                    break;
                case 's':
                    if (!ReadInt(text, ref pos, part.Count, adjacent ? part.Count : 2, out second)) return false;
                    break;
                case 'S':
                {
                    int start = pos;
                    int max = adjacent ? part.Count : 9;
                    long frac = 0;
                    while (pos < text.Length && pos - start < max && char.IsAsciiDigit(text[pos])) frac = frac * 10 + (text[pos++] - '0');
                    int digits = pos - start;
                    if (digits == 0) return false;
                    // A fraction of a second, as java.time reads it: "5" is 500 ms, "123456" is 123.456 ms.
                    for (int d = digits; d < 7; d++) frac *= 10;
                    for (int d = digits; d > 7; d--) frac /= 10;
                    fractionTicks = frac;
                    break;
                }
                case 'a':
                    if (text[pos..].StartsWith("AM", StringComparison.OrdinalIgnoreCase)) pm = false;
                    else if (text[pos..].StartsWith("PM", StringComparison.OrdinalIgnoreCase)) pm = true;
                    else return false;
                    hasAmPm = true;
                    pos += 2;
                    break;
                case 'E':
                    if (!ReadName(text, ref pos, DayNames, out _)) return false;
                    break;
                case 'X' or 'x' or 'Z':
                    if (!ReadOffset(text, ref pos, part.Letter == 'X', out offsetMinutes)) return false;
                    hasOffset = true;
                    break;
            }
        }
        if (pos != text.Length) return false;
        if (hasAmPm && pm) hour += 12;
        if (month is < 1 or > 12 || hour > 23 || minute > 59 || second > 59 || year is < 1 or > 9999) return false;
        if (dayOfYear > 0)
        {
            if (dayOfYear > (DateTime.IsLeapYear(year) ? 366 : 365)) return false;
            var d = new DateTime(year, 1, 1).AddDays(dayOfYear - 1);
            month = d.Month;
            day = d.Day;
        }
        if (day < 1 || day > DateTime.DaysInMonth(year, month)) return false;
        var result = new DateTime(year, month, day, hour, minute, second, DateTimeKind.Unspecified).AddTicks(fractionTicks);
        if (hasOffset) result = result.AddMinutes(-offsetMinutes);
        value = result;
        return true;
    }

    private static bool IsNumeric(Part p) => p.Letter is 'y' or 'u' or 'd' or 'D' or 'H' or 'h' or 'k' or 'K' or 'm' or 's' or 'S'
        || (p.Letter is 'M' or 'L' && p.Count < 3);

    private static bool ReadInt(ReadOnlySpan<char> text, ref int pos, int min, int max, out int value)
    {
        value = 0;
        int start = pos;
        while (pos < text.Length && pos - start < max && char.IsAsciiDigit(text[pos])) value = value * 10 + (text[pos++] - '0');
        int digits = pos - start;
        // Fixed-width fields (max == min) must be complete; free-width ones need one digit.
        return max == min ? digits == min : digits > 0;
    }

    private static bool ReadName(ReadOnlySpan<char> text, ref int pos, string[] names, out int index)
    {
        for (index = 0; index < names.Length; index++)
        {
            var name = names[index];
            if (name.Length > 0 && text[pos..].StartsWith(name, StringComparison.OrdinalIgnoreCase))
            {
                pos += name.Length;
                return true;
            }
        }
        return false;
    }

    private static bool ReadOffset(ReadOnlySpan<char> text, ref int pos, bool zAllowed, out int minutes)
    {
        minutes = 0;
        if (pos < text.Length && text[pos] == 'Z' && zAllowed)
        {
            pos++;
            return true;
        }
        if (pos >= text.Length || (text[pos] != '+' && text[pos] != '-')) return false;
        int sign = text[pos++] == '-' ? -1 : 1;
        if (!ReadInt(text, ref pos, 2, 2, out int h)) return false;
        int m = 0;
        if (pos < text.Length && text[pos] == ':') pos++;
        if (pos < text.Length && char.IsAsciiDigit(text[pos]) && !ReadInt(text, ref pos, 2, 2, out m)) return false;
        minutes = sign * (h * 60 + m);
        return true;
    }

    /// <summary>Formats a wall-clock time with this pattern (Flink's DATE_FORMAT).</summary>
    public string Format(DateTime value)
    {
        if (sameTextTicks == 0) return FormatNew(value);
        long unit = value.Ticks / sameTextTicks;
        var last = lastFormatted;
        if (last is not null && last.Unit == unit) return last.Text;
        string text = FormatNew(value);
        lastFormatted = new Formatted(unit, text);
        return text;
    }

    private string FormatNew(DateTime value)
    {
        var sb = new StringBuilder(Pattern.Length + 8);
        foreach (var part in parts)
        {
            if (part.Literal is { } lit)
            {
                sb.Append(lit);
                continue;
            }
            int n = part.Count;
            switch (part.Letter)
            {
                case 'y' or 'u': Pad(sb, n == 2 ? value.Year % 100 : value.Year, n == 2 ? 2 : n); break;
                case 'M' or 'L' when n >= 3: sb.Append(n == 3 ? MonthNames[value.Month - 1] : CultureInfo.InvariantCulture.DateTimeFormat.MonthNames[value.Month - 1]); break;
                case 'M' or 'L': Pad(sb, value.Month, n); break;
                case 'd': Pad(sb, value.Day, n); break;
                case 'D': Pad(sb, value.DayOfYear, n); break;
                case 'H': Pad(sb, value.Hour, n); break;
                case 'k': Pad(sb, value.Hour == 0 ? 24 : value.Hour, n); break;
                case 'h': Pad(sb, value.Hour % 12 == 0 ? 12 : value.Hour % 12, n); break;
                case 'K': Pad(sb, value.Hour % 12, n); break;
                case 'm': Pad(sb, value.Minute, n); break;
                case 's': Pad(sb, value.Second, n); break;
                case 'S':
                {
                    long frac = value.Ticks % TimeSpan.TicksPerSecond;
                    var digits = frac.ToString("D7", CultureInfo.InvariantCulture);
                    sb.Append(n <= 7 ? digits[..n] : digits.PadRight(n, '0'));
                    break;
                }
                case 'a': sb.Append(value.Hour < 12 ? "AM" : "PM"); break;
                case 'E': sb.Append(n >= 4 ? CultureInfo.InvariantCulture.DateTimeFormat.DayNames[(int)value.DayOfWeek] : DayNames[(int)value.DayOfWeek]); break;
                case 'X': sb.Append('Z'); break;
                case 'x' or 'Z': sb.Append("+0000"); break;
            }
        }
        return sb.ToString();
    }

    private static void Pad(StringBuilder sb, int value, int width) =>
        sb.Append(value.ToString(CultureInfo.InvariantCulture).PadLeft(width, '0'));
}
