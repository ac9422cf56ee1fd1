using System.CommandLine;
using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;

namespace Eddy.Cli;

/// <summary><c>eddy run job.sql</c> and <c>eddy explain job.sql</c>.</summary>
internal static class SqlCommands
{
    private static Option<string[]> SetOption() => new("--set", "-s")
    {
        Description = "Set an option as SET 'key' = 'value' does (repeatable): --set parallelism.default=3",
        AllowMultipleArgumentsPerToken = false,
    };

    internal static Option<string[]> UdfOption() => new("--udf")
    {
        Description = "A .NET assembly of user functions to load, as ADD JAR does (repeatable); its dependencies resolve from beside it",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Command Run(ConnectorRegistry connectors, TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<FileInfo>("file") { Description = "A SQL script: CREATE TABLE ..., SET ..., INSERT INTO ... (Flink SQL)." };
        var set = SetOption();
        var ui = new Option<bool>("--ui") { Description = "Also serve the dashboard and REST API while the jobs run (stays up after they end, until Ctrl-C)" };
        var port = new Option<int>("--port") { Description = "The dashboard's port with --ui", DefaultValueFactory = _ => 8081 };
        var fresh = new Option<bool>("--fresh")
        {
            Description = "Start over: delete the job's checkpoints instead of resuming from the latest one.",
        };
        var fromSavepoint = new Option<string?>("--from-savepoint")
        {
            Description = "Restore from this checkpoint or savepoint folder (chk-<id>), or the newest valid one of a checkpoints folder.",
        };
        var allowNonRestored = new Option<bool>("--allow-non-restored-state")
        {
            Description = "Drop state in the checkpoint that matches no operator of the job instead of failing.",
        };
        var udf = UdfOption();
        var command = new Command("run", "Run the statements of a SQL file on an in-process cluster; bounded jobs end with exit code 0. "
            + "A job resumes from its latest completed checkpoint unless --fresh.") { file, set, udf, fresh, fromSavepoint, allowNonRestored, ui, port };
        command.SetAction(async (result, cancel) =>
        {
            if (result.GetValue(fresh) && result.GetValue(fromSavepoint) is not null)
            {
                stderr.WriteLine("error: --fresh and --from-savepoint exclude each other (--fresh deletes the job's checkpoints)");
                return 1;
            }
            if (result.GetValue(ui))
            {
                return await RunWithDashboard(connectors, result.GetValue(file)!, result.GetValue(set), result.GetValue(udf), result.GetValue(port),
                    new ResumeOptions("", result.GetValue(fresh), result.GetValue(fromSavepoint), result.GetValue(allowNonRestored)),
                    stdout, stderr, cancel);
            }
            var session = NewSession(connectors, stdout, stderr, result.GetValue(set), out int code, result.GetValue(udf));
            if (session is null) return code;
            var path = result.GetValue(file)!;
            IReadOnlyList<SqlJob> jobs;
            try
            {
                jobs = session.Execute(File.ReadAllText(path.FullName), path.Name);
            }
            catch (Exception e) when (e is SqlParseException or FileNotFoundException or DirectoryNotFoundException or ConnectorOptionException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }
            finally
            {
                // Planning is done: the jobs hold the user code from here on, and the last to end unloads it.
                session.ReleaseUserCode();
            }
            if (jobs.Count == 0)
            {
                stderr.WriteLine("eddy run: the script defines no INSERT or query: nothing to run");
                return 0;
            }
            if (RefuseDistributed(jobs, "eddy run", stderr)) return 1;
            if (result.GetValue(fresh) && result.GetValue(fromSavepoint) is not null)
            {
                stderr.WriteLine("error: --fresh and --from-savepoint exclude each other (--fresh deletes the job's checkpoints)");
                return 1;
            }
            var running = new List<JobExecution>();
            string stem = Path.GetFileNameWithoutExtension(path.Name);
            for (int j = 0; j < jobs.Count; j++)
            {
                var job = jobs[j];
                try
                {
                    var execution = StartResumable(job, stem + (j == 0 ? "" : $"-{j + 1}"), result.GetValue(fresh),
                        result.GetValue(fromSavepoint), result.GetValue(allowNonRestored), stderr);
                    running.Add(execution);
                    stderr.WriteLine($"eddy run: job '{job.Name}' started ({execution.Plan.Chains.Count} tasks, "
                        + $"{execution.Plan.Chains.Sum(c => c.Parallelism)} subtasks)");
                }
                catch (Exception e) when (e is InvalidOperationException or ArgumentException)
                {
                    stderr.WriteLine($"error: job '{job.Name}': {e.Message}");
                    foreach (var r in running) r.Cancel();
                    await Task.WhenAll(running.Select(r => r.Completion));
                    foreach (var planned in jobs) planned.ReleaseUserCode();
                    return 1;
                }
            }
            using var registration = cancel.Register(() => running.ForEach(r => r.Cancel()));
            var results = await Task.WhenAll(running.Select(r => r.Completion));
            foreach (var job in jobs) job.ReleaseUserCode();
            for (int i = 0; i < results.Length; i++)
            {
                var r = results[i];
                stderr.WriteLine($"eddy run: job '{r.JobName}' {r.Status.ToString().ToLowerInvariant()} after {r.Duration.TotalSeconds:F1} s");
                foreach (var line in DroppedRecords(running[i].Metrics)) stderr.WriteLine($"eddy run: job '{r.JobName}': {line}");
                if (r.Failure is not null) stderr.WriteLine($"error: {Describe(r.Failure)}");
            }
            return results.Select(r => r.ExitCode).DefaultIfEmpty(0).Max();
        });
        return command;
    }

    /// <summary>
    /// Starts a job under its stable name (<c>pipeline.name</c>, else the SQL file's name): it resumes from the
    /// latest completed checkpoint of that name unless <paramref name="fresh"/> (which deletes them), and says from
    /// where it starts before anything else.
    /// </summary>
    private static JobExecution StartResumable(SqlJob job, string fileJobName, bool fresh, string? savepoint, bool allowNonRestored, TextWriter stderr)
    {
        var early = new List<string>();
        bool started = false;
        void Report(string message)
        {
            lock (early)
            {
                if (started) stderr.WriteLine(message);
                else early.Add(message);
            }
        }
        var execution = ResumableStart.Start(job, new ResumeOptions(fileJobName, fresh, savepoint, allowNonRestored, Report), out var note);
        if (note is not null) stderr.WriteLine("eddy run: " + note);
        lock (early)
        {
            foreach (var m in early) stderr.WriteLine(m);
            started = true;
        }
        return execution;
    }

    /// <summary>
    /// <c>eddy run --ui</c>: the script's jobs run in an in-process server with exactly the slots they need, whose
    /// dashboard and REST API serve on loopback; print sinks still print here.
    /// </summary>
    private static async Task<int> RunWithDashboard(ConnectorRegistry connectors, FileInfo path, string[]? sets, string[]? udfs, int port, ResumeOptions resume, TextWriter stdout,
        TextWriter stderr, CancellationToken cancel)
    {
        var session = NewSession(connectors, stdout, stderr, sets, out int code, udfs);
        if (session is null) return code;
        string text;
        int slots;
        try
        {
            text = File.ReadAllText(path.FullName);
            // Planned once here only to count the slots the jobs need; the server plans them again when submitted.
            var planned = session.Execute(text, path.Name);
            bool distributed = RefuseDistributed(planned, "eddy run --ui", stderr);
            slots = distributed ? 1 : Math.Max(1, planned.Sum(j => j.Environment.Plan().Chains.Max(c => c.Parallelism)));
            foreach (var j in planned) j.ReleaseUserCode();
            if (distributed) return 1;
        }
        catch (Exception e) when (e is SqlParseException or FileNotFoundException or DirectoryNotFoundException or ConnectorOptionException
            or InvalidOperationException or ArgumentException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        finally
        {
            session.ReleaseUserCode();
        }
        var options = new Dictionary<string, string>();
        foreach (var pair in (sets ?? []).Select(s => s.Split('=', 2))) options[pair[0].Trim()] = pair[1].Trim();
        Eddy.Server.EddyServer server;
        try
        {
            try
            {
                server = await Eddy.Server.EddyServer.StartAsync(
                    new Eddy.Server.ServerOptions { Connectors = connectors, Slots = slots, Port = port, PrintTo = TextWriter.Synchronized(stdout) }, cancel);
            }
            catch (Eddy.Server.PortInUseException) when (port != 0)
            {
                // The lab's server (or another run) holds the port: the dashboard takes a free one, printed below.
                stderr.WriteLine($"eddy run: port {port} is in use; the dashboard takes a free port instead (--port chooses one)");
                server = await Eddy.Server.EddyServer.StartAsync(
                    new Eddy.Server.ServerOptions { Connectors = connectors, Slots = slots, Port = 0, PrintTo = TextWriter.Synchronized(stdout) }, cancel);
            }
        }
        catch (Exception e) when (e is ArgumentException or IOException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        await using var serverScope = server;
        IReadOnlyList<Eddy.Server.ManagedJob> jobs;
        try
        {
            // Submitted under the file's name: each job resumes from its checkpoints exactly as eddy run does.
            jobs = server.Manager.Submit(text, path.Name, options, resume.SavepointPath is { } sp ? Path.GetFullPath(sp) : null,
                resume.AllowNonRestoredState, resume.Fresh, udfs is { Length: > 0 } ? Eddy.Server.UserAssemblies.InPlace(udfs) : null);
        }
        catch (Eddy.Server.SubmissionException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        stderr.WriteLine($"eddy run: dashboard on {server.Address} ({jobs.Count} job(s))");
        foreach (var j in jobs)
            if (j.StartNote is { } note) stderr.WriteLine("eddy run: " + note);
        using (cancel.Register(() => { foreach (var j in jobs) server.Manager.Cancel(j); }))
        {
            while (!jobs.All(j => Eddy.Server.JobStates.IsTerminal(j.State))) await Task.Delay(100, CancellationToken.None);
        }
        int exit = 0;
        foreach (var j in jobs)
        {
            stderr.WriteLine($"eddy run: job '{j.Name}' {j.State.ToLowerInvariant()} after {j.Duration.TotalSeconds:F1} s");
            foreach (var e in j.Exceptions) stderr.WriteLine($"error: {e.Message}");
            exit = Math.Max(exit, j.State switch { Eddy.Server.JobStates.Finished => 0, Eddy.Server.JobStates.Canceled => 130, _ => 1 });
        }
        if (!cancel.IsCancellationRequested)
        {
            stderr.WriteLine($"eddy run: the jobs have ended; the dashboard stays on {server.Address} until Ctrl-C");
            try
            {
                await Task.Delay(Timeout.Infinite, cancel);
            }
            catch (OperationCanceledException)
            {
            }
        }
        return exit;
    }

    public static Command Explain(ConnectorRegistry connectors, TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<FileInfo>("file") { Description = "A SQL script." };
        var set = SetOption();
        var udf = UdfOption();
        var distributed = new Option<bool>("--distributed")
        {
            Description = "Also show how workers run each job: its stages and the repartition topics (with their partition counts) between them.",
        };
        var command = new Command("explain", "Print the logical and physical plans of a SQL file's jobs (operators, parallelism, exchanges, watermarks).")
        {
            file, set, udf, distributed,
        };
        command.SetAction(result =>
        {
            var session = NewSession(connectors, stdout, stderr, result.GetValue(set), out int code, result.GetValue(udf));
            if (session is null) return code;
            // Planning shows the job; the checks against external systems (a PostgreSQL table) belong to the run.
            session.PlanOnly = true;
            var path = result.GetValue(file)!;
            try
            {
                var text = File.ReadAllText(path.FullName);
                var watch = System.Diagnostics.Stopwatch.StartNew();
                var jobs = session.Execute(text, path.Name);
                foreach (var job in jobs) job.Environment.Plan();
                stderr.WriteLine($"eddy explain: planned {jobs.Count} job(s) from {text.Split('\n').Length} lines in {watch.Elapsed.TotalMilliseconds:F0} ms");
                foreach (var job in jobs)
                {
                    stdout.WriteLine($"== Job: {job.Name} ==");
                    // Plans name tables and connectors, not their options; masking guards against a secret in a name.
                    stdout.WriteLine(SecretOptions.RedactText(SqlSession.Describe(job)));
                    if (result.GetValue(distributed))
                    {
                        stdout.WriteLine("== Stages (eddy worker) ==");
                        stdout.WriteLine(SecretOptions.RedactText(SqlSession.DescribeStages(job, session.RepartitionPartitions)));
                    }
                }
                return 0;
            }
            catch (Exception e) when (e is SqlParseException or FileNotFoundException or DirectoryNotFoundException or ConnectorOptionException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }

    internal static SqlSession? NewSession(ConnectorRegistry connectors, TextWriter stdout, TextWriter stderr, string[]? sets, out int code, string[]? udfs = null)
    {
        var session = new SqlSession(connectors, stdout, stderr);
        code = 0;
        foreach (var udf in udfs ?? [])
        {
            try
            {
                session.AddJar(udf);
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"error: --udf {udf}: {e.Message}");
                code = 2;
                session.ReleaseUserCode();
                return null;
            }
        }
        foreach (var s in sets ?? [])
        {
            int eq = s.IndexOf('=');
            if (eq <= 0)
            {
                stderr.WriteLine($"error: --set takes key=value, got '{s}'");
                code = 2;
                return null;
            }
            try
            {
                session.Set(s[..eq].Trim(), s[(eq + 1)..].Trim());
            }
            catch (FormatException e)
            {
                stderr.WriteLine($"error: --set {s}: {e.Message}");
                code = 2;
                return null;
            }
        }
        return session;
    }

    /// <summary>Per source task that left records out because it could not decode them: how many (none: no line).</summary>
    internal static IEnumerable<string> DroppedRecords(IReadOnlyList<SubtaskMetrics> metrics) =>
        metrics.GroupBy(m => m.TaskName)
            .Select(g => (Task: g.Key, Dropped: g.Sum(m => Volatile.Read(ref m.RecordsSkipped))))
            .Where(t => t.Dropped > 0)
            .Select(t => $"'{t.Task}' left out {t.Dropped} record(s) it could not decode (skipped by '*.ignore-parse-errors' or sent to the dead-letter topic)");

    /// <summary>
    /// A job planned with <c>execution.distributed</c> runs as workers of a Kafka consumer group, which one process
    /// running every partition is not: refused, located at the SET, naming what runs it. True when refused.
    /// </summary>
    internal static bool RefuseDistributed(IReadOnlyList<SqlJob> jobs, string command, TextWriter stderr)
    {
        var job = jobs.FirstOrDefault(j => j.Distributed);
        if (job is null) return false;
        string reason = $"job '{job.Name}' sets '{SqlSession.DistributedOption}' = 'true': it runs as workers of a Kafka consumer group, "
            + $"not in one process as {command} runs it; start it with `eddy worker FILE` or `eddy submit --distributed FILE` (a server hosting one worker)";
        stderr.WriteLine($"error: {job.RefuseDistributed?.Invoke(reason).Message ?? reason}");
        foreach (var j in jobs) j.ReleaseUserCode();
        return true;
    }

    /// <summary>A job failure as one readable line chain (task, then causes), without stack traces.</summary>
    internal static string Describe(Exception e)
    {
        var parts = new List<string>();
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (parts.Count == 0 || !parts[^1].Contains(x.Message, StringComparison.Ordinal)) parts.Add(x.Message);
        }
        return string.Join(" ← ", parts);
    }
}
