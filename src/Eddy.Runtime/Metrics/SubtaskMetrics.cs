using System.Diagnostics;

namespace Eddy.Runtime;

/// <summary>
/// The live counters of one subtask. The task's own thread writes them with plain stores; readers (the CLI, the
/// dashboard) read them from other threads with <see cref="Snapshot"/>, which is good enough for monitoring.
/// </summary>
public sealed class SubtaskMetrics(string taskName, int subtask)
{
    public string TaskName { get; } = taskName;

    public int Subtask { get; } = subtask;

    public long RecordsIn;
    public long RecordsOut;
    public long BytesIn;
    public long BytesOut;
    public long LateRecordsDropped;
    /// <summary>Records a source rejected and left out (bad records skipped or sent to a dead-letter topic).</summary>
    public long RecordsSkipped;
    public long LateRecordsToSideOutput;
    public long LastLateRecordLag = -1;

    /// <summary>Watermark of the task's combined input (sources: the one they generate).</summary>
    public long InputWatermark = EventTime.MinWatermark;

    public long OutputWatermark = EventTime.MinWatermark;

    /// <summary>Stopwatch ticks spent waiting for input (idle) and for room downstream (backpressured).</summary>
    public long IdleTicks;
    public long BackPressuredTicks;

    /// <summary>Stopwatch timestamp at which the task began waiting for room downstream, or 0 when it is not waiting.</summary>
    public long BackPressuredSince;

    public long StartTimestamp = Stopwatch.GetTimestamp();

    /// <summary>Stopwatch timestamp of the last record received, or 0.</summary>
    public long LastRecordTimestamp;

    public volatile bool IsIdle;

    /// <summary>Whether an event-time window operator runs in this subtask (set when it opens; for diagnosis).</summary>
    public volatile bool HasEventTimeWindows;

    /// <summary>
    /// Event time (exclusive end) of the earliest window holding data that has not fired yet, or
    /// <see cref="long.MaxValue"/> when none: a window fires once the watermark reaches this minus one.
    /// </summary>
    public long PendingWindowEnd = long.MaxValue;

    /// <summary>A source subtask's splits (partitions) with their watermarks and last data; null for other tasks.</summary>
    public SourceSplitProgress? Splits;

    /// <summary>Queued elements over capacity, across this task's input channels (0..1).</summary>
    public Func<double>? QueueFill;

    private readonly List<Func<IEnumerable<OperatorMetricReading>>> operatorMetrics = [];

    /// <summary>
    /// Adds the metrics an operator's functions registered (a user function's metric group), read at every sampling
    /// from the monitoring thread.
    /// </summary>
    public void AddOperatorMetrics(Func<IEnumerable<OperatorMetricReading>> read)
    {
        lock (operatorMetrics) operatorMetrics.Add(read);
    }

    /// <summary>The current values of the operators' own metrics, in registration order.</summary>
    public IReadOnlyList<OperatorMetricReading> ReadOperatorMetrics()
    {
        lock (operatorMetrics)
        {
            if (operatorMetrics.Count == 0) return [];
            return operatorMetrics.SelectMany(r => r()).ToList();
        }
    }

    public MetricsSample Snapshot()
    {
        long now = Stopwatch.GetTimestamp();
        // A wait still in progress counts up to now (its ticks are added to BackPressuredTicks when it ends).
        long waitingSince = Volatile.Read(ref BackPressuredSince);
        long backPressured = Volatile.Read(ref BackPressuredTicks) + (waitingSince != 0 ? Math.Max(0, now - waitingSince) : 0);
        return new(
            TaskName, Subtask,
            Volatile.Read(ref RecordsIn), Volatile.Read(ref RecordsOut),
            Volatile.Read(ref BytesIn), Volatile.Read(ref BytesOut),
            Volatile.Read(ref LateRecordsDropped), Volatile.Read(ref LateRecordsToSideOutput),
            Volatile.Read(ref InputWatermark), Volatile.Read(ref OutputWatermark),
            Volatile.Read(ref IdleTicks), backPressured,
            now, QueueFill?.Invoke() ?? 0, IsIdle, Volatile.Read(ref RecordsSkipped)) { OperatorMetrics = ReadOperatorMetrics() };
    }
}

/// <summary>One reading of a subtask's counters.</summary>
/// <param name="RecordsDropped">
/// Records a source read but could not decode and left out (skipped by <c>*.ignore-parse-errors</c> or sent to a
/// dead-letter topic): the role of Flink's source metric <c>numRecordsInErrors</c>.
/// </param>
public sealed record MetricsSample(
    string TaskName, int Subtask,
    long RecordsIn, long RecordsOut, long BytesIn, long BytesOut,
    long LateRecordsDropped, long LateRecordsToSideOutput,
    long InputWatermark, long OutputWatermark,
    long IdleTicks, long BackPressuredTicks, long Timestamp, double QueueFill, bool IsIdle, long RecordsDropped)
{
    /// <summary>The metrics of the subtask's operators' functions (user metric groups) at this reading.</summary>
    public IReadOnlyList<OperatorMetricReading> OperatorMetrics { get; init; } = [];

    /// <summary>
    /// Rates between an earlier reading and this one, in Flink's terms: busy, idle and backpressured milliseconds
    /// per second (they add up to 1000), records per second.
    /// </summary>
    public MetricsRates RatesSince(MetricsSample earlier)
    {
        double elapsed = Math.Max(1, Timestamp - earlier.Timestamp);
        double idle = Math.Clamp((IdleTicks - earlier.IdleTicks) / elapsed, 0, 1);
        double back = Math.Clamp((BackPressuredTicks - earlier.BackPressuredTicks) / elapsed, 0, 1 - idle);
        double seconds = elapsed / Stopwatch.Frequency;
        return new MetricsRates(
            BusyTimeMsPerSecond: Math.Round(1000 * (1 - idle - back)),
            IdleTimeMsPerSecond: Math.Round(1000 * idle),
            BackPressuredTimeMsPerSecond: Math.Round(1000 * back),
            RecordsInPerSecond: (RecordsIn - earlier.RecordsIn) / seconds,
            RecordsOutPerSecond: (RecordsOut - earlier.RecordsOut) / seconds);
    }
}

public sealed record MetricsRates(
    double BusyTimeMsPerSecond, double IdleTimeMsPerSecond, double BackPressuredTimeMsPerSecond,
    double RecordsInPerSecond, double RecordsOutPerSecond);

/// <summary>
/// One value of an operator's own metric (a user function's counter, gauge or histogram statistic), as Flink scopes
/// it: the operator, the nested groups, the name.
/// </summary>
/// <param name="Kind">counter, gauge, or summary (a histogram: <paramref name="Quantile"/> set, or the name ends in _count/_min/_max/_mean)</param>
public sealed record OperatorMetricReading(string Operator, IReadOnlyList<string> Scope, string Name, string Kind, double Value, double? Quantile = null)
{
    /// <summary>Flink's metric identifier below the subtask: <c>operator.group.name</c> (a quantile as <c>name_p50</c>, <c>name_p999</c>).</summary>
    public string Identifier => string.Join('.', [Operator, .. Scope, Quantile is { } q
        ? $"{Name}_p{(q * 100).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture).Replace(".", "", StringComparison.Ordinal)}" : Name]);
}

/// <summary>One split of a source subtask as last seen: its own watermark, whether it is idle, when it last had data.</summary>
/// <param name="LastDataTime">Epoch milliseconds of its last record (processing time); null before any.</param>
public sealed record SplitReading(int Split, string Name, long Watermark, bool Idle, long? LastDataTime);

/// <summary>
/// A source driver's per-split bookkeeping, read in place by monitors (no copy on the driver's side, so it costs the
/// source nothing): the readings are racy snapshots, good enough for a dashboard.
/// </summary>
public sealed class SourceSplitProgress
{
    private readonly string[] names;
    private readonly long[] lastData;
    private readonly bool[] idle;
    private readonly WatermarkGenerator[] generators;
    private readonly long start;

    internal SourceSplitProgress(string[] names, long[] lastData, bool[] idle, WatermarkGenerator[] generators, long start)
    {
        this.names = names;
        this.lastData = lastData;
        this.idle = idle;
        this.generators = generators;
        this.start = start;
    }

    public IReadOnlyList<SplitReading> Read()
    {
        var result = new SplitReading[names.Length];
        for (int s = 0; s < names.Length; s++)
        {
            long last = Volatile.Read(ref lastData[s]);
            var w = generators[s].Current;
            // lastData starts at the reader's start time; a split that never had a record has no watermark either.
            result[s] = new SplitReading(s, names[s], w, Volatile.Read(ref idle[s]),
                last == start && w <= EventTime.MinWatermark ? null : last);
        }
        return result;
    }
}
