using Eddy.Runtime;
using Eddy.Server.Worker;
using Eddy.Sql;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Planning;

namespace Eddy.Server;

/// <summary>A submission the server refused, with the message the CLI would print (SQL errors carry line and column).</summary>
public sealed class SubmissionException(string message) : Exception(message);

/// <summary>
/// Runs jobs in this process on a fixed number of task slots. A job holds as many slots as its highest parallelism
/// while it runs; jobs that do not fit wait in submission order (the first waiting job is never overtaken, so a large
/// job is not starved by small ones), each with a visible reason.
/// </summary>
public sealed class JobManager : IDisposable
{
    private readonly object gate = new();
    private readonly List<ManagedJob> jobs = [];
    private readonly List<HostedWorker> hosted = [];
    private readonly Timer sampler;

    /// <param name="connectors">the connectors jobs' tables may name, built by the server's host.</param>
    public JobManager(int slots, ConnectorRegistry connectors, TimeSpan? sampleInterval = null)
    {
        if (slots < 1) throw new ArgumentOutOfRangeException(nameof(slots), "a server needs at least one task slot");
        TotalSlots = slots;
        Connectors = connectors;
        var interval = sampleInterval ?? TimeSpan.FromMilliseconds(500);
        sampler = new Timer(_ => SampleAll(), null, interval, interval);
    }

    public int TotalSlots { get; }

    public ConnectorRegistry Connectors { get; }

    /// <summary>The last Prometheus text and when it was rendered (see <see cref="Prometheus.Cached"/>).</summary>
    internal (long At, string Text)? PrometheusCache { get; set; }

    /// <summary>Function assemblies every job's session adds (<c>eddy server --udf-dir</c>); relative jar paths resolve here.</summary>
    public string? UdfDirectory { get; init; }

    /// <summary>Where print sinks' lines also go, besides each job's kept output (null: only kept).</summary>
    public TextWriter? PrintTo { get; init; }

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    /// <summary>This server as another run that finds a job name taken is told (set once the address is bound).</summary>
    public string Holder { get; set; } = "an eddy server";

    public int FreeSlots
    {
        get
        {
            lock (gate) return TotalSlots - jobs.Where(j => j.HoldsSlots).Sum(j => j.SlotsNeeded);
        }
    }

    public IReadOnlyList<ManagedJob> Jobs
    {
        get { lock (gate) return jobs.ToList(); }
    }

    /// <summary>The distributed jobs this server hosts a worker of, in submission order.</summary>
    public IReadOnlyList<HostedWorker> HostedWorkers
    {
        get { lock (gate) return hosted.ToList(); }
    }

    /// <summary>
    /// The address a hosted worker announces in its job's directory topic, where other workers and <c>eddy status</c>
    /// ask for <c>GET /worker</c> (set by the server once bound).
    /// </summary>
    public Uri? WorkerAddress { get; set; }

    /// <summary>Where hosted workers' log lines go besides their own tail (the server's log).</summary>
    public Action<string>? WorkerLog { get; set; }

    /// <summary>
    /// Plans every job of a SQL script and queues them. Throws <see cref="SubmissionException"/> with a located message
    /// when the script does not plan, or when a job needs more slots than the server has.
    /// </summary>
    public IReadOnlyList<ManagedJob> Submit(string sql, string? fileName = null, IReadOnlyDictionary<string, string>? options = null,
        string? savepointPath = null, bool allowNonRestoredState = false, bool fresh = false, UserAssemblies? udfs = null) =>
        SubmitScript(sql, fileName, options, savepointPath, allowNonRestoredState, fresh, udfs).Jobs;

    /// <summary>
    /// <see cref="Submit"/>, or for a script whose jobs SET <c>execution.distributed</c> (or <paramref name="distributed"/>)
    /// <see cref="SubmitDistributed"/>: what was queued or hosted.
    /// </summary>
    public (IReadOnlyList<ManagedJob> Jobs, IReadOnlyList<HostedWorker> Hosted) SubmitScript(string sql, string? fileName = null,
        IReadOnlyDictionary<string, string>? options = null, string? savepointPath = null, bool allowNonRestoredState = false, bool fresh = false,
        UserAssemblies? udfs = null, bool distributed = false)
    {
        if (distributed)
        {
            if (savepointPath is not null)
                throw new SubmissionException("a distributed job resumes each partition from its own latest checkpoint: a savepoint path does not apply");
            return ([], SubmitDistributed(sql, fileName, options, udfs));
        }
        if (savepointPath is not null && !Directory.Exists(savepointPath))
            throw new SubmissionException($"savepoint path {savepointPath} is not a folder on the server");
        var output = new OutputTail(echo: PrintTo);
        var errors = new StringWriter();
        var session = new SqlSession(Connectors, output, TextWriter.Synchronized(errors)) { JarDirectory = UdfDirectory };
        try
        {
            var submitted = SubmitTo(session, sql, fileName, options, savepointPath, allowNonRestoredState, fresh, udfs, output, errors);
            if (submitted.Count > 0) return (submitted, []);
        }
        finally
        {
            // Planning is done: the jobs hold the user code from here on, and the last to end unloads it.
            session.ReleaseUserCode();
        }
        // Every job of the script SET 'execution.distributed': hosted as workers instead.
        if (savepointPath is not null)
            throw new SubmissionException($"'{SqlSession.DistributedOption}' jobs resume each partition from its own latest checkpoint: a savepoint path does not apply");
        return ([], SubmitDistributedJobs(sql, fileName, options, udfs));
    }

    /// <summary>
    /// Hosts one worker of each job of the script (<c>eddy submit --distributed</c>), as <c>eddy worker</c> would run
    /// it: checked as the worker checks (located errors as <see cref="SubmissionException"/>), then joined to each job's
    /// groups, announced at <see cref="WorkerAddress"/>. Returns one entry per job.
    /// </summary>
    public IReadOnlyList<HostedWorker> SubmitDistributed(string sql, string? fileName = null, IReadOnlyDictionary<string, string>? options = null,
        UserAssemblies? udfs = null)
    {
        var all = new Dictionary<string, string>(options ?? new Dictionary<string, string>()) { [SqlSession.DistributedOption] = "true" };
        return SubmitDistributedJobs(sql, fileName, all, udfs);
    }

    private IReadOnlyList<HostedWorker> SubmitDistributedJobs(string sql, string? fileName, IReadOnlyDictionary<string, string>? options, UserAssemblies? udfs)
    {
        var address = WorkerAddress ?? throw new SubmissionException("the server has no address yet to announce its workers at");
        var output = new OutputTail(echo: PrintTo);
        var errors = new StringWriter();
        SqlSession NewSession()
        {
            var session = new SqlSession(Connectors, output, TextWriter.Synchronized(errors)) { JarDirectory = UdfDirectory };
            try
            {
                if (UdfDirectory is { } folder) session.UserCode.AddFolder(folder);
                foreach (var path in udfs?.Assemblies ?? []) session.AddJar(path);
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
            {
                session.ReleaseUserCode();
                throw new SubmissionException($"function assembly: {e.Message}");
            }
            foreach (var (key, value) in options ?? new Dictionary<string, string>())
            {
                try
                {
                    session.Set(key, value);
                }
                catch (FormatException e)
                {
                    session.ReleaseUserCode();
                    throw new SubmissionException($"option {key}={SecretValue(key, value)}: {e.Message}");
                }
            }
            return session;
        }

        string name = fileName ?? "job.sql";
        var created = new List<HostedWorker>();
        try
        {
            DistributedWorker all;
            try
            {
                all = DeepStack.Run(() => DistributedWorker.Plan(NewSession(), sql, name, NewSession, groupId: null, checkpointDir: null,
                    line => WorkerLog?.Invoke(line)));
            }
            catch (WorkerSetupException e)
            {
                throw new SubmissionException(SecretOptions.RedactText(e.Message));
            }
            catch (Exception e) when (e is SqlParseException or ArgumentException or InvalidOperationException or FormatException)
            {
                throw new SubmissionException(SecretOptions.RedactText(e.Message));
            }
            if (all.JobNames.Count == 0) throw new SubmissionException("the script defines no INSERT: nothing to run");
            string redacted = SecretOptions.RedactSql(sql);
            var entries = new System.Collections.Concurrent.ConcurrentDictionary<string, HostedWorker>(StringComparer.Ordinal);
            var ids = all.JobNames.ToDictionary(n => n, _ => Guid.NewGuid().ToString("N"), StringComparer.Ordinal);
            var perJob = all.PerJob(job => line =>
            {
                if (entries.TryGetValue(job, out var e)) e.AddLog(line);
                WorkerLog?.Invoke($"worker of job '{job}' ({ids[job]}): {line}");
            });
            foreach (var (worker, brokers) in perJob.Zip(all.Brokers))
            {
                HostedWorker? ended = null;
                var entry = ended = new HostedWorker(ids[brokers.Job], brokers.Job, redacted, worker, brokers.BootstrapServers, brokers.Properties,
                    () => WorkerLog?.Invoke($"distributed job '{ended!.Name}' ({ended.Id}) {ended.State}" + (ended.Failure is { } f ? $": {f}" : "")));
                entries[entry.Name] = entry;
                lock (gate)
                {
                    if (hosted.FirstOrDefault(h => h.Name == entry.Name && !JobStates.IsTerminal(h.State)) is { } twin)
                    {
                        throw new SubmissionException($"job '{entry.Name}' already runs as a worker on this server ({twin.Id}): "
                            + "a second member in the same process adds nothing; start `eddy worker` elsewhere to share the partitions");
                    }
                    hosted.Add(entry);
                }
                created.Add(entry);
                foreach (var w in errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    entry.AddLog("warning: " + w);
                try
                {
                    entry.Start(address);
                }
                catch (WorkerSetupException e)
                {
                    lock (gate) hosted.Remove(entry);
                    created.Remove(entry);
                    worker.Dispose();
                    throw new SubmissionException(SecretOptions.RedactText(e.Message));
                }
            }
            return created;
        }
        catch
        {
            // Refused part-way: what started of this submission stops (gracefully: it may already own partitions).
            foreach (var h in created) h.Cancel();
            throw;
        }
        finally
        {
            // The uploaded assemblies stay while a worker of the submission may plan a partition task with them.
            if (udfs is not null) _ = Task.WhenAll(created.Select(h => h.Ended)).ContinueWith(_ => udfs.Delete(), TaskScheduler.Default);
        }
    }

    /// <summary>A hosted worker's job by id, or by name (the latest that has not ended, else the latest).</summary>
    public HostedWorker? FindHosted(string idOrName)
    {
        lock (gate)
        {
            var byId = hosted.FirstOrDefault(h => h.Id == idOrName);
            if (byId is not null) return byId;
            var named = hosted.Where(h => h.Name == idOrName).ToList();
            return named.LastOrDefault(h => !JobStates.IsTerminal(h.State)) ?? named.LastOrDefault();
        }
    }

    private IReadOnlyList<ManagedJob> SubmitTo(SqlSession session, string sql, string? fileName, IReadOnlyDictionary<string, string>? options,
        string? savepointPath, bool allowNonRestoredState, bool fresh, UserAssemblies? udfs, OutputTail output, StringWriter errors)
    {
        try
        {
            if (UdfDirectory is { } folder) session.UserCode.AddFolder(folder);
            if (udfs is not null)
            {
                session.UserCode.Released = udfs.Delete;
                foreach (var path in udfs.Assemblies) session.AddJar(path);
            }
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw new SubmissionException($"function assembly: {e.Message}");
        }
        foreach (var (key, value) in options ?? new Dictionary<string, string>())
        {
            try
            {
                session.Set(key, value);
            }
            catch (FormatException e)
            {
                throw new SubmissionException($"option {key}={SecretValue(key, value)}: {e.Message}");
            }
        }

        var prepared = new List<(SqlJob Job, JobPlan Plan, string PlanText)>();
        try
        {
            // On a planning thread's deep stack, as eddy run plans (see DeepStack).
            DeepStack.Run(() =>
            {
                foreach (var job in session.Execute(sql, fileName)) prepared.Add((job, job.Environment.Plan(), SqlSession.Describe(job)));
            });
        }
        catch (Exception e) when (e is SqlParseException or ConnectorOptionException or FileNotFoundException
            or DirectoryNotFoundException or ArgumentException or InvalidOperationException or FormatException)
        {
            throw new SubmissionException(SecretOptions.RedactText(e.Message));
        }
        catch (InsufficientExecutionStackException)
        {
            throw new SubmissionException("the script is nested too deeply to plan: split long expressions or queries into views");
        }
        finally
        {
            // Planning a script of megabytes allocates hundreds (tokens, trees, generated code); without a collection the
            // server keeps that memory committed until other work happens to trigger one. Small scripts don't pay for it.
            if (sql.Length >= LargeScriptChars) GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }
        if (prepared.Count == 0) throw new SubmissionException("the script defines no INSERT or query: nothing to run");
        if (prepared.Any(p => p.Job.Distributed))
        {
            foreach (var (job, _, _) in prepared) job.ReleaseUserCode();
            if (prepared.Select(p => p.Job).FirstOrDefault(j => !j.Distributed) is { } single)
            {
                var other = prepared.First(p => p.Job.Distributed).Job;
                throw new SubmissionException(other.RefuseDistributed!($"job '{other.Name}' runs distributed and job '{single.Name}' of the same script does not: "
                    + $"SET '{SqlSession.DistributedOption}' for all of a script's jobs or none (submit them separately)").Message);
            }
            // Hosted as workers by the caller; the uploaded assemblies stay for them.
            session.UserCode.Released = null;
            return [];
        }
        try
        {
            return Queue(prepared, sql, fileName, savepointPath, allowNonRestoredState, fresh, session, output, errors);
        }
        catch
        {
            // Refused after planning: no job will run, so none holds the user code.
            foreach (var (job, _, _) in prepared) job.ReleaseUserCode();
            throw;
        }
    }

    private IReadOnlyList<ManagedJob> Queue(List<(SqlJob Job, JobPlan Plan, string PlanText)> prepared, string sql, string? fileName,
        string? savepointPath, bool allowNonRestoredState, bool fresh, SqlSession session, OutputTail output, StringWriter errors)
    {
        foreach (var (job, plan, _) in prepared)
        {
            int need = plan.Chains.Max(c => c.Parallelism);
            if (need > TotalSlots)
            {
                throw new SubmissionException(
                    $"job '{job.Name}' needs {need} task slots (its highest parallelism) but the server has {TotalSlots}: "
                    + "lower 'parallelism.default' or start the server with more --slots");
            }
        }

        string redacted = SecretOptions.RedactSql(sql);
        var warnings = errors.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var created = new List<ManagedJob>();
        lock (gate)
        {
            string? stem = fileName is null ? null : Path.GetFileNameWithoutExtension(fileName);
            // The stable name eddy run gives the job (pipeline.name, else the file's name): it resumes from that name's checkpoints.
            string FallbackName(int j) => stem is null ? prepared[j].Job.Name : stem + (j == 0 ? "" : $"-{j + 1}");
            var claimed = new List<(string Folder, string Who)>();
            foreach (var other in jobs)
            {
                if (!JobStates.IsTerminal(other.State) && other.OwnedFolder is { } f)
                    claimed.Add((f, $"job {other.Id} ('{other.Name}', {other.State}) of {Holder}"));
            }
            for (int j = 0; j < prepared.Count; j++) RefuseTakenName(prepared[j].Job, FallbackName(j), claimed);
            for (int j = 0; j < prepared.Count; j++)
            {
                var (job, plan, planText) = prepared[j];
                string fallbackName = FallbackName(j);
                string id = Guid.NewGuid().ToString("N");
                var managed = new ManagedJob(id, job, redacted, planText, session.JobConfig(), plan,
                    KafkaSources(job), output, new ResumeOptions(fallbackName, fresh, savepointPath,
                        allowNonRestoredState, Holder: JobNameLock.ThisProcess($"{Holder} (job {id})")));
                foreach (var w in warnings) managed.AddWarning(SecretOptions.RedactText(w));
                jobs.Add(managed);
                created.Add(managed);
            }
            Schedule();
        }
        return created;
    }

    /// <summary>
    /// A job that checkpoints owns its name's checkpoint folder while it lives: refused when a job of this server that
    /// has not ended, one submitted with it, or another process (an <c>eddy run</c>) holds that name.
    /// </summary>
    private void RefuseTakenName(SqlJob job, string fallbackName, List<(string Folder, string Who)> claimed)
    {
        string name = job.Environment.Config.JobName ?? fallbackName;
        if (ManagedJob.CheckpointFolderOwned(job, name) is not { } folder) return;
        foreach (var (taken, who) in claimed.Where(c => c.Folder == folder))
        {
            throw new SubmissionException($"job name '{name}' is in use: {who} runs it and owns its checkpoints ({taken}). "
                + "Cancel that job, or " + JobNameLock.RenameHint(name, job.Environment.Config.CheckpointDirectory is not null));
        }
        if (JobNameLock.HeldBy(folder, name, job.Environment.Config.CheckpointDirectory is not null) is { } message)
            throw new SubmissionException(message);
        claimed.Add((folder, $"job '{job.Name}' of the same submission"));
    }

    /// <summary>Scripts from this size on are followed by a full, memory-returning garbage collection after planning.</summary>
    public const int LargeScriptChars = 1 << 20;

    private static string SecretValue(string key, string value) => SecretOptions.IsSecret(key) ? SecretOptions.Mask : value;

    private static List<KafkaSourceInfo> KafkaSources(SqlJob job)
    {
        var found = new List<KafkaSourceInfo>();
        foreach (var scan in job.Plans.SelectMany(Scans).Select(s => s.Table).Distinct())
        {
            if (!scan.Connector.Equals("kafka", StringComparison.OrdinalIgnoreCase)) continue;
            string group = scan.Options.GetValueOrDefault("properties.group.id") ?? "eddy-" + scan.Name;
            string topic = scan.Options.GetValueOrDefault("topic") ?? scan.Options.GetValueOrDefault("topic-pattern") ?? "";
            foreach (var t in topic.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                found.Add(new KafkaSourceInfo(scan.Name, t, group));
        }
        return found;

        static IEnumerable<ScanPlan> Scans(LogicalPlan p) => DeepStack.Ensure(p) is ScanPlan s ? [s] : p.Inputs.SelectMany(Scans);
    }

    /// <summary>
    /// Warnings for a job that reads a Kafka topic with the same consumer group as another job that has not ended:
    /// both store their offsets under that group, so either one's restart from group offsets resumes where the other
    /// committed.
    /// </summary>
    public IReadOnlyList<string> SharedGroupWarnings(ManagedJob job)
    {
        if (job.Kafka.Count == 0) return [];
        var result = new List<string>();
        foreach (var other in Jobs)
        {
            if (other == job || JobStates.IsTerminal(other.State)) continue;
            foreach (var mine in job.Kafka)
            {
                foreach (var theirs in other.Kafka)
                {
                    if (mine.GroupId != theirs.GroupId || mine.Topic != theirs.Topic) continue;
                    result.Add($"shares Kafka consumer group '{mine.GroupId}' on topic '{mine.Topic}' with job '{other.Name}' ({other.Id}): "
                        + "each job reads every partition, but both commit offsets to that group; give each job its own 'properties.group.id'");
                }
            }
        }
        return result;
    }

    /// <summary>Cancels a job; false when it had already ended.</summary>
    public bool Cancel(ManagedJob job)
    {
        bool cancelled = job.Cancel();
        lock (gate) Schedule();
        return cancelled;
    }

    /// <summary>A job by id, or by name when no id matches (the latest that has not ended, else the latest).</summary>
    public ManagedJob? Find(string idOrName)
    {
        lock (gate)
        {
            var byId = jobs.FirstOrDefault(j => j.Id == idOrName);
            if (byId is not null) return byId;
            var named = jobs.Where(j => j.Name == idOrName).ToList();
            return named.LastOrDefault(j => !JobStates.IsTerminal(j.State)) ?? named.LastOrDefault();
        }
    }

    // Under gate.
    private void Schedule()
    {
        int free = TotalSlots - jobs.Where(j => j.HoldsSlots).Sum(j => j.SlotsNeeded);
        ManagedJob? blocker = null;
        foreach (var job in jobs)
        {
            if (job.State != JobStates.Created) continue;
            if (blocker is not null)
            {
                job.WaitReason = $"queued behind job '{blocker.Name}' ({blocker.Id}), which waits for slots";
                continue;
            }
            if (job.SlotsNeeded <= free)
            {
                free -= job.SlotsNeeded;
                job.Start(OnJobEnded);
                if (job.HoldsSlots) continue;
                free += job.SlotsNeeded;
                continue;
            }
            var holders = jobs.Where(j => j.HoldsSlots).Select(j => $"'{j.Name}' uses {j.SlotsNeeded}").ToList();
            job.WaitReason = $"waiting for {job.SlotsNeeded} task slots: {free} of {TotalSlots} free"
                + (holders.Count > 0 ? $" ({string.Join(", ", holders)})" : "");
            blocker = job;
        }
    }

    /// <summary>A started job has ended (finished, failed or cancelled); raised on the job's completion thread.</summary>
    public event Action<ManagedJob>? JobEnded;

    private void OnJobEnded(ManagedJob job)
    {
        // Called from the job's completion (another thread), or from Start under the gate: the lock is reentrant.
        lock (gate) Schedule();
        JobEnded?.Invoke(job);
    }

    private void SampleAll()
    {
        foreach (var job in Jobs)
        {
            // A timer callback that throws ends the process: one job's failing sample must not take the others down.
            try
            {
                if (job.State is JobStates.Running or JobStates.Restarting or JobStates.Cancelling) job.Sample();
            }
            catch (Exception e)
            {
                string warning = $"sampling the job's metrics failed: {e.GetType().Name}: {SecretOptions.RedactText(e.Message)}";
                if (!job.Warnings.Contains(warning)) job.AddWarning(warning);
            }
        }
    }

    /// <summary>How long a server that stops waits for its cancelled jobs to end before it lets go of them.</summary>
    private static readonly TimeSpan ShutdownGrace = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Cancels every job and waits for the running ones to end, so no task still writes checkpoints or sink data
    /// after the server has stopped (a caller may remove those folders next).
    /// </summary>
    public void Dispose()
    {
        sampler.Dispose();
        var ending = new List<Task>();
        foreach (var job in Jobs)
        {
            job.Cancel();
            if (job.Execution is { } execution) ending.Add(execution.Completion);
        }
        // Hosted workers stop as a cancel stops them: final checkpoints, then they leave their groups.
        foreach (var h in HostedWorkers)
        {
            h.Cancel();
            ending.Add(h.Ended);
        }
        Task.WaitAll(ending.ToArray(), ShutdownGrace);
    }
}
