using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Confluent.Kafka;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary><c>eddy kafka</c> as a user runs it: a separate process, reached over TCP, stopped by a signal.</summary>
public partial class KafkaCommandTests
{
    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    [GeneratedRegex(@"bootstrap servers: (127\.0\.0\.1:\d+)")]
    private static partial Regex BootstrapLine();

    [Fact]
    public async Task Serves_its_topics_on_the_chosen_port_until_sigterm()
    {
        int port = FreePort();
        using var eddy = EddyProcess.Start("kafka", "--port", port.ToString(), "--partitions", "2", "--topic", "orders");
        string first = (await eddy.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)))!;
        string bootstrap = BootstrapLine().Match(first).Groups[1].Value;
        Assert.Equal($"127.0.0.1:{port}", bootstrap);
        var banner = new List<string>();
        for (int i = 0; i < 4; i++) banner.Add((await eddy.StandardOutput.ReadLineAsync())!);
        string text = string.Join("\n", banner);
        Assert.Contains("orders (2 partitions each)", text);
        Assert.Contains("in memory only", text);
        Assert.Contains("5 MB per partition", text);
        Assert.Contains("without transactional isolation", text);

        using (var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = bootstrap }).Build())
        {
            for (int p = 0; p < 2; p++)
                await producer.ProduceAsync(new TopicPartition("orders", p), new Message<Null, string> { Value = $"order-{p}" });
        }
        using (var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig { BootstrapServers = bootstrap, GroupId = "cli" }).Build())
        {
            consumer.Assign([new TopicPartitionOffset("orders", 0, Offset.Beginning), new TopicPartitionOffset("orders", 1, Offset.Beginning)]);
            var got = new List<string>();
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (got.Count < 2 && DateTime.UtcNow < deadline)
                if (consumer.Consume(TimeSpan.FromMilliseconds(200)) is { } r) got.Add($"{r.Partition.Value}:{r.Message.Value}");
            Assert.Equal(["0:order-0", "1:order-1"], got.Order());
        }

        using (var kill = Process.Start("kill", ["-TERM", eddy.Id.ToString()])) await kill.WaitForExitAsync();
        Assert.True(eddy.WaitForExit(TimeSpan.FromSeconds(10)), "eddy kafka did not stop on SIGTERM");
        Assert.Equal(0, eddy.ExitCode);
        Assert.Contains("stopped", await eddy.StandardOutput.ReadToEndAsync());
    }

    [Fact]
    public async Task A_partition_that_starts_dropping_its_oldest_records_is_reported()
    {
        using var eddy = EddyProcess.Start("kafka", "--port", "0", "--partitions", "1", "--topic", "big");
        string first = (await eddy.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)))!;
        string bootstrap = BootstrapLine().Match(first).Groups[1].Value;
        try
        {
            // 6.4 MB into one partition: past the mock's 5 MB, so it drops the first records.
            using (var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = bootstrap }).Build())
            {
                var value = new byte[80_000];
                for (int i = 0; i < 80; i++) producer.Produce("big", new Message<Null, byte[]> { Value = value });
                Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
            }
            string? line;
            do line = await eddy.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(60));
            while (line is not null && !line.StartsWith("warning:", StringComparison.Ordinal));
            Assert.NotNull(line);
            Assert.Matches(@"^warning: topic 'big' partition 0 reached the mock broker's 5 MB: its oldest records are being dropped \(offsets below \d+ are gone\)", line);
        }
        finally
        {
            eddy.Kill();
        }
    }

    [Fact]
    public async Task A_port_in_use_is_reported()
    {
        var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        try
        {
            int port = ((IPEndPoint)busy.LocalEndpoint).Port;
            using var eddy = EddyProcess.Start("kafka", "--port", port.ToString());
            string err = await eddy.StandardError.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.True(eddy.WaitForExit(TimeSpan.FromSeconds(10)));
            Assert.Equal(1, eddy.ExitCode);
            Assert.Contains($"cannot listen on 127.0.0.1:{port}", err);
            Assert.Contains("AddressAlreadyInUse", err);
        }
        finally
        {
            busy.Stop();
        }
    }
}
