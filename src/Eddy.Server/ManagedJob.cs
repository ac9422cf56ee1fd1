using System.Diagnostics;
using Eddy.Runtime;
using Eddy.Server.Diagnosis;
using Eddy.Sql;

namespace Eddy.Server;

/// <summary>A job's state as the API names it (Flink's names, Flink's spelling of CANCELED).</summary>
public static class JobStates
{
    public const string Created = "CREATED";
    public const string Running = "RUNNING";
    /// <summary>A task failed; the restart strategy starts the job again after its delay.</summary>
    public const string Restarting = "RESTARTING";
    public const string Cancelling = "CANCELLING";
    public const string Finished = "FINISHED";
    public const string Failed = "FAILED";
    public const string Canceled = "CANCELED";

    public static bool IsTerminal(string state) => state is Finished or Failed or Canceled;
}

/// <summary>A vertex of the job graph: one chain of operators, as Flink's dashboard shows it.</summary>
/// <param name="InputExchanges">Per input (same order as <paramref name="Inputs"/>): FORWARD, HASH, REBALANCE or BROADCAST, Flink's ship strategies.</param>
/// <param name="StateKeys">What identifies the checkpointed state of the chain's operators (for the state size per vertex).</param>
public sealed record VertexInfo(int Id, string Name, int Parallelism, bool IsSource, bool IsSink, IReadOnlyList<string> Operators, IReadOnlyList<int> Inputs,
    IReadOnlyList<string>? InputExchanges = null, IReadOnlyList<OperatorStateKey>? StateKeys = null);

/// <summary>A Kafka source's topic and consumer group (for the shared-group warning).</summary>
public sealed record KafkaSourceInfo(string Table, string Topic, string GroupId);

/// <summary>An exception of a job, with the task it happened in.</summary>
/// <param name="Attempt">The run attempt a task failure ended (1 = the first start); null for a failure to start or restart.</param>
public sealed record JobException(DateTimeOffset Timestamp, string ExceptionName, string Message, string Stacktrace, string? TaskName, int? Attempt = null);

/// <summary>One sampling of a subtask: counters, rates over the last few seconds, and what the diagnosis needs.</summary>
public sealed record SubtaskReading(
    int Subtask, MetricsSample Sample, MetricsRates Rates, TimeSpan? SinceLastRecord, long LastLateLagMs,
    bool HasEventTimeWindows, long PendingWindowEnd, IReadOnlyList<SplitReading>? Splits = null);

public sealed record VertexReading(VertexInfo Vertex, IReadOnlyList<SubtaskReading> Subtasks);

public sealed record JobReading(DateTimeOffset Time, IReadOnlyList<VertexReading> Vertices, IReadOnlyList<Finding> Diagnosis);

/// <summary>
/// A job the server knows: its SQL (secrets masked), plan, slot needs, state, the live execution once it runs, and
/// the latest sampled metrics with their diagnosis.
/// </summary>
public sealed class ManagedJob
{
    private readonly object gate = new();
    private readonly object sampling = new();
    private bool finalSampled;
    private readonly SqlJob? sqlJob;
    // Earlier samplings, oldest first, spanning about RateWindow: a rate over one 500 ms sampling interval is 0 or a
    // spike for an operator that handles a large batch every few seconds (a slow sink), so rates span a few seconds,
    // as Flink's meters do (theirs span 60 s).
    private readonly Queue<MetricsSample[]> history = new();
    private static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(5);
    private readonly List<JobException> exceptions = [];
    private readonly List<string> warnings = [];
    private readonly ResumeOptions resume;
    private string state = JobStates.Created;
    private JobNameLock? nameLock;

    internal ManagedJob(string id, SqlJob job, string sql, string planText, JobConfig config, JobPlan plan,
        IReadOnlyList<KafkaSourceInfo> kafka, OutputTail output, ResumeOptions resume)
    {
        this.resume = resume;
        JobName = job.Environment.Config.JobName ?? resume.FallbackJobName;
        OwnedFolder = CheckpointFolderOwned(job, JobName);
        Id = id;
        sqlJob = job;
        Name = job.Name;
        Sql = sql;
        PlanText = planText;
        Config = config;
        Kafka = kafka;
        Output = output;
        Vertices = DescribeVertices(plan);
        SlotsNeeded = Vertices.Max(v => v.Parallelism);
        Submitted = DateTimeOffset.UtcNow;
        Reading = new JobReading(Submitted, Vertices.Select(v => new VertexReading(v, [])).ToList(), []);
    }

    public string Id { get; }

    public string Name { get; }

    /// <summary>The stable name checkpoints are kept under (<c>pipeline.name</c>, else the SQL file's name), as <c>eddy run</c> names it.</summary>
    public string JobName { get; }

    /// <summary>The checkpoint folder this job owns while it lives (it checkpoints), else null.</summary>
    internal string? OwnedFolder { get; }

    internal static string? CheckpointFolderOwned(SqlJob job, string jobName) =>
        job.Environment.Config is { CheckpointingEnabled: true } c ? JobDataPaths.LockFolder(c, jobName) : null;

    /// <summary>Where the job started from (a checkpoint it resumed, a savepoint), or null.</summary>
    public string? StartNote { get; private set; }

    /// <summary>Whether the job was started from a given savepoint (rather than resumed from its own checkpoints).</summary>
    public bool RestoredFromSavepoint => resume.SavepointPath is not null || Config.RestorePath is not null;

    /// <summary>The submitted script with secret option values masked.</summary>
    public string Sql { get; }

    /// <summary>The logical and physical plans, as <c>eddy explain</c> prints them.</summary>
    public string PlanText { get; }

    public JobConfig Config { get; }

    public IReadOnlyList<VertexInfo> Vertices { get; }

    public IReadOnlyList<KafkaSourceInfo> Kafka { get; }

    /// <summary>The last lines printed by the job's print sinks and queries.</summary>
    public OutputTail Output { get; }

    /// <summary>Task slots the job holds while it runs: its highest parallelism.</summary>
    public int SlotsNeeded { get; }

    public DateTimeOffset Submitted { get; }

    public DateTimeOffset? Started { get; private set; }

    public DateTimeOffset? Ended { get; private set; }

    /// <summary>The job's state; RESTARTING while the execution waits to start again after a task failure.</summary>
    public string State
    {
        get
        {
            var s = state;
            return s == JobStates.Running && Execution?.Status == JobStatus.Restarting ? JobStates.Restarting : s;
        }
        private set => state = value;
    }

    /// <summary>Why a created job has not started (not enough free slots), or null.</summary>
    public string? WaitReason { get; internal set; }

    public JobExecution? Execution { get; private set; }

    public JobReading Reading { get; private set; }

    /// <summary>The last minutes of per-vertex rates, backpressure and watermark lag, for the dashboard's charts.</summary>
    public MetricsHistory History { get; } = new();

    public bool HoldsSlots { get; private set; }

    /// <summary>Every failure: the execution's task failures (one per ended attempt) and failures to start or restart.</summary>
    public IReadOnlyList<JobException> Exceptions
    {
        get
        {
            List<JobException> all;
            lock (gate) all = exceptions.ToList();
            if (Execution is { } e)
            {
                all.AddRange(e.Exceptions.Select(x => new JobException(x.Timestamp, ExceptionName(x.StackTrace),
                    SecretOptions.RedactText(x.Message), SecretOptions.RedactText(x.StackTrace), x.Task, x.Attempt)));
            }
            return all.OrderBy(x => x.Timestamp).ToList();
        }
    }

    // The runtime keeps a failure's text; its type is the first token of Exception.ToString().
    private static string ExceptionName(string stackTrace)
    {
        int end = stackTrace.IndexOfAny([':', '\n', '\r']);
        return end > 0 ? stackTrace[..end] : stackTrace;
    }

    /// <summary>Warnings of planning (unknown options) and of scheduling.</summary>
    public IReadOnlyList<string> Warnings
    {
        get { lock (gate) return warnings.ToList(); }
    }

    internal void AddWarning(string warning)
    {
        lock (gate) warnings.Add(warning);
    }

    public TimeSpan Duration => (Ended ?? DateTimeOffset.UtcNow) - (Started ?? Submitted);

    private static List<VertexInfo> DescribeVertices(JobPlan plan)
    {
        var chainOf = new Dictionary<StreamNode, int>();
        foreach (var c in plan.Chains)
            foreach (var n in c.Nodes) chainOf[n] = c.Id;
        var parallelismOf = plan.Chains.ToDictionary(c => c.Id, c => c.Parallelism);
        return plan.Chains.Select(c =>
        {
            var inputs = c.Nodes[0].Inputs.GroupBy(e => chainOf[e.From]).ToList();
            return new VertexInfo(
                c.Id, c.Name, c.Parallelism,
                IsSource: c.Nodes[0].IsSource,
                IsSink: c.Nodes.Any(n => n.IsSink),
                Operators: c.Nodes.Select(n => n.Name).ToList(),
                Inputs: inputs.Select(g => g.Key).ToList(),
                InputExchanges: inputs.Select(g => OperatorStateKey.Exchange(g.First(), parallelismOf[g.Key], c.Parallelism)).ToList(),
                StateKeys: c.Nodes.Select(n => new OperatorStateKey(n.Uid, n.Id, n.Name)).ToList());
        }).ToList();
    }

    /// <summary>
    /// Starts the job on its slots; a failure to start fails the job at once (the caller sees that it holds no slots).
    /// <paramref name="onEnd"/> runs when a started job ends.
    /// </summary>
    internal void Start(Action<ManagedJob> onEnd)
    {
        lock (gate)
        {
            if (State != JobStates.Created) return;
            HoldsSlots = true;
            WaitReason = null;
            Started = DateTimeOffset.UtcNow;
            try
            {
                Execution = ResumableStart.Start(sqlJob!, resume with { Diagnostics = AddWarning }, out var note, out nameLock);
                StartNote = note;
                // Resuming carries old state into the job: worth a warning. Starting fresh is information (StartNote), not a warning.
                if (note is not null && Execution.RestoredFrom is not null) AddWarning(note);
                State = JobStates.Running;
            }
            catch (Exception e)
            {
                exceptions.Add(Describe(e, null));
                State = JobStates.Failed;
                Ended = DateTimeOffset.UtcNow;
                HoldsSlots = false;
                sqlJob?.ReleaseUserCode();
                return;
            }
        }
        Execution.Completion.ContinueWith(t =>
        {
            var result = t.Result;
            // Released before the state says the job ended: a client that sees the end may submit the name again.
            nameLock?.Dispose();
            // The final counts are in place before the state says the job ended, so a client that sees the end sees them.
            try
            {
                Sample(running: false);
            }
            catch (Exception e)
            {
                AddWarning($"sampling the job's final metrics failed: {e.GetType().Name}: {SecretOptions.RedactText(e.Message)}");
            }
            lock (gate)
            {
                // A task failure is in the execution's history already; a failure to restart is not.
                if (result.Failure is { } f and not TaskFailedException) exceptions.Add(Describe(f, null));
                State = result.Status switch
                {
                    JobStatus.Finished => JobStates.Finished,
                    JobStatus.Cancelled => JobStates.Canceled,
                    _ => JobStates.Failed,
                };
                Ended = DateTimeOffset.UtcNow;
                HoldsSlots = false;
            }
            // Its function assemblies unload with the last job of the submission that ends.
            sqlJob?.ReleaseUserCode();
            onEnd(this);
        }, TaskScheduler.Default);
    }

    /// <summary>Cancels a waiting job at once, a running one through its tasks. False when already ended.</summary>
    internal bool Cancel()
    {
        lock (gate)
        {
            switch (State)
            {
                case JobStates.Created:
                    State = JobStates.Canceled;
                    WaitReason = null;
                    Ended = DateTimeOffset.UtcNow;
                    sqlJob?.ReleaseUserCode();
                    return true;
                case JobStates.Running or JobStates.Restarting:
                    State = JobStates.Cancelling;
                    Execution!.Cancel();
                    return true;
                case JobStates.Cancelling:
                    return true;
                default:
                    return false;
            }
        }
    }

    /// <summary>
    /// Takes a savepoint into <paramref name="targetDirectory"/> (else the job folder's
    /// <c>savepoints</c>) as <c>savepoint-as <c>savepoint-&lt;job&gt;-&lt;id&gt;</c>; withlt;jobas <c>savepoint-&lt;job&gt;-&lt;id&gt;</c>; withgt;-as <c>savepoint-&lt;job&gt;-&lt;id&gt;</c>; withlt;UTC timeas <c>savepoint-&lt;job&gt;-&lt;id&gt;</c>; withgt;</c>; with
    /// <paramref name="cancelAfter"/>, cancels the job once it is written (stop with savepoint). Null stats: the job is not running.
    /// </summary>
    internal async Task<CheckpointStats?> Savepoint(string? targetDirectory, bool cancelAfter)
    {
        var execution = Execution;
        if (execution is null || State is not JobStates.Running) return null;
        string dir = targetDirectory ?? Path.Combine(JobDataPaths.JobFolder(JobName), "savepoints");
        string folder = Path.Combine(dir, $"savepoint-{JobDataPaths.SafeName(JobName)}-{DateTimeOffset.UtcNow:yyyyMMdd-HHmmss-fff}");
        var stats = await execution.TriggerSavepoint(folder).ConfigureAwait(false);
        if (cancelAfter && stats.Status == CheckpointStatus.Completed) Cancel();
        return stats;
    }

    private static JobException Describe(Exception e, string? task)
    {
        var root = e is TaskFailedException { InnerException: { } inner } ? inner : e;
        return new JobException(DateTimeOffset.UtcNow, root.GetType().FullName ?? root.GetType().Name,
            SecretOptions.RedactText(e.Message), SecretOptions.RedactText(root.ToString()), task);
    }

    /// <summary>Reads every subtask's counters, computes rates over the last few seconds of readings and the diagnosis.</summary>
    internal void Sample(bool? running = null)
    {
        // One sampling at a time: the periodic one must not overwrite the final one taken when the job ended.
        lock (sampling)
        {
            if (running is null && finalSampled) return;
            if (running == false) finalSampled = true;
            SampleLocked(running);
        }
    }

    private void SampleLocked(bool? running)
    {
        var execution = Execution;
        if (execution is null) return;
        var metrics = execution.Metrics;
        var samples = metrics.Select(m => m.Snapshot()).ToArray();
        long now = Stopwatch.GetTimestamp();
        var vertices = new List<VertexReading>(Vertices.Count);
        int index = 0;
        lock (gate)
        {
            foreach (var v in Vertices)
            {
                var subtasks = new SubtaskReading[v.Parallelism];
                for (int s = 0; s < v.Parallelism && index < samples.Length; s++, index++)
                {
                    var m = metrics[index];
                    var sample = samples[index];
                    var rates = history.TryPeek(out var p) && index < p.Length ? sample.RatesSince(p[index]) : new MetricsRates(0, 0, 0, 0, 0);
                    long last = Volatile.Read(ref m.LastRecordTimestamp);
                    subtasks[s] = new SubtaskReading(s, sample, rates,
                        last == 0 ? null : Stopwatch.GetElapsedTime(last, now),
                        Volatile.Read(ref m.LastLateRecordLag), m.HasEventTimeWindows, Volatile.Read(ref m.PendingWindowEnd),
                        m.Splits?.Read());
                }
                vertices.Add(new VertexReading(v, subtasks));
            }
            history.Enqueue(samples);
            while (history.Count > 1 && (samples.Length == 0 || history.Peek().Length == 0
                || Stopwatch.GetElapsedTime(history.Peek()[0].Timestamp, samples[0].Timestamp) > RateWindow))
                history.Dequeue();
        }
        long nowMs = Config.Clock.GetUtcNow().ToUnixTimeMilliseconds();
        var input = new DiagnosisInput(
            Running: running ?? State is JobStates.Running or JobStates.Restarting,
            Uptime: DateTimeOffset.UtcNow - (Started ?? Submitted),
            SourceIdleTimeout: Config.SourceIdleTimeout,
            Vertices: vertices.Select(v => new VertexInput(v.Vertex.Name, v.Vertex.IsSource,
                v.Subtasks.Any(s => s.HasEventTimeWindows),
                v.Subtasks.Select(s => new SubtaskInput(s.Subtask, s.Sample.RecordsIn, s.Sample.RecordsOut,
                    s.Sample.InputWatermark, s.Sample.IsIdle, s.SinceLastRecord, s.Sample.LateRecordsDropped,
                    s.Sample.LateRecordsToSideOutput, s.LastLateLagMs, s.PendingWindowEnd,
                    s.Splits?.Select(x => new SplitInput(x.Name, x.Watermark, x.Idle,
                        x.LastDataTime is { } t ? TimeSpan.FromMilliseconds(Math.Max(0, nowMs - t)) : null)).ToList(),
                    RecordsDropped: s.Sample.RecordsDropped)).ToList())).ToList());
        Reading = new JobReading(DateTimeOffset.UtcNow, vertices, JobDiagnosis.Diagnose(input));
        History.Record(Reading, nowMs);
    }
}
