using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Confluent.Kafka;
using Confluent.Kafka.Admin;

namespace Eddy.Connectors.Kafka.Group;

/// <summary>One worker of a job as it announces itself: where its REST API is, and the job's input topic (stage 0's).</summary>
public sealed record WorkerAnnouncement(string Worker, string Job, string Topic, string Address, string Host, int ProcessId, DateTimeOffset StartedAt, DateTimeOffset At);

/// <summary>
/// How a job's workers, and <c>eddy status</c>, find each other without a coordinator of Eddy's own: each worker writes
/// its REST address to the compacted topic <c>&lt;job&gt;-workers</c>, keyed by a worker id, when it starts and then
/// every <see cref="Interval"/> (a heartbeat, so that a reader can tell how fresh an entry is), and a tombstone when it
/// stops gracefully. A reader takes the latest value per key. A killed worker's entry stays until it is replaced or the
/// topic is compacted away; whoever reads the directory asks each address and reports one that does not answer.
/// Why not the group's own metadata (Kafka Streams puts <c>application.server</c> in the member's subscription
/// userdata, read back with DescribeConsumerGroups): librdkafka's mock cluster, the dev broker every test runs on,
/// answers neither DescribeGroups nor ListGroups, and Confluent's .NET client does not let a member set its
/// subscription userdata.
/// </summary>
public sealed class WorkerDirectory : IDisposable
{
    /// <summary>How often a worker announces itself again.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);

    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(10);
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.KebabCaseLower };

    private readonly IProducer<string, string?> producer;
    private readonly string topic;
    private readonly WorkerAnnouncement self;
    private readonly Timer timer;
    private readonly Action<string> log;
    private bool disposed;

    private WorkerDirectory(IProducer<string, string?> producer, string topic, WorkerAnnouncement self, Action<string> log)
    {
        this.producer = producer;
        this.topic = topic;
        this.self = self;
        this.log = log;
        timer = new Timer(_ => Announce(), null, Timeout.InfiniteTimeSpan, Interval);
    }

    /// <summary>The directory topic of a job: its name with what Kafka does not take in topic names replaced by <c>_</c>, then <c>-workers</c>.</summary>
    public static string TopicName(string job)
    {
        string safe = Regex.Replace(job, "[^a-zA-Z0-9._-]", "_");
        if (safe.Length > 200) safe = safe[..200];
        return safe + "-workers";
    }

    /// <summary>Creates the topic when absent (compacted, one partition) and starts announcing <paramref name="address"/>.</summary>
    /// The topic is made ready in the background: a broker without CreateTopics (the dev broker) makes the request wait
    /// for its timeout, which must not hold the worker's start back.
    public static WorkerDirectory Start(string bootstrapServers, IReadOnlyDictionary<string, string> properties, string job, string inputTopic, Uri address,
        Action<string> log)
    {
        KafkaNative.EnsureLoaded();
        string topic = TopicName(job);
        var config = new ProducerConfig(Filtered(properties))
        {
            BootstrapServers = bootstrapServers,
            LingerMs = 0,
            // The topic is created here when the broker has no CreateTopics (the dev broker) but creates topics on use.
            AllowAutoCreateTopics = true,
        };
        var producer = new ProducerBuilder<string, string?>(config).SetLogHandler((_, _) => { }).Build();
        var now = DateTimeOffset.UtcNow;
        var self = new WorkerAnnouncement($"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}", job, inputTopic,
            address.ToString().TrimEnd('/'), Environment.MachineName, Environment.ProcessId, now, now);
        var directory = new WorkerDirectory(producer, topic, self, log);
        _ = Task.Run(() =>
        {
            try
            {
                EnsureTopic(bootstrapServers, properties, topic, log);
            }
            catch (KafkaException e)
            {
                log($"the workers' directory topic '{topic}' could not be checked ({e.Error.Reason}); announcing anyway");
            }
            lock (directory.timer)
            {
                if (!directory.disposed) directory.timer.Change(TimeSpan.Zero, Interval);
            }
        });
        return directory;
    }

    /// <summary>This worker's id in the directory.</summary>
    public string Worker => self.Worker;

    public string Topic => topic;

    private void Announce()
    {
        lock (timer)
        {
            if (disposed) return;
            string value = JsonSerializer.Serialize(self with { At = DateTimeOffset.UtcNow }, Json);
            producer.Produce(topic, new Message<string, string?> { Key = self.Worker, Value = value }, r =>
            {
                if (r.Error.IsError) log($"announcing this worker in '{topic}' failed: {r.Error.Reason}");
            });
        }
    }

    /// <summary>Stops announcing; <paramref name="leave"/> (a graceful stop) also removes the entry with a tombstone.</summary>
    public void Stop(bool leave)
    {
        lock (timer)
        {
            if (disposed) return;
            disposed = true;
        }
        timer.Dispose();
        if (leave)
        {
            try
            {
                producer.Produce(topic, new Message<string, string?> { Key = self.Worker, Value = null });
            }
            catch (KafkaException e)
            {
                log($"removing this worker from '{topic}' failed: {e.Error.Reason}");
            }
        }
        producer.Flush(RequestTimeout);
        producer.Dispose();
    }

    public void Dispose() => Stop(leave: false);

    /// <summary>
    /// The job's workers as the directory has them now (the latest announcement per worker, without the removed ones),
    /// or an empty list when the topic does not exist (no worker of the job ever started).
    /// </summary>
    public static IReadOnlyList<WorkerAnnouncement> Read(string bootstrapServers, IReadOnlyDictionary<string, string> properties, string job)
    {
        KafkaNative.EnsureLoaded();
        string topic = TopicName(job);
        int partitions = PartitionCount(bootstrapServers, properties, topic);
        if (partitions == 0) return [];
        var config = new ConsumerConfig(Filtered(properties))
        {
            BootstrapServers = bootstrapServers,
            GroupId = "eddy-status-" + Guid.NewGuid().ToString("N"),
            EnableAutoCommit = false,
            EnablePartitionEof = true,
            AllowAutoCreateTopics = false,
        };
        using var consumer = new ConsumerBuilder<string, string?>(config).SetLogHandler((_, _) => { }).Build();
        var latest = new Dictionary<string, WorkerAnnouncement?>(StringComparer.Ordinal);
        var ends = new Dictionary<int, long>();
        var assignment = new List<TopicPartitionOffset>();
        for (int p = 0; p < partitions; p++)
        {
            var marks = consumer.QueryWatermarkOffsets(new TopicPartition(topic, p), RequestTimeout);
            if (marks.High.Value > marks.Low.Value)
            {
                ends[p] = marks.High.Value;
                assignment.Add(new TopicPartitionOffset(topic, p, marks.Low));
            }
        }
        if (assignment.Count == 0) return [];
        consumer.Assign(assignment);
        var deadline = DateTime.UtcNow + RequestTimeout;
        var done = new HashSet<int>();
        while (done.Count < ends.Count)
        {
            if (DateTime.UtcNow > deadline)
                throw new InvalidOperationException($"reading the workers' directory '{topic}' at '{bootstrapServers}' did not finish within {RequestTimeout.TotalSeconds:0} s");
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is null) continue;
            int p = r.Partition.Value;
            if (!r.IsPartitionEOF && r.Message.Key is { } key)
                latest[key] = r.Message.Value is { } v ? Parse(v) : null;
            if (r.IsPartitionEOF || r.Offset.Value + 1 >= ends[p]) done.Add(p);
        }
        return [.. latest.Values.OfType<WorkerAnnouncement>().Where(a => a.Job == job).OrderBy(a => a.StartedAt).ThenBy(a => a.Worker, StringComparer.Ordinal)];
    }

    private static WorkerAnnouncement? Parse(string value)
    {
        try
        {
            return JsonSerializer.Deserialize<WorkerAnnouncement>(value, Json);
        }
        catch (JsonException)
        {
            return null; // not written by a worker: ignored
        }
    }

    /// <summary>The sources' client settings that apply to any client (security, addresses), without consumer-only ones.</summary>
    private static Dictionary<string, string> Filtered(IReadOnlyDictionary<string, string> properties) =>
        properties.Where(p => p.Key.StartsWith("security.", StringComparison.Ordinal) || p.Key.StartsWith("sasl.", StringComparison.Ordinal)
            || p.Key.StartsWith("ssl.", StringComparison.Ordinal) || p.Key is "client.dns.lookup" or "socket.timeout.ms")
            .ToDictionary(p => p.Key, p => p.Value);

    /// <summary>Asks for every topic (asking for one by name would make a broker that auto-creates topics create it).</summary>
    private static int PartitionCount(string bootstrapServers, IReadOnlyDictionary<string, string> properties, string topic)
    {
        using var admin = new AdminClientBuilder(new AdminClientConfig(Filtered(properties)) { BootstrapServers = bootstrapServers })
            .SetLogHandler((_, _) => { }).Build();
        var t = admin.GetMetadata(RequestTimeout).Topics.FirstOrDefault(t => t.Topic == topic);
        return t is null || t.Error.IsError ? 0 : t.Partitions.Count;
    }

    private static void EnsureTopic(string bootstrapServers, IReadOnlyDictionary<string, string> properties, string topic, Action<string> log)
    {
        if (PartitionCount(bootstrapServers, properties, topic) > 0) return;
        // The dev broker in this process has no CreateTopics: it is created in the mock.
        if (MockKafkaCluster.TryCreateTopic(bootstrapServers, topic, 1)) return;
        using var admin = new AdminClientBuilder(new AdminClientConfig(Filtered(properties)) { BootstrapServers = bootstrapServers })
            .SetLogHandler((_, _) => { }).Build();
        try
        {
            admin.CreateTopicsAsync([new TopicSpecification
            {
                Name = topic, NumPartitions = 1, ReplicationFactor = -1,
                Configs = new Dictionary<string, string> { ["cleanup.policy"] = "compact" },
            }], new CreateTopicsOptions { RequestTimeout = TimeSpan.FromSeconds(5) }).GetAwaiter().GetResult();
        }
        catch (CreateTopicsException e) when (e.Results.All(r => r.Error.Code == ErrorCode.TopicAlreadyExists))
        {
            // Another worker created it at the same time.
        }
        catch (KafkaException e)
        {
            // A broker without CreateTopics (the dev broker of another process) creates it on the first write instead.
            log($"creating the workers' directory topic '{topic}' failed ({e.Error.Reason}); the first announcement creates it if the broker auto-creates topics");
        }
    }
}
