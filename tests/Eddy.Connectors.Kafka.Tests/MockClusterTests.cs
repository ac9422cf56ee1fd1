using Confluent.Kafka;

namespace Eddy.Connectors.Kafka.Tests;

public class MockClusterTests
{
    [Fact]
    public void The_bundled_native_library_is_loaded_not_the_operating_systems()
    {
        KafkaNative.EnsureLoaded();
        Assert.NotNull(KafkaNative.LoadedFrom);
        // The build librdkafka.redist put beside the assemblies, of the version the client package was built with.
        Assert.StartsWith(Path.GetFullPath(AppContext.BaseDirectory), KafkaNative.LoadedFrom);
        var client = typeof(Confluent.Kafka.Library).Assembly.GetName().Version!;
        Assert.Equal($"{client.Major}.{client.Minor}.{client.Build}", KafkaNative.Version);
    }

    [Fact]
    public void A_native_library_that_does_not_load_is_reported_with_the_loaders_reason()
    {
        string notALibrary = Path.GetTempFileName();
        try
        {
            File.WriteAllText(notALibrary, "not an ELF file");
            var e = Assert.Throws<DllNotFoundException>(() => KafkaNative.Load(["/nonexistent/librdkafka.so", notALibrary], out _, out _));
            Assert.Contains("/nonexistent/librdkafka.so: no such file", e.Message);
            Assert.Contains(notALibrary + ": ", e.Message);
            Assert.Contains("librdkafka.redist", e.Message);
            Assert.Contains("EDDY_LIBRDKAFKA", e.Message);
        }
        finally
        {
            File.Delete(notALibrary);
        }
    }

    [Fact]
    public void Confluent_and_Eddy_see_the_same_librdkafka_version()
    {
        KafkaNative.EnsureLoaded();
        // Confluent reports librdkafka's version as 0xMMmmrrxx; the same library answers both.
        var v = Confluent.Kafka.Library.Version;
        Assert.Equal(KafkaNative.Version, $"{(v >> 24) & 0xff}.{(v >> 16) & 0xff}.{(v >> 8) & 0xff}");
    }

    /// <summary>
    /// What the docs say of the dev broker's transactions (librdkafka 2.16's mock): commit and abort markers take an
    /// offset each, but its Fetch reports no aborted transactions and a last stable offset at the log's end, so a
    /// read_committed consumer sees aborted records and those of open transactions (a real broker shows it neither).
    /// </summary>
    [Fact]
    public void The_mock_writes_transaction_markers_but_does_not_isolate_transactions()
    {
        using var cluster = new MockKafkaCluster();
        cluster.CreateTopic("tx", partitions: 1);
        IProducer<Null, string> Transaction(string id, string value)
        {
            var producer = new ProducerBuilder<Null, string>(new ProducerConfig { BootstrapServers = cluster.Bootstrap, TransactionalId = id }).Build();
            producer.InitTransactions(TimeSpan.FromSeconds(10));
            producer.BeginTransaction();
            producer.Produce("tx", new Message<Null, string> { Value = value });
            producer.Flush();
            return producer;
        }
        using (var p = Transaction("t1", "committed")) p.CommitTransaction();
        using (var p = Transaction("t2", "aborted")) p.AbortTransaction();
        using var open = Transaction("t3", "open");

        using var consumer = new ConsumerBuilder<Null, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.Bootstrap, GroupId = "rc", EnableAutoCommit = false, IsolationLevel = IsolationLevel.ReadCommitted,
        }).Build();
        consumer.Assign(new TopicPartitionOffset("tx", 0, Offset.Beginning));
        var got = new List<string>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (got.Count < 3 && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null) got.Add($"{r.Offset.Value}:{r.Message.Value}");
        }
        // Offsets 1 and 3 are the commit and abort markers.
        Assert.Equal(["0:committed", "2:aborted", "4:open"], got);
        open.AbortTransaction();
    }

    [Fact]
    public void Records_produced_over_tcp_are_consumed_per_partition_in_order()
    {
        using var cluster = new MockKafkaCluster();
        Assert.Matches(@"^127\.0\.0\.1:\d+$", cluster.Bootstrap);
        cluster.CreateTopic("events", partitions: 3);

        using (var producer = new ProducerBuilder<string, string>(new ProducerConfig { BootstrapServers = cluster.Bootstrap, LingerMs = 1 }).Build())
        {
            for (int i = 0; i < 30; i++)
                producer.Produce(new TopicPartition("events", new Partition(i % 3)), new Message<string, string> { Key = $"k{i}", Value = $"v{i}" });
            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(10)));
        }

        using var consumer = new ConsumerBuilder<string, string>(new ConsumerConfig
        {
            BootstrapServers = cluster.Bootstrap, GroupId = "t", EnableAutoCommit = false,
        }).Build();
        consumer.Assign(Enumerable.Range(0, 3).Select(p => new TopicPartitionOffset("events", p, Offset.Beginning)));
        var got = new List<ConsumeResult<string, string>>();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (got.Count < 30 && DateTime.UtcNow < deadline)
        {
            var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
            if (r is not null) got.Add(r);
        }
        Assert.Equal(30, got.Count);
        foreach (var byPartition in got.GroupBy(r => r.Partition.Value))
        {
            var expected = Enumerable.Range(0, 30).Where(i => i % 3 == byPartition.Key).Select(i => $"v{i}");
            Assert.Equal(expected, byPartition.OrderBy(r => r.Offset.Value).Select(r => r.Message.Value));
            Assert.Equal(Enumerable.Range(0, 10).Select(o => (long)o), byPartition.Select(r => r.Offset.Value).Order());
        }
        Assert.All(got, r => Assert.Equal("k" + r.Message.Value[1..], r.Message.Key));
    }

    [Fact]
    public void Creating_a_topic_after_dispose_fails()
    {
        var cluster = new MockKafkaCluster();
        cluster.Dispose();
        Assert.Throws<ObjectDisposedException>(() => cluster.CreateTopic("x"));
    }
}
