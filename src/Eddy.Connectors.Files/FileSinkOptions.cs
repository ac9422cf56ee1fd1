using System.Globalization;
using System.Text.RegularExpressions;

namespace Eddy.Connectors;

/// <summary>
/// Flink's <c>sink.rolling-policy.*</c>: a part file is closed (and committed with the next checkpoint) when it reaches
/// <see cref="FileSize"/>, is older than <see cref="RolloverInterval"/> or has not been written for
/// <see cref="InactivityInterval"/>; the time conditions are checked every <see cref="CheckInterval"/>.
/// </summary>
public sealed record RollingPolicy
{
    public long FileSize { get; init; } = 128L << 20;

    public TimeSpan RolloverInterval { get; init; } = TimeSpan.FromMinutes(30);

    public TimeSpan CheckInterval { get; init; } = TimeSpan.FromMinutes(1);

    public TimeSpan InactivityInterval { get; init; } = TimeSpan.FromMinutes(30);
}

/// <summary>Flink's <c>sink.partition-commit.trigger</c>.</summary>
public enum PartitionCommitTrigger
{
    /// <summary>When the processing time passes the partition's creation time + delay (no delay: at once).</summary>
    ProcessTime,
    /// <summary>When the watermark passes the time extracted from the partition values + delay.</summary>
    PartitionTime,
}

/// <summary>
/// Flink's partition commit options (<c>sink.partition-commit.*</c>, <c>partition.time-extractor.*</c>,
/// <c>partition.default-name</c>). A committed partition gets the success file when the policy is <c>success-file</c>.
/// </summary>
public sealed record PartitionCommitOptions
{
    public PartitionCommitTrigger Trigger { get; init; } = PartitionCommitTrigger.ProcessTime;

    public TimeSpan Delay { get; init; } = TimeSpan.Zero;

    /// <summary><c>sink.partition-commit.policy.kind</c> holds <c>success-file</c>.</summary>
    public bool SuccessFile { get; init; }

    public string SuccessFileName { get; init; } = "_SUCCESS";

    /// <summary><c>partition.time-extractor.timestamp-pattern</c>, e.g. <c>$dt $hm:00</c>; null: the first partition value.</summary>
    public string? TimestampPattern { get; init; }

    /// <summary><c>partition.time-extractor.timestamp-formatter</c> (a Java pattern); null: <c>yyyy-MM-dd HH:mm:ss</c> or a date.</summary>
    public string? TimestampFormatter { get; init; }

    /// <summary>The folder value of a NULL or empty partition value.</summary>
    public string DefaultPartitionName { get; init; } = "__DEFAULT_PARTITION__";

    /// <summary>Whether any commit option was given (they need PARTITIONED BY).</summary>
    public bool Given { get; init; }
}

/// <summary>Flink's duration and memory-size option values.</summary>
public static partial class FlinkValues
{
    [GeneratedRegex(@"^\s*(\d+)\s*([a-zA-Z]*)\s*$")]
    private static partial Regex NumberAndUnit();

    /// <summary>A duration as Flink writes one: <c>1 min</c>, <c>30s</c>, <c>500 ms</c>, <c>2 h</c>, <c>1 d</c> (no unit: milliseconds).</summary>
    public static TimeSpan Duration(string key, string text)
    {
        var m = NumberAndUnit().Match(text);
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            throw Error(key, $"expected a duration such as '1 min', '30 s' or '500 ms', got '{text}'");
        long unit = m.Groups[2].Value.ToLowerInvariant() switch
        {
            "" or "ms" or "milli" or "millis" or "millisecond" or "milliseconds" => 1,
            "s" or "sec" or "secs" or "second" or "seconds" => 1000,
            "min" or "m" or "mins" or "minute" or "minutes" => 60_000,
            "h" or "hour" or "hours" => 3_600_000,
            "d" or "day" or "days" => 86_400_000,
            var u => throw Error(key, $"unknown time unit '{u}' in '{text}' (ms, s, min, h, d)"),
        };
        return TimeSpan.FromMilliseconds(checked(n * unit));
    }

    /// <summary>A size as Flink writes one: <c>128MB</c>, <c>1 kb</c>, <c>1024</c> (bytes); units are powers of 1024.</summary>
    public static long MemorySize(string key, string text)
    {
        var m = NumberAndUnit().Match(text);
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out long n))
            throw Error(key, $"expected a size such as '128MB' or '1 kb', got '{text}'");
        int shift = m.Groups[2].Value.ToLowerInvariant() switch
        {
            "" or "b" or "bytes" => 0,
            "k" or "kb" or "kibibytes" => 10,
            "m" or "mb" or "mebibytes" => 20,
            "g" or "gb" or "gibibytes" => 30,
            "t" or "tb" or "tebibytes" => 40,
            var u => throw Error(key, $"unknown size unit '{u}' in '{text}' (b, kb, mb, gb, tb)"),
        };
        return checked(n << shift) >> shift == n ? n << shift : throw Error(key, $"'{text}' is too large");
    }

    private static ArgumentException Error(string key, string problem) =>
        new(string.Create(CultureInfo.InvariantCulture, $"filesystem option '{key}': {problem}"));
}
