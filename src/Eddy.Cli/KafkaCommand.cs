using System.CommandLine;
using System.Net.Sockets;
using Confluent.Kafka;
using Eddy.Connectors.Kafka;

namespace Eddy.Cli;

/// <summary>
/// A Kafka broker without Docker: librdkafka's mock cluster in this process, for trying Kafka jobs locally. Any Kafka
/// client on this machine can use it until Ctrl-C.
/// </summary>
internal static class KafkaCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var port = new Option<int>("--port") { Description = "Loopback port of the bootstrap address; 0 uses the mock broker's own port.", DefaultValueFactory = _ => 9092 };
        var partitions = new Option<int>("--partitions") { Description = "Partitions of each topic created with --topic.", DefaultValueFactory = _ => 3 };
        var topics = new Option<string[]>("--topic") { Description = "A topic to create at start (repeatable); others are created on first use with 4 partitions.", AllowMultipleArgumentsPerToken = true };
        var command = new Command("kafka", "Run an in-memory Kafka cluster (librdkafka's mock) on loopback until Ctrl-C.") { port, partitions, topics };
        command.SetAction(async (result, cancel) =>
        {
            int chosenPort = result.GetValue(port);
            int partitionCount = result.GetValue(partitions);
            if (chosenPort is < 0 or > 65535)
            {
                stderr.WriteLine($"error: --port {chosenPort} is not a TCP port (0..65535)");
                return 1;
            }
            if (partitionCount < 1)
            {
                stderr.WriteLine($"error: --partitions {partitionCount}: a topic needs at least 1 partition");
                return 1;
            }
            MockKafkaCluster cluster;
            try
            {
                cluster = new MockKafkaCluster();
            }
            catch (DllNotFoundException e)
            {
                stderr.WriteLine("error: " + e.Message);
                return 1;
            }
            using (cluster)
            {
                TcpForwarder? forwarder = null;
                if (chosenPort != 0)
                {
                    try
                    {
                        forwarder = new TcpForwarder(chosenPort, cluster.Bootstrap);
                    }
                    catch (SocketException e)
                    {
                        stderr.WriteLine($"error: cannot listen on 127.0.0.1:{chosenPort} ({e.SocketErrorCode}: {e.Message}); "
                            + "choose another port with --port, or --port 0 for the mock broker's own port");
                        return 1;
                    }
                }
                using (forwarder)
                {
                    var created = new List<string>();
                    foreach (var topic in result.GetValue(topics) ?? [])
                    {
                        try
                        {
                            cluster.CreateTopic(topic, partitionCount);
                            created.Add(topic);
                        }
                        catch (Exception e) when (e is InvalidOperationException or ArgumentException)
                        {
                            stderr.WriteLine("error: " + e.Message);
                            return 1;
                        }
                    }
                    string bootstrap = forwarder is null ? cluster.Bootstrap : $"127.0.0.1:{forwarder.Port}";
                    stdout.WriteLine($"Kafka (mock) bootstrap servers: {bootstrap}");
                    if (forwarder is not null)
                        stdout.WriteLine($"  The broker itself listens on {cluster.Bootstrap}; clients bootstrapped at port {forwarder.Port} are sent there by the metadata.");
                    stdout.WriteLine(created.Count == 0
                        ? "  Topics: none yet (a topic is created on first use with 4 partitions)."
                        : $"  Topics: {string.Join(", ", created)} ({partitionCount} partition{(partitionCount == 1 ? "" : "s")} each).");
                    stdout.WriteLine($"  This is librdkafka {KafkaNative.Version}'s mock cluster: in memory only (everything is lost when it stops), "
                        + "capped at about 5 MB per partition (older records are dropped), and without transactional isolation "
                        + "(read_committed consumers also see aborted records). For development and tests, not production.");
                    stdout.WriteLine("  Ctrl-C stops it.");
                    stdout.Flush();
                    try
                    {
                        await WarnWhenPruning(cluster.Bootstrap, stdout, cancel);
                    }
                    catch (OperationCanceledException)
                    {
                        // Ctrl-C or SIGTERM: the normal way to stop.
                    }
                    stdout.WriteLine("Kafka (mock) stopped.");
                    return 0;
                }
            }
        });
        return command;
    }

    /// <summary>How often the partitions are checked for pruning.</summary>
    private static readonly TimeSpan PruneCheckInterval = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Until cancelled: a warning line the first time a partition drops records, since the mock does so silently and
    /// a job reading from the earliest offset then misses them.
    /// </summary>
    private static async Task WarnWhenPruning(string bootstrap, TextWriter stdout, CancellationToken cancel)
    {
        using var watch = new MockRetentionWatch(bootstrap);
        while (true)
        {
            await Task.Delay(PruneCheckInterval, cancel);
            IReadOnlyList<(string Topic, int Partition, long FirstKept)> pruned;
            try
            {
                pruned = await Task.Run(watch.NewlyPruned, CancellationToken.None);
            }
            catch (KafkaException)
            {
                continue; // a slow answer: the next round asks again
            }
            foreach (var (topic, partition, firstKept) in pruned)
            {
                stdout.WriteLine($"warning: topic '{topic}' partition {partition} reached the mock broker's {MockRetentionWatch.PartitionCapacityBytes / (1024 * 1024)} MB: "
                    + $"its oldest records are being dropped (offsets below {firstKept} are gone); a job reading it from the earliest offset no longer sees them. "
                    + "Use a real broker (e.g. Redpanda) for longer runs.");
            }
            if (pruned.Count > 0) stdout.Flush();
        }
    }
}
