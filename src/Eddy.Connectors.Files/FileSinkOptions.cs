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
}
