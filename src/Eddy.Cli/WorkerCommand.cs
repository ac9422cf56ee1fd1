using System.CommandLine;
using Eddy.Server.Worker;
using Eddy.Sql.Connectors;

namespace Eddy.Cli;

/// <summary>
/// <c>eddy worker job.sql</c>: one member of each job stage's consumer group, run by <see cref="DistributedWorker"/>
/// (the server runs the same for <c>eddy submit --distributed</c>); this command parses the arguments, serves the
/// worker's REST API and waits for SIGTERM/Ctrl-C (final checkpoints, then it leaves) or a failure.
/// </summary>
internal static class WorkerCommand
{
    /// <summary>How long a revoked partition's final checkpoint may take before it is handed over without one.</summary>
    internal static readonly TimeSpan FinalCheckpointTimeout = DistributedWorker.FinalCheckpointTimeout;

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
        var advertise = new Option<string?>("--advertise")
        {
            Description = "The address (http://host:port) other machines reach this worker's REST API at, written into the job's '<job>-workers' topic "
                + "where `eddy status` finds it (default: the bound address; with --bind 0.0.0.0 this host's first non-loopback IPv4 address). "
                + "Give it behind NAT or a container's port mapping",
        };
        var port = new Option<int>("--port") { Description = "The worker's REST API and metrics (GET /worker, /metrics, /healthz); 0 picks a free port", DefaultValueFactory = _ => 8081 };
        var set = new Option<string[]>("--set", "-s")
        {
            Description = "Set an option as SET 'key' = 'value' does (repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("worker", "Run the SQL file's jobs as one member of each job's Kafka consumer group: this process runs the partitions "
            + "the group gives it, each from its latest checkpoint in the shared checkpoint folder.") { file, groupId, checkpointDir, bind, advertise, port, set };
        command.SetAction(async (result, cancel) => await RunAsync(connectors, result.GetValue(file)!, result.GetValue(groupId), result.GetValue(checkpointDir),
            result.GetValue(bind)!, result.GetValue(advertise), result.GetValue(port), result.GetValue(set), stdout, stderr, cancel));
        return command;
    }

    private static async Task<int> RunAsync(ConnectorRegistry connectors, FileInfo path, string? groupId, string? checkpointDir, string bind, string? advertise, int port, string[]? sets,
        TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        var err = TextWriter.Synchronized(stderr);
        void Log(string line) => err.WriteLine($"eddy worker: {line}");
        Uri? advertised;
        try
        {
            Eddy.Server.EddyServer.ParseBind(bind);
            advertised = DistributedWorker.ParseAdvertise(advertise);
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
        DistributedWorker worker;
        try
        {
            worker = DistributedWorker.Plan(check, text, path.Name,
                () => SqlCommands.NewSession(connectors, stdout, err, sets, out _) ?? throw new InvalidOperationException("the --set options were refused"),
                groupId, checkpointDir, Log);
        }
        catch (WorkerSetupException e)
        {
            err.WriteLine($"error: {e.Message}");
            return 1;
        }
        if (worker.JobNames.Count == 0)
        {
            err.WriteLine("eddy worker: the script defines no INSERT: nothing to run");
            return 0;
        }

        WorkerEndpoint? endpoint = null;
        try
        {
            worker.ProbeTopics();
            try
            {
                endpoint = await WorkerEndpoint.StartAsync(bind, port, worker.Status, worker.Metrics, cancel);
            }
            catch (Eddy.Server.PortInUseException) when (port != 0)
            {
                Log($"port {port} is in use; the REST API takes a free port instead (--port chooses one)");
                endpoint = await WorkerEndpoint.StartAsync(bind, 0, worker.Status, worker.Metrics, cancel);
            }
            Log($"REST API on {endpoint.Address} (GET /worker, /metrics, /healthz)");
            // Announced in each job's directory topic, where `eddy status JOB --bootstrap-servers` finds every worker.
            var announced = DistributedWorker.Advertised(endpoint.Address, bind, advertised);
            if (advertised is not null) Log($"announced as {announced}");
            worker.Join(announced);

            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            using var registration = cancel.Register(() => stopped.TrySetResult());
            var first = await Task.WhenAny(stopped.Task, worker.Failed);
            if (first == stopped.Task)
            {
                Log("stopping: final checkpoints of every partition, then leaving the groups");
                await worker.StopAsync();
                Log("stopped");
                return 0;
            }
            err.WriteLine($"error: {SqlCommands.Describe(worker.Failed.Result)}");
            return 1;
        }
        catch (WorkerSetupException e)
        {
            err.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (Exception e) when (e is ArgumentException or IOException or InvalidOperationException or Confluent.Kafka.KafkaException)
        {
            err.WriteLine($"error: {e.Message}");
            return 1;
        }
        finally
        {
            worker.Dispose();
            if (endpoint is not null) await endpoint.DisposeAsync();
        }
    }
}
