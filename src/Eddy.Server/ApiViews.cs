using Eddy.Runtime;
using Eddy.Server.Diagnosis;

namespace Eddy.Server;

// The JSON the REST API returns. Property names are written in kebab case (Flink's style: "slots-total",
// "start-time"); Flink's field names are kept where Flink has the same view. Times are epoch milliseconds, durations
// milliseconds; an unset watermark is null.

public sealed record OverviewView(
    int SlotsTotal, int SlotsAvailable, int JobsRunning, int JobsCreated, int JobsFinished, int JobsCancelled, int JobsFailed,
    long StartTime, long UptimeMs, string EddyVersion, IReadOnlyList<string> Warnings);

public sealed record JobIdView(string Id, string Status);

public sealed record JobsView(IReadOnlyList<JobIdView> Jobs);

public sealed record JobSummaryView(
    string Jid, string Name, string State, long StartTime, long EndTime, long Duration, int Slots, string? WaitReason,
    int Vertices, double RecordsInPerSecond, double RecordsOutPerSecond, int Findings, int Warnings, long RecordsDropped);

public sealed record JobsOverviewView(IReadOnlyList<JobSummaryView> Jobs);

public sealed record VertexMetricsView(
    long ReadRecords, long WriteRecords, long ReadBytes, long WriteBytes,
    double RecordsInPerSecond, double RecordsOutPerSecond,
    double BusyTimeMsPerSecond, double BackPressuredTimeMsPerSecond, double IdleTimeMsPerSecond,
    long? Watermark, long LateRecordsDropped, long LateRecordsToSideOutput, long RecordsDropped);

/// <param name="InputEdges">The inputs with their exchange (Flink's ship strategy: FORWARD, HASH, REBALANCE, BROADCAST).</param>
/// <param name="StateSize">Bytes of the vertex's operators' state in the latest completed checkpoint; null without one.</param>
public sealed record VertexView(
    string Id, string Name, int Parallelism, string Status, bool Source, bool Sink, IReadOnlyList<string> Operators,
    IReadOnlyList<string> Inputs, VertexMetricsView Metrics, IReadOnlyList<InputEdgeView> InputEdges, long? StateSize);

public sealed record JobDetailView(
    string Jid, string Name, string State, long SubmitTime, long StartTime, long EndTime, long Duration, long Now,
    int Slots, string? WaitReason, IReadOnlyList<VertexView> Vertices, IReadOnlyList<Finding> Diagnosis,
    IReadOnlyList<string> Warnings, string Sql, string Plan, CheckpointingConfigView Checkpointing, IReadOnlyList<string> Output,
    long RecordsDropped);

public sealed record SubtaskMetricsView(
    int Subtask, long RecordsIn, long RecordsOut, long BytesIn, long BytesOut,
    double RecordsInPerSecond, double RecordsOutPerSecond,
    double BusyTimeMsPerSecond, double IdleTimeMsPerSecond, double BackPressuredTimeMsPerSecond,
    long? Watermark, bool Idle, double QueueFill, long LateRecordsDropped, long LateRecordsToSideOutput,
    long? MsSinceLastRecord, long? NextWindowEnd, long RecordsDropped);

public sealed record SubtasksMetricsView(string Id, string Name, IReadOnlyList<SubtaskMetricsView> Subtasks);

/// <summary>A metric id of a vertex (Flink's /metrics without get).</summary>
public sealed record MetricIdView(string Id);

/// <summary>A metric of a vertex with its value as a string (Flink's /metrics?get=...).</summary>
public sealed record MetricValueView(string Id, string Value);

/// <summary>A source split (Kafka: topic-partition) with its own watermark; last-data-time is epoch ms, null before any record.</summary>
public sealed record SplitWatermarkView(string Name, long? Watermark, bool Idle, long? LastDataTime);

public sealed record SubtaskWatermarkView(int Subtask, long? Watermark, bool Idle, long? MsSinceLastRecord, IReadOnlyList<SplitWatermarkView>? Splits);

public sealed record VertexWatermarksView(string Id, string Name, long? Watermark, IReadOnlyList<SubtaskWatermarkView> Subtasks);

public sealed record WatermarksView(IReadOnlyList<VertexWatermarksView> Vertices);

public sealed record CheckpointingConfigView(bool Enabled, long? IntervalMs, string? Directory, int Retained, string Message);

/// <summary>Flink's checkpoint statistics shape: counts, latest completed/savepoint/failed/restored, history (newest first).</summary>
public sealed record CheckpointCountsView(int Restored, int Total, int InProgress, int Completed, int Failed);

public sealed record CheckpointEntryView(
    long Id, string Status, bool IsSavepoint, long TriggerTimestamp, long? LatestAckTimestamp, long EndToEndDuration,
    long AlignmentDuration, long SyncDuration, long AsyncDuration, long StateSize, IReadOnlyDictionary<string, long> StateSizePerOperator, string? ExternalPath,
    string? FailureMessage, bool Restorable = false);

/// <summary>The checkpoint or savepoint the job started from.</summary>
public sealed record RestoredCheckpointView(long Id, long CheckpointTimestamp, string? ExternalPath, bool IsSavepoint, int Operators, long StateSize);

public sealed record LatestCheckpointsView(
    CheckpointEntryView? Completed, CheckpointEntryView? Savepoint, CheckpointEntryView? Failed, RestoredCheckpointView? Restored);

/// <param name="Summary">min/avg/max over the completed checkpoints and savepoints (Flink's checkpoint summary).</param>
public sealed record CheckpointsView(
    CheckpointingConfigView Config, CheckpointCountsView Counts, LatestCheckpointsView Latest, IReadOnlyList<CheckpointEntryView> History,
    CheckpointSummaryView Summary);

/// <summary>A savepoint request's answer: done synchronously, so it is COMPLETED with a location, or FAILED with a cause.</summary>
public sealed record SavepointView(string Status, long? Id, string? Location, string? FailureCause, bool Cancelled);

public sealed record SavepointRequest(string? TargetDirectory, bool CancelJob);

/// <param name="Attempt">The run attempt the failure ended (1 = the first start; each restart adds one); null for a failure to start or to restart.</param>
public sealed record ExceptionEntryView(string ExceptionName, string Message, string Stacktrace, long Timestamp, string? TaskName, int? Attempt);

public sealed record ExceptionsView(string? RootException, long? Timestamp, int Restarts, IReadOnlyList<ExceptionEntryView> ExceptionHistory);

public sealed record ErrorView(IReadOnlyList<string> Errors);

/// <param name="Distributed">host the script's jobs as workers of their Kafka consumer groups (<c>eddy submit --distributed</c>).</param>
public sealed record SubmitRequest(string? Sql, string? FileName, Dictionary<string, string>? Options, string? SavepointPath, bool AllowNonRestoredState,
    List<UploadedFile>? Udfs = null, bool Distributed = false);

/// <param name="DistributedJobs">the jobs hosted as workers (a distributed submission), else empty.</param>
public sealed record SubmitView(IReadOnlyList<string> Jobids, IReadOnlyList<JobSummaryView> Jobs, IReadOnlyList<Worker.HostedSummaryView> DistributedJobs);

public sealed record DiagnosisView(string Jid, string State, IReadOnlyList<Finding> Findings);

public sealed record PlanView(string Jid, string Name, string Sql, string Plan, IReadOnlyList<VertexView> Vertices);

/// <summary>Builds the API's views of the manager's jobs from their latest sampled readings.</summary>
public static class Views
{
    public static long Millis(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds() ?? -1;

    public static long? Watermark(long w) => w <= EventTime.MinWatermark ? null : w;

    public static JobSummaryView Summary(JobManager manager, ManagedJob job)
    {
        var reading = job.Reading;
        var sources = reading.Vertices.Where(v => v.Vertex.IsSource).SelectMany(v => v.Subtasks);
        var sinks = reading.Vertices.Where(v => v.Vertex.IsSink).SelectMany(v => v.Subtasks);
        return new JobSummaryView(job.Id, job.Name, job.State, Millis(job.Started ?? job.Submitted), Millis(job.Ended),
            (long)job.Duration.TotalMilliseconds, job.SlotsNeeded, job.WaitReason, job.Vertices.Count,
            Math.Round(sources.Sum(s => s.Rates.RecordsInPerSecond), 1), Math.Round(sinks.Sum(s => s.Rates.RecordsInPerSecond), 1),
            reading.Diagnosis.Count, job.Warnings.Count + manager.SharedGroupWarnings(job).Count, RecordsDropped(reading));
    }

    /// <summary>Records the job's sources could not decode and left out (skipped or sent to a dead-letter topic).</summary>
    public static long RecordsDropped(JobReading reading) => reading.Vertices.Sum(v => v.Subtasks.Sum(s => s.Sample.RecordsDropped));

    public static OverviewView Overview(JobManager manager)
    {
        var jobs = manager.Jobs;
        int Count(string state) => jobs.Count(j => j.State == state);
        var warnings = jobs.SelectMany(j => manager.SharedGroupWarnings(j).Select(w => $"job '{j.Name}' ({j.Id}) {w}")).ToList();
        return new OverviewView(manager.TotalSlots, manager.FreeSlots,
            Count(JobStates.Running) + Count(JobStates.Cancelling), Count(JobStates.Created), Count(JobStates.Finished),
            Count(JobStates.Canceled), Count(JobStates.Failed), Millis(manager.StartedAt),
            (long)(DateTimeOffset.UtcNow - manager.StartedAt).TotalMilliseconds,
            typeof(Views).Assembly.GetName().Version?.ToString(3) ?? "0.0.0", warnings);
    }

    private static string VertexStatus(ManagedJob job) => job.State switch
    {
        JobStates.Cancelling => "CANCELING",
        JobStates.Canceled => "CANCELED",
        _ => job.State,
    };

    public static VertexView Vertex(ManagedJob job, VertexReading v)
    {
        var s = v.Subtasks;
        int n = Math.Max(1, s.Count);
        var metrics = new VertexMetricsView(
            s.Sum(x => x.Sample.RecordsIn), s.Sum(x => x.Sample.RecordsOut), s.Sum(x => x.Sample.BytesIn), s.Sum(x => x.Sample.BytesOut),
            Math.Round(s.Sum(x => x.Rates.RecordsInPerSecond), 1), Math.Round(s.Sum(x => x.Rates.RecordsOutPerSecond), 1),
            // Flink's vertex colour uses the busiest subtask; so do these.
            s.Count == 0 ? 0 : s.Max(x => x.Rates.BusyTimeMsPerSecond),
            s.Count == 0 ? 0 : s.Max(x => x.Rates.BackPressuredTimeMsPerSecond),
            s.Count == 0 ? 0 : Math.Round(s.Sum(x => x.Rates.IdleTimeMsPerSecond) / n),
            s.Count == 0 ? null : Watermark(s.Min(x => x.Sample.InputWatermark)),
            s.Sum(x => x.Sample.LateRecordsDropped), s.Sum(x => x.Sample.LateRecordsToSideOutput), s.Sum(x => x.Sample.RecordsDropped));
        return new VertexView(v.Vertex.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), v.Vertex.Name, v.Vertex.Parallelism,
            VertexStatus(job), v.Vertex.IsSource, v.Vertex.IsSink, v.Vertex.Operators,
            v.Vertex.Inputs.Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList(), metrics,
            DashboardViews.InputEdges(v.Vertex), DashboardViews.StateSize(job, v.Vertex));
    }

    public static JobDetailView Detail(JobManager manager, ManagedJob job)
    {
        var reading = job.Reading;
        return new JobDetailView(job.Id, job.Name, job.State, Millis(job.Submitted), Millis(job.Started), Millis(job.Ended),
            (long)job.Duration.TotalMilliseconds, Millis(DateTimeOffset.UtcNow), job.SlotsNeeded, job.WaitReason,
            reading.Vertices.Select(v => Vertex(job, v)).ToList(), reading.Diagnosis,
            job.Warnings.Concat(manager.SharedGroupWarnings(job)).ToList(), job.Sql, job.PlanText, Checkpointing(job),
            job.Output.Lines().TakeLast(50).ToList(), RecordsDropped(reading));
    }

    public static SubtaskMetricsView Subtask(SubtaskReading s) => new(
        s.Subtask, s.Sample.RecordsIn, s.Sample.RecordsOut, s.Sample.BytesIn, s.Sample.BytesOut,
        Math.Round(s.Rates.RecordsInPerSecond, 1), Math.Round(s.Rates.RecordsOutPerSecond, 1),
        s.Rates.BusyTimeMsPerSecond, s.Rates.IdleTimeMsPerSecond, s.Rates.BackPressuredTimeMsPerSecond,
        Watermark(s.Sample.InputWatermark), s.Sample.IsIdle, Math.Round(s.Sample.QueueFill, 3),
        s.Sample.LateRecordsDropped, s.Sample.LateRecordsToSideOutput,
        s.SinceLastRecord is { } t ? (long)t.TotalMilliseconds : null,
        s.HasEventTimeWindows && s.PendingWindowEnd != long.MaxValue ? s.PendingWindowEnd : null,
        s.Sample.RecordsDropped);

    public static WatermarksView Watermarks(ManagedJob job) => new(job.Reading.Vertices.Select(v => new VertexWatermarksView(
        v.Vertex.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), v.Vertex.Name,
        v.Subtasks.Count == 0 ? null : Watermark(v.Subtasks.Min(s => s.Sample.InputWatermark)),
        v.Subtasks.Select(s => new SubtaskWatermarkView(s.Subtask, Watermark(s.Sample.InputWatermark), s.Sample.IsIdle,
            s.SinceLastRecord is { } t ? (long)t.TotalMilliseconds : null,
            s.Splits?.Select(x => new SplitWatermarkView(x.Name, Watermark(x.Watermark), x.Idle, x.LastDataTime)).ToList())).ToList())).ToList());

    public static CheckpointingConfigView Checkpointing(ManagedJob job)
    {
        var c = job.Config;
        string folder = JobDataPaths.CheckpointFolder(c, job.JobName);
        return c.CheckpointInterval is { } interval && interval > TimeSpan.Zero
            ? new CheckpointingConfigView(true, (long)interval.TotalMilliseconds, folder, c.CheckpointsRetained,
                $"a checkpoint every {interval.TotalSeconds:0.###} s into {folder} (the latest {c.CheckpointsRetained} kept)")
            : new CheckpointingConfigView(false, null, null, c.CheckpointsRetained,
                "periodic checkpoints disabled (set 'execution.checkpointing.interval' to enable them); savepoints can still be taken");
    }

    public static CheckpointEntryView Checkpoint(CheckpointStats c) => new(
        c.Id, c.Status switch { CheckpointStatus.Completed => "COMPLETED", CheckpointStatus.Failed => "FAILED", _ => "IN_PROGRESS" },
        c.IsSavepoint, c.TriggerTime.ToUnixTimeMilliseconds(),
        c.Status == CheckpointStatus.InProgress ? null : (c.TriggerTime + c.Duration).ToUnixTimeMilliseconds(),
        (long)c.Duration.TotalMilliseconds, (long)c.AlignmentTime.TotalMilliseconds,
        (long)c.SyncDuration.TotalMilliseconds, (long)c.AsyncDuration.TotalMilliseconds, c.StateSize, c.StateSizeByOperator,
        c.Path, c.FailureReason);

    /// <summary>The checkpoint statistics from the execution's history (every attempt's checkpoints, one numbering).</summary>
    public static CheckpointsView Checkpoints(ManagedJob job)
    {
        var history = job.Execution?.Checkpoints ?? [];
        var restored = job.Execution?.RestoredFrom is { } r
            ? new RestoredCheckpointView(r.Id, r.Timestamp.ToUnixTimeMilliseconds(), r.Path, job.RestoredFromSavepoint, r.Operators.Count, r.Size)
            : null;
        var views = DashboardViews.MarkRestorable(job, history.Select(Checkpoint).Reverse().ToList());
        return new CheckpointsView(Checkpointing(job),
            new CheckpointCountsView(restored is null ? 0 : 1, history.Count,
                history.Count(c => c.Status == CheckpointStatus.InProgress), history.Count(c => c.Status == CheckpointStatus.Completed),
                history.Count(c => c.Status == CheckpointStatus.Failed)),
            new LatestCheckpointsView(
                views.FirstOrDefault(c => c.Status == "COMPLETED" && !c.IsSavepoint),
                views.FirstOrDefault(c => c.Status == "COMPLETED" && c.IsSavepoint),
                views.FirstOrDefault(c => c.Status == "FAILED"),
                restored),
            views, DashboardViews.CheckpointSummary(history));
    }

    /// <summary>Every failure, newest first: each task failure that ended an attempt, and a failure to start or restart.</summary>
    public static ExceptionsView Exceptions(ManagedJob job)
    {
        var entries = job.Exceptions.Select(e => new ExceptionEntryView(e.ExceptionName, e.Message, e.Stacktrace,
            e.Timestamp.ToUnixTimeMilliseconds(), e.TaskName, e.Attempt)).OrderByDescending(e => e.Timestamp).ToList();
        return new ExceptionsView(entries.FirstOrDefault()?.Stacktrace, entries.FirstOrDefault()?.Timestamp,
            job.Execution?.Restarts ?? 0, entries);
    }
}
