namespace Eddy.Runtime.Distributed;

/// <summary>What the manager knows about one partition task, for the worker's REST API.</summary>
public sealed record PartitionTaskStatus(
    int Partition,
    string State,
    DateTimeOffset StartedAt,
    long? RestoredFromCheckpoint,
    CheckpointData? LatestCheckpoint,
    IReadOnlyList<SubtaskMetrics> Metrics,
    int Restarts);

/// <summary>
/// The partition tasks of one stage in one worker: a pipeline instance (a <see cref="JobExecution"/> of parallelism 1)
/// per owned partition number, started by <c>start</c> (which restores the partition's latest completed checkpoint
/// from the shared storage, or starts by the source's startup mode). Handing a partition over takes a final checkpoint
/// of its task first; losing one (the group decided without this worker) only stops it, and the next owner restores
/// from the last completed checkpoint. Only the partitions named are touched.
/// </summary>
public sealed class PartitionTaskManager(Func<int, JobExecution> start, Action<string> log, TimeSpan finalCheckpointTimeout) : IDisposable
{
    private readonly Dictionary<int, Entry> tasks = [];
    private readonly TaskCompletionSource<Exception> failed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record Entry(JobExecution Execution, DateTimeOffset StartedAt);

    /// <summary>Completes with the failure of the first partition task that failed for good (its restarts used up).</summary>
    public Task<Exception> Failed => failed.Task;

    /// <summary>The partitions running now, with their state.</summary>
    public IReadOnlyList<PartitionTaskStatus> Tasks
    {
        get
        {
            lock (tasks)
            {
                return [.. tasks.OrderBy(t => t.Key).Select(t => new PartitionTaskStatus(t.Key, t.Value.Execution.Status.ToString().ToUpperInvariant(),
                    t.Value.StartedAt, t.Value.Execution.RestoredFrom?.Id, t.Value.Execution.LatestCheckpoint, t.Value.Execution.Metrics,
                    t.Value.Execution.Restarts))];
            }
        }
    }

    /// <summary>Starts a task for each partition not running yet.</summary>
    public void Assign(IReadOnlyList<int> partitions)
    {
        foreach (int p in partitions)
        {
            lock (tasks)
            {
                if (tasks.ContainsKey(p)) continue;
            }
            var execution = start(p);
            lock (tasks) tasks[p] = new Entry(execution, DateTimeOffset.UtcNow);
            log(execution.RestoredFrom is { } from
                ? $"partition {p}: started from checkpoint {from.Id} ({from.Path})"
                : $"partition {p}: started without a checkpoint (the source's startup mode)");
            _ = execution.Completion.ContinueWith(t =>
            {
                var result = t.Result;
                if (result.Status == JobStatus.Failed)
                {
                    log($"partition {p}: failed: {result.Failure?.Message}");
                    failed.TrySetResult(result.Failure ?? new InvalidOperationException($"partition {p} failed"));
                }
            }, TaskScheduler.Default);
        }
    }

    /// <summary>Final checkpoints of the partitions' tasks (in parallel), then stops them; returns when they have ended.</summary>
    public void Revoke(IReadOnlyList<int> partitions) => Stop(partitions, checkpoint: true);

    /// <summary>Stops the partitions' tasks without a checkpoint (another worker may own them already).</summary>
    public void Lose(IReadOnlyList<int> partitions) => Stop(partitions, checkpoint: false);

    /// <summary>Hands every partition back (SIGTERM): final checkpoints, then stops.</summary>
    public void RevokeAll()
    {
        List<int> all;
        lock (tasks) all = [.. tasks.Keys];
        Revoke(all);
    }

    private void Stop(IReadOnlyList<int> partitions, bool checkpoint)
    {
        var stopping = new List<(int Partition, JobExecution Execution)>();
        lock (tasks)
        {
            foreach (int p in partitions)
            {
                if (tasks.Remove(p, out var e)) stopping.Add((p, e.Execution));
            }
        }
        var done = stopping.Select(s => Task.Run(async () =>
        {
            if (checkpoint) await FinalCheckpoint(s.Partition, s.Execution).ConfigureAwait(false);
            s.Execution.Cancel();
            await s.Execution.Completion.ConfigureAwait(false);
            log($"partition {s.Partition}: stopped" + (checkpoint ? "" : " (lost: the next owner resumes from its last completed checkpoint)"));
        })).ToArray();
        Task.WaitAll(done);
    }

    /// <summary>
    /// A checkpoint now, so that the next owner resumes exactly here; a periodic one in progress is waited out first.
    /// Without it (failure, timeout) the next owner restores the last completed checkpoint: more to replay, nothing lost.
    /// </summary>
    private async Task FinalCheckpoint(int partition, JobExecution execution)
    {
        var watch = System.Diagnostics.Stopwatch.StartNew();
        while (watch.Elapsed < finalCheckpointTimeout)
        {
            if (execution.Status != JobStatus.Running) return;
            CheckpointStats stats;
            try
            {
                stats = await execution.TriggerCheckpoint().WaitAsync(finalCheckpointTimeout - watch.Elapsed).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                break;
            }
            if (stats.Status == CheckpointStatus.Completed)
            {
                log($"partition {partition}: final checkpoint {stats.Id} taken");
                return;
            }
            if (stats.Id < 0 && stats.FailureReason?.Contains("in progress", StringComparison.Ordinal) == true)
            {
                // A periodic one is in progress: the next attempt follows it.
                await Task.Delay(20).ConfigureAwait(false);
                continue;
            }
            log($"partition {partition}: final checkpoint failed ({stats.FailureReason}); the next owner resumes from the last completed one");
            return;
        }
        log($"partition {partition}: no final checkpoint within {finalCheckpointTimeout.TotalSeconds:0} s; the next owner resumes from the last completed one");
    }

    /// <summary>Stops every task without a checkpoint.</summary>
    public void Dispose()
    {
        List<int> all;
        lock (tasks) all = [.. tasks.Keys];
        Lose(all);
    }
}
