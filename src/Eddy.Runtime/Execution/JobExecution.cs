namespace Eddy.Runtime;

public enum JobStatus
{
    Created,
    Running,
    Finished,
    Failed,
    Cancelled,
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
/// A job being run in this process: its physical plan (chains × subtasks), the threads that run them, and the live
/// metrics of every subtask.
/// </summary>
public sealed class JobExecution
{
    private readonly List<StreamTask> tasks;
    private readonly CancellationTokenSource cancel = new();
    private readonly TaskCompletionSource<JobResult> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int running;
    private Exception? failure;
    private DateTimeOffset started;

    internal JobExecution(string name, JobPlan plan)
    {
        Name = name;
        Plan = plan;
        tasks = plan.Tasks;
    }

    public string Name { get; }

    public JobPlan Plan { get; }

    public JobStatus Status { get; private set; } = JobStatus.Created;

    public IReadOnlyList<SubtaskMetrics> Metrics => tasks.Select(t => t.Metrics).ToList();

    public Task<JobResult> Completion => completion.Task;

    public JobExecution Start()
    {
        started = DateTimeOffset.UtcNow;
        Status = JobStatus.Running;
        running = tasks.Count;
        foreach (var task in tasks)
        {
            var thread = new Thread(() => RunTask(task))
            {
                IsBackground = true,
                Name = task.DisplayName,
            };
            thread.Start();
        }
        return this;
    }

    private void RunTask(StreamTask task)
    {
        try
        {
            task.Run(cancel.Token);
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            lock (tasks)
            {
                failure ??= new TaskFailedException(task.DisplayName, e);
            }
            CancelTasks();
        }
        if (Interlocked.Decrement(ref running) == 0) Complete();
    }

    private void Complete()
    {
        Status = failure is not null ? JobStatus.Failed
            : cancel.IsCancellationRequested ? JobStatus.Cancelled
            : JobStatus.Finished;
        completion.TrySetResult(new JobResult(Name, Status, DateTimeOffset.UtcNow - started, failure));
    }

    /// <summary>Stops every task; <see cref="Completion"/> then reports the job cancelled.</summary>
    public void Cancel() => CancelTasks();

    private void CancelTasks()
    {
        if (cancel.IsCancellationRequested) return;
        cancel.Cancel();
        foreach (var t in tasks) t.Gate?.Cancel();
    }
}
