using System.Globalization;
using System.Text;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Group;
using Eddy.Connectors.Kafka.Repartition;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Distributed;
using Eddy.Sql.Parsing;

namespace Eddy.Server.Worker;

/// <summary>A worker that could not start, with the message to show (SQL errors carry line and column).</summary>
public sealed class WorkerSetupException(string message) : Exception(message);

/// <summary>
/// The jobs of one SQL script run as one member of each job stage's consumer group: what <c>eddy worker FILE.sql</c>
/// runs, and what the server runs for a distributed submission. A job is split into stages at its keyed exchanges
/// (<see cref="StageSplitter"/>); the group of a stage (cooperative-sticky) decides which partitions of the stage's input
/// topic (the user's topic for stage 0, a repartition topic after) this member owns; each owned partition runs as a
/// pipeline instance of its own (a partition task) that restores the partition's latest checkpoint from the shared
/// checkpoint storage. Started in three steps so the host can refuse early and serve its REST API before it joins:
/// <see cref="Plan"/> (check the jobs), <see cref="ProbeTopics"/> (partition counts, repartition topics),
/// <see cref="Join"/> (announce in the directory topic, join the groups). <see cref="StopAsync"/> is the graceful stop:
/// final checkpoints of every partition, then the member leaves the groups.
/// </summary>
public sealed class DistributedWorker : IDisposable
{
    /// <summary>How long a revoked partition's final checkpoint may take before it is handed over without one.</summary>
    public static readonly TimeSpan FinalCheckpointTimeout = TimeSpan.FromSeconds(60);

    private readonly string text;
    private readonly string fileName;
    private readonly Func<SqlSession> newSession;
    private readonly Action<string> log;
    private readonly List<WorkerJob> jobs;
    private readonly Dictionary<WorkerJob, KafkaTopicProbe> probes = [];
    private readonly List<WorkerDirectory> directories = [];
    private readonly TaskCompletionSource<Exception> failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int stopping;
    private volatile bool stoppedGracefully;

    private DistributedWorker(string text, string fileName, Func<SqlSession> newSession, Action<string> log, List<WorkerJob> jobs)
    {
        this.text = text;
        this.fileName = fileName;
        this.newSession = newSession;
        this.log = log;
        this.jobs = jobs;
    }

    /// <summary>The jobs' names (pipeline.name, else the file's name), in script order.</summary>
    public IReadOnlyList<string> JobNames => [.. jobs.Select(j => j.Name)];

    /// <summary>Per job, the broker and client settings of its sources (for the whole-job view of its directory topic).</summary>
    public IReadOnlyList<(string Job, string BootstrapServers, IReadOnlyDictionary<string, string> Properties)> Brokers =>
        [.. jobs.Select(j => (j.Name, j.Shape.BootstrapServers, j.Shape.ClientProperties))];

    /// <summary>The partitions whose tasks run here now, over every stage.</summary>
    public int OwnedPartitions => jobs.SelectMany(j => j.Stages).Sum(s => s.Tasks?.Tasks.Count ?? 0);

    /// <summary>Completes with the first failure of a partition task or group member (a graceful stop completes nothing).</summary>
    public Task<Exception> Failed => failed.Task;

    /// <summary>
    /// Plans the script's jobs once, with <paramref name="check"/> (a session configured as the tasks' will be), checks
    /// each as <see cref="WorkerJobCheck"/> does and resolves its group and checkpoint root. <paramref name="newSession"/>
    /// makes the session each partition task plans its instance with. Throws <see cref="WorkerSetupException"/>; a script
    /// without an INSERT gives a worker of no jobs.
    /// </summary>
    /// <param name="groupId">the consumer group (default: each job's pipeline.name; several jobs get <c>-&lt;n&gt;</c>).</param>
    /// <param name="checkpointDir">the shared checkpoint storage (default: execution.checkpointing.dir, else Eddy's data folder).</param>
    /// <param name="checkpointDirOrigin">how the host names <paramref name="checkpointDir"/> in errors (e.g. <c>--checkpoint-dir</c>).</param>
    public static DistributedWorker Plan(SqlSession check, string text, string fileName, Func<SqlSession> newSession, string? groupId, string? checkpointDir,
        Action<string> log, string checkpointDirOrigin = "--checkpoint-dir")
    {
        check.PlanOnly = true;
        var jobs = new List<WorkerJob>();
        try
        {
            var planned = check.Execute(text, fileName);
            string stem = Path.GetFileNameWithoutExtension(fileName);
            try
            {
                for (int j = 0; j < planned.Count; j++)
                {
                    var config = planned[j].Environment.Config;
                    string name = config.JobName ?? stem + (j == 0 ? "" : $"-{j + 1}");
                    if (jobs.Any(other => other.Name == name))
                        throw new WorkerSetupException($"two jobs of the script are named '{name}'; their groups and checkpoints would mix: SET 'pipeline.name' before each INSERT");
                    var shape = WorkerJobCheck.Check(planned[j], name, check.RepartitionPartitions);
                    string group = (groupId ?? name) + (groupId is not null && planned.Count > 1 ? $"-{j + 1}" : "");
                    string root = checkpointDir ?? config.CheckpointDirectory ?? Path.GetDirectoryName(JobDataPaths.JobFolder(name))!;
                    string where = checkpointDir is not null ? checkpointDirOrigin : $"'{CheckpointStorages.DirOption}'";
                    jobs.Add(new WorkerJob(j, name, group, shape, CheckpointRoot(root, where, config.S3)));
                }
            }
            finally
            {
                foreach (var job in planned) job.ReleaseUserCode();
            }
        }
        catch (Exception e) when (e is SqlParseException or FileNotFoundException or DirectoryNotFoundException or ConnectorOptionException)
        {
            throw new WorkerSetupException(e.Message);
        }
        finally
        {
            check.ReleaseUserCode();
        }
        return new DistributedWorker(text, fileName, newSession, log, jobs);
    }

    /// <summary>
    /// The job's checkpoint root as every partition task uses it: a full local path, or an <c>s3://</c> location whose
    /// store answered (probed once here, so that a wrong endpoint or a missing bucket stops the worker before it joins
    /// the group, rather than failing each partition task).
    /// </summary>
    private static string CheckpointRoot(string root, string where, S3Settings? s3)
    {
        try
        {
            CheckpointStorages.Validate(root);
            if (!CheckpointStorages.IsRemote(root)) return Path.GetFullPath(root.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(root).LocalPath : root);
            CheckpointStorages.Open(root, s3);
            return root.TrimEnd('/');
        }
        catch (FormatException e)
        {
            throw new WorkerSetupException($"{where}: {e.Message}");
        }
        catch (CheckpointStorageException e)
        {
            throw new WorkerSetupException($"{where} = '{root}': {SecretOptions.RedactText(e.Message)}");
        }
    }

    /// <summary>
    /// One worker per job of the script (before <see cref="ProbeTopics"/>), each logging through <paramref name="logFor"/>
    /// its job's name: for a host that starts and stops the jobs one by one (the server).
    /// </summary>
    public IReadOnlyList<DistributedWorker> PerJob(Func<string, Action<string>> logFor) =>
        [.. jobs.Select(j => new DistributedWorker(text, fileName, newSession, logFor(j.Name), [j]))];

    /// <summary>
    /// Reads the input topics' partition counts (co-partitioned inputs need equal ones) and creates the repartition
    /// topics with their stated count, before any member subscribes. Throws <see cref="WorkerSetupException"/>.
    /// </summary>
    public void ProbeTopics()
    {
        try
        {
            foreach (var job in jobs)
            {
                var probe = new KafkaTopicProbe(job.Shape.BootstrapServers, job.Shape.ClientProperties);
                probes[job] = probe;
                foreach (var stage in job.Stages)
                {
                    var shape = job.Shape.Stages[stage.Index];
                    if (shape.ReadsSources)
                    {
                        // A source stage's task reads one partition number of each of its topics (co-partitioned).
                        var counts = probe.PartitionCounts(shape.SourceTopics);
                        if (counts.Values.Distinct().Count() > 1)
                        {
                            throw new WorkerSetupException($"job '{job.Name}' reads topics with different partition counts in one stage ("
                                + string.Join(", ", counts.Select(c => $"'{c.Key}': {c.Value}")) + "); a partition task reads partition p of every input topic "
                                + "of its stage, so co-partitioned inputs need equal counts");
                        }
                        stage.Partitions = counts[shape.GroupTopic];
                        log($"{job.Prefix(stage)}: group '{stage.GroupId}' divides the {stage.Partitions} partitions of '{string.Join("', '", shape.SourceTopics)}'"
                            + (stage.Index == 0 ? $"; checkpoints under {CheckpointStorages.Combine(job.CheckpointRoot, JobDataPaths.SafeName(job.Name))}" : ""));
                        continue;
                    }
                    // Created before any member subscribes to it (a group member sees a topic created later only at
                    // its next metadata refresh), with the count the plan states; a topic with another count is refused.
                    // A stage reading several (a join's sides) reads partition p of each: one count for all.
                    stage.Partitions = shape.Inputs[0].ResolvePartitions();
                    foreach (var topic in shape.Inputs)
                    {
                        int partitions = topic.ResolvePartitions();
                        if (partitions != stage.Partitions)
                            throw new WorkerSetupException($"job '{job.Name}': repartition topics '{shape.Inputs[0].Name}' and '{topic.Name}' are read by one stage but would have {stage.Partitions} and {partitions} partitions");
                        job.Exchange.EnsureTopic(topic.Name, partitions);
                        log($"{job.Prefix(stage)}: group '{stage.GroupId}' divides the {stage.Partitions} partitions of repartition topic '{topic.Name}' "
                            + $"(keyed for {topic.KeyedOperator}{(shape.Inputs.Count > 1 ? $", co-partitioned with {shape.Inputs.Count - 1} more" : "")})");
                    }
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Confluent.Kafka.KafkaException)
        {
            throw new WorkerSetupException(e.Message);
        }
    }

    /// <summary>
    /// Announces <paramref name="advertised"/> (the REST API that serves <see cref="Status"/>) in each job's directory
    /// topic and joins every stage's group; the partition tasks start as the groups assign partitions.
    /// </summary>
    public void Join(Uri advertised)
    {
        foreach (var job in jobs)
            directories.Add(WorkerDirectory.Start(job.Shape.BootstrapServers, job.Shape.ClientProperties, job.Name, job.Shape.LeadingTopic, advertised, m => log($"job '{job.Name}': {m}")));
        foreach (var (job, stage) in Stages)
        {
            string prefix = job.Prefix(stage);
            stage.Tasks = new PartitionTaskManager(p => StartTask(job, stage.Index, p), m => log($"{prefix}: {m}"), FinalCheckpointTimeout);
            stage.Member = new KafkaGroupMember(new KafkaGroupOptions
            {
                BootstrapServers = job.Shape.BootstrapServers,
                GroupId = stage.GroupId,
                Topic = stage.Topic,
                Properties = job.Shape.ClientProperties,
            }, new Owner(stage.Tasks, m => log($"{prefix}: {m}")));
            var tasks = stage.Tasks;
            var member = stage.Member;
            _ = tasks.Failed.ContinueWith(t => failed.TrySetResult(t.Result), TaskScheduler.Default);
            _ = member.Stopped.ContinueWith(_ =>
            {
                if (Volatile.Read(ref stopping) == 0) failed.TrySetResult(member.Failure ?? new InvalidOperationException("the group member stopped"));
            }, TaskScheduler.Default);
            member.Start();
        }
    }

    private IEnumerable<(WorkerJob Job, WorkerStage Stage)> Stages => jobs.SelectMany(j => j.Stages.Select(s => (Job: j, Stage: s)));

    /// <summary>Graceful stop: leave the directories, final checkpoints of every partition, then leave the groups.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref stopping, 1) != 0) return;
        foreach (var d in directories) d.Stop(leave: true);
        var stages = Stages.ToList();
        await Task.WhenAll(stages.Select(s => Task.Run(() => s.Stage.Tasks?.RevokeAll()))).ConfigureAwait(false);
        await Task.WhenAll(stages.Select(s => Task.Run(() => s.Stage.Member?.Dispose()))).ConfigureAwait(false);
        foreach (var s in stages) s.Stage.Tasks?.Dispose();
        stoppedGracefully = true;
    }

    /// <summary>Hard stop (after a failure): partition tasks end without a final checkpoint; their next owners restore the last completed one.</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref stopping, 1);
        foreach (var s in stoppedGracefully ? [] : jobs.SelectMany(j => j.Stages))
        {
            s.Tasks?.Dispose();
            s.Member?.Dispose();
        }
        foreach (var d in directories) d.Dispose();
        foreach (var p in probes.Values) p.Dispose();
    }

    /// <summary>
    /// Plans the job again for one partition of one stage: the job split into its stages, the stage started as its own
    /// pipeline instance of parallelism 1, checkpointing into the partition's folder.
    /// </summary>
    private JobExecution StartTask(WorkerJob job, int stageIndex, int partition)
    {
        var session = newSession();
        var scope = new PartitionTaskScope(stageIndex, partition);
        // Parallelism 1 before translation: the partitions are the job's parallelism.
        session.ConfigOverride = c => c with { DefaultParallelism = 1 };
        IReadOnlyList<SqlJob> planned;
        try
        {
            planned = session.Execute(text, fileName);
        }
        finally
        {
            session.ReleaseUserCode();
        }
        for (int j = 0; j < planned.Count; j++)
            if (j != job.Index) planned[j].ReleaseUserCode();
        var mine = planned[job.Index];
        string folder = CheckpointStorages.Combine(job.CheckpointRoot, JobDataPaths.SafeName(job.Name), $"stage-{scope.Stage}", $"partition-{scope.Partition}");
        var env = mine.Environment.Configure(c => c with
        {
            JobName = job.Name,
            PartitionTask = scope,
            CheckpointDirectory = folder,
            ResumeFromLatestCheckpoint = true,
            RestorePath = null,
            Diagnostics = m => log($"job '{job.Name}' {scope}: {m}"),
        });
        JobExecution execution;
        try
        {
            var stages = StageSplitter.Split(env.Graph, job.Name, job.Exchange, session.RepartitionPartitions, env.Config.MaxParallelism);
            if (stages.Count != job.Stages.Count)
                throw new InvalidOperationException($"job '{job.Name}' split into {stages.Count} stages for {scope}, {job.Stages.Count} when the worker started");
            execution = stages[stageIndex].Start($"{job.Name} [{scope.Tag}]", env.Config);
        }
        catch
        {
            mine.ReleaseUserCode();
            throw;
        }
        _ = execution.Completion.ContinueWith(_ => mine.ReleaseUserCode(), TaskScheduler.Default);
        return execution;
    }

    /// <summary>
    /// One stage of a job as this worker runs it: the group of its input topic's partitions and the tasks of the
    /// partitions this worker owns. Each stage has a group of its own (<c>&lt;group&gt;-stage-&lt;i&gt;</c> after stage 0), so
    /// that every stage's partitions spread evenly over the workers and a rebalance of one stage touches no other's tasks.
    /// </summary>
    private sealed class WorkerStage(int index, string topic, string groupId)
    {
        public int Index { get; } = index;

        /// <summary>The topic whose partitions the stage's tasks follow: the user's for stage 0, a repartition topic after.</summary>
        public string Topic { get; } = topic;

        public string GroupId { get; } = groupId;

        public int Partitions { get; set; }

        /// <summary>Whether the stage reads the user's topics (its lag from the Kafka source's offsets), not repartition topics.</summary>
        public bool ReadsSources { get; init; }

        public PartitionTaskManager? Tasks { get; set; }

        public KafkaGroupMember? Member { get; set; }
    }

    /// <summary>One job of the script as this worker runs it (a class: its parts are set as they start).</summary>
    private sealed class WorkerJob(int index, string name, string groupId, WorkerJobShape shape, string checkpointRoot)
    {
        public int Index { get; } = index;

        public string Name { get; } = name;

        public string GroupId { get; } = groupId;

        public WorkerJobShape Shape { get; } = shape;

        public string CheckpointRoot { get; } = checkpointRoot;

        /// <summary>Writers and readers of the job's repartition topics, with the sources' client settings.</summary>
        public KafkaRepartitionExchange Exchange { get; } = new(shape.BootstrapServers, shape.ClientProperties);

        public List<WorkerStage> Stages { get; } = [.. shape.Stages.Select((stage, i) =>
            new WorkerStage(i, stage.GroupTopic, i == 0 ? groupId : $"{groupId}-stage-{i}") { ReadsSources = stage.ReadsSources })];

        /// <summary>How its log lines start: stage 0 as for a job of one stage.</summary>
        public string Prefix(WorkerStage stage) => stage.Index == 0 ? $"job '{Name}'" : $"job '{Name}' stage {stage.Index}";
    }

    /// <summary>Hands the group's decisions to the partition tasks, and says what moved.</summary>
    private sealed class Owner(PartitionTaskManager tasks, Action<string> log) : IPartitionOwner
    {
        public void Assigned(IReadOnlyList<int> partitions)
        {
            log($"assigned partitions {string.Join(",", partitions)}");
            tasks.Assign(partitions);
        }

        public void Revoked(IReadOnlyList<int> partitions)
        {
            log($"revoked partitions {string.Join(",", partitions)}: final checkpoints");
            tasks.Revoke(partitions);
        }

        public void Lost(IReadOnlyList<int> partitions)
        {
            log($"lost partitions {string.Join(",", partitions)} (session expired): stopped without a checkpoint");
            tasks.Lose(partitions);
        }
    }

    private sealed record PartitionView(int Partition, string State, DateTimeOffset StartedAt, long? RestoredFromCheckpoint, long? LastCheckpoint,
        DateTimeOffset? LastCheckpointAt, long? CheckpointedOffset, long? EndOffset, long? Lag, long RecordsRead, int Restarts);

    private List<PartitionView> Partitions(WorkerJob job, WorkerStage stage)
    {
        var views = new List<PartitionView>();
        if (stage.Tasks is null || !probes.TryGetValue(job, out var probe)) return views;
        foreach (var t in stage.Tasks.Tasks)
        {
            long? next = t.LatestCheckpoint is { } chk ? CheckpointedOffset(chk, stage, t.Partition) : null;
            long? end = probe.EndOffset(stage.Topic, t.Partition);
            long? lag = end is { } e ? Math.Max(0, e - (next ?? 0)) : null;
            views.Add(new PartitionView(t.Partition, t.State, t.StartedAt, t.RestoredFromCheckpoint, t.LatestCheckpoint?.Id, t.LatestCheckpoint?.Timestamp,
                next, end, lag, t.Metrics.Sum(m => Volatile.Read(ref m.RecordsIn)), t.Restarts));
        }
        return views;
    }

    /// <summary>The stage's next input offset for the partition in a checkpoint (its Kafka or repartition reader state), or null.</summary>
    private static long? CheckpointedOffset(CheckpointData checkpoint, WorkerStage stage, int partition)
    {
        foreach (var op in checkpoint.Operators)
        {
            // A Kafka source's state id is "<node>:source:<name>"; a repartition reader's is "<topic>-reader" (its uid).
            if (stage.ReadsSources ? !op.StateId.Contains(":source:", StringComparison.Ordinal) : op.StateId != stage.Topic + "-reader") continue;
            foreach (var s in op.Subtasks)
            {
                try
                {
                    if (stage.ReadsSources)
                    {
                        foreach (var (t, p, next) in KafkaSourceState.CheckpointedOffsets(s.OperatorState))
                            if (t == stage.Topic && p == partition && next >= 0) return next;
                    }
                    else
                    {
                        foreach (var (p, next) in RepartitionReaderState.CheckpointedOffsets(s.OperatorState))
                            if (p == partition && next >= 0) return next;
                    }
                }
                catch (InvalidDataException)
                {
                }
            }
        }
        return null;
    }

    private object StageStatus(WorkerJob job, WorkerStage stage) => new
    {
        Stage = stage.Index,
        Group = stage.GroupId,
        Member = stage.Member?.MemberId ?? "",
        Topic = stage.Topic,
        stage.Partitions,
        Checkpoints = CheckpointStorages.Combine(job.CheckpointRoot, JobDataPaths.SafeName(job.Name), $"stage-{stage.Index}"),
        Tasks = Partitions(job, stage),
        Rebalances = (stage.Member?.Rebalances ?? []).Select(r => new { r.At, r.Kind, r.Partitions, DurationMs = (long)r.Duration.TotalMilliseconds }),
    };

    /// <summary>
    /// Each job as <c>GET /worker</c> lists it: the first fields describe stage 0 (as for a job of one stage); "stages"
    /// has every stage with its tasks.
    /// </summary>
    public IEnumerable<object> JobViews() => jobs.Select(j => (object)new
    {
        Job = j.Name,
        Group = j.GroupId,
        Member = j.Stages[0].Member?.MemberId ?? "",
        Topic = j.Shape.LeadingTopic,
        Checkpoints = CheckpointStorages.Combine(j.CheckpointRoot, JobDataPaths.SafeName(j.Name)),
        Partitions = Partitions(j, j.Stages[0]),
        Rebalances = (j.Stages[0].Member?.Rebalances ?? []).Select(r => new { r.At, r.Kind, r.Partitions, DurationMs = (long)r.Duration.TotalMilliseconds }),
        Stages = j.Stages.Select(s => StageStatus(j, s)).ToList(),
    }).ToList();

    /// <summary>The body of <c>GET /worker</c> (serialized kebab-case by <see cref="WorkerEndpoint"/>).</summary>
    public object Status() => Status([this]);

    /// <summary>One <c>GET /worker</c> body for several workers of one process (the server's distributed submissions).</summary>
    public static object Status(IEnumerable<DistributedWorker> workers) => new
    {
        Host = Environment.MachineName,
        Pid = Environment.ProcessId,
        Jobs = workers.SelectMany(w => w.JobViews()).ToList(),
    };

    /// <summary>The Prometheus text of <c>GET /metrics</c>.</summary>
    public string Metrics() => Metrics([this]);

    /// <summary>The worker series of several workers of one process, each family once.</summary>
    public static string Metrics(IEnumerable<DistributedWorker> workers)
    {
        var all = workers.SelectMany(w => w.jobs.Select(j => (Worker: w, Job: j))).ToList();
        var sb = new StringBuilder();
        sb.AppendLine("# TYPE eddy_worker_partitions gauge");
        foreach (var (_, j) in all)
            foreach (var s in j.Stages)
                sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_partitions{{job=\"{Escape(j.Name)}\",stage=\"{s.Index}\"}} {s.Tasks?.Tasks.Count ?? 0}");
        sb.AppendLine("# TYPE eddy_worker_partition_lag gauge");
        sb.AppendLine("# TYPE eddy_worker_partition_last_checkpoint gauge");
        sb.AppendLine("# TYPE eddy_worker_partition_records_read_total counter");
        foreach (var (w, j) in all)
        {
            foreach (var s in j.Stages)
            {
                foreach (var p in w.Partitions(j, s))
                {
                    string labels = $"job=\"{Escape(j.Name)}\",stage=\"{s.Index}\",partition=\"{p.Partition}\"";
                    if (p.Lag is { } lag) sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_partition_lag{{{labels}}} {lag}");
                    if (p.LastCheckpoint is { } id) sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_partition_last_checkpoint{{{labels}}} {id}");
                    sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_partition_records_read_total{{{labels}}} {p.RecordsRead}");
                }
            }
        }
        sb.AppendLine("# TYPE eddy_worker_rebalances_total counter");
        foreach (var (_, j) in all)
            foreach (var s in j.Stages)
                sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_rebalances_total{{job=\"{Escape(j.Name)}\",stage=\"{s.Index}\"}} {s.Member?.Rebalances.Count ?? 0}");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    /// <summary>
    /// An <c>--advertise</c> value: an absolute http(s) address with a port-free path (null stays null). Throws
    /// <see cref="ArgumentException"/> naming the option.
    /// </summary>
    public static Uri? ParseAdvertise(string? advertise)
    {
        if (advertise is null) return null;
        if (!Uri.TryCreate(advertise.Trim(), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || url.AbsolutePath != "/"
            || url.Query.Length > 0)
            throw new ArgumentException($"--advertise takes the address other machines reach this REST API at, http://host:port, got '{advertise}'");
        return url;
    }

    /// <summary>
    /// The address other machines reach a REST API at: <paramref name="advertise"/> when given, else the bound address,
    /// or for a wildcard bind this host's first non-loopback IPv4 address.
    /// </summary>
    public static Uri Advertised(Uri bound, string bind, Uri? advertise = null)
    {
        if (advertise is not null) return advertise;
        var ip = EddyServer.ParseBind(bind);
        if (!ip.Equals(System.Net.IPAddress.Any) && !ip.Equals(System.Net.IPAddress.IPv6Any)) return bound;
        var address = System.Net.NetworkInformation.NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == System.Net.NetworkInformation.OperationalStatus.Up
                && n.NetworkInterfaceType != System.Net.NetworkInformation.NetworkInterfaceType.Loopback)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && !System.Net.IPAddress.IsLoopback(a));
        if (address is null) return bound;
        return new UriBuilder(bound) { Host = address.ToString() }.Uri;
    }
}
