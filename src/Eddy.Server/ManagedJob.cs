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
    public const string Cancelling = "CANCELLING";
    public const string Finished = "FINISHED";
    public const string Failed = "FAILED";
    public const string Canceled = "CANCELED";

    public static bool IsTerminal(string state) => state is Finished or Failed or Canceled;
}

/// <summary>A vertex of the job graph: one chain of operators, as Flink's dashboard shows it.</summary>
public sealed record VertexInfo(int Id, string Name, int Parallelism, bool IsSource, bool IsSink, IReadOnlyList<string> Operators, IReadOnlyList<int> Inputs);

/// <summary>A Kafka source's topic and consumer group (for the shared-group warning).</summary>
public sealed record KafkaSourceInfo(string Table, string Topic, string GroupId);

/// <summary>An exception of a job, with the task it happened in.</summary>
public sealed record JobException(DateTimeOffset Timestamp, string ExceptionName, string Message, string Stacktrace, string? TaskName);

/// <summary>One sampling of a subtask: counters, rates since the previous sampling, and what the diagnosis needs.</summary>
public sealed record SubtaskReading(
    int Subtask, MetricsSample Sample, MetricsRates Rates, TimeSpan? SinceLastRecord, long LastLateLagMs,
    bool HasEventTimeWindows, long PendingWindowEnd);

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
    private MetricsSample[]? previous;
    private readonly List<JobException> exceptions = [];
    private readonly List<string> warnings = [];

    internal ManagedJob(string id, SqlJob job, string sql, string planText, JobConfig config, JobPlan plan,
        IReadOnlyList<KafkaSourceInfo> kafka, OutputTail output)
    {
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

    public string State { get; private set; } = JobStates.Created;

    /// <summary>Why a created job has not started (not enough free slots), or null.</summary>
    public string? WaitReason { get; internal set; }

    public JobExecution? Execution { get; private set; }

    public JobReading Reading { get; private set; }

    public bool HoldsSlots { get; private set; }

    public IReadOnlyList<JobException> Exceptions
    {
        get { lock (gate) return exceptions.ToList(); }
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
        return plan.Chains.Select(c => new VertexInfo(
            c.Id, c.Name, c.Parallelism,
            IsSource: c.Nodes[0].IsSource,
            IsSink: c.Nodes.Any(n => n.IsSink),
            Operators: c.Nodes.Select(n => n.Name).ToList(),
            Inputs: c.Nodes[0].Inputs.Select(e => chainOf[e.From]).Distinct().ToList())).ToList();
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
                Execution = sqlJob!.Environment.Start(Name);
                State = JobStates.Running;
            }
            catch (Exception e)
            {
                exceptions.Add(Describe(e, null));
                State = JobStates.Failed;
                Ended = DateTimeOffset.UtcNow;
                HoldsSlots = false;
                return;
            }
        }
        Execution.Completion.ContinueWith(t =>
        {
            var result = t.Result;
            // The final counts are in place before the state says the job ended, so a client that sees the end sees them.
            Sample(running: false);
            lock (gate)
            {
                if (result.Failure is { } f) exceptions.Add(Describe(f, (f as TaskFailedException)?.Task));
                State = result.Status switch
                {
                    JobStatus.Finished => JobStates.Finished,
                    JobStatus.Cancelled => JobStates.Canceled,
                    _ => JobStates.Failed,
                };
                Ended = DateTimeOffset.UtcNow;
                HoldsSlots = false;
            }
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
                    return true;
                case JobStates.Running:
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

    private static JobException Describe(Exception e, string? task)
    {
        var root = e is TaskFailedException { InnerException: { } inner } ? inner : e;
        return new JobException(DateTimeOffset.UtcNow, root.GetType().FullName ?? root.GetType().Name,
            SecretOptions.RedactText(e.Message), SecretOptions.RedactText(root.ToString()), task);
    }

    /// <summary>Reads every subtask's counters, computes rates since the previous reading and the diagnosis.</summary>
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
                    var rates = previous is { } p && index < p.Length ? sample.RatesSince(p[index]) : new MetricsRates(0, 0, 0, 0, 0);
                    long last = Volatile.Read(ref m.LastRecordTimestamp);
                    subtasks[s] = new SubtaskReading(s, sample, rates,
                        last == 0 ? null : Stopwatch.GetElapsedTime(last, now),
                        Volatile.Read(ref m.LastLateRecordLag), m.HasEventTimeWindows, Volatile.Read(ref m.PendingWindowEnd));
                }
                vertices.Add(new VertexReading(v, subtasks));
            }
            previous = samples;
        }
        var input = new DiagnosisInput(
            Running: running ?? State is JobStates.Running,
            Uptime: DateTimeOffset.UtcNow - (Started ?? Submitted),
            SourceIdleTimeout: Config.SourceIdleTimeout,
            Vertices: vertices.Select(v => new VertexInput(v.Vertex.Name, v.Vertex.IsSource,
                v.Subtasks.Any(s => s.HasEventTimeWindows),
                v.Subtasks.Select(s => new SubtaskInput(s.Subtask, s.Sample.RecordsIn, s.Sample.RecordsOut,
                    s.Sample.InputWatermark, s.Sample.IsIdle, s.SinceLastRecord, s.Sample.LateRecordsDropped,
                    s.Sample.LateRecordsToSideOutput, s.LastLateLagMs, s.PendingWindowEnd)).ToList())).ToList());
        Reading = new JobReading(DateTimeOffset.UtcNow, vertices, JobDiagnosis.Diagnose(input));
    }
}
