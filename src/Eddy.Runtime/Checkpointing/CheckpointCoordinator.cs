using System.Diagnostics;

namespace Eddy.Runtime;

/// <summary>
/// Triggers checkpoints (periodically or on request), collects every task's acknowledgement, stores the completed
/// checkpoint, and then tells every running task that it completed. At most one checkpoint is in flight; one that
/// does not complete within <see cref="JobConfig.CheckpointTimeout"/> fails. A task that finished (its inputs ended)
/// counts as acknowledging every later checkpoint with the state it had when it finished.
/// </summary>
internal sealed class CheckpointCoordinator : IDisposable
{
    private readonly object sync = new();
    private readonly JobConfig config;
    private readonly string jobName;
    private readonly ICheckpointStorage? storage;
    private readonly List<CheckpointStats> history;
    private readonly Action<string> warn;
    private List<StreamTask> tasks = [];
    // Null state: the task finished in a job without periodic checkpoints and kept no final snapshot.
    private readonly Dictionary<StreamTask, List<TaskStateEntry>?> finishedStates = [];
    // Finished tasks whose sinks staged the rest of their input in the final state: they wait for a checkpoint that
    // holds it, and only they (of the finished tasks) are told when one completes.
    private readonly HashSet<StreamTask> awaitingCommit = [];
    private Pending? pending;
    private ITimer? periodic;
    private long nextId;
    private bool stopped = true;

    public CheckpointCoordinator(JobConfig config, string jobName, ICheckpointStorage? storage, long firstId,
        List<CheckpointStats> history, Action<string> warn)
    {
        this.config = config;
        this.jobName = jobName;
        this.storage = storage;
        this.history = history;
        this.warn = warn;
        nextId = firstId;
    }

    /// <summary>Whether finished tasks snapshot their final state (only with periodic checkpoints).</summary>
    public bool SnapshotsFinishedTasks => config.CheckpointingEnabled;

    /// <summary>The latest checkpoint that completed (what a restart restores).</summary>
    public CheckpointData? Latest { get; private set; }

    /// <summary>Starts coordinating the tasks of a (new) attempt.</summary>
    public void Start(List<StreamTask> attemptTasks, CheckpointData? restoredFrom)
    {
        lock (sync)
        {
            tasks = attemptTasks;
            finishedStates.Clear();
            awaitingCommit.Clear();
            stopped = false;
            if (restoredFrom is not null && Latest is null) Latest = restoredFrom;
            if (restoredFrom is not null) nextId = Math.Max(nextId, restoredFrom.Id + 1);
        }
        if (config.CheckpointInterval is { } interval && interval > TimeSpan.Zero)
            periodic = config.Clock.CreateTimer(_ => Trigger(), null, interval, interval);
    }

    /// <summary>
    /// Stops triggering; a checkpoint in flight fails with <paramref name="reason"/> (a warning only when
    /// <paramref name="failure"/>: a job that simply ended leaves its last checkpoint unfinished without alarm).
    /// </summary>
    public void Stop(string reason, bool failure = true)
    {
        periodic?.Dispose();
        periodic = null;
        Pending? p;
        Pending? storing = null;
        lock (sync)
        {
            stopped = true;
            p = pending;
            if (p is not null && !p.Storing) pending = null;
            else
            {
                storing = p;
                p = null;
            }
        }
        if (p is not null) Fail(p, reason, notifyTasks: false, warnNow: failure);
        // A checkpoint being written is finished first: the job ends (and another run may take its name and read its
        // checkpoints) only after its last checkpoint is either complete or given up.
        storing?.Done.Task.Wait(config.CheckpointTimeout);
    }

    public void Dispose() => Stop("the job ended", failure: false);

    /// <summary>
    /// Starts a checkpoint; the task completes when it is stored or has failed (see the stats' status). With
    /// <paramref name="savepointFolder"/> it is a savepoint: written to that folder (which must not exist) instead of
    /// the checkpoint storage, so retention never removes it.
    /// </summary>
    public Task<CheckpointStats> Trigger(string? savepointFolder = null)
    {
        Pending p;
        bool final;
        lock (sync)
        {
            var now = config.Clock.GetUtcNow();
            if (stopped) return Refused(now, "the job is not running");
            if (pending is not null) return Refused(now, $"checkpoint {pending.Stats.Id} is still in progress (at most one at a time)");
            var sources = tasks.Where(t => t.IsSource && !finishedStates.ContainsKey(t)).ToList();
            // Once every task finished, a checkpoint is their final states alone: taken only for sinks that wait for it.
            final = sources.Count == 0 && finishedStates.Count == tasks.Count && awaitingCommit.Count > 0 && savepointFolder is null;
            if (sources.Count == 0 && !final) return Refused(now, "every source has finished");
            if (finishedStates.Values.Any(v => v is null))
                return Refused(now, "a task has finished and kept no final state (only jobs with execution.checkpointing.interval do)");
            p = new Pending(new CheckpointStats(nextId++, now) { SavepointFolder = savepointFolder }, Stopwatch.GetTimestamp());
            pending = p;
            lock (history) history.Add(p.Stats);
            foreach (var (t, states) in finishedStates) p.Acks[t] = states!;
            if (final) p.Storing = true;
            else
            {
                var barrier = new CheckpointBarrier(p.Stats.Id, now.ToUnixTimeMilliseconds());
                foreach (var s in sources) s.RequestBarrier(barrier);
                p.Timeout = config.Clock.CreateTimer(_ => Expire(p), null, config.CheckpointTimeout, Timeout.InfiniteTimeSpan);
            }
        }
        if (final) ThreadPool.UnsafeQueueUserWorkItem(_ => Store(p), null);
        return p.Done.Task;
    }

    private Task<CheckpointStats> Refused(DateTimeOffset now, string reason)
    {
        var stats = new CheckpointStats(-1, now) { Status = CheckpointStatus.Failed, FailureReason = reason };
        return Task.FromResult(stats);
    }

    /// <summary>Test hook (<see cref="JobConfig.BeforeAsyncSnapshot"/>): runs before each task's asynchronous snapshot phase.</summary>
    public Action<long>? BeforeAsyncSnapshot => config.BeforeAsyncSnapshot;

    /// <summary>
    /// A task aligned barrier <paramref name="id"/> and wrote its state: <paramref name="syncTicks"/> on its thread,
    /// <paramref name="asyncTicks"/> on a pool thread afterwards (0 when no operator has an asynchronous phase).
    /// </summary>
    public void Acknowledge(StreamTask task, long id, List<TaskStateEntry> states, long alignmentTicks, long syncTicks, long asyncTicks)
    {
        Pending? complete = null;
        lock (sync)
        {
            var p = pending;
            if (p is null || p.Stats.Id != id || !tasks.Contains(task) || p.Storing) return;
            p.Acks[task] = states;
            p.MaxAlignmentTicks = Math.Max(p.MaxAlignmentTicks, alignmentTicks);
            p.MaxSyncTicks = Math.Max(p.MaxSyncTicks, syncTicks);
            p.MaxAsyncTicks = Math.Max(p.MaxAsyncTicks, asyncTicks);
            if (p.Acks.Count == tasks.Count)
            {
                p.Storing = true;
                complete = p;
            }
        }
        // Storing is I/O: not on the task thread that acknowledged last.
        if (complete is not null) ThreadPool.UnsafeQueueUserWorkItem(_ => Store(complete), null);
    }

    /// <summary>The asynchronous snapshot phase of a task failed: checkpoint <paramref name="id"/> fails with <paramref name="reason"/>.</summary>
    public void Decline(StreamTask task, long id, string reason)
    {
        Pending? p;
        lock (sync)
        {
            p = pending;
            if (p is null || p.Stats.Id != id || !tasks.Contains(task) || p.Storing) return;
            pending = null;
        }
        Fail(p, reason, notifyTasks: true);
    }

    /// <summary>
    /// A task reached the end of its input; <paramref name="finalStates"/> stands for it in later checkpoints. A
    /// checkpoint up to <paramref name="snapshotTakenThrough"/> has its barrier behind the task already: its
    /// acknowledgement comes from the task's asynchronous phase, not from the final state (which is newer).
    /// </summary>
    public void TaskFinished(StreamTask task, List<TaskStateEntry>? finalStates, long snapshotTakenThrough, bool awaitsCommit)
    {
        Pending? complete = null;
        Pending? failed = null;
        bool finalDue;
        lock (sync)
        {
            if (!tasks.Contains(task)) return;
            finishedStates[task] = finalStates;
            if (awaitsCommit) awaitingCommit.Add(task);
            var p = pending;
            if (finalStates is null)
            {
                if (p is not null && !p.Storing && !p.Acks.ContainsKey(task))
                {
                    pending = null;
                    failed = p;
                }
            }
            else if (p is not null && !p.Storing && !p.Acks.ContainsKey(task) && p.Stats.Id > snapshotTakenThrough)
            {
                p.Acks[task] = finalStates;
                if (p.Acks.Count == tasks.Count)
                {
                    p.Storing = true;
                    complete = p;
                }
            }
            finalDue = FinalCheckpointDue();
        }
        if (complete is not null) ThreadPool.UnsafeQueueUserWorkItem(_ => Store(complete), null);
        if (failed is not null) Fail(failed, $"task '{task.DisplayName}' finished before its barrier and kept no final state", notifyTasks: true);
        if (finalDue) Trigger();
    }

    /// <summary>Every task finished, some wait for a checkpoint holding their final state, and none is in flight.</summary>
    private bool FinalCheckpointDue() =>
        !stopped && pending is null && awaitingCommit.Count > 0 && finishedStates.Count == tasks.Count;

    private void Store(Pending p)
    {
        FaultInjection.Reached(FaultInjection.CheckpointAcknowledged);
        p.Timeout?.Dispose();
        var stats = p.Stats;
        CheckpointData data;
        try
        {
            var ops = new List<OperatorSnapshot>();
            foreach (var group in p.Acks.Values.SelectMany(s => s).GroupBy(e => e.StateId))
            {
                var subs = group.Select(e => e.Snapshot).OrderBy(s => s.Subtask).ToList();
                ops.Add(new OperatorSnapshot(group.Key, group.First().Parallelism, subs));
            }
            data = new CheckpointData(stats.Id, stats.TriggerTime, jobName, config.MaxParallelism, ops);
            if (stats.SavepointFolder is { } folder)
            {
                data = data with { Path = CheckpointStorages.WriteSavepoint(folder, data, config.S3) };
            }
            else if (storage is not null)
            {
                data = data with { Path = storage.Write(data) };
                try
                {
                    storage.Retain(config.CheckpointsRetained);
                }
                catch (IOException e)
                {
                    warn($"warning: could not remove old checkpoints in {storage.Location}: {e.Message}");
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            lock (sync) if (pending == p) pending = null;
            Fail(p, $"writing the checkpoint failed: {e.Message}", notifyTasks: true);
            return;
        }
        FaultInjection.Reached(FaultInjection.CheckpointStored);
        stats.StateSize = data.Size;
        stats.StateSizeByOperator = data.Operators.ToDictionary(o => o.StateId, o => o.Size);
        stats.AlignmentTime = Stopwatch.GetElapsedTime(0, p.MaxAlignmentTicks);
        stats.SyncDuration = Stopwatch.GetElapsedTime(0, p.MaxSyncTicks);
        stats.AsyncDuration = Stopwatch.GetElapsedTime(0, p.MaxAsyncTicks);
        stats.Path = data.Path;
        List<StreamTask> notify;
        bool finalDue;
        lock (sync)
        {
            Latest = data;
            stats.Duration = Stopwatch.GetElapsedTime(p.StartTicks);
            stats.Status = CheckpointStatus.Completed;
            if (pending == p) pending = null;
            notify = stopped ? [] : tasks.Where(t => !finishedStates.ContainsKey(t) || HoldsFinalState(p, t)).ToList();
            foreach (var t in notify) awaitingCommit.Remove(t);
            finalDue = FinalCheckpointDue();
        }
        foreach (var t in notify) t.Post(() => t.NotifyCheckpointComplete(stats.Id));
        p.Done.TrySetResult(stats);
        // A task that finished after acknowledging this checkpoint by its barrier still waits for one with its final state.
        if (finalDue) Trigger();
    }

    private bool HoldsFinalState(Pending p, StreamTask t) =>
        awaitingCommit.Contains(t) && p.Acks.TryGetValue(t, out var acked) && ReferenceEquals(acked, finishedStates[t]);

    private void Expire(Pending p)
    {
        lock (sync)
        {
            if (pending != p || p.Storing) return;
            pending = null;
        }
        var waiting = tasks.Where(t => !p.Acks.ContainsKey(t)).Select(t => t.DisplayName);
        Fail(p, $"expired after {config.CheckpointTimeout.TotalSeconds:0.###} s (execution.checkpointing.timeout) "
            + $"before every task acknowledged; still waiting for: {string.Join(", ", waiting)}", notifyTasks: true);
    }

    private void Fail(Pending p, string reason, bool notifyTasks, bool warnNow = true)
    {
        p.Timeout?.Dispose();
        p.Stats.Duration = Stopwatch.GetElapsedTime(p.StartTicks);
        p.Stats.FailureReason = reason;
        p.Stats.Status = CheckpointStatus.Failed;
        if (notifyTasks)
        {
            List<StreamTask> live;
            lock (sync) live = tasks.Where(t => !finishedStates.ContainsKey(t)).ToList();
            long id = p.Stats.Id;
            foreach (var t in live) t.Post(() => t.AbortCheckpoint(id));
        }
        if (warnNow) warn($"warning: checkpoint {p.Stats.Id} of job '{jobName}' failed: {reason}");
        p.Done.TrySetResult(p.Stats);
    }

    private sealed class Pending(CheckpointStats stats, long startTicks)
    {
        public CheckpointStats Stats { get; } = stats;
        public long StartTicks { get; } = startTicks;
        public Dictionary<StreamTask, List<TaskStateEntry>> Acks { get; } = [];
        public long MaxAlignmentTicks;
        public long MaxSyncTicks;
        public long MaxAsyncTicks;
        public bool Storing;
        public ITimer? Timeout;
        public TaskCompletionSource<CheckpointStats> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
