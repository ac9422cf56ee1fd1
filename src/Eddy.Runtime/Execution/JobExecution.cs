namespace Eddy.Runtime;

public enum JobStatus
{
    Created,
    Running,
    Finished,
    Failed,
    Cancelled,
    /// <summary>A task failed; the job waits for the restart strategy's delay before it starts again.</summary>
    Restarting,
}

public sealed record JobResult(string JobName, JobStatus Status, TimeSpan Duration, Exception? Failure)
{
    /// <summary>The process exit code a CLI gives for this result: 0 finished, 1 failed, 130 cancelled.</summary>
    public int ExitCode => Status switch
    {
        JobStatus.Finished => 0,
        JobStatus.Cancelled => 130,
        _ => 1,
    };
}

/// <summary>A failure inside a task, named by operator chain and subtask.</summary>
public sealed class TaskFailedException(string task, Exception inner)
    : Exception($"task '{task}' failed: {inner.Message}", inner)
{
    public string Task { get; } = task;
}

/// <summary>
/// A job being run in this process: its physical plan (chains × subtasks), the threads that run them, the live
/// metrics of every subtask, and, when it takes checkpoints, the coordinator and the checkpoint history. A failing
/// task stops every task of the attempt; the restart strategy then starts a new attempt from the latest completed
/// checkpoint (or from the start when there is none).
/// </summary>
public sealed class JobExecution
{
    private readonly StreamGraph graph;
    private readonly JobConfig config;
    private readonly CheckpointCoordinator? coordinator;
    private readonly List<CheckpointStats> checkpoints = [];
    private readonly List<JobExceptionEntry> exceptions = [];
    private readonly List<string> warnings = [];
    private readonly CancellationTokenSource jobCancel = new();
    private readonly TaskCompletionSource<JobResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly RestartStrategy restartStrategy;
    private Attempt attempt;
    private DateTimeOffset started;

    internal JobExecution(string name, StreamGraph graph, JobConfig config)
    {
        Name = name;
        this.graph = graph;
        this.config = config = config with { JobName = config.JobName ?? name };
        restartStrategy = config.RestartStrategy ?? (config.CheckpointingEnabled ? RestartStrategy.DefaultWithCheckpointing : RestartStrategy.None);
        if (config.CheckpointingEnabled || config.ResumeFromLatestCheckpoint)
        {
            var storage = CheckpointStorages.Open(JobDataPaths.CheckpointFolder(config, config.JobName!), config.S3);
            Storage = storage;
            if (config.RestorePath is null && config.ResumeFromLatestCheckpoint)
            {
                storage.RemoveIncomplete();
                RestoredFrom = storage.LoadLatest(Warn);
            }
            if (config.CheckpointingEnabled)
            {
                long first = Math.Max(storage.HighestId(), 0) + 1;
                coordinator = new CheckpointCoordinator(config, config.JobName!, storage, first, checkpoints, Warn);
            }
        }
        // Without an interval the coordinator still exists, never triggers by itself and stores nothing, so that a
        // savepoint can be taken on demand (Flink's savepoints do not need checkpointing either). Connectors and
        // operators keep their non-checkpointing behaviour: they see config.CheckpointingEnabled.
        coordinator ??= new CheckpointCoordinator(config, config.JobName!, null, 1, checkpoints, Warn);
        if (config.RestorePath is { } path) RestoredFrom = LoadRestorePath(path);
        attempt = NewAttempt(RestoredFrom, 1);
    }

    /// <summary>Loads a checkpoint or savepoint folder, or the newest valid checkpoint of a checkpoints folder (local or s3://).</summary>
    private CheckpointData LoadRestorePath(string path) => CheckpointStorages.LoadRestorePath(path, config.S3, Warn);

    public string Name { get; }

    /// <summary>The plan of the current attempt.</summary>
    public JobPlan Plan => attempt.Plan;

    public JobStatus Status { get; private set; } = JobStatus.Created;

    /// <summary>Where checkpoints are stored (null when the job takes none).</summary>
    public ICheckpointStorage? Storage { get; }

    /// <summary>The checkpoint the job started from (resumed or given), or null for a fresh start.</summary>
    public CheckpointData? RestoredFrom { get; }

    /// <summary>The latest completed checkpoint (of this run, or the one it was restored from).</summary>
    public CheckpointData? LatestCheckpoint => coordinator?.Latest ?? RestoredFrom;

    /// <summary>Every checkpoint triggered so far, oldest first: completed, failed and in progress.</summary>
    public IReadOnlyList<CheckpointStats> Checkpoints
    {
        get
        {
            lock (checkpoints) return checkpoints.ToList();
        }
    }

    /// <summary>Every task failure so far (each one ended an attempt).</summary>
    public IReadOnlyList<JobExceptionEntry> Exceptions
    {
        get
        {
            lock (exceptions) return exceptions.ToList();
        }
    }

    /// <summary>Warnings so far (a damaged checkpoint skipped, a failed checkpoint, a restart).</summary>
    public IReadOnlyList<string> Warnings
    {
        get
        {
            lock (warnings) return warnings.ToList();
        }
    }

    /// <summary>How many times the job was restarted after a failure.</summary>
    public int Restarts { get; private set; }

    /// <summary>Counters of the job's functions (see <see cref="StreamEnvironment.Counters"/>).</summary>
    public JobCounters Counters { get; init; } = new();

    public IReadOnlyList<SubtaskMetrics> Metrics => attempt.Tasks.Select(t => t.Metrics).ToList();

    public Task<JobResult> Completion => completion.Task;

    private void Warn(string message)
    {
        lock (warnings) warnings.Add(message);
        config.Diagnostics?.Invoke(message);
    }

    private Attempt NewAttempt(CheckpointData? restore, int number)
    {
        var plan = JobPlan.Build(graph, config, coordinator, restore);
        return new Attempt(plan, number, restore);
    }

    public JobExecution Start()
    {
        started = DateTimeOffset.UtcNow;
        StartAttempt(attempt);
        return this;
    }

    private void StartAttempt(Attempt a)
    {
        attempt = a;
        Status = JobStatus.Running;
        a.Running = a.Tasks.Count;
        coordinator?.Start(a.Tasks, a.Restore);
        foreach (var task in a.Tasks)
        {
            var thread = new Thread(() => RunTask(a, task))
            {
                IsBackground = true,
                Name = task.DisplayName,
            };
            thread.Start();
        }
    }

    private void RunTask(Attempt a, StreamTask task)
    {
        try
        {
            task.Run(a.Cancel.Token);
        }
        catch (OperationCanceledException) when (a.Cancel.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            bool first;
            lock (a)
            {
                first = a.Failure is null;
                a.Failure ??= new TaskFailedException(task.DisplayName, e);
            }
            if (first)
            {
                lock (exceptions) exceptions.Add(new JobExceptionEntry(DateTimeOffset.UtcNow, task.DisplayName, e.Message, e.ToString(), a.Number));
                coordinator?.Stop($"task '{task.DisplayName}' failed: {e.Message}");
            }
            CancelAttempt(a);
        }
        if (Interlocked.Decrement(ref a.Running) == 0) AttemptEnded(a);
    }

    private void AttemptEnded(Attempt a)
    {
        coordinator?.Stop(a.Failure is not null ? "the job failed" : "the job ended", failure: a.Failure is not null);
        if (a.Failure is not null && !jobCancel.IsCancellationRequested
            && restartStrategy.DelayBefore(Restarts + 1) is { } delay)
        {
            Restarts++;
            var from = LatestCheckpoint;
            Warn($"job '{Name}': {a.Failure.Message}; restart {Restarts} of {restartStrategy.Type} "
                + $"(max {restartStrategy.MaxAttempts}) in {delay.TotalSeconds:0.###} s from "
                + (from is null ? "the start (no checkpoint completed yet)" : $"checkpoint {from.Id}"));
            Status = JobStatus.Restarting;
            _ = RestartAfter(delay, from, a.Number + 1, a.Failure);
            return;
        }
        Complete(a.Failure);
    }

    private async Task RestartAfter(TimeSpan delay, CheckpointData? from, int number, Exception lastFailure)
    {
        try
        {
            if (delay > TimeSpan.Zero) await Task.Delay(delay, config.Clock, jobCancel.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Complete(null);
            return;
        }
        Attempt next;
        try
        {
            next = NewAttempt(from, number);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
        {
            Complete(new AggregateException($"restarting job '{Name}' failed: {e.Message}", lastFailure, e));
            return;
        }
        lock (completion)
        {
            if (jobCancel.IsCancellationRequested)
            {
                Complete(null);
                return;
            }
            StartAttempt(next);
        }
    }

    private void Complete(Exception? failure)
    {
        Status = failure is not null ? JobStatus.Failed
            : jobCancel.IsCancellationRequested ? JobStatus.Cancelled
            : JobStatus.Finished;
        coordinator?.Dispose();
        completion.TrySetResult(new JobResult(Name, Status, DateTimeOffset.UtcNow - started, failure));
    }

    /// <summary>
    /// Takes a checkpoint now (as the periodic trigger does); the task ends when it is stored or has failed. Fails at
    /// once when the job takes no checkpoints or one is in progress.
    /// </summary>
    public Task<CheckpointStats> TriggerCheckpoint() =>
        config.CheckpointingEnabled && coordinator is not null ? coordinator.Trigger() : throw new InvalidOperationException(
            $"job '{Name}' takes no checkpoints: set execution.checkpointing.interval");

    /// <summary>
    /// Takes a savepoint now into the new folder <paramref name="folder"/> (any job, with or without periodic
    /// checkpoints); the task ends when it is written (its stats' <see cref="CheckpointStats.Path"/>) or has failed.
    /// A savepoint restores with <c>RestorePath</c> (<c>--from-savepoint</c>), at any parallelism.
    /// </summary>
    public Task<CheckpointStats> TriggerSavepoint(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        return coordinator!.Trigger(Path.GetFullPath(folder));
    }

    /// <summary>Stops every task; <see cref="Completion"/> then reports the job cancelled.</summary>
    public void Cancel()
    {
        lock (completion) jobCancel.Cancel();
        CancelAttempt(attempt);
    }

    private static void CancelAttempt(Attempt a)
    {
        if (a.Cancel.IsCancellationRequested) return;
        a.Cancel.Cancel();
        foreach (var t in a.Tasks) t.Gate?.Cancel();
    }

    private sealed class Attempt(JobPlan plan, int number, CheckpointData? restore)
    {
        public JobPlan Plan { get; } = plan;
        public int Number { get; } = number;
        public CheckpointData? Restore { get; } = restore;
        public List<StreamTask> Tasks => Plan.Tasks;
        public CancellationTokenSource Cancel { get; } = new();
        public int Running;
        public Exception? Failure;
    }
}
