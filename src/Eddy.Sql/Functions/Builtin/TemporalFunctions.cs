using System.Globalization;
using System.Reflection;
using Eddy.Sql.Parsing;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>
/// Flink's temporal functions that are plain calls. Eddy has no <c>table.local-time-zone</c>: the functions that read it
/// (UNIX_TIMESTAMP, FROM_UNIXTIME, CURRENT_DATE, ...) work in UTC, which is what Flink gives with that zone set to UTC.
/// </summary>
public static class TemporalFunctions
{
    private static MethodInfo M(Delegate d) => d.Method;

    private static BuiltinFunction F(string name, BuiltinBinder bind) => new(name, FunctionGroup.Temporal, bind);

    /// <summary>YEAR(d), MONTH(d), ...: EXTRACT(unit FROM d) as BIGINT.</summary>
    private static BuiltinFunction Part(string name, Parsing.TimeUnit unit) => F(name, c =>
    {
        c.Arity(1, 1);
        var t = c.TypeOf(0);
        if (!(TypeRules.IsTimestamp(t) || t.Kind is TypeKind.Date or TypeKind.Null))
            throw c.FailAt(0, $"{name} expects a DATE or TIMESTAMP, got {t}");
        BoundExpr ts = t.Kind == TypeKind.Timestamp ? c.Args[0] : new Cast(c.Args[0], DataType.Timestamp3, false);
        return c.Call(typeof(SqlFunctions).GetMethod(nameof(SqlFunctions.Extract))!, DataType.BigInt, new Literal(unit, DataType.NullType), ts);
    });

    internal static IEnumerable<BuiltinFunction> All() =>
    [
        Part("YEAR", Parsing.TimeUnit.Year), Part("QUARTER", Parsing.TimeUnit.Quarter), Part("MONTH", Parsing.TimeUnit.Month),
        Part("WEEK", Parsing.TimeUnit.Week), Part("DAYOFYEAR", Parsing.TimeUnit.DayOfYear), Part("DAYOFMONTH", Parsing.TimeUnit.Day),
        Part("DAYOFWEEK", Parsing.TimeUnit.DayOfWeek), Part("HOUR", Parsing.TimeUnit.Hour), Part("MINUTE", Parsing.TimeUnit.Minute),
        Part("SECOND", Parsing.TimeUnit.Second),
        F("UNIX_TIMESTAMP", c =>
        {
            c.Arity(0, 2);
            if (c.Count == 0)
                return new Planning.Call("UNIX_TIMESTAMP", M(EpochSeconds), [new CurrentTime(DataType.TimestampLtz3)], DataType.BigInt);
            var pattern = c.Count == 2 ? CheckedPattern(c, 1) : new Literal("yyyy-MM-dd HH:mm:ss", DataType.String);
            return c.Call(M(UnixTimestamp), DataType.BigInt, c.String(0), pattern);
        }),
        F("FROM_UNIXTIME", c =>
        {
            c.Arity(1, 2);
            var pattern = c.Count == 2 ? CheckedPattern(c, 1) : new Literal("yyyy-MM-dd HH:mm:ss", DataType.String);
            return c.Call(M(FromUnixtime), DataType.String, c.Integer(0, DataType.BigInt), pattern);
        }),
        F("TO_DATE", c =>
        {
            c.Arity(1, 2);
            var pattern = c.Count == 2 ? CheckedPattern(c, 1) : new Literal("yyyy-MM-dd", DataType.String);
            return c.Call(M(ToDate), DataType.Date, c.String(0), pattern);
        }),
        F("CONVERT_TZ", c =>
        {
            c.Arity(3, 3);
            return c.Call(M(ConvertTz), DataType.String, c.String(0), Zone(c, 1), Zone(c, 2));
        }),
        F("CURRENT_DATE", c =>
        {
            c.Arity(0, 0);
            return new Planning.Call("CURRENT_DATE", M(DateOf), [new CurrentTime(DataType.TimestampLtz3)], DataType.Date.NotNull());
        }),
        F("TO_TIMESTAMP", c =>
        {
            c.Arity(1, 2);
            return c.Count == 1
                ? c.Fn(nameof(SqlFunctions.ToTimestamp), DataType.Timestamp3, BuiltinCall.AsString(c.Args[0]))
                : c.Fn(nameof(SqlFunctions.ToTimestamp), DataType.Timestamp3, BuiltinCall.AsString(c.Args[0]), BuiltinCall.AsString(c.Args[1]));
        }),
        F("TO_TIMESTAMP_LTZ", c =>
        {
            c.Arity(1, 2);
            var precision = c.Count == 2 ? c.Args[1] : new Literal(3, DataType.Int);
            if (precision is not Literal { Value: int }) throw c.FailAt(c.Count - 1, "TO_TIMESTAMP_LTZ precision must be 0 or 3");
            var epoch = c.TypeOf(0).Kind is TypeKind.Double or TypeKind.Float or TypeKind.Decimal
                ? Planning.Binder.CastIfNeeded(c.Args[0], DataType.Double) : Planning.Binder.CastIfNeeded(c.Args[0], DataType.BigInt);
            return c.Fn(nameof(SqlFunctions.ToTimestampLtz), DataType.TimestampLtz3, epoch, precision);
        }),
        F("DATE_FORMAT", c => { c.Arity(2, 2); return c.Fn(nameof(SqlFunctions.DateFormat), DataType.String, c.Args[0], BuiltinCall.AsString(c.Args[1])); }),
        F("CURRENT_TIMESTAMP", c => { c.Arity(0, 0); return new CurrentTime(DataType.TimestampLtz3); }),
        F("NOW", c => { c.Arity(0, 0); return new CurrentTime(DataType.TimestampLtz3); }),
        F("CURRENT_ROW_TIMESTAMP", c => { c.Arity(0, 0); return new CurrentTime(DataType.TimestampLtz3); }),
        F("LOCALTIMESTAMP", c => { c.Arity(0, 0); return new CurrentTime(DataType.Timestamp3); }),
        F("CURRENT_WATERMARK", c =>
        {
            c.Arity(1, 1);
            if (c.Args[0] is not InputRef rowtime || !TypeRules.IsTimestamp(rowtime.Type))
                throw c.FailAt(0, "CURRENT_WATERMARK takes a rowtime attribute (a column with a WATERMARK)");
            if (c.WatermarkRowtime != rowtime.Index)
                throw c.FailAt(0, $"'{rowtime.Name}' is not the rowtime attribute of this query's input: Eddy evaluates CURRENT_WATERMARK in the "
                    + "WHERE and SELECT list of a query over a table with a WATERMARK (not in aggregations or OVER windows)");
            // The rowtime's type with precision 3, as Flink infers it; NULL before the first watermark.
            return new CurrentWatermark(rowtime.Type with { Precision = 3, Nullable = true });
        }),
        // TIME(0) of the local time zone (UTC in Eddy), read per record as Flink does in streaming mode.
        F("LOCALTIME", c => { c.Arity(0, 0); return new Planning.Call("LOCALTIME", M(TimeOf), [new CurrentTime(DataType.TimestampLtz3)], DataType.Time.NotNull()); }),
        F("CURRENT_TIME", c => { c.Arity(0, 0); return new Planning.Call("CURRENT_TIME", M(TimeOf), [new CurrentTime(DataType.TimestampLtz3)], DataType.Time.NotNull()); }),
    ];

    /// <summary>A literal date-time pattern Eddy can read (a pattern it cannot is refused here, not at run time).</summary>
    private static BoundExpr CheckedPattern(BuiltinCall c, int i)
    {
        var arg = c.String(i);
        if (arg is Literal { Value: string p })
        {
            try
            {
                DateTimePattern.Of(p);
            }
            catch (Exception e) when (e is ArgumentException or FormatException or NotSupportedException)
            {
                throw c.FailAt(i, $"{c.Name}: date-time pattern '{p}' is not supported: {e.Message}");
            }
        }
        return arg;
    }

    /// <summary>A time zone argument: a literal Eddy knows (IANA names, UTC, GMT±hh:mm); Java's three-letter aliases are refused.</summary>
    private static BoundExpr Zone(BuiltinCall c, int i)
    {
        var arg = c.String(i);
        if (arg is not Literal { Value: var v }) throw c.FailAt(i, $"{c.Name} needs a literal time zone");
        if (v is string zone && FindZone(zone) is null) throw c.FailAt(i, $"{c.Name}: time zone '{zone}' is not supported (use a region name such as 'America/Los_Angeles', 'UTC' or 'GMT-08:00')");
        return arg;
    }

    internal static TimeZoneInfo? FindZone(string zone)
    {
        if (zone is "UTC" or "GMT" or "Z") return TimeZoneInfo.Utc;
        var m = System.Text.RegularExpressions.Regex.Match(zone, @"^(?:GMT|UTC)([+-])(\d{1,2}):(\d{2})$");
        if (m.Success)
        {
            var offset = new TimeSpan(int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture), int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), 0);
            return TimeZoneInfo.CreateCustomTimeZone(zone, m.Groups[1].Value == "-" ? -offset : offset, zone, zone);
        }
        if (zone.Length <= 4) return null; // PST, EST, ...: Java's own aliases, not IANA's
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(zone);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    /// <summary>The time of day of <paramref name="now"/> in UTC, to the second (TIME(0)).</summary>
    public static TimeOnly TimeOf(DateTimeOffset? now)
    {
        var t = TimeOnly.FromDateTime((now ?? DateTimeOffset.UnixEpoch).UtcDateTime);
        return new TimeOnly(t.Hour, t.Minute, t.Second);
    }

    public static long? EpochSeconds(DateTimeOffset? now) => now?.ToUnixTimeSeconds();

    public static DateOnly? DateOf(DateTimeOffset? now) => now is { } n ? DateOnly.FromDateTime(n.UtcDateTime) : null;

    /// <summary>UNIX_TIMESTAMP(s, pattern) read in UTC; a string that does not parse gives Long.MIN_VALUE, as Flink.</summary>
    public static long? UnixTimestamp(string? s, string? pattern)
    {
        if (s is null || pattern is null) return null;
        if (!DateTimePattern.Of(pattern).TryParse(s, out var value)) return long.MinValue;
        return (long)Math.Floor((value - DateTime.UnixEpoch).TotalSeconds);
    }

    public static string? FromUnixtime(long? seconds, string? pattern)
    {
        if (seconds is not { } s || pattern is null) return null;
        return DateTimePattern.Of(pattern).Format(DateTime.UnixEpoch.AddSeconds(s));
    }

    public static DateOnly? ToDate(string? s, string? pattern)
    {
        if (s is null || pattern is null) return null;
        return DateTimePattern.Of(pattern).TryParse(s, out var value) ? DateOnly.FromDateTime(value) : null;
    }

    public static string? ConvertTz(string? s, string? from, string? to)
    {
        if (s is null || from is null || to is null) return null;
        var pattern = DateTimePattern.Of("yyyy-MM-dd HH:mm:ss");
        if (!pattern.TryParse(s, out var local) || FindZone(from) is not { } fz || FindZone(to) is not { } tz) return null;
        var utc = TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), fz);
        return pattern.Format(TimeZoneInfo.ConvertTimeFromUtc(utc, tz));
    }
}
