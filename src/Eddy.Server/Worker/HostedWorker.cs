using Eddy.Sql;

namespace Eddy.Server.Worker;

/// <summary>
/// A distributed job the server hosts (<c>eddy submit --distributed</c>, or <c>SET 'execution.distributed' = 'true'</c>):
/// one <see cref="DistributedWorker"/> member of the job's groups running in the server's process, beside any
/// <c>eddy worker</c> processes elsewhere, announced at the server's address (whose <c>GET /worker</c> lists it).
/// Its partition tasks run outside the task slots: how many it runs is the group's decision, not the server's.
/// Cancel is the graceful stop: final checkpoints of its partitions, then it leaves the groups, and the other members
/// take the partitions over.
/// </summary>
public sealed class HostedWorker
{
    private readonly object gate = new();
    private readonly List<string> log = [];
    private readonly TaskCompletionSource ended = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Action? onEnd;
    private string state = JobStates.Created;

    internal HostedWorker(string id, string name, string sql, DistributedWorker worker, string bootstrapServers,
        IReadOnlyDictionary<string, string> properties, Action? onEnd)
    {
        Id = id;
        Name = name;
        Sql = sql;
        Worker = worker;
        BootstrapServers = bootstrapServers;
        Properties = properties;
        this.onEnd = onEnd;
    }

    public string Id { get; }

    public string Name { get; }

    /// <summary>The script, secret option values masked.</summary>
    public string Sql { get; }

    public DistributedWorker Worker { get; }

    /// <summary>The job's broker and Kafka client settings (its sources'), for the whole-job view of its directory topic.</summary>
    public string BootstrapServers { get; }

    public IReadOnlyDictionary<string, string> Properties { get; }

    public DateTimeOffset SubmittedAt { get; } = DateTimeOffset.UtcNow;

    public DateTimeOffset? EndedAt { get; private set; }

    public string State
    {
        get { lock (gate) return state; }
    }

    /// <summary>Why it failed (a partition task or a group member), or null.</summary>
    public string? Failure { get; private set; }

    /// <summary>Completes when the worker has left its groups (cancelled) or failed.</summary>
    public Task Ended => ended.Task;

    /// <summary>Its last log lines (partitions assigned, revoked, restored, checkpoints), oldest first.</summary>
    public IReadOnlyList<string> Log
    {
        get { lock (log) return [.. log]; }
    }

    private const int LogCapacity = 500;

    internal void AddLog(string line)
    {
        lock (log)
        {
            if (log.Count == LogCapacity) log.RemoveAt(0);
            log.Add($"{DateTimeOffset.UtcNow:HH:mm:ss} {SecretOptions.RedactText(line)}");
        }
    }

    /// <summary>Probes the topics and joins the groups, announcing <paramref name="advertised"/>; throws <see cref="WorkerSetupException"/>.</summary>
    internal void Start(Uri advertised)
    {
        Worker.ProbeTopics();
        Worker.Join(advertised);
        lock (gate) state = JobStates.Running;
        _ = Worker.Failed.ContinueWith(t => Fail(t.Result), TaskScheduler.Default);
    }

    private void Fail(Exception failure)
    {
        lock (gate)
        {
            if (state != JobStates.Running) return;
            state = JobStates.Failed;
        }
        var parts = new List<string>();
        for (var x = failure; x is not null; x = x.InnerException)
            if (parts.Count == 0 || !parts[^1].Contains(x.Message, StringComparison.Ordinal)) parts.Add(x.Message);
        Failure = SecretOptions.RedactText(string.Join(" ← ", parts));
        AddLog($"failed: {Failure}");
        Worker.Dispose();
        End();
    }

    /// <summary>The graceful stop; false when it had already ended or is stopping.</summary>
    public bool Cancel()
    {
        lock (gate)
        {
            if (state is not (JobStates.Running or JobStates.Created)) return false;
            state = JobStates.Cancelling;
        }
        AddLog("cancelling: final checkpoints of every partition, then leaving the groups");
        _ = Task.Run(async () =>
        {
            try
            {
                await Worker.StopAsync().ConfigureAwait(false);
                AddLog("left the groups");
            }
            catch (Exception e)
            {
                AddLog($"stopping failed: {e.Message}");
            }
            finally
            {
                Worker.Dispose();
                lock (gate) state = JobStates.Canceled;
                End();
            }
        });
        return true;
    }

    private void End()
    {
        EndedAt = DateTimeOffset.UtcNow;
        ended.TrySetResult();
        onEnd?.Invoke();
    }
}
