using System.Net;
using Eddy.Cli;
using Eddy.Server;
using Eddy.Server.Worker;
using Eddy.Sql;
using Eddy.Sql.Distributed;
using YamlDotNet.RepresentationModel;

namespace Eddy.Tests;

/// <summary>
/// The deployments of docs/DEPLOYMENT.md against the code they start: the compose file's <c>distributed</c> profile and
/// the Kubernetes manifests in <c>deploy/k8s/</c>. Every <c>eddy</c> command line in them parses with the CLI's own
/// command tree; every <c>--set</c> names an option Eddy knows with a value it accepts; the SQL they run exists, plans
/// and passes <c>eddy worker</c>'s checks with the environment the container gives it; the ports they publish, probe and
/// serve are the worker's <c>--port</c>; the probe paths answer 200 from a real worker endpoint; the volumes,
/// ConfigMaps and Secret keys they use are defined.
/// </summary>
public sealed class DeploymentTests
{
    private static readonly string Root = FindRoot();

    private static string FindRoot()
    {
        string dir = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(dir, "Eddy.slnx"))) dir = Path.GetDirectoryName(dir) ?? throw new InvalidOperationException("no Eddy.slnx above the tests");
        return dir;
    }

    private static YamlMappingNode Load(string relative)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Path.Combine(Root, relative))) stream.Load(reader);
        Assert.True(stream.Documents.Count == 1, $"{relative}: expected one YAML document, found {stream.Documents.Count}");
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }

    private static YamlNode? Get(YamlNode node, params string[] path)
    {
        YamlNode? at = node;
        foreach (var key in path)
        {
            if (at is not YamlMappingNode map || !map.Children.TryGetValue(new YamlScalarNode(key), out at)) return null;
        }
        return at;
    }

    private static string Text(YamlNode? node) => node is YamlScalarNode { Value: { } v } ? v : throw new InvalidOperationException($"not a scalar: {node}");

    private static IEnumerable<YamlNode> Items(YamlNode? node) => node is YamlSequenceNode seq ? seq.Children : [];

    private static IEnumerable<(string Key, YamlNode Value)> Entries(YamlNode? node) =>
        node is YamlMappingNode map ? map.Children.Select(c => (Text(c.Key), c.Value)) : [];

    /// <summary>The image's entrypoint is <c>eddy</c> and it copies the repository's examples to /opt/eddy/examples.</summary>
    private static string ImagePath(string path)
    {
        string dockerfile = File.ReadAllText(Path.Combine(Root, "Dockerfile"));
        Assert.Contains("ENTRYPOINT [\"eddy\"]", dockerfile);
        Assert.Contains("COPY artifacts/publish/examples /opt/eddy/examples", dockerfile);
        Assert.StartsWith("/opt/eddy/examples/", path);
        return Path.Combine(Root, "examples", path["/opt/eddy/examples/".Length..]);
    }

    /// <summary>A worker command line as the real CLI parses it: its SQL file, --port, --bind, --checkpoint-dir and --set values.</summary>
    private sealed record WorkerLine(string File, int Port, string Bind, string? CheckpointDir, string[] Sets);

    private static WorkerLine ParseWorker(string where, IReadOnlyList<string> args)
    {
        var parsed = Program.BuildCommand(TextWriter.Null, TextWriter.Null).Parse([.. args]);
        Assert.True(parsed.Errors.Count == 0, $"{where}: 'eddy {string.Join(' ', args)}' does not parse: {string.Join("; ", parsed.Errors.Select(e => e.Message))}");
        Assert.Null(Program.UnknownOption(parsed));
        Assert.True(parsed.CommandResult.Command.Name == "worker", $"{where}: runs 'eddy {parsed.CommandResult.Command.Name}', expected 'eddy worker'");
        T? Value<T>(string name) => parsed.GetValue<T>(name);
        string file = parsed.CommandResult.Children.OfType<System.CommandLine.Parsing.ArgumentResult>().Single().Tokens.Single().Value;
        return new WorkerLine(file, Value<int>("--port"), Value<string>("--bind")!, Value<string?>("--checkpoint-dir"), Value<string[]>("--set") ?? []);
    }

    /// <summary>Plans the SQL as the worker does (with the container's environment) and runs the worker's checks on every job.</summary>
    private static void PlansUnderWorker(string where, string sql, string fileName, WorkerLine line, IReadOnlyDictionary<string, string> environment)
    {
        var err = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, err, name => environment.GetValueOrDefault(name)) { PlanOnly = true };
        try
        {
            foreach (var s in line.Sets)
            {
                int eq = s.IndexOf('=');
                Assert.True(eq > 0, $"{where}: --set {s} is not key=value");
                session.Set(s[..eq], s[(eq + 1)..]);
            }
            var jobs = session.Execute(sql, fileName);
            Assert.True(jobs.Count > 0, $"{where}: {fileName} defines no INSERT");
            foreach (var job in jobs)
            {
                WorkerJobCheck.Check(job, job.Name, session.RepartitionPartitions);
                job.ReleaseUserCode();
            }
        }
        finally
        {
            session.ReleaseUserCode();
        }
        Assert.True(!err.ToString().Contains("warning", StringComparison.OrdinalIgnoreCase), $"{where}: {err}");
    }

    /// <summary>Each path answers 200 from a real worker endpoint (the routes the worker serves).</summary>
    private static void Served(params string[] paths)
    {
        var endpoint = WorkerEndpoint.StartAsync("127.0.0.1", 0, () => new { Jobs = Array.Empty<object>() }, () => "").GetAwaiter().GetResult();
        try
        {
            using var http = new HttpClient { BaseAddress = endpoint.Address };
            foreach (var path in paths.Distinct())
            {
                var answer = http.GetAsync(path).GetAwaiter().GetResult();
                Assert.True(answer.StatusCode == HttpStatusCode.OK, $"GET {path} on a worker answers {(int)answer.StatusCode}");
            }
        }
        finally
        {
            endpoint.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
    }

    [Fact]
    public void The_compose_files_distributed_profile_starts_workers_the_cli_accepts()
    {
        var compose = Load("docker-compose.yml");
        var services = Entries(Get(compose, "services")).ToDictionary(e => e.Key, e => e.Value);
        var volumes = Entries(Get(compose, "volumes")).Select(e => e.Key).ToHashSet();
        var workers = services.Where(s => Items(Get(s.Value, "profiles")).Select(Text).Contains("distributed")
            && Items(Get(s.Value, "command")).Select(Text).FirstOrDefault() == "worker").ToList();
        Assert.True(workers.Count == 3, $"the distributed profile has {workers.Count} worker services, docs/DEPLOYMENT.md says three");
        var lines = new List<WorkerLine>();
        var hostPorts = new HashSet<string>();
        foreach (var (name, service) in workers)
        {
            Assert.Equal("eddy:local", Text(Get(service, "image")));
            var line = ParseWorker($"service {name}", [.. Items(Get(service, "command")).Select(Text)]);
            lines.Add(line);
            // Published ports reach the worker only when it listens beyond loopback, on the port it is given.
            Assert.False(EddyServer.IsLoopback(line.Bind), $"service {name}: --bind {line.Bind} is loopback, its published port reaches nothing");
            foreach (var mapping in Items(Get(service, "ports")).Select(Text))
            {
                var parts = mapping.Split(':');
                Assert.True(parts.Length == 2 && int.Parse(parts[1]) == line.Port, $"service {name}: port mapping {mapping} does not lead to --port {line.Port}");
                Assert.True(hostPorts.Add(parts[0]), $"service {name}: host port {parts[0]} is published twice");
            }
            // The checkpoint folder is on a named volume that every worker mounts.
            Assert.NotNull(line.CheckpointDir);
            var mounts = Items(Get(service, "volumes")).Select(Text).Select(v => v.Split(':')).ToList();
            var mount = mounts.FirstOrDefault(m => line.CheckpointDir!.StartsWith(m[1], StringComparison.Ordinal));
            Assert.True(mount is not null && volumes.Contains(mount[0]), $"service {name}: --checkpoint-dir {line.CheckpointDir} is not on a named volume");
            // SIGTERM's final checkpoints fit in the grace period.
            var grace = Text(Get(service, "stop_grace_period"));
            Assert.True(grace.EndsWith('s') && TimeSpan.FromSeconds(int.Parse(grace[..^1])) > WorkerCommand.FinalCheckpointTimeout,
                $"service {name}: stop_grace_period {grace} is not longer than a worker's final checkpoints ({WorkerCommand.FinalCheckpointTimeout.TotalSeconds} s)");
            foreach (var (dependency, _) in Entries(Get(service, "depends_on")))
                Assert.True(services.ContainsKey(dependency), $"service {name} depends on '{dependency}', which is not a service");
            var environment = Entries(Get(service, "environment")).ToDictionary(e => e.Key, e => Text(e.Value));
            string file = ImagePath(line.File);
            Assert.True(File.Exists(file), $"service {name}: {line.File} is not in the image ({file} does not exist)");
            PlansUnderWorker($"service {name}", File.ReadAllText(file), Path.GetFileName(file), line, environment);
        }
        // One group: every worker runs the same job with the same checkpoint folder.
        Assert.Single(lines.Select(l => (l.File, l.CheckpointDir, string.Join(' ', l.Sets))).Distinct());
        // The input topic exists with the partitions the workers divide before they start.
        var topics = services["topics"];
        Assert.Contains("rpk topic create web-traffic --partitions 12", string.Join(' ', Items(Get(topics, "command")).Select(Text)));
        foreach (var (name, service) in workers)
            Assert.Equal("service_completed_successfully", Text(Get(service, "depends_on", "topics", "condition")));
    }

    [Fact]
    public void The_kubernetes_manifests_start_workers_the_cli_accepts_with_probes_on_their_port()
    {
        var kustomization = Load("deploy/k8s/kustomization.yaml");
        var resources = Items(Get(kustomization, "resources")).Select(Text).ToList();
        var documents = resources.Select(r =>
        {
            Assert.True(File.Exists(Path.Combine(Root, "deploy/k8s", r)), $"kustomization.yaml names {r}, which does not exist");
            return Load(Path.Combine("deploy/k8s", r));
        }).ToList();
        YamlMappingNode Of(string kind) => documents.Single(d => Text(Get(d, "kind")) == kind);
        var configMap = Of("ConfigMap");
        var secret = Of("Secret");
        var deployment = Of("Deployment");
        var service = Of("Service");

        var pod = Get(deployment, "spec", "template")!;
        var labels = Entries(Get(pod, "metadata", "labels")).ToDictionary(e => e.Key, e => Text(e.Value));
        foreach (var (key, value) in Entries(Get(deployment, "spec", "selector", "matchLabels")))
            Assert.Equal(Text(value), labels.GetValueOrDefault(key));
        foreach (var (key, value) in Entries(Get(service, "spec", "selector")))
            Assert.True(labels.GetValueOrDefault(key) == Text(value), $"the Service selects {key}={Text(value)}, which the pods do not carry");

        var grace = int.Parse(Text(Get(pod, "spec", "terminationGracePeriodSeconds")));
        Assert.True(TimeSpan.FromSeconds(grace) > WorkerCommand.FinalCheckpointTimeout, $"terminationGracePeriodSeconds {grace} does not cover the final checkpoints");

        var podVolumes = Items(Get(pod, "spec", "volumes")).ToDictionary(v => Text(Get(v, "name")));
        var container = Assert.Single(Items(Get(pod, "spec", "containers")));
        var line = ParseWorker("the Deployment's container", [.. Items(Get(container, "args")).Select(Text)]);
        Assert.False(EddyServer.IsLoopback(line.Bind), $"--bind {line.Bind} is loopback: probes and the Service reach nothing");

        // Ports: the container port is --port; probes and the Service's target port lead to it.
        var ports = Items(Get(container, "ports")).ToDictionary(p => Get(p, "name") is { } n ? Text(n) : "", p => int.Parse(Text(Get(p, "containerPort"))));
        Assert.Contains(line.Port, ports.Values);
        int Resolve(YamlNode port) => int.TryParse(Text(port), out int n) ? n : ports[Text(port)];
        var probePaths = new List<string>();
        foreach (var probe in new[] { "livenessProbe", "readinessProbe" })
        {
            var get = Get(container, probe, "httpGet");
            Assert.True(get is not null, $"the container has no {probe} with httpGet");
            Assert.Equal(line.Port, Resolve(Get(get!, "port")!));
            probePaths.Add(Text(Get(get!, "path")));
        }
        foreach (var port in Items(Get(service, "spec", "ports")))
            Assert.Equal(line.Port, Resolve(Get(port, "targetPort")!));
        Served(probePaths.ToArray());

        // The SQL file is a key of the ConfigMap mounted where the command reads it.
        var data = Entries(Get(configMap, "data")).ToDictionary(e => e.Key, e => Text(e.Value));
        string? sql = null;
        foreach (var mount in Items(Get(container, "volumeMounts")))
        {
            var volume = podVolumes[Text(Get(mount, "name"))];
            string mountPath = Text(Get(mount, "mountPath")).TrimEnd('/') + "/";
            if (Get(volume, "configMap") is { } cm)
            {
                Assert.Equal(Text(Get(configMap, "metadata", "name")), Text(Get(cm, "name")));
                if (line.File.StartsWith(mountPath, StringComparison.Ordinal)) sql = data.GetValueOrDefault(line.File[mountPath.Length..]);
            }
        }
        Assert.True(sql is not null, $"{line.File} is no key of the ConfigMap '{Text(Get(configMap, "metadata", "name"))}' mounted in the container");

        // The environment: literal values, or keys of the Secret.
        var secretName = Text(Get(secret, "metadata", "name"));
        var secretKeys = Entries(Get(secret, "stringData")).Select(e => e.Key).Concat(Entries(Get(secret, "data")).Select(e => e.Key)).ToHashSet();
        var environment = new Dictionary<string, string>();
        foreach (var variable in Items(Get(container, "env")))
        {
            string name = Text(Get(variable, "name"));
            if (Get(variable, "valueFrom", "secretKeyRef") is { } reference)
            {
                Assert.Equal(secretName, Text(Get(reference, "name")));
                Assert.True(secretKeys.Contains(Text(Get(reference, "key"))), $"env {name} reads key {Text(Get(reference, "key"))}, which the Secret does not have");
                environment[name] = "from-the-secret";
            }
            else environment[name] = Text(Get(variable, "value"));
        }
        // Checkpoints go where every pod sees them: an object store (no pod volume holds them).
        Assert.True(line.CheckpointDir is not null && Eddy.Runtime.CheckpointStorages.IsRemote(line.CheckpointDir),
            $"--checkpoint-dir {line.CheckpointDir}: the Deployment's pods share no volume, so checkpoints must go to s3://");
        Eddy.Runtime.CheckpointStorages.Validate(line.CheckpointDir!);
        PlansUnderWorker("the ConfigMap's job.sql", sql!, "job.sql", line, environment);
    }
}
