using System.Text;
using Confluent.Kafka;
using Eddy.Sql;

namespace Eddy.Connectors.Kafka.Tests;

public class KafkaSinkTests
{
    /// <summary>Runs the statements' jobs to the end; returns what print sinks wrote.</summary>
    private static string Run(string sql)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return output.ToString().Replace("\r", "");
    }

    private readonly record struct Record(int Partition, string? Key, string? Value, long Timestamp);

    /// <summary>Every record of the topic, partition by partition in offset order.</summary>
    private static List<Record> ReadAll(KafkaFixture kafka)
    {
        KafkaNative.EnsureLoaded();
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(new ConsumerConfig
        {
            BootstrapServers = kafka.Cluster.Bootstrap, GroupId = "read-back", EnableAutoCommit = false, EnablePartitionEof = true,
        }).Build();
        using var admin = new DependentAdminClientBuilder(consumer.Handle).Build();
        var partitions = admin.GetMetadata(kafka.Topic, TimeSpan.FromSeconds(10)).Topics.Single().Partitions.Select(p => p.PartitionId).Order().ToList();
        var records = new List<Record>();
        foreach (int p in partitions)
        {
            consumer.Assign(new TopicPartitionOffset(kafka.Topic, p, Offset.Beginning));
            var deadline = DateTime.UtcNow.AddSeconds(20);
            while (DateTime.UtcNow < deadline)
            {
                var r = consumer.Consume(TimeSpan.FromMilliseconds(200));
                if (r is null) continue;
                if (r.IsPartitionEOF) break;
                records.Add(new(p, r.Message.Key is null ? null : Encoding.UTF8.GetString(r.Message.Key),
                    r.Message.Value is null ? null : Encoding.UTF8.GetString(r.Message.Value), r.Message.Timestamp.UnixTimestampMs));
            }
        }
        return records;
    }

    private static string Sink(KafkaFixture kafka, string columns, string options = "") => $$"""
        CREATE TABLE out_t ({{columns}}) WITH (
          'connector' = 'kafka', 'topic' = '{{kafka.Topic}}', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
          'format' = 'json'{{options}}
        );
        """;

    [Fact]
    public void An_insert_writes_each_row_as_flinks_json()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "out");
        Run(Sink(kafka, "host STRING, hits INT, ratio DOUBLE, ts TIMESTAMP(3), lts TIMESTAMP_LTZ(3)") + """
            INSERT INTO out_t
            SELECT host, NULLIF(hits, 0), ratio, TO_TIMESTAMP(t, 'yyyy-MM-dd HH:mm:ss.SSS'), TO_TIMESTAMP_LTZ(ms, 3)
            FROM (VALUES ('a.com', 1, 0.5, '2024-01-01 10:00:01.250', 1704103200123),
                         ('b "quoted" é', 0, 2.0, '2024-01-01 10:00:02.000', 0)) AS e(host, hits, ratio, t, ms);
            """);
        var records = ReadAll(kafka);
        Assert.Equal(
        [
            """{"host":"a.com","hits":1,"ratio":0.5,"ts":"2024-01-01 10:00:01.250","lts":"2024-01-01 10:00:00.123Z"}""",
            """{"host":"b \"quoted\" é","hits":null,"ratio":2,"ts":"2024-01-01 10:00:02.000","lts":"1970-01-01 00:00:00.000Z"}""",
        ], records.Select(r => r.Value));
        Assert.All(records, r => Assert.Null(r.Key));

        // What the sink wrote, the kafka source reads back into the same columns.
        string output = Run($$"""
            CREATE TABLE in_t (host STRING, hits INT, ts TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'out',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'scan.startup.mode' = 'earliest-offset',
              'scan.bounded.mode' = 'latest-offset', 'format' = 'json');
            CREATE TABLE p (host STRING, hits INT, ts TIMESTAMP(3)) WITH ('connector' = 'print');
            INSERT INTO p SELECT * FROM in_t;
            """);
        Assert.Equal("+I[a.com, 1, 2024-01-01 10:00:01.250]\n+I[b \"quoted\" é, null, 2024-01-01 10:00:02.000]\n", output);
    }

    [Fact]
    public void Key_fields_make_the_key_and_the_default_partitioner_keeps_a_key_in_one_partition()
    {
        using var kafka = new KafkaFixture(partitions: 3, topic: "keyed");
        Run(Sink(kafka, "host STRING, n INT", ", 'key.format' = 'json', 'key.fields' = 'host', 'value.fields-include' = 'EXCEPT_KEY'") + """
            INSERT INTO out_t SELECT host, n FROM (VALUES ('a', 1), ('b', 2), ('a', 3), ('c', 4), ('a', 5), ('b', 6), ('d', 7), ('e', 8)) AS t(host, n);
            """);
        var records = ReadAll(kafka);
        Assert.Equal(8, records.Count);
        Assert.Equal(["""{"n":1}""", """{"n":3}""", """{"n":5}"""], records.Where(r => r.Key == """{"host":"a"}""").Select(r => r.Value));
        // The partition the Java client (and so Flink) picks for a key: murmur2 of the key bytes, positive, mod n.
        Assert.All(records, r => Assert.Equal(JavaPartition(Encoding.UTF8.GetBytes(r.Key!), 3), r.Partition));

        using var raw = new KafkaFixture(partitions: 1, topic: "raw");
        Run(Sink(raw, "host STRING, n INT", ", 'key.format' = 'raw', 'key.fields' = 'host'") + """
            INSERT INTO out_t SELECT host, n FROM (VALUES ('a', 1)) AS t(host, n);
            """);
        Assert.Equal([new Record(0, "a", """{"host":"a","n":1}""", ReadAll(raw)[0].Timestamp)], ReadAll(raw));
    }

    /// <summary>Kafka's Java <c>Utils.murmur2</c> and <c>toPositive(hash) % partitions</c>, written out independently.</summary>
    private static int JavaPartition(byte[] data, int partitions)
    {
        const uint M = 0x5bd1e995;
        const int R = 24;
        int length = data.Length;
        uint h = 0x9747b28cu ^ (uint)length;
        int quads = length / 4;
        for (int i = 0; i < quads; i++)
        {
            int o = i * 4;
            uint k = (uint)(data[o] | data[o + 1] << 8 | data[o + 2] << 16 | data[o + 3] << 24);
            k *= M;
            k ^= k >> R;
            k *= M;
            h *= M;
            h ^= k;
        }
        int tail = quads * 4;
        switch (length % 4)
        {
            case 3:
                h ^= (uint)data[tail + 2] << 16;
                goto case 2;
            case 2:
                h ^= (uint)data[tail + 1] << 8;
                goto case 1;
            case 1:
                h ^= data[tail];
                h *= M;
                break;
        }
        h ^= h >> 13;
        h *= M;
        h ^= h >> 15;
        return (int)(h & 0x7fffffff) % partitions;
    }

    [Theory]
    [InlineData("default")]
    [InlineData("round-robin")]
    public void Records_without_key_go_round_robin(string partitioner)
    {
        using var kafka = new KafkaFixture(partitions: 3, topic: "rr");
        Run(Sink(kafka, "n INT", $", 'sink.partitioner' = '{partitioner}'") + """
            INSERT INTO out_t SELECT n FROM (VALUES (1), (2), (3), (4), (5), (6)) AS t(n);
            """);
        var records = ReadAll(kafka);
        Assert.Equal([2, 2, 2], records.GroupBy(r => r.Partition).OrderBy(g => g.Key).Select(g => g.Count()));
    }

    [Fact]
    public void The_fixed_partitioner_writes_subtask_i_to_partition_i()
    {
        using var kafka = new KafkaFixture(partitions: 3, topic: "fixed");
        Run(Sink(kafka, "n INT", ", 'sink.partitioner' = 'fixed'") + """
            INSERT INTO out_t SELECT n FROM (VALUES (1), (2), (3), (4), (5), (6)) AS t(n);
            """);
        var records = ReadAll(kafka);
        Assert.Equal(6, records.Count);
        // At parallelism 1 the one subtask (0) owns partition 0.
        Assert.All(records, r => Assert.Equal(0, r.Partition));
    }

    [Fact]
    public void The_fixed_partitioner_writes_each_subtask_to_its_own_partition()
    {
        using var kafka = new KafkaFixture(partitions: 3, topic: "fixed2");
        var sink = new KafkaSink<string>(
            new KafkaSinkOptions { Topic = "fixed2", BootstrapServers = kafka.Cluster.Bootstrap, Partitioner = KafkaSinkPartitioner.Fixed },
            () => (string s, Eddy.RowKind _, out byte[]? key, out byte[]? value, out long ts) =>
            {
                (key, value, ts) = (null, Encoding.UTF8.GetBytes(s), Eddy.EventTime.None);
                return true;
            });
        // Subtasks 1 and 3 of 4 over 3 partitions: partitions 1 and 0 (3 mod 3).
        foreach (int subtask in new[] { 1, 3 })
        {
            using var writer = sink.CreateWriter(new Eddy.Runtime.SinkWriterContext(subtask, 4, TimeProvider.System, new Eddy.Runtime.SubtaskMetrics("t", subtask)));
            var batch = new Eddy.Runtime.Batch<string>();
            for (int i = 0; i < 4; i++) batch.Add($"s{subtask}-{i}", 0);
            writer.Write(batch);
            writer.Flush();
        }
        var records = ReadAll(kafka);
        Assert.Equal(["s3-0", "s3-1", "s3-2", "s3-3"], records.Where(r => r.Partition == 0).Select(r => r.Value));
        Assert.Equal(["s1-0", "s1-1", "s1-2", "s1-3"], records.Where(r => r.Partition == 1).Select(r => r.Value));
        Assert.DoesNotContain(records, r => r.Partition == 2);
    }

    [Fact]
    public void An_append_only_kafka_table_refuses_a_changelog()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "agg");
        var e = Assert.ThrowsAny<Exception>(() => Run(Sink(kafka, "host STRING, n BIGINT") + """
            INSERT INTO out_t SELECT host, COUNT(*) FROM (VALUES ('a'), ('b'), ('a')) AS t(host) GROUP BY host;
            """));
        Assert.Contains("out_t", e.Message);
        Assert.Empty(ReadAll(kafka));
    }

    [Theory]
    [InlineData(", 'sink.delivery-guarantee' = 'exactly-once'", "'exactly-once' needs 'sink.transactional-id-prefix'")]
    [InlineData(", 'sink.partitioner' = 'hash'", "option 'sink.partitioner': expected one of default, round-robin, fixed, got 'hash'")]
    [InlineData(", 'key.fields' = 'host'", "option 'key.format': required with 'key.fields'")]
    [InlineData(", 'key.format' = 'raw', 'key.fields' = 'n'", "'raw' needs exactly one key column of type STRING or BYTES")]
    [InlineData(", 'sink.buffer' = '1'", "option 'sink.buffer': unknown option for connector 'kafka'")]
    [InlineData(", 'properties.value.serializer' = 'x'", "option 'properties.value.serializer': a Java Kafka client property")]
    public void Bad_sink_options_are_planning_errors_naming_them(string options, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => Run($$"""
            CREATE TABLE out_t (host STRING, n INT) WITH ('connector' = 'kafka', 'topic' = 't', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json'{{options}});
            INSERT INTO out_t SELECT host, n FROM (VALUES ('a', 1)) AS t(host, n);
            """));
        Assert.Contains(expected, e.Message);
        Assert.Contains("out_t", e.Message);
    }

    [Fact]
    public void Exactly_once_without_checkpointing_fails_the_job_with_a_clear_message()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "tx-out");
        var e = Assert.ThrowsAny<Exception>(() => Run(Sink(kafka, "s STRING", ", 'sink.delivery-guarantee' = 'exactly-once', 'sink.transactional-id-prefix' = 'lab'") + """
            INSERT INTO out_t SELECT s FROM (VALUES ('x')) AS t(s);
            """));
        Assert.Contains("'exactly-once' needs checkpointing ('execution.checkpointing.interval')", e.ToString());
        Assert.Empty(ReadAll(kafka));
    }

    [Fact]
    public void A_failed_delivery_fails_the_job_naming_topic_and_partition()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "small");
        // Message too large: an error librdkafka does not retry, so the delivery report carries it.
        kafka.Cluster.FailProduceRequests(20, errorCode: 10);
        var e = Assert.ThrowsAny<Exception>(() => Run(Sink(kafka, "s STRING") + """
            INSERT INTO out_t SELECT s FROM (VALUES ('x'), ('y')) AS t(s);
            """));
        Assert.Contains("delivery to topic 'small' partition 0 failed", e.ToString());

        // With 'none' the same failure is not reported.
        kafka.Cluster.FailProduceRequests(20, errorCode: 10);
        Run(Sink(kafka, "s STRING", ", 'sink.delivery-guarantee' = 'none'") + """
            INSERT INTO out_t SELECT s FROM (VALUES ('x'), ('y')) AS t(s);
            """);
    }

    [Fact]
    public void Upsert_kafka_writes_the_latest_value_per_key_of_a_group_by()
    {
        using var kafka = new KafkaFixture(partitions: 2, topic: "counts");
        Run($$"""
            CREATE TABLE counts (host STRING, hits BIGINT, PRIMARY KEY (host) NOT ENFORCED) WITH (
              'connector' = 'upsert-kafka', 'topic' = 'counts', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'key.format' = 'json', 'value.format' = 'json');
            INSERT INTO counts SELECT host, COUNT(*) FROM (VALUES ('a'), ('b'), ('a'), ('c'), ('a'), ('b')) AS t(host) GROUP BY host;
            """);
        var records = ReadAll(kafka);
        Assert.All(records, r => Assert.NotNull(r.Value)); // each -U is followed by its +U, so none is written
        var latest = records.GroupBy(r => r.Key!).ToDictionary(g => g.Key, g => g.Last().Value);
        Assert.Equal(new Dictionary<string, string?>
        {
            ["""{"host":"a"}"""] = """{"host":"a","hits":3}""",
            ["""{"host":"b"}"""] = """{"host":"b","hits":2}""",
            ["""{"host":"c"}"""] = """{"host":"c","hits":1}""",
        }, latest);
        foreach (var group in records.GroupBy(r => r.Key)) Assert.Single(group.Select(r => r.Partition).Distinct());
    }

    [Fact]
    public void Upsert_kafka_writes_a_tombstone_when_a_filter_drops_the_new_value_of_a_key()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "few");
        // 'a' reaches 2 and leaves the result (-U[a, 1] without a +U); 'b' stays at 1.
        Run($$"""
            CREATE TABLE few (host STRING, cnt BIGINT, PRIMARY KEY (host) NOT ENFORCED) WITH (
              'connector' = 'upsert-kafka', 'topic' = 'few', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'key.format' = 'json', 'value.format' = 'json');
            INSERT INTO few SELECT host, cnt
            FROM (SELECT host, COUNT(*) AS cnt FROM (VALUES ('a'), ('b'), ('a'), ('a')) AS t(host) GROUP BY host) WHERE cnt < 2;
            """);
        var latest = ReadAll(kafka).GroupBy(r => r.Key!).ToDictionary(g => g.Key, g => g.Last().Value);
        Assert.Equal(new Dictionary<string, string?>
        {
            ["""{"host":"a"}"""] = null,
            ["""{"host":"b"}"""] = """{"host":"b","cnt":1}""",
        }, latest);
    }

    [Fact]
    public void Upsert_kafka_needs_a_primary_key()
    {
        var e = Assert.ThrowsAny<Exception>(() => Run("""
            CREATE TABLE counts (host STRING, hits BIGINT) WITH ('connector' = 'upsert-kafka', 'topic' = 't',
              'properties.bootstrap.servers' = '127.0.0.1:1', 'key.format' = 'json', 'value.format' = 'json');
            INSERT INTO counts SELECT host, COUNT(*) FROM (VALUES ('a')) AS t(host) GROUP BY host;
            """));
        Assert.Contains("PRIMARY KEY", e.Message);
    }
}
