using System.Text.Json;
using System.Text.Json.Nodes;
using Eddy.Connectors.Kafka.Group;

namespace Eddy.Server.Worker;

/// <summary>Why a whole-job view could not be made (no worker announced, the directory unreadable), as one line.</summary>
public sealed class JobStatusException(string message) : Exception(message);

/// <summary>
/// One view of a job run by workers (<c>eddy worker</c> processes, servers hosting it): the workers are found in the
/// job's directory topic (<see cref="WorkerDirectory"/>), each is asked for its <c>GET /worker</c>, and the answers are
/// put together: the workers, the partitions each owns per stage, the consumer lag and the last checkpoint per
/// partition, the rebalances each saw with their durations, and the partitions no reachable worker owns (a killed
/// worker's, until the group gives them to another). <c>eddy status JOB</c> prints it; the server's REST API and
/// dashboard serve it.
/// </summary>
public static class JobStatusView
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The whole job's view. <paramref name="properties"/> are the Kafka client settings the directory and the topic
    /// probe need (security, SASL); a missing partition count is a warning (<c>unowned</c> then stays empty).
    /// Throws <see cref="JobStatusException"/>.
    /// </summary>
    /// <param name="token">sent as a bearer token to every worker (a server hosting one requires its token; plain workers ignore it).</param>
    public static async Task<JsonObject> AssembleAsync(string job, string bootstrapServers, IReadOnlyDictionary<string, string> properties,
        Action<string> warn, string? token = null, CancellationToken cancel = default)
    {
        IReadOnlyList<WorkerAnnouncement> workers;
        try
        {
            workers = await Task.Run(() => WorkerDirectory.Read(bootstrapServers, properties, job), cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is InvalidOperationException or Confluent.Kafka.KafkaException or ArgumentException)
        {
            throw new JobStatusException(e.Message);
        }
        if (workers.Count == 0)
        {
            throw new JobStatusException($"no worker of job '{job}' is announced in '{WorkerDirectory.TopicName(job)}' at '{bootstrapServers}' "
                + "(none started, or every one stopped; the job name is its pipeline.name)");
        }
        var asked = await AskAll(job, workers, token, cancel).ConfigureAwait(false);
        return Combine(job, asked, workers[0].Topic, topics =>
        {
            try
            {
                using var probe = new KafkaTopicProbe(bootstrapServers, properties);
                return new Dictionary<string, int>(probe.PartitionCounts(topics));
            }
            catch (Exception e) when (e is InvalidOperationException or Confluent.Kafka.KafkaException)
            {
                warn($"the topics' partition counts could not be read ({e.Message}): partitions nobody owns are not listed");
                return null;
            }
        });
    }

    /// <summary>
    /// One worker's part of the job, asked at its REST address with no broker involved (<c>eddy status --worker URL</c>):
    /// the same view with that worker alone and without <c>unowned</c> (which needs every worker). Throws
    /// <see cref="JobStatusException"/> when the worker does not answer or does not run the job.
    /// </summary>
    public static async Task<JsonObject> AskWorkerAsync(string job, Uri address, string? token = null, CancellationToken cancel = default)
    {
        string url = address.ToString().TrimEnd('/');
        JsonNode? root;
        using (var http = Client(token))
        {
            try
            {
                root = JsonNode.Parse(await http.GetStringAsync(url + "/worker", cancel).ConfigureAwait(false));
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                throw new JobStatusException($"the worker at {url} does not answer GET /worker: {e.Message}");
            }
        }
        var jobs = root?["jobs"] as JsonArray ?? [];
        var mine = jobs.FirstOrDefault(j => j?["job"]?.GetValue<string>() == job);
        if (mine is null)
        {
            var names = jobs.Select(j => j?["job"]?.GetValue<string>()).OfType<string>().ToList();
            throw new JobStatusException($"the worker at {url} does not run job '{job}'"
                + (names.Count == 0 ? " (it runs none)" : $"; it runs {string.Join(", ", names.Select(n => $"'{n}'"))}"));
        }
        var self = new WorkerAnnouncement(root?["worker"]?.GetValue<string>() ?? url, job, mine["topic"]?.GetValue<string>() ?? "", url,
            root?["host"]?.GetValue<string>() ?? address.Host, root?["pid"]?.GetValue<int>() ?? 0,
            root?["started-at"]?.GetValue<DateTimeOffset>() ?? default, DateTimeOffset.UtcNow);
        var view = Combine(job, [(self, mine, null)], self.Topic, counts: null);
        view.Remove("unowned");
        view["worker-address"] = url;
        return view;
    }

    private static async Task<(WorkerAnnouncement Worker, JsonNode? View, string? Error)[]> AskAll(string job, IReadOnlyList<WorkerAnnouncement> workers,
        string? token, CancellationToken cancel)
    {
        using var http = Client(token);
        return await Task.WhenAll(workers.Select(async w =>
        {
            try
            {
                var text = await http.GetStringAsync(w.Address + "/worker", cancel).ConfigureAwait(false);
                var jobs = JsonNode.Parse(text)?["jobs"]?.AsArray();
                var mine = jobs?.FirstOrDefault(j => j?["job"]?.GetValue<string>() == job);
                return (Worker: w, View: mine, Error: mine is null ? $"its /worker does not list job '{job}'" : null);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                return (Worker: w, View: (JsonNode?)null, Error: $"does not answer: {e.Message}");
            }
        })).ConfigureAwait(false);
    }

    private static HttpClient Client(string? token)
    {
        var http = new HttpClient { Timeout = AskTimeout };
        if (!string.IsNullOrEmpty(token)) http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static JsonObject Combine(string job, IReadOnlyList<(WorkerAnnouncement Worker, JsonNode? View, string? Error)> asked, string leadingTopic,
        Func<IReadOnlyList<string>, Dictionary<string, int>?>? counts)
    {
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
        if (!topics.ContainsKey(0)) topics[0] = (leadingTopic, 0);
        // Partitions of each stage's topic that no reachable worker owns now.
        var unowned = new JsonArray();
        if (counts?.Invoke(topics.Values.Select(t => t.Topic).Where(t => t.Length > 0).Distinct().ToList()) is { } known)
        {
            foreach (var (stage, (topic, _)) in topics)
            {
                if (!known.TryGetValue(topic, out int n)) continue;
                var owned = partitionViews.Where(p => p["stage"]!.GetValue<int>() == stage).Select(p => p["partition"]!.GetValue<int>()).ToHashSet();
                foreach (int p in Enumerable.Range(0, n).Where(p => !owned.Contains(p))) unowned.Add(new JsonObject { ["stage"] = stage, ["partition"] = p });
            }
        }

        return new JsonObject
        {
            ["job"] = job,
            ["directory"] = WorkerDirectory.TopicName(job),
            ["workers"] = workerViews,
            ["partitions"] = new JsonArray([.. partitionViews.OrderBy(p => p["stage"]!.GetValue<int>()).ThenBy(p => p["partition"]!.GetValue<int>())]),
            ["unowned"] = unowned,
            ["rebalances"] = rebalanceViews,
        };
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
}
