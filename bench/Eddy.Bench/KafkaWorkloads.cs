using System.Text;
using Confluent.Kafka;
using Eddy.Connectors.Kafka;
using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Runtime.Distributed;

namespace Eddy.Bench;

/// <summary>
/// Kafka source throughput on the dev broker (librdkafka's mock cluster, in this process, reached over loopback TCP):
/// the events as compact JSON (<c>{"ts":..,"k":..,"payload":..}</c>, ~50 B) in one topic, filled once per event count
/// outside the timing, then read to the end by (a) a bare Confluent.Kafka consumer that only touches each value, (b) an
/// Eddy SQL job that decodes every value into (ts, k, payload) and discards the rows, (c) an Eddy SQL job counting per
/// key in 1-minute tumbling windows. All at parallelism 1. The mock keeps about 5 MB per partition, so the topic gets
/// one partition per ~3 MB of messages (at least 3).
/// </summary>
public static class KafkaWorkloads
{
    private static MockKafkaCluster? cluster;
    private static string topic = "";
    private static int partitions;

    /// <summary>The bare consumer: assign every partition from the start, consume until every event came.</summary>
    public static long BareConsumer(BenchEvent[] events)
    {
        Fill(events);
        var config = new ConsumerConfig
        {
            BootstrapServers = cluster!.Bootstrap, GroupId = "bench-bare", EnableAutoCommit = false, EnableAutoOffsetStore = false,
        };
        foreach (var (key, value) in ExtraProperties()) config.Set(key, value);
        using var consumer = new ConsumerBuilder<byte[]?, byte[]?>(config)
            .SetKeyDeserializer(Deserializers.ByteArray).SetValueDeserializer(Deserializers.ByteArray).SetLogHandler((_, _) => { }).Build();
        consumer.Assign(Enumerable.Range(0, partitions).Select(p => new TopicPartitionOffset(topic, p, Offset.Beginning)));
        long count = 0, bytes = 0;
        while (count < events.Length)
        {
            var r = consumer.Consume(TimeSpan.FromSeconds(10)) ?? throw new TimeoutException($"the bare consumer got {count} of {events.Length} records");
            bytes += r.Message.Value!.Length;
            count++;
        }
        consumer.Close();
        return bytes > 0 ? count : 0;
    }

    /// <summary>The source alone: a DataStream job whose decoder takes each value's length, to a counting sink.</summary>
    public static long SourceOnly(BenchEvent[] events)
    {
        Fill(events);
        var options = new KafkaSourceOptions
        {
            Topics = [topic], BootstrapServers = cluster!.Bootstrap, GroupId = "bench-source", AutoCommit = false,
            StartupMode = KafkaStartupMode.EarliestOffset, BoundedMode = KafkaBoundedMode.LatestOffset,
        };
        var env = StreamEnvironment.Create();
        var sink = new CountingSink<int>();
        env.FromSource(new KafkaSource<int>(options, (in KafkaMessage m, out int length) =>
        {
            length = m.Value!.Length;
            return true;
        }), name: "kafka").SinkTo(sink);
        env.Execute("kafka-source");
        return sink.Count;
    }

    public static long JsonDecode(BenchEvent[] events) => Run(events, """
        CREATE TABLE counted (ts BIGINT, k INT, payload INT) WITH ('connector' = 'bench-count');
        INSERT INTO counted SELECT ts, k, payload FROM src;
        """);

    /// <summary>kafka-json through the generic-row path (the connector seen as row-only), as before the typed JSON decoder.</summary>
    public static long JsonDecodeRows(BenchEvent[] events) => Run(events, """
        CREATE TABLE counted (ts BIGINT, k INT, payload INT) WITH ('connector' = 'bench-count');
        INSERT INTO counted SELECT ts, k, payload FROM src;
        """, "kafka-rows");

    /// <summary>The kafka connector without its typed source: every record becomes a generic Row, then the row struct.</summary>
    internal sealed class RowsOnlyKafka : ITableConnector
    {
        private readonly KafkaTableConnector kafka = new();

        public string Name => "kafka-rows";

        public bool AcceptsUpdates(TableDef table) => false;

        public IReadOnlyCollection<string> MetadataKeys => kafka.MetadataKeys;

        public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) => kafka.CreateSource(table, decoded, context);

        public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) => throw new NotSupportedException("a source only");
    }

    public static long TumblingCount(BenchEvent[] events) => Run(events, TumblingJob);

    private const string TumblingJob = """
        CREATE TABLE counted (k INT, window_start TIMESTAMP(3), n BIGINT) WITH ('connector' = 'bench-count');
        INSERT INTO counted SELECT k, window_start, COUNT(*) FROM TABLE(TUMBLE(TABLE src, DESCRIPTOR(rt), INTERVAL '1' MINUTE))
        GROUP BY window_start, window_end, k;
        """;

    private static int repartitionRuns;

    /// <summary>
    /// kafka-tumbling split in two stages at its keyed exchange, as workers run it: stage 1 (source → repartition
    /// writer) as one pipeline per source partition, all at once, then stage 2 (repartition reader → window → sink) as
    /// one pipeline per repartition partition. Each run writes a fresh repartition topic.
    /// </summary>
    public static long TumblingCountRepartitioned(BenchEvent[] events)
    {
        Fill(events);
        var exchange = new Eddy.Connectors.Kafka.Repartition.KafkaRepartitionExchange(cluster!.Bootstrap);
        string name = $"bench-repartition-{Interlocked.Increment(ref repartitionRuns)}";
        SqlWorkloads.Counted = 0;
        foreach (int stage in new[] { 0, 1 })
        {
            var tasks = Enumerable.Range(0, partitions).Select(p =>
            {
                var jobs = Plan(TumblingJob, "kafka", name);
                var stages = StageSplitter.Split(jobs[0].Environment.Graph, name, exchange);
                return stages[stage].Start(name, jobs[0].Environment.Config with { PartitionTask = new PartitionTaskScope(stage, p) });
            }).ToList();
            foreach (var t in tasks)
            {
                var result = t.Completion.GetAwaiter().GetResult();
                if (result.Failure is not null) throw result.Failure;
            }
        }
        return SqlWorkloads.Counted;
    }

    private static long Run(BenchEvent[] events, string job, string connector = "kafka")
    {
        Fill(events);
        return SqlWorkloads.ExecuteCounted(Plan(job, connector)[0]);
    }

    private static IReadOnlyList<SqlJob> Plan(string job, string connector, string? name = null)
    {
        var session = new SqlSession(BenchConnectors.Registry, TextWriter.Null, Console.Error);
        if (name is not null) session.Set("pipeline.name", name);
        return session.Execute($$"""
            CREATE TABLE src (
              ts BIGINT, k INT, payload INT,
              rt AS TO_TIMESTAMP_LTZ(ts, 3),
              WATERMARK FOR rt AS rt
            ) WITH (
              'connector' = '{{connector}}', 'topic' = '{{topic}}', 'properties.bootstrap.servers' = '{{cluster!.Bootstrap}}',
              'properties.group.id' = 'bench-eddy', 'properties.enable.auto.commit' = 'false',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json'{{string.Concat(ExtraProperties().Select(p => $", 'properties.{p.Key}' = '{p.Value}'"))}}
            );
            """ + job);
    }

    /// <summary>
    /// Client settings added to every benchmark consumer (bare and Eddy's), from <c>EDDY_BENCH_KAFKA_PROPERTIES</c>
    /// (<c>name=value,name=value</c>, librdkafka's names): for comparing settings A B B A without a rebuild.
    /// </summary>
    private static IEnumerable<KeyValuePair<string, string>> ExtraProperties() =>
        (Environment.GetEnvironmentVariable("EDDY_BENCH_KAFKA_PROPERTIES") ?? "")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => KeyValuePair.Create(p[0], p.Length > 1 ? p[1] : ""));

    /// <summary>Produces one message, waiting for room in the client's queue when it is full.</summary>
    internal static void Produce(IProducer<byte[]?, byte[]> producer, TopicPartition partition, byte[] value)
    {
        while (true)
        {
            try
            {
                producer.Produce(partition, new Message<byte[]?, byte[]> { Value = value });
                return;
            }
            catch (ProduceException<byte[]?, byte[]> ex) when (ex.Error.Code == ErrorCode.Local_QueueFull)
            {
                producer.Poll(TimeSpan.FromMilliseconds(20));
            }
        }
    }

    /// <summary>Produces the events into a fresh topic unless the last fill had the same count (not timed).</summary>
    private static void Fill(BenchEvent[] events)
    {
        if (cluster is null)
        {
            cluster = new MockKafkaCluster();
            Console.Error.WriteLine($"librdkafka {KafkaNative.Version} from {KafkaNative.LoadedFrom}");
        }
        string wanted = $"bench-{events.Length}";
        if (topic == wanted) return;
        partitions = Math.Max(3, (int)((long)events.Length * 50 / (3 << 20)) + 1);
        cluster.CreateTopic(wanted, partitions);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = cluster.Bootstrap, LingerMs = 20, BatchSize = 1 << 20, QueueBufferingMaxMessages = 1_000_000,
        }).SetLogHandler((_, _) => { }).Build();
        for (int i = 0; i < events.Length; i++)
        {
            var e = events[i];
            var value = Encoding.UTF8.GetBytes($"{{\"ts\":{e.Timestamp},\"k\":{e.Key},\"payload\":{e.Payload}}}");
            Produce(producer, new TopicPartition(wanted, i % partitions), value);
        }
        if (producer.Flush(TimeSpan.FromMinutes(2)) > 0) throw new TimeoutException("the benchmark topic was not filled");
        topic = wanted;
    }
}
