using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Functions;

/// <summary>
/// Flink's built-in scalar functions, with Flink's null and error semantics (a NULL argument gives NULL; a value
/// that cannot be parsed gives NULL where Flink does). Compiled SQL expressions call these methods directly.
/// </summary>
public static class SqlFunctions
{
    private static readonly ConcurrentDictionary<string, Regex> Regexes = new();

    /// <summary>A pattern is compiled to IL once per process: it then runs per row (Nexmark's q21 asks two per row).</summary>
    private static Regex NewRegex(string pattern) => new(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled);

    public static DateTime? ToTimestamp(string? text) =>
        text is null ? null : ParseTimestamp(text);

    public static DateTime? ToTimestamp(string? text, string? pattern)
    {
        if (text is null || pattern is null) return null;
        return DateTimePattern.Of(pattern).TryParse(text, out var v) ? v : null;
    }

    /// <summary>Flink's lenient default: <c>yyyy-MM-dd[ |T]HH:mm[:ss[.fraction]]</c> or a bare date.</summary>
    public static DateTime? ParseTimestamp(string text)
    {
        var s = text.AsSpan().Trim();
        if (s.Length >= 10 && s[4] == '-' && s[7] == '-')
        {
            if (DateTime.TryParseExact(s, SqlTimestampFormats, CultureInfo.InvariantCulture,
                    DateTimeStyles.AllowWhiteSpaces, out var v))
                return DateTime.SpecifyKind(v, DateTimeKind.Unspecified);
        }
        return null;
    }

    private static readonly string[] SqlTimestampFormats =
    [
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.FFFFFFF", "yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF",
        "yyyy-MM-dd HH:mm", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd",
    ];

    /// <summary>TO_TIMESTAMP_LTZ(epoch, precision): precision 0 = seconds, 3 = milliseconds.</summary>
    public static DateTimeOffset? ToTimestampLtz(long? epoch, int precision)
    {
        if (epoch is not { } e) return null;
        return precision switch
        {
            0 => DateTimeOffset.FromUnixTimeSeconds(e),
            3 => DateTimeOffset.FromUnixTimeMilliseconds(e),
            _ => throw new ArgumentException($"TO_TIMESTAMP_LTZ precision must be 0 or 3, got {precision}"),
        };
    }

    public static DateTimeOffset? ToTimestampLtz(double? epoch, int precision) =>
        epoch is { } e ? ToTimestampLtz((long)e, precision) : null;

    public static string? DateFormat(DateTime? value, string? pattern) =>
        value is { } v && pattern is not null ? DateTimePattern.Of(pattern).Format(v) : null;

    public static string? DateFormat(DateTimeOffset? value, string? pattern) =>
        DateFormat(value?.UtcDateTime, pattern);

    public static string? DateFormat(string? value, string? pattern) =>
        value is null ? null : DateFormat(ParseTimestamp(value), pattern);

    public static string? Concat(params string?[] parts)
    {
        int length = 0;
        foreach (var p in parts)
        {
            if (p is null) return null;
            length += p.Length;
        }
        return string.Create(length, parts, static (span, ps) =>
        {
            foreach (var p in ps)
            {
                p!.AsSpan().CopyTo(span);
                span = span[p!.Length..];
            }
        });
    }

    public static string? ConcatWs(string? separator, params string?[] parts)
    {
        if (separator is null) return null;
        var sb = new StringBuilder();
        bool first = true;
        foreach (var p in parts)
        {
            if (p is null) continue;
            if (!first) sb.Append(separator);
            sb.Append(p);
            first = false;
        }
        return sb.ToString();
    }

    public static string? Lower(string? s) => s?.ToLowerInvariant();

    public static string? Upper(string? s) => s?.ToUpperInvariant();

    public static string? Trim(string? s, bool leading = true, bool trailing = true, string? characters = " ")
    {
        if (s is null || characters is null) return null;
        var span = s.AsSpan();
        if (leading) span = span.TrimStart(characters);
        if (trailing) span = span.TrimEnd(characters);
        return span.Length == s.Length ? s : span.ToString();
    }

    /// <summary>SQL SUBSTRING: 1-based start; positions before 1 count but give nothing; a negative length is NULL.</summary>
    public static string? Substring(string? s, int? start, int? length = int.MaxValue)
    {
        if (s is null || start is not { } from || length is not { } len) return null;
        if (len < 0) return null;
        long begin = from;
        long end = len == int.MaxValue ? long.MaxValue : begin + len;
        long b = Math.Max(begin, 1), e = Math.Min(end, s.Length + 1L);
        return e <= b ? string.Empty : s.Substring((int)b - 1, (int)(e - b));
    }

    public static string? Replace(string? s, string? search, string? replacement)
    {
        if (s is null || search is null || replacement is null) return null;
        return search.Length == 0 ? s : s.Replace(search, replacement, StringComparison.Ordinal);
    }

    public static string? RegexpExtract(string? s, string? pattern, int? group = 1)
    {
        if (s is null || pattern is null || group is not { } g) return null;
        var m = Regexes.GetOrAdd(pattern, NewRegex).Match(s);
        if (!m.Success || g < 0 || g >= m.Groups.Count || !m.Groups[g].Success) return null;
        return m.Groups[g].Value;
    }

    public static bool? RegexpMatches(string? s, string? pattern) =>
        s is null || pattern is null ? null : Regexes.GetOrAdd(pattern, NewRegex).IsMatch(s);

    /// <summary>SPLIT_INDEX(s, separator, index): the 0-based index-th part, NULL when out of range.</summary>
    public static string? SplitIndex(string? s, string? separator, int? index)
    {
        if (s is null || separator is null || index is not { } i || i < 0) return null;
        if (separator.Length == 0) return i == 0 ? s : null;
        // The part of s.Split(separator) at i, without making the other parts (Nexmark's q22 asks three per row).
        int start = 0;
        for (int k = 0; k < i; k++)
        {
            int at = s.IndexOf(separator, start, StringComparison.Ordinal);
            if (at < 0) return null;
            start = at + separator.Length;
        }
        int end = s.IndexOf(separator, start, StringComparison.Ordinal);
        return end < 0 ? s[start..] : s[start..end];
    }

    public static int? CharLength(string? s) => s?.Length;

    /// <summary>JSON_VALUE(json, path): the scalar at a JSON path as a string; NULL when absent or not a scalar.</summary>
    public static string? JsonValue(string? json, string? path)
    {
        if (json is null || path is null) return null;
        if (!TryNavigate(json, path, out var element, out var doc)) return null;
        using (doc)
        {
            return element.ValueKind switch
            {
                JsonValueKind.String => element.GetString(),
                JsonValueKind.Number => element.GetRawText(),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                _ => null,
            };
        }
    }

    /// <summary>JSON_QUERY(json, path): the object or array at a JSON path as JSON text; NULL when absent or a scalar.</summary>
    public static string? JsonQuery(string? json, string? path)
    {
        if (json is null || path is null) return null;
        if (!TryNavigate(json, path, out var element, out var doc)) return null;
        using (doc)
        {
            return element.ValueKind is JsonValueKind.Object or JsonValueKind.Array ? element.GetRawText() : null;
        }
    }

    /// <summary>
    /// JSON_EXISTS(json, path): whether the path leads to a value that is not JSON null (as Calcite's jsonExists). In
    /// lax mode (the default) a missing key or index is FALSE; in strict mode it is an error, as is JSON that does not
    /// parse, and <paramref name="onError"/> answers then: 0 FALSE, 1 TRUE, 2 UNKNOWN, 3 fail.
    /// </summary>
    public static bool? JsonExists(string? json, string? path, int onError)
    {
        if (json is null || path is null) return null;
        bool strict = path.AsSpan().TrimStart().StartsWith("strict ", StringComparison.Ordinal);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            return JsonExistsError(onError, $"JSON_EXISTS: the input is not JSON ({e.Message})");
        }
        using (doc)
        {
            var current = doc.RootElement;
            foreach (var step in ParseJsonPath(path))
            {
                bool found;
                if (step is string key) found = current.ValueKind == JsonValueKind.Object && current.TryGetProperty(key, out current);
                else
                {
                    int index = (int)step;
                    found = current.ValueKind == JsonValueKind.Array && index < current.GetArrayLength();
                    if (found) current = current[index];
                }
                if (!found) return strict ? JsonExistsError(onError, $"JSON_EXISTS: no value at '{path}' (strict mode)") : false;
            }
            return current.ValueKind != JsonValueKind.Null;
        }
    }

    private static bool? JsonExistsError(int onError, string message) => onError switch
    {
        0 => false,
        1 => true,
        2 => null,
        _ => throw new InvalidOperationException(message),
    };

    /// <summary>
    /// Why Eddy cannot evaluate a JSON path exactly as Flink, or null when it can: Flink's paths (Calcite over Jayway)
    /// are <c>[lax|strict] $</c> followed by <c>.key</c>, <c>['key']</c> / <c>.['key']</c> and <c>[index]</c> steps;
    /// wildcards, recursive descent, slices and filters are not implemented here and so are refused at planning.
    /// </summary>
    public static string? JsonPathProblem(string path)
    {
        try
        {
            ParseJsonPath(path);
            return null;
        }
        catch (ArgumentException e)
        {
            return e.Message;
        }
    }

    private static readonly ConcurrentDictionary<string, object[]> JsonPaths = new();

    /// <summary>The steps of a path: a string is an object key, an int an array index.</summary>
    private static object[] ParseJsonPath(string path)
    {
        if (JsonPaths.TryGetValue(path, out var cached)) return cached;
        var p = path.AsSpan().Trim();
        if (p.StartsWith("lax ", StringComparison.Ordinal)) p = p[4..].TrimStart();
        else if (p.StartsWith("strict ", StringComparison.Ordinal)) p = p[7..].TrimStart();
        if (p.Length == 0 || p[0] != '$') throw new ArgumentException($"a JSON path starts with '$': '{path}'");
        var steps = new List<object>();
        int i = 1;
        while (i < p.Length)
        {
            if (p[i] == '.')
            {
                int start = ++i;
                if (i < p.Length && p[i] == '[') continue;
                if (i < p.Length && p[i] is '.' or '*') throw new ArgumentException($"'{p[i - 1]}{p[i]}' (recursive descent or wildcard) in JSON path '{path}' is not supported");
                while (i < p.Length && p[i] != '.' && p[i] != '[') i++;
                var key = p[start..i].Trim();
                if (key.Length == 0) throw new ArgumentException($"an empty key in JSON path '{path}'");
                if (key.IndexOfAny("*?()@' \"") >= 0) throw new ArgumentException($"unsupported JSON path step '.{key.ToString()}' in '{path}'");
                steps.Add(key.ToString());
            }
            else if (p[i] == '[')
            {
                int close = p[i..].IndexOf(']');
                if (close < 0) throw new ArgumentException($"unclosed '[' in JSON path '{path}'");
                var inner = p[(i + 1)..(i + close)].Trim();
                i += close + 1;
                if (inner.Length >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[^1] == inner[0]
                    && inner[1..^1].IndexOf(inner[0]) < 0 && inner[1..^1].IndexOf('\\') < 0)
                    steps.Add(inner[1..^1].ToString());
                else if (int.TryParse(inner, NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                    steps.Add(index);
                else throw new ArgumentException($"unsupported JSON path step '[{inner.ToString()}]' in '{path}' (wildcards, slices, filters and lists are not supported)");
            }
            else if (char.IsWhiteSpace(p[i])) i++;
            else throw new ArgumentException($"unexpected '{p[i]}' in JSON path '{path}'");
        }
        var result = steps.ToArray();
        if (JsonPaths.Count < 10_000) JsonPaths.TryAdd(path, result);
        return result;
    }

    private static bool TryNavigate(string json, string path, out JsonElement element, out JsonDocument? doc)
    {
        element = default;
        doc = null;
        object[] steps;
        try
        {
            // A path Flink cannot read is an error, and the NULL ON ERROR default makes it NULL.
            steps = ParseJsonPath(path);
            doc = JsonDocument.Parse(json);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            return false;
        }
        var current = doc.RootElement;
        foreach (var step in steps)
        {
            if (step is string key)
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(key, out current)) return Fail(doc);
            }
            else
            {
                int index = (int)step;
                if (current.ValueKind != JsonValueKind.Array || index >= current.GetArrayLength()) return Fail(doc);
                current = current[index];
            }
        }
        element = current;
        return true;

        static bool Fail(JsonDocument d)
        {
            d.Dispose();
            return false;
        }
    }

    public static DateTime? Floor(DateTime? value, TimeUnit unit) => value is { } v ? FloorTo(v, unit) : null;

    public static DateTime? Ceil(DateTime? value, TimeUnit unit)
    {
        if (value is not { } v) return null;
        var floor = FloorTo(v, unit);
        return floor == v ? v : Add(floor, unit, 1);
    }

    private static DateTime FloorTo(DateTime v, TimeUnit unit) => unit switch
    {
        TimeUnit.Millisecond => new DateTime(v.Ticks - v.Ticks % TimeSpan.TicksPerMillisecond, v.Kind),
        TimeUnit.Second => new DateTime(v.Ticks - v.Ticks % TimeSpan.TicksPerSecond, v.Kind),
        TimeUnit.Minute => new DateTime(v.Ticks - v.Ticks % TimeSpan.TicksPerMinute, v.Kind),
        TimeUnit.Hour => new DateTime(v.Ticks - v.Ticks % TimeSpan.TicksPerHour, v.Kind),
        TimeUnit.Day => v.Date,
        TimeUnit.Week => v.Date.AddDays(-(((int)v.DayOfWeek + 6) % 7)),
        TimeUnit.Month => new DateTime(v.Year, v.Month, 1, 0, 0, 0, v.Kind),
        TimeUnit.Quarter => new DateTime(v.Year, (v.Month - 1) / 3 * 3 + 1, 1, 0, 0, 0, v.Kind),
        TimeUnit.Year => new DateTime(v.Year, 1, 1, 0, 0, 0, v.Kind),
        _ => throw new ArgumentException($"cannot round a timestamp to {unit}"),
    };

    private static DateTime Add(DateTime v, TimeUnit unit, int n) => unit switch
    {
        TimeUnit.Millisecond => v.AddMilliseconds(n),
        TimeUnit.Second => v.AddSeconds(n),
        TimeUnit.Minute => v.AddMinutes(n),
        TimeUnit.Hour => v.AddHours(n),
        TimeUnit.Day => v.AddDays(n),
        TimeUnit.Week => v.AddDays(7 * n),
        TimeUnit.Month => v.AddMonths(n),
        TimeUnit.Quarter => v.AddMonths(3 * n),
        TimeUnit.Year => v.AddYears(n),
        _ => throw new ArgumentException($"cannot add {unit}"),
    };

    /// <summary>TIMESTAMPDIFF(unit, a, b): whole units from a to b, truncated toward zero.</summary>
    public static int? TimestampDiff(TimeUnit unit, DateTime? a, DateTime? b)
    {
        if (a is not { } x || b is not { } y) return null;
        long ticks = y.Ticks - x.Ticks;
        switch (unit)
        {
            case TimeUnit.Second: return (int)(ticks / TimeSpan.TicksPerSecond);
            case TimeUnit.Minute: return (int)(ticks / TimeSpan.TicksPerMinute);
            case TimeUnit.Hour: return (int)(ticks / TimeSpan.TicksPerHour);
            case TimeUnit.Day: return (int)(ticks / TimeSpan.TicksPerDay);
            case TimeUnit.Week: return (int)(ticks / (7 * TimeSpan.TicksPerDay));
            case TimeUnit.Month or TimeUnit.Quarter or TimeUnit.Year:
            {
                int months = (y.Year - x.Year) * 12 + y.Month - x.Month;
                // A month counts only when the later date has reached the same day and time of its month.
                long xInMonth = x.Ticks - new DateTime(x.Year, x.Month, 1).Ticks;
                long yInMonth = y.Ticks - new DateTime(y.Year, y.Month, 1).Ticks;
                if (months > 0 && yInMonth < xInMonth) months--;
                else if (months < 0 && yInMonth > xInMonth) months++;
                return unit switch { TimeUnit.Month => months, TimeUnit.Quarter => months / 3, _ => months / 12 };
            }
            default: throw new ArgumentException($"TIMESTAMPDIFF does not take {unit}");
        }
    }

    public static long? Extract(TimeUnit unit, DateTime? value)
    {
        if (value is not { } v) return null;
        return unit switch
        {
            TimeUnit.Year => v.Year,
            TimeUnit.Quarter => (v.Month - 1) / 3 + 1,
            TimeUnit.Month => v.Month,
            TimeUnit.Week => ISOWeek.GetWeekOfYear(v),
            TimeUnit.Day => v.Day,
            TimeUnit.DayOfWeek => (int)v.DayOfWeek + 1,
            TimeUnit.DayOfYear => v.DayOfYear,
            TimeUnit.Hour => v.Hour,
            TimeUnit.Minute => v.Minute,
            TimeUnit.Second => v.Second,
            TimeUnit.Millisecond => v.Second * 1000L + v.Millisecond,
            TimeUnit.Epoch => (v.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerSecond,
            _ => throw new ArgumentException($"EXTRACT does not take {unit}"),
        };
    }

    /// <summary>POSITION(needle IN haystack): 1-based index of the first occurrence, 0 when absent.</summary>
    public static int? Position(string? needle, string? haystack) =>
        needle is null || haystack is null ? null : haystack.IndexOf(needle, StringComparison.Ordinal) + 1;

    public static DateTime? AddInterval(DateTime? value, long millis, int months) =>
        value is { } v ? v.AddMonths(months).AddMilliseconds(millis) : null;

    public static DateTimeOffset? AddIntervalLtz(DateTimeOffset? value, long millis, int months) =>
        value is { } v ? v.AddMonths(months).AddMilliseconds(millis) : null;

    /// <summary>DATE ± a whole number of days and months: months first, clamping the day (2020-01-31 + 1 month = 2020-02-29).</summary>
    public static DateOnly? AddIntervalDate(DateOnly? value, long days, int months) =>
        value is { } v ? v.AddMonths(months).AddDays(checked((int)days)) : null;

    /// <summary>
    /// ROUND(x, d) of a DOUBLE, as Flink's SqlFunctionUtils.sround: HALF_UP on the double's shortest decimal text
    /// (BigDecimal.valueOf), negative d rounding to tens, hundreds, ...
    /// </summary>
    public static double? Round(double? value, int? digits)
    {
        if (value is not { } v || digits is not { } d) return null;
        if (double.IsNaN(v) || double.IsInfinity(v)) return v;
        if (!decimal.TryParse(v.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out var exact))
            return d >= 0 ? v : RoundHalfUpScaled(v, d);
        return (double)(RoundDecimal(exact, d) ?? 0m);
    }

    private static double RoundHalfUpScaled(double v, int d)
    {
        double factor = Math.Pow(10, -d);
        return Math.Round(v / factor, MidpointRounding.AwayFromZero) * factor;
    }

    /// <summary>ROUND(x, d) of a DECIMAL: HALF_UP to d places; negative d rounds to tens, hundreds, ... (scale stays ≥ 0).</summary>
    public static decimal? RoundDecimal(decimal? value, int? digits)
    {
        if (value is not { } v || digits is not { } d) return null;
        if (d >= 0) return Math.Round(v, Math.Min(d, 28), MidpointRounding.AwayFromZero);
        if (d < -28) return 0m;
        decimal factor = Pow10(-d);
        return Math.Round(v / factor, MidpointRounding.AwayFromZero) * factor;
    }

    /// <summary>ROUND(x, d) of an integer: unchanged for d ≥ 0, else HALF_UP to tens, hundreds, ...; the type stays the input's.</summary>
    public static long? RoundLong(long? value, int? digits)
    {
        if (value is not { } v || digits is not { } d) return null;
        if (d >= 0) return v;
        if (d <= -19) return 0;
        return (long)RoundDecimal(v, d)!.Value;
    }

    private static decimal Pow10(int n)
    {
        decimal r = 1m;
        for (int i = 0; i < n; i++) r *= 10m;
        return r;
    }

    /// <summary><c>array[i]</c>: 1-based, NULL when out of range (as Flink).</summary>
    public static object? ArrayElement(object?[]? array, int? index) =>
        array is null || index is not { } i || i < 1 || i > array.Length ? null : array[i - 1];

    public static object? MapValue(Dictionary<object, object?>? map, object? key) =>
        map is null || key is null ? null : map.TryGetValue(key, out var v) ? v : null;

    public static object? RowField(Row? row, int index) => row is null || index >= row.Arity ? null : row[index];

    public static int? Cardinality(object?[]? array) => array?.Length;

    public static int? MapCardinality(Dictionary<object, object?>? map) => map?.Count;

    /// <summary>TIMESTAMPADD(unit, amount, ts): calendar units move by months, the others by their fixed length.</summary>
    public static DateTime? TimestampAdd(TimeUnit unit, long? amount, DateTime? value)
    {
        if (amount is not { } n || value is not { } v) return null;
        return unit switch
        {
            TimeUnit.Year => v.AddMonths(checked((int)(n * 12))),
            TimeUnit.Quarter => v.AddMonths(checked((int)(n * 3))),
            TimeUnit.Month => v.AddMonths(checked((int)n)),
            TimeUnit.Week => v.AddDays(n * 7),
            TimeUnit.Day => v.AddDays(n),
            TimeUnit.Hour => v.AddHours(n),
            TimeUnit.Minute => v.AddMinutes(n),
            TimeUnit.Second => v.AddSeconds(n),
            TimeUnit.Millisecond => v.AddMilliseconds(n),
            _ => throw new ArgumentException($"TIMESTAMPADD does not take {unit}"),
        };
    }

    public static DateTimeOffset? TimestampAddLtz(TimeUnit unit, long? amount, DateTimeOffset? value) =>
        value is { } v && TimestampAdd(unit, amount, v.UtcDateTime) is { } r ? new DateTimeOffset(DateTime.SpecifyKind(r, DateTimeKind.Utc)) : null;

    /// <summary><c>s IS JSON [VALUE|SCALAR|ARRAY|OBJECT]</c>: NULL is not JSON; <paramref name="type"/> is a <see cref="JsonType"/>.</summary>
    public static bool IsJson(string? s, int type)
    {
        if (s is null) return false;
        try
        {
            using var doc = JsonDocument.Parse(s);
            var kind = doc.RootElement.ValueKind;
            return (JsonType)type switch
            {
                JsonType.Scalar => kind is not (JsonValueKind.Object or JsonValueKind.Array),
                JsonType.Array => kind == JsonValueKind.Array,
                JsonType.Object => kind == JsonValueKind.Object,
                _ => true,
            };
        }
        catch (JsonException)
        {
            return false;
        }
    }
}

/// <summary>
/// NOT NULL variants of <see cref="SqlFunctions"/>: same names, plain parameter and result types. The expression
/// compiler calls one instead of the nullable function when every argument is known not to be NULL (columns
/// declared NOT NULL, literals), so that no <see cref="Nullable{T}"/> is built or tested per record. They are not
/// visible to the binder, which resolves functions on <see cref="SqlFunctions"/> only.
/// </summary>
public static class PlainFunctions
{
    /// <summary>TO_TIMESTAMP_LTZ(epoch, precision) of a NOT NULL epoch: never NULL. Inlined into compiled loops,
    /// where the precision is a constant and the switch folds away.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public static DateTimeOffset ToTimestampLtz(long epoch, int precision) => precision switch
    {
        3 => DateTimeOffset.FromUnixTimeMilliseconds(epoch),
        0 => DateTimeOffset.FromUnixTimeSeconds(epoch),
        _ => BadPrecision(precision),
    };

    // Kept out of line so that the inlined body stays small.
    private static DateTimeOffset BadPrecision(int precision) =>
        throw new ArgumentException($"TO_TIMESTAMP_LTZ precision must be 0 or 3, got {precision}");

    public static DateTimeOffset ToTimestampLtz(double epoch, int precision) => ToTimestampLtz((long)epoch, precision);
}
