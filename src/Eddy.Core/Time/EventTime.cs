using System.Globalization;

namespace Eddy;

/// <summary>
/// Event time is a <see cref="long"/> of milliseconds since the Unix epoch everywhere in Eddy: records,
/// watermarks, windows and timers. These helpers convert at the edges only.
/// </summary>
public static class EventTime
{
    /// <summary>The timestamp of a record that has none.</summary>
    public const long None = long.MinValue;

    /// <summary>The watermark before any data: nothing is known yet.</summary>
    public const long MinWatermark = long.MinValue;

    /// <summary>The final watermark of a bounded input: every timer and window fires.</summary>
    public const long MaxWatermark = long.MaxValue;

    public static long FromDateTime(DateTime value) =>
        (value.Kind == DateTimeKind.Local ? value.ToUniversalTime() : value).Ticks / TimeSpan.TicksPerMillisecond
        - DateTime.UnixEpoch.Ticks / TimeSpan.TicksPerMillisecond;

    public static long FromDateTimeOffset(DateTimeOffset value) => value.ToUnixTimeMilliseconds();

    public static DateTime ToDateTime(long millis) =>
        DateTime.SpecifyKind(DateTime.UnixEpoch.AddMilliseconds(millis), DateTimeKind.Utc);

    public static long Millis(TimeSpan span) => span.Ticks / TimeSpan.TicksPerMillisecond;

    /// <summary>Formats as Flink prints TIMESTAMP(3): <c>2024-01-01 10:00:00.000</c>.</summary>
    public static string FormatSql(DateTime value) =>
        value.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture);

    /// <summary>A watermark or timestamp for humans: the extremes by name, others as UTC time.</summary>
    public static string Describe(long millis) => millis switch
    {
        MinWatermark => "-inf",
        MaxWatermark => "+inf",
        _ => FormatSql(ToDateTime(millis)),
    };
}
