using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Eddy.Server;
using Eddy.Sql.Connectors;

namespace Eddy.Cli;

/// <summary>
/// <c>eddy server</c> (the job manager, its REST API and dashboard) and the commands that talk to it over REST:
/// <c>submit</c>, <c>list</c>, <c>cancel</c>, <c>status</c>.
/// </summary>
internal static class ServerCommands
{
    public const string DefaultServer = "http://127.0.0.1:8081";

    private static Option<string> ServerOption() => new("--server")
    {
        Description = "The Eddy server's address",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("EDDY_SERVER") ?? DefaultServer,
    };

    private static Option<string?> TokenOption() => new("--token")
    {
        Description = "The server's token (default: the EDDY_TOKEN environment variable)",
    };

    public static Command Server(ConnectorRegistry connectors, TextWriter stdout, TextWriter stderr)
    {
        var slots = new Option<int>("--slots") { Description = "Task slots: a job holds as many as its highest parallelism", DefaultValueFactory = _ => Math.Max(2, Environment.ProcessorCount) };
        var port = new Option<int>("--port") { Description = "HTTP port of the REST API and dashboard", DefaultValueFactory = _ => 8081 };
        var bind = new Option<string>("--bind") { Description = "Address to listen on; anything but loopback needs a token", DefaultValueFactory = _ => "127.0.0.1" };
        var token = TokenOption();
        var udfDir = new Option<string?>("--udf-dir")
        {
            Description = "A folder of .NET function assemblies every job can use (as Flink's lib/); a relative ADD JAR path resolves here",
        };
        var config = new Option<string[]>("-D")
        {
            Description = "A configuration entry key=value, as Flink's -D (repeatable): metric reporters (metrics.reporters, metrics.reporter.<name>.*)",
            AllowMultipleArgumentsPerToken = false,
        };
        var advertise = new Option<string?>("--advertise")
        {
            Description = "The address (http://host:port) other machines reach this server at, written into a distributed job's '<job>-workers' topic "
                + "for the workers it hosts (default: the bound address; with --bind 0.0.0.0 this host's first non-loopback IPv4 address)",
        };
        var command = new Command("server", "Run the Eddy server: a job manager with task slots, a REST API and a live dashboard.") { slots, port, bind, advertise, token, udfDir, config };
        command.SetAction(async (result, cancel) =>
        {
            var entries = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var entry in result.GetValue(config) ?? [])
            {
                int eq = entry.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    stderr.WriteLine($"error: -D {entry}: expected key=value");
                    return 2;
                }
                entries[entry[..eq].Trim()] = entry[(eq + 1)..].Trim();
            }
            foreach (var key in entries.Keys.Where(k => !k.StartsWith("metrics.reporter", StringComparison.Ordinal)))
            {
                stderr.WriteLine($"error: -D {key}: not a server setting (the server takes metrics.reporters and metrics.reporter.<name>.*; job options go in SET or eddy submit --set)");
                return 2;
            }
            IReadOnlyList<OpenTelemetryReporterOptions> reporters;
            try
            {
                reporters = OpenTelemetryReporterOptions.Parse(entries);
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"error: -D {e.Message}");
                return 2;
            }
            var options = new ServerOptions
            {
                Connectors = connectors,
                Reporters = reporters,
                Slots = result.GetValue(slots),
                Port = result.GetValue(port),
                Bind = result.GetValue(bind)!,
                Advertise = AdvertiseOrNull(result.GetValue(advertise), stderr, out bool badAdvertise),
                Token = result.GetValue(token) ?? Environment.GetEnvironmentVariable("EDDY_TOKEN"),
                Log = TextWriter.Synchronized(stderr),
                UdfDirectory = result.GetValue(udfDir),
            };
            if (badAdvertise) return 2;
            if (options.Slots < 1)
            {
                stderr.WriteLine("error: --slots must be at least 1");
                return 2;
            }
            bool generated = false;
            try
            {
                if (string.IsNullOrEmpty(options.Token) && !System.Net.IPAddress.IsLoopback(EddyServer.ParseBind(options.Bind)))
                {
                    // Reachable beyond this machine: never without a token; a generated one is printed once, below.
                    options = options with { Token = EddyServer.NewToken() };
                    generated = true;
                }
            }
            catch (ArgumentException e)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 2;
            }
            EddyServer server;
            try
            {
                server = await EddyServer.StartAsync(options, cancel);
            }
            catch (Exception e) when (e is ArgumentException or IOException)
            {
                stderr.WriteLine($"error: {e.Message}");
                return 2;
            }
            await using (server)
            {
                stderr.WriteLine($"eddy server: {options.Slots} task slots; dashboard and REST API on {server.Address}"
                    + (string.IsNullOrEmpty(options.Token) ? "" : " (token required)"));
                if (generated)
                    stderr.WriteLine($"eddy server: no --token or EDDY_TOKEN given, so this one was generated: {options.Token}");
                try
                {
                    await Task.Delay(Timeout.Infinite, cancel);
                }
                catch (OperationCanceledException)
                {
                }
                stderr.WriteLine("eddy server: stopping; running jobs are cancelled");
            }
            return 0;
        });
        return command;
    }

    public static Command Submit(TextWriter stdout, TextWriter stderr)
    {
        var file = new Argument<FileInfo>("file") { Description = "A SQL script (Flink SQL)." };
        var set = new Option<string[]>("--set", "-s") { Description = "Set an option as SET 'key' = 'value' does (repeatable)", AllowMultipleArgumentsPerToken = false };
        var detach = new Option<bool>("--detach", "-d") { Description = "Return once submitted instead of waiting for the job to end" };
        var server = ServerOption();
        var token = TokenOption();
        var fromSavepoint = new Option<string?>("--from-savepoint")
        {
            Description = "Start from this savepoint or checkpoint folder (a path on the server) instead of the job's latest checkpoint",
        };
        var allowNonRestored = new Option<bool>("--allow-non-restored-state") { Description = "With --from-savepoint: skip state of operators the job no longer has" };
        var udf = SqlCommands.UdfOption();
        udf.Description = "A .NET assembly of user functions to upload with the script and load for its jobs (repeatable); "
            + "the dependencies its .deps.json lists are uploaded from beside it";
        var distributed = new Option<bool>("--distributed")
        {
            Description = "Run the jobs as `eddy worker` would: the server hosts one member of each job's Kafka consumer groups, sharing the partitions "
                + "with workers elsewhere (as SET 'execution.distributed' = 'true'); eddy cancel stops it with final checkpoints",
        };
        var command = new Command("submit", "Submit a SQL script to an Eddy server; waits for its jobs to end unless --detach. "
            + "A job resumes from its latest completed checkpoint, as with eddy run.") { file, set, udf, detach, distributed, fromSavepoint, allowNonRestored, server, token };
        command.SetAction(async (result, cancel) =>
        {
            var path = result.GetValue(file)!;
            if (!path.Exists)
            {
                stderr.WriteLine($"error: {path.FullName}: no such file");
                return 1;
            }
            var options = new Dictionary<string, string>();
            foreach (var s in result.GetValue(set) ?? [])
            {
                int eq = s.IndexOf('=');
                if (eq <= 0)
                {
                    stderr.WriteLine($"error: --set takes key=value, got '{s}'");
                    return 2;
                }
                options[s[..eq].Trim()] = s[(eq + 1)..].Trim();
            }
            JsonArray uploads;
            try
            {
                uploads = UdfUploads.Collect(result.GetValue(udf) ?? []);
            }
            catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"error: --udf: {e.Message}");
                return 2;
            }
            using var client = Client(result.GetValue(server)!, result.GetValue(token));
            return await Call(client, stderr, async () =>
            {
                var body = new JsonObject
                {
                    ["sql"] = await File.ReadAllTextAsync(path.FullName, cancel),
                    ["file-name"] = path.Name,
                    ["options"] = new JsonObject(options.Select(o => KeyValuePair.Create(o.Key, (JsonNode?)o.Value))),
                    ["allow-non-restored-state"] = result.GetValue(allowNonRestored),
                    ["distributed"] = result.GetValue(distributed),
                };
                if (uploads.Count > 0) body["udfs"] = uploads;
                if (result.GetValue(fromSavepoint) is { } savepoint) body["savepoint-path"] = Path.GetFullPath(savepoint);
                var response = await client.PostAsJsonAsync("jobs", body, cancel);
                var json = await Read(response, cancel);
                var ids = json["jobids"]!.AsArray().Select(i => i!.GetValue<string>()).ToList();
                foreach (var job in json["jobs"]!.AsArray())
                {
                    stdout.WriteLine($"submitted job '{job!["name"]}' ({job["jid"]}): {job["state"]}"
                        + (job["wait-reason"] is { } reason ? $" — {reason}" : ""));
                }
                foreach (var job in json["distributed-jobs"]?.AsArray() ?? [])
                {
                    stdout.WriteLine($"submitted job '{job!["name"]}' ({job["jid"]}): {job["state"]}, distributed: this server runs one worker of its groups "
                        + $"(announced as {job["worker-address"]}; eddy status {job["name"]} --bootstrap-servers ... shows every worker)");
                }
                if (result.GetValue(detach)) return 0;
                int code = 0;
                foreach (var id in ids)
                {
                    JsonNode final;
                    try
                    {
                        final = await WaitForEnd(client, id, cancel);
                    }
                    catch (OperationCanceledException)
                    {
                        stderr.WriteLine($"eddy submit: stopped waiting; the job keeps running on the server (eddy cancel {id})");
                        return 130;
                    }
                    string state = final["state"]!.GetValue<string>();
                    stderr.WriteLine($"eddy submit: job '{final["name"]}' {state.ToLowerInvariant()} after {Seconds(final["duration"])} s");
                    code = Math.Max(code, state switch { JobStates.Finished => 0, JobStates.Canceled => 130, _ => 1 });
                    if (state == JobStates.Failed)
                    {
                        var exceptions = await Read(await client.GetAsync($"jobs/{id}/exceptions", cancel), cancel);
                        foreach (var e in exceptions["exception-history"]!.AsArray()) stderr.WriteLine($"error: {e!["message"]}");
                    }
                }
                return code;
            });
        });
        return command;
    }

    public static Command List(TextWriter stdout, TextWriter stderr)
    {
        var server = ServerOption();
        var token = TokenOption();
        var command = new Command("list", "List the jobs of an Eddy server.") { server, token };
        command.SetAction(async (result, cancel) =>
        {
            using var client = Client(result.GetValue(server)!, result.GetValue(token));
            return await Call(client, stderr, async () =>
            {
                var overview = await Read(await client.GetAsync("overview", cancel), cancel);
                var jobs = await Read(await client.GetAsync("jobs/overview", cancel), cancel);
                stdout.WriteLine($"task slots: {overview["slots-available"]} of {overview["slots-total"]} free");
                var rows = jobs["jobs"]!.AsArray().Select(j => new[]
                {
                    j!["jid"]!.GetValue<string>(), j["name"]!.GetValue<string>(), j["state"]!.GetValue<string>(),
                    j["slots"]!.ToString(), Seconds(j["duration"]) + " s",
                    j["wait-reason"]?.GetValue<string>() ?? (j["findings"]!.GetValue<int>() > 0 ? "see eddy status" : ""),
                }).ToList();
                // A distributed job has no slots here: the server runs one worker of its groups, beside the others.
                var distributed = await Read(await client.GetAsync("distributed-jobs", cancel), cancel);
                rows.AddRange(distributed["jobs"]!.AsArray().Select(j => new[]
                {
                    j!["jid"]!.GetValue<string>(), j["name"]!.GetValue<string>(), j["state"]!.GetValue<string>(), "-",
                    Seconds(j["duration"]) + " s",
                    $"distributed: {j["partitions-owned"]} partitions on this worker (eddy status {j["name"]} --bootstrap-servers ... for all)",
                }));
                if (rows.Count == 0) stdout.WriteLine("no jobs");
                else Table(stdout, ["ID", "NAME", "STATE", "SLOTS", "DURATION", "NOTES"], rows);
                foreach (var w in overview["warnings"]!.AsArray()) stdout.WriteLine($"warning: {w}");
                return 0;
            });
        });
        return command;
    }

    public static Command Cancel(TextWriter stdout, TextWriter stderr)
    {
        var job = new Argument<string>("job") { Description = "The job's id or name." };
        var server = ServerOption();
        var token = TokenOption();
        var command = new Command("cancel", "Cancel a job on an Eddy server.") { job, server, token };
        command.SetAction(async (result, cancel) =>
        {
            using var client = Client(result.GetValue(server)!, result.GetValue(token));
            string name = result.GetValue(job)!;
            return await Call(client, stderr, async () =>
            {
                var response = await client.PatchAsync($"jobs/{Uri.EscapeDataString(name)}?mode=cancel", null, cancel);
                if (response.StatusCode == HttpStatusCode.Conflict)
                {
                    stderr.WriteLine($"eddy cancel: {(await Read(response, cancel, allowError: true))["errors"]![0]}");
                    return 1;
                }
                await Read(response, cancel);
                var final = await WaitForEnd(client, name, cancel);
                stdout.WriteLine($"job '{final["name"]}' ({final["jid"]}): {final["state"]}");
                return 0;
            });
        });
        return command;
    }

    public static Command Savepoint(TextWriter stdout, TextWriter stderr)
    {
        var job = new Argument<string>("job") { Description = "The job's id or name." };
        var dir = new Option<string?>("--dir") { Description = "Folder (on the server) to write the savepoint under (default: the job folder's savepoints)" };
        var server = ServerOption();
        var token = TokenOption();
        var command = new Command("savepoint", "Take a savepoint of a running job on an Eddy server and print its path.") { job, dir, server, token };
        command.SetAction((result, cancel) => TakeSavepoint(result.GetValue(server)!, result.GetValue(token), result.GetValue(job)!,
            result.GetValue(dir), stop: false, "eddy savepoint", stdout, stderr, cancel));
        return command;
    }

    public static Command Stop(TextWriter stdout, TextWriter stderr)
    {
        var job = new Argument<string>("job") { Description = "The job's id or name." };
        var savepoint = new Option<bool>("--savepoint") { Description = "Take a savepoint first; the job is cancelled only once it is written" };
        var dir = new Option<string?>("--dir") { Description = "With --savepoint: folder (on the server) to write it under" };
        var server = ServerOption();
        var token = TokenOption();
        var command = new Command("stop", "Stop a job on an Eddy server: with --savepoint, savepoint then cancel (resume it with "
            + "eddy submit --from-savepoint); without, the same as eddy cancel.") { job, savepoint, dir, server, token };
        command.SetAction(async (result, cancel) =>
        {
            if (!result.GetValue(savepoint))
            {
                if (result.GetValue(dir) is not null)
                {
                    stderr.WriteLine("error: --dir needs --savepoint");
                    return 2;
                }
                return await Cancel(stdout, stderr).Parse([result.GetValue(job)!, "--server", result.GetValue(server)!,
                    .. result.GetValue(token) is { } t ? new[] { "--token", t } : []]).InvokeAsync(cancellationToken: cancel);
            }
            return await TakeSavepoint(result.GetValue(server)!, result.GetValue(token), result.GetValue(job)!, result.GetValue(dir),
                stop: true, "eddy stop", stdout, stderr, cancel);
        });
        return command;
    }

    private static async Task<int> TakeSavepoint(string serverAddress, string? token, string name, string? dir, bool stop, string verb,
        TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        using var client = Client(serverAddress, token);
        // A savepoint waits for every task's barrier; the server answers when it is written (at most the checkpoint timeout).
        client.Timeout = TimeSpan.FromMinutes(11);
        return await Call(client, stderr, async () =>
        {
            var body = new JsonObject();
            if (dir is not null) body["target-directory"] = Path.GetFullPath(dir);
            var response = await client.PostAsJsonAsync($"jobs/{Uri.EscapeDataString(name)}/{(stop ? "stop" : "savepoints")}", body, cancel);
            var json = await Read(response, cancel, allowError: response.StatusCode == HttpStatusCode.InternalServerError);
            if (json["status"]?.GetValue<string>() != "COMPLETED")
            {
                stderr.WriteLine($"{verb}: the savepoint failed: {json["failure-cause"]}" + (stop ? "; the job keeps running" : ""));
                return 1;
            }
            stdout.WriteLine(json["location"]!.GetValue<string>());
            if (stop)
            {
                var final = await WaitForEnd(client, name, cancel);
                stderr.WriteLine($"{verb}: savepoint {json["id"]} written; job '{final["name"]}' ({final["jid"]}): {final["state"]}");
            }
            else
            {
                stderr.WriteLine($"{verb}: savepoint {json["id"]} written");
            }
            return 0;
        });
    }

    public static Command Status(TextWriter stdout, TextWriter stderr)
    {
        var job = new Argument<string>("job") { Description = "The job's id or name." };
        var server = ServerOption();
        var token = TokenOption();
        var bootstrap = new Option<string?>("--bootstrap-servers")
        {
            Description = "A job run by `eddy worker` processes: find its workers through Kafka (the job's '<job>-workers' topic) and show them "
                + "together: partitions per worker and stage, lag and last checkpoint per partition, rebalances",
        };
        var worker = new Option<string?>("--worker")
        {
            Description = "A job run by workers: ask the one worker at this REST address (http://host:port) directly, no broker needed; "
                + "shows that worker's partitions only",
        };
        var set = new Option<string[]>("--set", "-s")
        {
            Description = "With --bootstrap-servers: a Kafka client setting as a table's WITH clause names it, properties.KEY=VALUE "
                + "(security.protocol, sasl.*, ssl.*; repeatable)",
            AllowMultipleArgumentsPerToken = false,
        };
        var propertiesFile = new Option<string?>("--properties-file")
        {
            Description = "With --bootstrap-servers: Kafka client settings, one key=value a line (as Kafka's --command-config); --set wins",
        };
        var json = new Option<bool>("--json") { Description = "With --bootstrap-servers or --worker: the whole-job view as JSON" };
        var command = new Command("status", "Show a job's state, operators, rates, watermarks and the diagnosis of a stalled window "
            + "(of the server's job, or with --bootstrap-servers or --worker of a job run by workers).") { job, server, token, bootstrap, worker, set, propertiesFile, json };
        command.SetAction(async (result, cancel) =>
        {
            if (result.GetValue(bootstrap) is not null && result.GetValue(worker) is not null)
            {
                stderr.WriteLine("error: --bootstrap-servers and --worker exclude each other (the whole job through Kafka, or one worker directly)");
                return 2;
            }
            if (result.GetValue(worker) is { } address)
            {
                if (!Uri.TryCreate(address, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                {
                    stderr.WriteLine($"error: --worker takes the worker's REST address, http://host:port, got '{address}'");
                    return 2;
                }
                return await WorkerStatus.ShowAsync(result.GetValue(job)!, null, new Dictionary<string, string>(), url, StatusToken(result.GetValue(token)), result.GetValue(json),
                    stdout, stderr, cancel);
            }
            if (result.GetValue(bootstrap) is { } servers)
            {
                Dictionary<string, string> properties;
                try
                {
                    properties = WorkerStatus.ClientProperties(result.GetValue(propertiesFile), result.GetValue(set));
                }
                catch (FormatException e)
                {
                    stderr.WriteLine($"error: {e.Message}");
                    return 2;
                }
                return await WorkerStatus.ShowAsync(result.GetValue(job)!, servers, properties, null, StatusToken(result.GetValue(token)), result.GetValue(json),
                    stdout, stderr, cancel);
            }
            if (result.GetValue(set) is { Length: > 0 } || result.GetValue(propertiesFile) is not null)
            {
                stderr.WriteLine("error: --set and --properties-file are Kafka client settings for --bootstrap-servers");
                return 2;
            }
            using var client = Client(result.GetValue(server)!, result.GetValue(token));
            return await Call(client, stderr, async () =>
            {
                var j = await Read(await client.GetAsync($"jobs/{Uri.EscapeDataString(result.GetValue(job)!)}", cancel), cancel);
                if (j["distributed"]?.GetValue<bool>() == true)
                {
                    // A job the server hosts a worker of: its whole-job view (every worker), as --bootstrap-servers shows it.
                    stdout.WriteLine($"job '{j["name"]}' ({j["jid"]}): {j["state"]}, distributed: this server runs one worker of it");
                    if (j["failure"]?.GetValue<string>() is { } failure) stdout.WriteLine($"failed: {failure}");
                    if (j["state"]!.GetValue<string>() != JobStates.Running) return 0;
                    var whole = await Read(await client.GetAsync($"distributed-jobs/{Uri.EscapeDataString(j["jid"]!.GetValue<string>())}/status", cancel), cancel);
                    WorkerStatus.Print(whole.AsObject(), stdout);
                    return 0;
                }
                stdout.WriteLine($"job '{j["name"]}' ({j["jid"]}): {j["state"]}, {Seconds(j["duration"])} s, {j["slots"]} slot(s)");
                if (j["wait-reason"] is { } reason) stdout.WriteLine($"waiting: {reason}");
                var rows = j["vertices"]!.AsArray().Select(v =>
                {
                    var m = v!["metrics"]!;
                    return new[]
                    {
                        v["id"]!.ToString(), v["name"]!.GetValue<string>(), v["parallelism"]!.ToString(),
                        m["read-records"]!.ToString(), m["write-records"]!.ToString(),
                        Rate(m["records-in-per-second"]), Rate(m["records-out-per-second"]),
                        m["busy-time-ms-per-second"]!.ToString(), m["back-pressured-time-ms-per-second"]!.ToString(),
                        m["watermark"] is { } w ? DateTimeOffset.FromUnixTimeMilliseconds(w.GetValue<long>()).ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) : "-",
                    };
                }).ToList();
                Table(stdout, ["ID", "VERTEX", "P", "IN", "OUT", "IN/S", "OUT/S", "BUSY‰", "BACKPRESSURED‰", "WATERMARK"], rows);
                foreach (var f in j["diagnosis"]!.AsArray()) stdout.WriteLine($"{f!["severity"]}: {f["message"]}");
                foreach (var w in j["warnings"]!.AsArray()) stdout.WriteLine($"warning: {w}");
                var exceptions = await Read(await client.GetAsync($"jobs/{j["jid"]}/exceptions", cancel), cancel);
                foreach (var e in exceptions["exception-history"]!.AsArray())
                    stdout.WriteLine($"exception{(e!["task-name"] is { } t ? $" in {t}" : "")}: {e["message"]}");
                return 0;
            });
        });
        return command;
    }

    private static HttpClient Client(string server, string? token)
    {
        var client = new HttpClient { BaseAddress = new Uri(server.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(30) };
        token ??= Environment.GetEnvironmentVariable("EDDY_TOKEN");
        if (!string.IsNullOrEmpty(token)) client.DefaultRequestHeaders.Authorization = new("Bearer", token);
        return client;
    }

    private sealed class ApiError(string message) : Exception(message);

    private static async Task<int> Call(HttpClient client, TextWriter stderr, Func<Task<int>> action)
    {
        try
        {
            return await action();
        }
        catch (ApiError e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        catch (HttpRequestException e)
        {
            stderr.WriteLine($"error: no Eddy server answers at {client.BaseAddress} ({e.Message}): start one with 'eddy server' or pass --server");
            return 1;
        }
    }

    private static async Task<JsonNode> Read(HttpResponseMessage response, CancellationToken cancel, bool allowError = false)
    {
        var text = await response.Content.ReadAsStringAsync(cancel);
        JsonNode? json = null;
        try
        {
            json = text.Length > 0 ? JsonNode.Parse(text) : new JsonObject();
        }
        catch (JsonException)
        {
        }
        if (!response.IsSuccessStatusCode && !allowError)
        {
            var message = json?["errors"]?.AsArray().FirstOrDefault()?.ToString() ?? $"{(int)response.StatusCode} {response.ReasonPhrase}";
            throw new ApiError(message);
        }
        return json ?? throw new ApiError($"the server answered {(int)response.StatusCode} with something that is not JSON");
    }

    private static async Task<JsonNode> WaitForEnd(HttpClient client, string id, CancellationToken cancel)
    {
        while (true)
        {
            var job = await Read(await client.GetAsync($"jobs/{Uri.EscapeDataString(id)}", cancel), cancel);
            if (JobStates.IsTerminal(job["state"]!.GetValue<string>())) return job;
            await Task.Delay(250, cancel);
        }
    }

    private static Uri? AdvertiseOrNull(string? value, TextWriter stderr, out bool bad)
    {
        bad = false;
        try
        {
            return Eddy.Server.Worker.DistributedWorker.ParseAdvertise(value);
        }
        catch (ArgumentException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            bad = true;
            return null;
        }
    }

    /// <summary>The token sent to workers: a server hosting one requires it, plain workers ignore it.</summary>
    private static string? StatusToken(string? given) => given ?? Environment.GetEnvironmentVariable("EDDY_TOKEN");

    private static string Seconds(JsonNode? ms) => ((ms?.GetValue<long>() ?? 0) / 1000.0).ToString("F1", CultureInfo.InvariantCulture);

    private static string Rate(JsonNode? n) => (n?.GetValue<double>() ?? 0).ToString("N0", CultureInfo.InvariantCulture);

    private static void Table(TextWriter output, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var r in rows) output.WriteLine(string.Join("  ", r.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }
}
