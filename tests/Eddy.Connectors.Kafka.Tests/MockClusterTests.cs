using Confluent.Kafka;

namespace Eddy.Connectors.Kafka.Tests;

public class MockClusterTests
{
    [Fact]
    public void Native_library_is_found_and_named()
    {
        KafkaNative.EnsureLoaded();
        Assert.NotNull(KafkaNative.LoadedFrom);
        Assert.Matches(@"^\d+\.\d+\.\d+", KafkaNative.Version);
    }

    [Fact]
    public void A_missing_native_library_names_the_package_to_install()
    {
        var e = Assert.Throws<DllNotFoundException>(() => KafkaNative.Load(["/nonexistent/librdkafka.so.1", "librdkafka-absent.so.9"], out _));
        Assert.Contains("apt-get install librdkafka1", e.Message);
        Assert.Contains("EDDY_LIBRDKAFKA", e.Message);
    }

    [Fact]
    public void Confluent_and_Eddy_see_the_same_librdkafka_version()
    {
        KafkaNative.EnsureLoaded();
        // Confluent reports librdkafka's version as 0xMMmmrrxx; the same library answers both.
        var v = Confluent.Kafka.Library.Version;
        Assert.Equal(KafkaNative.Version, $"{(v >> 24) & 0xff}.{(v >> 16) & 0xff}.{(v >> 8) & 0xff}");
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
