using System.Globalization;

namespace Eddy.Sql.Codegen;

/// <summary>Operators whose SQL semantics LINQ expressions do not give directly (string ordering, casts).</summary>
public static class SqlOps
{
    public static int? CompareStrings(string? a, string? b) => a is null || b is null ? null : string.CompareOrdinal(a, b);

    public static bool? StringEquals(string? a, string? b) => a is null || b is null ? null : string.Equals(a, b, StringComparison.Ordinal);

    public static bool? Like(string? value, System.Text.RegularExpressions.Regex pattern) => value is null ? null : pattern.IsMatch(value);

    /// <summary><c>a IS NOT DISTINCT FROM b</c>: two NULLs are the same, a NULL and a value differ.</summary>
    public static bool NotDistinct(object? a, object? b) => Equals(a, b);

    /// <summary>Translates a SQL LIKE pattern (<c>%</c>, <c>_</c>, optional escape) to an anchored regex.</summary>
    public static System.Text.RegularExpressions.Regex LikeToRegex(string pattern, char? escape)
    {
        var sb = new System.Text.StringBuilder("^");
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (escape is { } e && c == e && i + 1 < pattern.Length)
            {
                sb.Append(System.Text.RegularExpressions.Regex.Escape(pattern[++i].ToString()));
                continue;
            }
            sb.Append(c switch { '%' => ".*", '_' => ".", _ => System.Text.RegularExpressions.Regex.Escape(c.ToString()) });
        }
        return new SqlPatternRegex(sb.Append('$').ToString(),
            System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.CultureInvariant, pattern, escape);
    }

    /// <summary>
    /// Translates a SQL-standard SIMILAR TO pattern to an anchored regex as Calcite's Like.sqlToRegexSimilar (Flink's):
    /// <c>%</c> → <c>.*</c>, <c>_</c> → <c>.</c>; <c>| * + ? {m,n} ( ) [...]</c> keep their regex meaning; other regex
    /// metacharacters are literal; the escape character makes the next character literal. The whole string must match.
    /// </summary>
    public static System.Text.RegularExpressions.Regex SimilarToRegex(string pattern, char? escape)
    {
        var sb = new System.Text.StringBuilder("^(?:");
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (escape is { } e && c == e)
            {
                if (i + 1 >= pattern.Length) throw new ArgumentException($"SIMILAR TO pattern '{pattern}' ends with its escape character");
                char next = pattern[++i];
                if (!inClass && next is not ('%' or '_' or '|' or '*' or '+' or '?' or '{' or '}' or '(' or ')' or '[' or ']' or '^' or '-') && next != e)
                    throw new ArgumentException($"invalid escape sequence '{e}{next}' in SIMILAR TO pattern '{pattern}'");
                sb.Append(System.Text.RegularExpressions.Regex.Escape(next.ToString()).Replace("]", "\\]").Replace("}", "\\}").Replace("-", "\\-"));
                continue;
            }
            if (inClass)
            {
                if (c == ']') inClass = false;
                sb.Append(c is '\\' ? "\\\\" : c.ToString());
                continue;
            }
            switch (c)
            {
                case '%': sb.Append(".*"); break;
                case '_': sb.Append('.'); break;
                case '[': inClass = true; sb.Append('['); if (i + 1 < pattern.Length && pattern[i + 1] == '^') { sb.Append('^'); i++; } break;
                case '|' or '*' or '+' or '?' or '{' or '}' or '(' or ')': sb.Append(c); break;
                default: sb.Append(System.Text.RegularExpressions.Regex.Escape(c.ToString())); break;
            }
        }
        if (inClass) throw new ArgumentException($"unclosed '[' in SIMILAR TO pattern '{pattern}'");
        try
        {
            return new SqlPatternRegex(sb.Append(")$").ToString(),
                System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.CultureInvariant, pattern, escape);
        }
        catch (System.Text.RegularExpressions.RegexParseException ex)
        {
            throw new ArgumentException($"invalid SIMILAR TO pattern '{pattern}': {ex.Message}");
        }
    }

    public static T NotNull<T>(T? value, string column) where T : struct =>
        value ?? throw new InvalidDataException($"column '{column}' is NOT NULL but the value is NULL");

    public static string? ToSqlString(object? value) => value switch
    {
        null => null,
        string s => s,
        bool b => b ? "TRUE" : "FALSE",
        DateTime dt => EventTime.FormatSql(dt),
        DateTimeOffset dto => EventTime.FormatSql(dto.UtcDateTime),
        DateOnly d => d.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly t => t.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
        double d => Row.FormatDouble(d),
        float f => Row.FormatDouble(f),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    /// <summary>CURRENT_WATERMARK as a TIMESTAMP_LTZ(3): NULL before the first watermark (Flink's Long.MIN_VALUE).</summary>
    public static DateTimeOffset? WatermarkLtz(long watermark) =>
        watermark == EventTime.MinWatermark ? null : DateTimeOffset.FromUnixTimeMilliseconds(watermark);

    /// <summary>CURRENT_WATERMARK as a TIMESTAMP(3): the watermark's milliseconds as a UTC wall-clock time, as rowtimes are read.</summary>
    public static DateTime? WatermarkTimestamp(long watermark) =>
        watermark == EventTime.MinWatermark ? null : EventTime.ToDateTime(watermark);
}

/// <summary>CAST and TRY_CAST between SQL types: CAST fails the record on bad input, TRY_CAST gives NULL.</summary>
public static class SqlCasts
{
    public static long? StringToLong(string? s, bool tryCast, string typeName)
    {
        if (s is null) return null;
        if (long.TryParse(s.AsSpan().Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out long v)) return v;
        return tryCast ? null : throw Invalid(s, typeName);
    }

    /// <summary>
    /// A string as TINYINT / SMALLINT / INT: a number outside the type's range is invalid (Flink's CAST fails, TRY_CAST
    /// gives NULL) rather than wrapping around.
    /// </summary>
    public static long? StringToInteger(string? s, bool tryCast, string typeName, long min, long max)
    {
        var v = StringToLong(s, tryCast, typeName);
        if (v is not { } x || (x >= min && x <= max)) return v;
        return tryCast ? null : throw Invalid(s!, typeName);
    }

    public static double? StringToDouble(string? s, bool tryCast, string typeName)
    {
        if (s is null) return null;
        if (double.TryParse(s.AsSpan().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return v;
        return tryCast ? null : throw Invalid(s, typeName);
    }

    public static decimal? StringToDecimal(string? s, bool tryCast)
    {
        if (s is null) return null;
        if (decimal.TryParse(s.AsSpan().Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out decimal v)) return v;
        return tryCast ? null : throw Invalid(s, "DECIMAL");
    }

    /// <summary>
    /// A value as DECIMAL(p, s), as Flink's DecimalData.fromBigDecimal: HALF_UP to the scale, printed with it
    /// (<c>1.00</c>), NULL when the rounded value needs more than p digits.
    /// </summary>
    public static decimal? ToDecimal(decimal? value, int precision, int scale)
    {
        if (value is not { } v) return null;
        int s = Math.Min(scale, 28);
        var rounded = Math.Round(v, s, MidpointRounding.AwayFromZero);
        rounded += new decimal(0, 0, 0, false, (byte)s);
        // Digits left of the point must fit p - s: fewer than p - s digits is below 10^(p - s) (a decimal has at most 29).
        var integral = Math.Abs(decimal.Truncate(rounded));
        int allowed = precision - scale;
        bool fits = integral == 0m ? allowed >= 0 : allowed >= 29 || (allowed > 0 && integral < DecimalPowersOf10[allowed]);
        return fits ? rounded : null;
    }

    private static readonly decimal[] DecimalPowersOf10 = Enumerable.Range(0, 29).Select(n => Enumerable.Repeat(10m, n).Aggregate(1m, (a, b) => a * b)).ToArray();

    /// <summary>DECIMAL division HALF_UP to Flink's result scale (the caller checked that it fits .NET's 28 digits).</summary>
    public static decimal? DivideDecimal(decimal? a, decimal? b, int scale) =>
        a is { } x && b is { } y ? Math.Round(x / y, Math.Min(scale, 28), MidpointRounding.AwayFromZero) : null;

    /// <summary>A DECIMAL value with (at least) <paramref name="scale"/> places, HALF_UP where it had more.</summary>
    public static decimal? ToScale(decimal? value, int scale)
    {
        if (value is not { } v) return null;
        int s = Math.Min(scale, 28);
        return Math.Round(v, s, MidpointRounding.AwayFromZero) + new decimal(0, 0, 0, false, (byte)s);
    }

    public static decimal? DoubleToDecimal(double? value, int precision, int scale)
    {
        if (value is not { } v) return null;
        if (double.IsNaN(v) || double.IsInfinity(v)) return null;
        return decimal.TryParse(v.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out var d)
            ? ToDecimal(d, precision, scale) : null;
    }

    public static bool? StringToBoolean(string? s, bool tryCast)
    {
        if (s is null) return null;
        var t = s.Trim();
        if (t.Equals("true", StringComparison.OrdinalIgnoreCase) || t == "1") return true;
        if (t.Equals("false", StringComparison.OrdinalIgnoreCase) || t == "0") return false;
        return tryCast ? null : throw Invalid(s, "BOOLEAN");
    }

    public static DateTime? StringToTimestamp(string? s, bool tryCast)
    {
        if (s is null) return null;
        return Functions.SqlFunctions.ParseTimestamp(s) ?? (tryCast ? null : throw Invalid(s, "TIMESTAMP"));
    }

    public static DateOnly? StringToDate(string? s, bool tryCast)
    {
        if (s is null) return null;
        if (DateOnly.TryParseExact(s.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d)) return d;
        return tryCast ? null : throw Invalid(s, "DATE");
    }

    public static TimeOnly? StringToTime(string? s, bool tryCast)
    {
        if (s is null) return null;
        if (TimeOnly.TryParse(s.Trim(), CultureInfo.InvariantCulture, out var t)) return t;
        return tryCast ? null : throw Invalid(s, "TIME");
    }

    public static DateTime? LtzToTimestamp(DateTimeOffset? v) => v is { } x ? DateTime.SpecifyKind(x.UtcDateTime, DateTimeKind.Unspecified) : null;

    public static DateTimeOffset? TimestampToLtz(DateTime? v) => v is { } x ? new DateTimeOffset(DateTime.SpecifyKind(x, DateTimeKind.Utc)) : null;

    public static DateOnly? TimestampToDate(DateTime? v) => v is { } x ? DateOnly.FromDateTime(x) : null;

    public static DateTime? DateToTimestamp(DateOnly? v) => v is { } x ? x.ToDateTime(TimeOnly.MinValue) : null;

    private static InvalidCastException Invalid(string value, string type) =>
        new($"cannot cast '{value}' to {type} (use TRY_CAST to get NULL instead)");
}

/// <summary>
/// The regex a LIKE or SIMILAR TO pattern compiles to, printed as the SQL pattern it came from (so EXPLAIN shows
/// <c>LIKE(b, 'x%')</c>, not the regex).
/// </summary>
public sealed class SqlPatternRegex(string regex, System.Text.RegularExpressions.RegexOptions options, string sqlPattern, char? escape)
    : System.Text.RegularExpressions.Regex(regex, options)
{
    public override string ToString() =>
        "'" + sqlPattern.Replace("'", "''", StringComparison.Ordinal) + "'" + (escape is { } e ? $" ESCAPE '{e}'" : "");
}
