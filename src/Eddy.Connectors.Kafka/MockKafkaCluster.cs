using System.Runtime.InteropServices;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// librdkafka's in-process mock Kafka cluster, reachable over TCP on loopback by any Kafka client: a broker for tests
/// and for a Docker-free dev mode. It keeps everything in memory, prunes each partition's log beyond about 5 MB, and
/// accepts transactions without isolating aborted records (a read_committed consumer sees them).
/// </summary>
public sealed class MockKafkaCluster : IDisposable
{
    private readonly Lock gate = new();
    private IntPtr client;
    private IntPtr cluster;

    /// <param name="brokers">Brokers in the cluster, each on its own loopback port.</param>
    public MockKafkaCluster(int brokers = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(brokers, 1);
        KafkaNative.EnsureLoaded();
        var err = new byte[512];
        var conf = Native.rd_kafka_conf_new();
        // The handle only hosts the cluster's thread; its own logs would be noise on stderr.
        if (Native.rd_kafka_conf_set(conf, "log_level", "3", err, (nuint)err.Length) != 0)
        {
            Native.rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException("librdkafka: " + Native.Error(err));
        }
        client = Native.rd_kafka_new(0 /* RD_KAFKA_PRODUCER */, conf, err, (nuint)err.Length);
        if (client == IntPtr.Zero)
        {
            Native.rd_kafka_conf_destroy(conf);
            throw new InvalidOperationException("librdkafka could not create the mock cluster's handle: " + Native.Error(err));
        }
        cluster = Native.rd_kafka_mock_cluster_new(client, brokers);
        if (cluster == IntPtr.Zero)
        {
            Native.rd_kafka_destroy(client);
            client = IntPtr.Zero;
            throw new InvalidOperationException("librdkafka could not start a mock cluster (no loopback port to listen on?)");
        }
        Bootstrap = Marshal.PtrToStringUTF8(Native.rd_kafka_mock_cluster_bootstraps(cluster))
            ?? throw new InvalidOperationException("the mock cluster reported no bootstrap address");
        Brokers = brokers;
        lock (Running) Running.Add(this);
    }

    private static readonly List<MockKafkaCluster> Running = [];

    /// <summary>
    /// Creates a topic in the mock cluster of this process that serves <paramref name="bootstrap"/>, if there is one
    /// (the mock has no CreateTopics; a repartition writer creates its topic this way on the dev broker).
    /// </summary>
    internal static bool TryCreateTopic(string bootstrap, string name, int partitions)
    {
        var addresses = bootstrap.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        MockKafkaCluster? found;
        lock (Running) found = Running.FirstOrDefault(c => c.Bootstrap.Split(',').Intersect(addresses).Any());
        if (found is null) return false;
        lock (found.gate)
        {
            ObjectDisposedException.ThrowIf(found.cluster == IntPtr.Zero, found);
            // Several partition tasks may ask at once: the first creates it, the others find it there.
            int rc = Native.rd_kafka_mock_topic_create(found.cluster, name, partitions, Math.Min(found.Brokers, 3));
            const int TopicAlreadyExists = 36;
            if (rc != 0 && rc != TopicAlreadyExists)
                throw new InvalidOperationException($"creating topic '{name}' in the mock cluster failed: {Marshal.PtrToStringUTF8(Native.rd_kafka_err2str(rc))}");
        }
        return true;
    }

    /// <summary>The brokers' addresses, "127.0.0.1:port[,...]", for <c>bootstrap.servers</c>.</summary>
    public string Bootstrap { get; }

    public int Brokers { get; }

    /// <summary>Creates a topic (the mock does not support the Admin API's CreateTopics).</summary>
    public void CreateTopic(string name, int partitions = 1)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentOutOfRangeException.ThrowIfLessThan(partitions, 1);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(cluster == IntPtr.Zero, this);
            int rc = Native.rd_kafka_mock_topic_create(cluster, name, partitions, Math.Min(Brokers, 3));
            if (rc != 0)
                throw new InvalidOperationException($"creating topic '{name}' in the mock cluster failed: {Marshal.PtrToStringUTF8(Native.rd_kafka_err2str(rc))}");
        }
    }

    /// <summary>
    /// Makes the next <paramref name="count"/> Produce requests (to any broker) fail with Kafka error
    /// <paramref name="errorCode"/> (for example 10, message too large, which a producer does not retry): for testing
    /// how failed deliveries are reported.
    /// </summary>
    public void FailProduceRequests(int count, int errorCode)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(cluster == IntPtr.Zero, this);
            const short ProduceApiKey = 0;
            Native.rd_kafka_mock_push_request_errors_array(cluster, ProduceApiKey, (nuint)count, Enumerable.Repeat(errorCode, count).ToArray());
        }
    }

    public void Dispose()
    {
        lock (Running) Running.Remove(this);
        lock (gate)
        {
            if (cluster != IntPtr.Zero) Native.rd_kafka_mock_cluster_destroy(cluster);
            if (client != IntPtr.Zero) Native.rd_kafka_destroy(client);
            cluster = client = IntPtr.Zero;
        }
    }
}
