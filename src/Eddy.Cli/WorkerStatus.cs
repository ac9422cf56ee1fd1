using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Eddy.Connectors.Kafka.Group;

namespace Eddy.Cli;

/// <summary>
/// <c>eddy status JOB --bootstrap-servers ...</c>: one view of a job run by <c>eddy worker</c> processes. The workers
/// are found in the job's directory topic (<see cref="WorkerDirectory"/>), each is asked for its <c>GET /worker</c>, and
/// the answers are put together: the workers, the partitions each owns per stage, the consumer lag and the last
/// checkpoint per partition, the rebalances each saw with their durations, and the partitions no reachable worker owns
/// (a killed worker's, until the group gives them to another).
/// </summary>
internal static class WorkerStatus
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static async Task<int> ShowAsync(string job, string bootstrapServers, bool json, TextWriter stdout, TextWriter stderr, CancellationToken cancel)
    {
        IReadOnlyList<WorkerAnnouncement> workers;
        try
        {
            workers = WorkerDirectory.Read(bootstrapServers, new Dictionary<string, string>(), job);
        }
        catch (Exception e) when (e is InvalidOperationException or Confluent.Kafka.KafkaException)
        {
            stderr.WriteLine($"error: {e.Message}");
            return 1;
        }
        if (workers.Count == 0)
        {
            stderr.WriteLine($"error: no worker of job '{job}' is announced in '{WorkerDirectory.TopicName(job)}' at '{bootstrapServers}' "
                + "(none started, or every one stopped; the job name is its pipeline.name)");
            return 1;
        }

        using var http = new HttpClient { Timeout = AskTimeout };
        var asked = await Task.WhenAll(workers.Select(async w =>
        {
            try
            {
                var text = await http.GetStringAsync(w.Address + "/worker", cancel);
                var jobs = JsonNode.Parse(text)?["jobs"]?.AsArray();
                var mine = jobs?.FirstOrDefault(j => j?["job"]?.GetValue<string>() == job);
                return (Worker: w, View: mine, Error: mine is null ? $"its /worker does not list job '{job}'" : null);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                return (Worker: w, View: (JsonNode?)null, Error: $"does not answer: {e.Message}");
            }
        }));

        var workerViews = new JsonArray();
        var partitionViews = new List<JsonObject>();
        var rebalanceViews = new JsonArray();
        var topics = new SortedDictionary<int, (string Topic, int Count)>();
        foreach (var (w, view, error) in asked)
        {
            var stages = new JsonArray();
            foreach (var stage in Stages(view))
            {
                int index = stage["stage"]?.GetValue<int>() ?? 0;
                string topic = stage["topic"]?.GetValue<string>() ?? "";
                if (stage["partition-count"] is { } count) topics[index] = (topic, count.GetValue<int>());
                else if (!topics.ContainsKey(index)) topics[index] = (topic, 0);
                var owned = new JsonArray();
                foreach (var p in stage["partitions"]?.AsArray() ?? [])
                {
                    owned.Add(p!["partition"]!.GetValue<int>());
                    partitionViews.Add(new JsonObject
                    {
                        ["stage"] = index,
                        ["partition"] = p["partition"]!.GetValue<int>(),
                        ["worker"] = w.Worker,
                        ["state"] = p["state"]?.GetValue<string>(),
                        ["lag"] = p["lag"]?.DeepClone(),
                        ["checkpointed-offset"] = p["checkpointed-offset"]?.DeepClone(),
                        ["end-offset"] = p["end-offset"]?.DeepClone(),
                        ["last-checkpoint"] = p["last-checkpoint"]?.DeepClone(),
                        ["last-checkpoint-at"] = p["last-checkpoint-at"]?.DeepClone(),
                        ["records-read"] = p["records-read"]?.DeepClone(),
                    });
                }
                stages.Add(new JsonObject { ["stage"] = index, ["topic"] = topic, ["group"] = stage["group"]?.DeepClone(), ["partitions"] = owned });
                foreach (var r in stage["rebalances"]?.AsArray() ?? [])
                {
                    rebalanceViews.Add(new JsonObject
                    {
                        ["worker"] = w.Worker, ["stage"] = index, ["at"] = r!["at"]?.DeepClone(), ["kind"] = r["kind"]?.DeepClone(),
                        ["partitions"] = r["partitions"]?.DeepClone(), ["duration-ms"] = r["duration-ms"]?.DeepClone(),
                    });
                }
            }
            workerViews.Add(new JsonObject
            {
                ["worker"] = w.Worker, ["topic"] = w.Topic, ["address"] = w.Address, ["host"] = w.Host, ["pid"] = w.ProcessId,
                ["started-at"] = w.StartedAt, ["announced-at"] = w.At, ["reachable"] = error is null, ["error"] = error, ["stages"] = stages,
            });
        }

        // Stage 0's topic is in the announcements, for when no worker answers; a later stage's is known from a worker that does.
        if (!topics.ContainsKey(0)) topics[0] = (workers[0].Topic, 0);
        // Partitions of each stage's topic that no reachable worker owns now.
        var unowned = new JsonArray();
        try
        {
            var counts = TopicCounts(bootstrapServers, topics.Values.Select(t => t.Topic).Where(t => t.Length > 0).Distinct().ToList());
            foreach (var (stage, (topic, _)) in topics)
            {
                if (!counts.TryGetValue(topic, out int n)) continue;
                var owned = partitionViews.Where(p => p["stage"]!.GetValue<int>() == stage).Select(p => p["partition"]!.GetValue<int>()).ToHashSet();
                foreach (int p in Enumerable.Range(0, n).Where(p => !owned.Contains(p))) unowned.Add(new JsonObject { ["stage"] = stage, ["partition"] = p });
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Confluent.Kafka.KafkaException)
        {
            stderr.WriteLine($"warning: the topics' partition counts could not be read ({e.Message}): partitions nobody owns are not listed");
        }

        var whole = new JsonObject
        {
            ["job"] = job,
            ["directory"] = WorkerDirectory.TopicName(job),
            ["workers"] = workerViews,
            ["partitions"] = new JsonArray([.. partitionViews.OrderBy(p => p["stage"]!.GetValue<int>()).ThenBy(p => p["partition"]!.GetValue<int>())]),
            ["unowned"] = unowned,
            ["rebalances"] = rebalanceViews,
        };
        if (json)
        {
            stdout.WriteLine(whole.ToJsonString(Indented));
            return 0;
        }
        Print(whole, stdout);
        return 0;
    }

    /// <summary>A worker's view of the job per stage: its <c>stages</c> when it lists them, else the job's own fields as stage 0.</summary>
    private static IEnumerable<JsonNode> Stages(JsonNode? view)
    {
        if (view is null) yield break;
        if (view["stages"] is JsonArray stages && stages.Count > 0)
        {
            foreach (var s in stages)
            {
                // A stage lists its tasks as "tasks" and its partition count as "partitions".
                var copy = s!.DeepClone().AsObject();
                if (copy["tasks"] is JsonArray tasks)
                {
                    if (copy["partitions"] is JsonValue count) copy["partition-count"] = count.DeepClone();
                    copy["partitions"] = tasks.DeepClone();
                }
                yield return copy;
            }
            yield break;
        }
        yield return view;
    }

    private static Dictionary<string, int> TopicCounts(string bootstrapServers, IReadOnlyList<string> topics)
    {
        if (topics.Count == 0) return [];
        using var probe = new KafkaTopicProbe(bootstrapServers, new Dictionary<string, string>());
        return new Dictionary<string, int>(probe.PartitionCounts(topics));
    }

    private static void Print(JsonObject whole, TextWriter stdout)
    {
        string Text(JsonNode? n) => n switch
        {
            null => "-",
            JsonValue v when v.TryGetValue(out string? s) => s ?? "-",
            _ => n.ToJsonString(),
        };
        stdout.WriteLine($"job '{Text(whole["job"])}': {whole["workers"]!.AsArray().Count} worker(s) in '{Text(whole["directory"])}'");
        Table(stdout, ["WORKER", "ADDRESS", "STATE", "STAGE", "PARTITIONS"], [.. whole["workers"]!.AsArray().SelectMany(w =>
        {
            var stages = w!["stages"]!.AsArray();
            string state = w["reachable"]!.GetValue<bool>() ? "up" : "unreachable: " + Text(w["error"]);
            if (stages.Count == 0) return new[] { new[] { Text(w["worker"]), Text(w["address"]), state, "-", "-" } };
            return stages.Select(s => new[]
            {
                Text(w["worker"]), Text(w["address"]), state, Text(s!["stage"]),
                string.Join(",", s["partitions"]!.AsArray().Select(p => p!.GetValue<int>())),
            });
        })]);
        stdout.WriteLine();
        Table(stdout, ["STAGE", "PARTITION", "WORKER", "STATE", "LAG", "LAST CHECKPOINT", "AT", "RECORDS"], [.. whole["partitions"]!.AsArray().Select(p => new[]
        {
            Text(p!["stage"]), Text(p["partition"]), Text(p["worker"]), Text(p["state"]), Text(p["lag"]), Text(p["last-checkpoint"]),
            Text(p["last-checkpoint-at"]), Text(p["records-read"]),
        })]);
        if (whole["unowned"]!.AsArray().Count > 0)
        {
            stdout.WriteLine("owned by no reachable worker: " + string.Join(", ", whole["unowned"]!.AsArray()
                .Select(u => $"stage {Text(u!["stage"])} partition {Text(u["partition"])}")));
        }
        stdout.WriteLine();
        Table(stdout, ["WORKER", "STAGE", "AT", "KIND", "PARTITIONS", "DURATION MS"], [.. whole["rebalances"]!.AsArray().Select(r => new[]
        {
            Text(r!["worker"]), Text(r["stage"]), Text(r["at"]), Text(r["kind"]),
            string.Join(",", r["partitions"]?.AsArray().Select(p => p!.ToJsonString()) ?? []), Text(r["duration-ms"]),
        })]);
    }

    private static void Table(TextWriter output, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        output.WriteLine(string.Join("  ", header.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var r in rows) output.WriteLine(string.Join("  ", r.Select((c, i) => c.PadRight(widths[i]))).TrimEnd());
    }

    /// <summary>The address other machines reach this worker's REST API at: the bound address, or for a wildcard bind this host's first non-loopback IPv4 address.</summary>
    public static Uri Advertised(Uri bound, string bind)
    {
        var ip = Eddy.Server.EddyServer.ParseBind(bind);
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
