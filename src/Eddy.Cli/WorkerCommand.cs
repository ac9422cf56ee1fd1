using System.CommandLine;
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

namespace Eddy.Cli;

/// <summary>
/// <c>eddy worker job.sql</c>: one member of each job stage's consumer group. A job is split into stages at its keyed
/// exchanges (<see cref="StageSplitter"/>); the group of a stage (cooperative-sticky) decides which partitions of the
/// stage's input topic (the user's topic for stage 0, a repartition topic after) this process owns; each owned
/// partition runs as a pipeline instance of its own (a partition task) that restores the partition's latest checkpoint
/// from the shared checkpoint folder. Start the same
/// command on several machines and they share the work; stop one with SIGTERM (final checkpoints, then it leaves) or
/// lose one (its partitions resume elsewhere from their last completed checkpoint).
/// </summary>
internal static class WorkerCommand
{
    /// <summary>How long a revoked partition's final checkpoint may take before it is handed over without one.</summary>
    internal static readonly TimeSpan FinalCheckpointTimeout = TimeSpan.FromSeconds(60);

    public static Command Create(ConnectorRegistry connectors, TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<FileInfo>("file") { Description = "A SQL script whose jobs read Kafka topics (Flink SQL)." };
        var groupId = new Option<string?>("--group-id") { Description = "The consumer group the workers of a job share (default: the job's pipeline.name)" };
        var checkpointDir = new Option<string?>("--checkpoint-dir")
        {
            Description = "The shared checkpoint storage, a folder on a shared volume or s3://bucket/prefix (s3.* options as in SQL): "
                + "<dir>/<job>/stage-<i>/partition-<p>/chk-<n> (default: execution.checkpointing.dir, else Eddy's data folder)",
        };
        var bind = new Option<string>("--bind")
        {
            Description = "The address the REST API listens on (default 127.0.0.1). The API has no authentication and shows the job's topics, "
                + "offsets and checkpoint locations, so it stays on loopback unless asked; in a container give 0.0.0.0 so that probes and "
                + "`eddy status` reach it, and keep the port inside the cluster's network",
            DefaultValueFactory = _ => "127.0.0.1",
        };
        var port = new Option<int>("--port") { Description = "The worker's REST API and metrics (GET /worker, /metrics, /healthz); 0 picks a free port", DefaultValueFactory = _ => 8081 };
        var set = new Option<string[]>("--set", "-s")
        {
            Description = "Set an option as SET 'key' = 'value' does (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("worker", "Run the SQL file's jobs as one member of each job's Kafka consumer group: this process runs the partitions "
            + "the group gives it, each from its latest checkpoint in the shared checkpoint folder.") { file, groupId, checkpointDir, bind, port, set };
        command.SetAction(async (result, cancel) => await RunAsync(connectors, result.GetValue(file)!, result.GetValue(groupId), result.GetValue(checkpointDir),
            result.GetValue(bind)!, result.GetValue(port), result.GetValue(set), stdout, stderr, cancel));
        return command;
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

        public List<WorkerStage> Stages { get; } = [.. shape.StageInputs.Select((input, i) =>
            new WorkerStage(i, input?.Name ?? shape.LeadingTopic, i == 0 ? groupId : $"{groupId}-stage-{i}"))];

        /// <summary>How its log lines start: stage 0 as for a job of one stage.</summary>
        public string Prefix(WorkerStage stage) => stage.Index == 0 ? $"job '{Name}'" : $"job '{Name}' stage {stage.Index}";
    }

    private static async Task<int> RunAsync(ConnectorRegistry connectors, FileInfo path, string? groupId, string? checkpointDir, string bind, int port, string[]? sets,
        TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var err = TextWriter.Synchronized(stderr);
        void Log(string line) => err.WriteLine($"eddy worker: {line}");
        try
        {
            Eddy.Server.EddyServer.ParseBind(bind);
        }
        catch (ArgumentException e)
        {
            err.WriteLine($"error: {e.Message}");
            return 1;
        }
        string text;
        try
        {
            text = File.ReadAllText(path.FullName);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            err.WriteLine($"error: {e.Message}");
            return 1;
        }

        // Planned once to check the jobs and learn their topics; each partition task plans its own instance later.
        var check = SqlCommands.NewSession(connectors, stdout, err, sets, out int code);
        if (check is null) return code;
        check.PlanOnly = true;
        var jobs = new List<WorkerJob>();
        try
        {
            var planned = check.Execute(text, path.Name);
            if (planned.Count == 0)
            {
                err.WriteLine("eddy worker: the script defines no INSERT: nothing to run");
                return 0;
            }
            string stem = Path.GetFileNameWithoutExtension(path.Name);
            for (int j = 0; j < planned.Count; j++)
            {
                var config = planned[j].Environment.Config;
                string name = config.JobName ?? stem + (j == 0 ? "" : $"-{j + 1}");
                if (jobs.Any(other => other.Name == name))
                {
                    err.WriteLine($"error: two jobs of the script are named '{name}'; their groups and checkpoints would mix: SET 'pipeline.name' before each INSERT");
                    return 1;
                }
                var shape = WorkerJobCheck.Check(planned[j], name, check.RepartitionPartitions);
                string group = (groupId ?? name) + (groupId is not null && planned.Count > 1 ? $"-{j + 1}" : "");
                string root = checkpointDir ?? config.CheckpointDirectory ?? Path.GetDirectoryName(JobDataPaths.JobFolder(name))!;
                if (CheckpointRoot(root, checkpointDir is not null, config.S3, err) is not { } checkedRoot)
                    return 1;
                jobs.Add(new WorkerJob(j, name, group, shape, checkedRoot));
            }
            foreach (var job in planned) job.ReleaseUserCode();
        }
        catch (Exception e) when (e is SqlParseException or FileNotFoundException or DirectoryNotFoundException or ConnectorOptionException)
        {
            err.WriteLine($"error: {e.Message}");
            return 1;
        }
        finally
        {
            check.ReleaseUserCode();
        }

        var probes = new Dictionary<WorkerJob, KafkaTopicProbe>();
        try
        {
            foreach (var job in jobs)
            {
                var probe = new KafkaTopicProbe(job.Shape.BootstrapServers, job.Shape.ClientProperties);
                probes[job] = probe;
                var counts = probe.PartitionCounts(job.Shape.Topics);
                if (counts.Values.Distinct().Count() > 1)
                {
                    err.WriteLine($"error: job '{job.Name}' reads topics with different partition counts ("
                        + string.Join(", ", counts.Select(c => $"'{c.Key}': {c.Value}")) + "); a partition task reads partition p of every input topic, "
                        + "so co-partitioned inputs need equal counts");
                    return 1;
                }
                job.Stages[0].Partitions = counts[job.Shape.LeadingTopic];
                Log($"job '{job.Name}': group '{job.GroupId}' divides the {counts[job.Shape.LeadingTopic]} partitions of '{job.Shape.LeadingTopic}'; "
                    + $"checkpoints under {CheckpointStorages.Combine(job.CheckpointRoot, JobDataPaths.SafeName(job.Name))}");
                foreach (var stage in job.Stages.Skip(1))
                {
                    // Created before any member subscribes to it (a group member sees a topic created later only at
                    // its next metadata refresh), with the count the plan states; a topic with another count is refused.
                    var topic = job.Shape.StageInputs[stage.Index]!;
                    stage.Partitions = topic.ResolvePartitions();
                    job.Exchange.EnsureTopic(topic.Name, stage.Partitions);
                    Log($"{job.Prefix(stage)}: group '{stage.GroupId}' divides the {stage.Partitions} partitions of repartition topic '{topic.Name}' "
                        + $"(keyed for {topic.KeyedOperator})");
                }
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Confluent.Kafka.KafkaException)
        {
            err.WriteLine($"error: {e.Message}");
            foreach (var p in probes.Values) p.Dispose();
            return 1;
        }

        Eddy.Server.Worker.WorkerEndpoint? endpoint = null;
        var directories = new List<WorkerDirectory>();
        try
        {
            try
            {
                endpoint = await Eddy.Server.Worker.WorkerEndpoint.StartAsync(bind, port, () => Status(jobs, probes), () => Metrics(jobs, probes), cancel);
            }
            catch (Eddy.Server.PortInUseException) when (port != 0)
            {
                Log($"port {port} is in use; the REST API takes a free port instead (--port chooses one)");
                endpoint = await Eddy.Server.Worker.WorkerEndpoint.StartAsync(bind, 0, () => Status(jobs, probes), () => Metrics(jobs, probes), cancel);
            }
            Log($"REST API on {endpoint.Address} (GET /worker, /metrics, /healthz)");
            // Announced in each job's directory topic, where `eddy status JOB --bootstrap-servers` finds every worker.
            var advertised = WorkerStatus.Advertised(endpoint.Address, bind);
            foreach (var job in jobs)
                directories.Add(WorkerDirectory.Start(job.Shape.BootstrapServers, job.Shape.ClientProperties, job.Name, job.Shape.LeadingTopic, advertised, m => Log($"job '{job.Name}': {m}")));

            var stages = jobs.SelectMany(j => j.Stages.Select(s => (Job: j, Stage: s))).ToList();
            foreach (var (job, stage) in stages)
            {
                string prefix = job.Prefix(stage);
                stage.Tasks = new PartitionTaskManager(p => StartTask(connectors, job, stage.Index, p, text, path.Name, sets, stdout, err, Log), m => Log($"{prefix}: {m}"),
                    FinalCheckpointTimeout);
                stage.Member = new KafkaGroupMember(new KafkaGroupOptions
                {
                    BootstrapServers = job.Shape.BootstrapServers,
                    GroupId = stage.GroupId,
                    Topic = stage.Topic,
                    Properties = job.Shape.ClientProperties,
                }, new Owner(stage.Tasks, m => Log($"{prefix}: {m}")));
                stage.Member.Start();
            }

            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var registration = cancel.Register(() => stopped.TrySetResult());
            var failures = stages.Select(s => s.Stage.Tasks!.Failed.ContinueWith(t => (Exception?)t.Result, TaskScheduler.Default))
                .Concat(stages.Select(s => s.Stage.Member!.Stopped.ContinueWith(_ => (Exception?)(s.Stage.Member!.Failure ?? new InvalidOperationException("the group member stopped")), TaskScheduler.Default)))
                .ToList();
            var first = await Task.WhenAny([stopped.Task, .. failures]);
            if (first == stopped.Task)
            {
                Log("stopping: final checkpoints of every partition, then leaving the groups");
                foreach (var d in directories) d.Stop(leave: true);
                await Task.WhenAll(stages.Select(s => Task.Run(() => s.Stage.Tasks!.RevokeAll())));
                await Task.WhenAll(stages.Select(s => Task.Run(() => s.Stage.Member!.Dispose())));
                foreach (var s in stages) s.Stage.Tasks!.Dispose();
                Log("stopped");
                return 0;
            }
            var failure = ((Task<Exception?>)first).Result;
            err.WriteLine($"error: {SqlCommands.Describe(failure ?? new InvalidOperationException("a partition task failed"))}");
            StopAll(jobs);
            return 1;
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or Confluent.Kafka.KafkaException)
        {
            err.WriteLine($"error: {e.Message}");
            StopAll(jobs);
            return 1;
        }
        finally
        {
            foreach (var d in directories) d.Dispose();
            if (endpoint is not null) await endpoint.DisposeAsync();
            foreach (var p in probes.Values) p.Dispose();
        }
    }

    /// <summary>
    /// The job's checkpoint root as every partition task uses it: a full local path, or an <c>s3://</c> location whose
    /// store answered (probed once here, so that a wrong endpoint or a missing bucket stops the worker before it joins
    /// the group, rather than failing each partition task); null after saying why not.
    /// </summary>
    private static string? CheckpointRoot(string root, bool fromCommandLine, S3Settings? s3, TextWriter err)
    {
        string where = fromCommandLine ? "--checkpoint-dir" : $"'{CheckpointStorages.DirOption}'";
        try
        {
            CheckpointStorages.Validate(root);
            if (!CheckpointStorages.IsRemote(root)) return Path.GetFullPath(root.StartsWith("file://", StringComparison.OrdinalIgnoreCase) ? new Uri(root).LocalPath : root);
            CheckpointStorages.Open(root, s3);
            return root.TrimEnd('/');
        }
        catch (FormatException e)
        {
            err.WriteLine($"error: {where}: {e.Message}");
        }
        catch (CheckpointStorageException e)
        {
            err.WriteLine($"error: {where} = '{root}': {Eddy.Sql.SecretOptions.RedactText(e.Message)}");
        }
        return null;
    }

    private static void StopAll(List<WorkerJob> jobs)
    {
        foreach (var s in jobs.SelectMany(j => j.Stages))
        {
            s.Tasks?.Dispose();
            s.Member?.Dispose();
        }
    }

    /// <summary>
    /// Plans the job again for one partition of one stage: the job split into its stages, the stage started as its own
    /// pipeline instance of parallelism 1, checkpointing into the partition's folder.
    /// </summary>
    private static JobExecution StartTask(ConnectorRegistry connectors, WorkerJob job, int stageIndex, int partition, string text, string fileName,
        string[]? sets, TextWriter stdout, TextWriter err, Action<string> log)
    {
        var session = SqlCommands.NewSession(connectors, stdout, err, sets, out _) ?? throw new InvalidOperationException("the --set options were refused");
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

    private static List<PartitionView> Partitions(WorkerStage stage, KafkaTopicProbe probe)
    {
        var views = new List<PartitionView>();
        if (stage.Tasks is null) return views;
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
            if (stage.Index == 0 ? !op.StateId.Contains(":source:", StringComparison.Ordinal) : op.StateId != stage.Topic + "-reader") continue;
            foreach (var s in op.Subtasks)
            {
                try
                {
                    if (stage.Index == 0)
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

    private static object StageStatus(WorkerJob job, WorkerStage stage, KafkaTopicProbe probe) => new
    {
        Stage = stage.Index,
        Group = stage.GroupId,
        Member = stage.Member?.MemberId ?? "",
        Topic = stage.Topic,
        stage.Partitions,
        Checkpoints = CheckpointStorages.Combine(job.CheckpointRoot, JobDataPaths.SafeName(job.Name), $"stage-{stage.Index}"),
        Tasks = Partitions(stage, probe),
        Rebalances = (stage.Member?.Rebalances ?? []).Select(r => new { r.At, r.Kind, r.Partitions, DurationMs = (long)r.Duration.TotalMilliseconds }),
    };

    // The job's first fields describe stage 0 (as for a job of one stage); "stages" has every stage with its tasks.
    private static object Status(List<WorkerJob> jobs, Dictionary<WorkerJob, KafkaTopicProbe> probes) => new
    {
        Jobs = jobs.Select(j => new
        {
            Job = j.Name,
            Group = j.GroupId,
            Member = j.Stages[0].Member?.MemberId ?? "",
            Topic = j.Shape.LeadingTopic,
            Checkpoints = CheckpointStorages.Combine(j.CheckpointRoot, JobDataPaths.SafeName(j.Name)),
            Partitions = Partitions(j.Stages[0], probes[j]),
            Rebalances = (j.Stages[0].Member?.Rebalances ?? []).Select(r => new { r.At, r.Kind, r.Partitions, DurationMs = (long)r.Duration.TotalMilliseconds }),
            Stages = j.Stages.Select(s => StageStatus(j, s, probes[j])).ToList(),
        }).ToList(),
    };

    private static string Metrics(List<WorkerJob> jobs, Dictionary<WorkerJob, KafkaTopicProbe> probes)
    {
        var sb = new StringBuilder();
        sb.AppendLine("# TYPE eddy_worker_partitions gauge");
        foreach (var j in jobs)
            foreach (var s in j.Stages)
                sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_partitions{{job=\"{Escape(j.Name)}\",stage=\"{s.Index}\"}} {s.Tasks?.Tasks.Count ?? 0}");
        sb.AppendLine("# TYPE eddy_worker_partition_lag gauge");
        sb.AppendLine("# TYPE eddy_worker_partition_last_checkpoint gauge");
        sb.AppendLine("# TYPE eddy_worker_partition_records_read_total counter");
        foreach (var j in jobs)
        {
            foreach (var s in j.Stages)
            {
                foreach (var p in Partitions(s, probes[j]))
                {
                    string labels = $"job=\"{Escape(j.Name)}\",stage=\"{s.Index}\",partition=\"{p.Partition}\"";
                    if (p.Lag is { } lag) sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_partition_lag{{{labels}}} {lag}");
                    if (p.LastCheckpoint is { } id) sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_partition_last_checkpoint{{{labels}}} {id}");
                    sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_partition_records_read_total{{{labels}}} {p.RecordsRead}");
                }
            }
        }
        sb.AppendLine("# TYPE eddy_worker_rebalances_total counter");
        foreach (var j in jobs)
            foreach (var s in j.Stages)
                sb.AppendLine(CultureInfo.InvariantCulture, $"eddy_worker_rebalances_total{{job=\"{Escape(j.Name)}\",stage=\"{s.Index}\"}} {s.Member?.Rebalances.Count ?? 0}");
        return sb.ToString();
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
