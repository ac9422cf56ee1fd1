using System.Text.Json;
using Confluent.Kafka;
using Eddy.Connectors.Kafka;
using Eddy.Sql;
using Npgsql;

namespace Eddy.Bench;

/// <summary>
/// The lab's day-1 job end to end as issue 6 words it: the lab's web-traffic events as JSON in a Kafka topic (the dev
/// broker: librdkafka's mock cluster over loopback TCP, as the kafka-* workloads), read by the SQL job, the event time
/// parsed, <c>get_location(ip)</c> added (offline database), into a sink: the counting blackhole, or PostgreSQL
/// (<c>geo-lab-kafka-pg*</c>: EDDY_BENCH_PG or EDDY_TEST_PG as the connection string; the table is dropped and created
/// again by each run). Each workload has a "-plain" twin without the geolocation column. The topic is filled once per
/// event count, outside the timing (web-traffic generator, 100,000 visitors, 5 % IPv6, seed 7; ~480 B per event).
/// </summary>
public static class GeoLabWorkloads
{
    private const string PgTable = "eddy_bench_geo_lab";
    private static MockKafkaCluster? cluster;
    private static string topic = "";

    public static long KafkaToBlackholeGeo(BenchEvent[] events) => Run(events, geo: true, postgres: false);

    public static long KafkaToBlackholePlain(BenchEvent[] events) => Run(events, geo: false, postgres: false);

    public static long KafkaToPostgresGeo(BenchEvent[] events) => Run(events, geo: true, postgres: true);

    public static long KafkaToPostgresPlain(BenchEvent[] events) => Run(events, geo: false, postgres: true);

    private static long Run(BenchEvent[] events, bool geo, bool postgres)
    {
        Fill(events.Length);
        string sink = "'connector' = 'bench-count'";
        string? pg = null;
        if (postgres)
        {
            pg = Environment.GetEnvironmentVariable("EDDY_BENCH_PG") ?? Environment.GetEnvironmentVariable("EDDY_TEST_PG");
            if (string.IsNullOrEmpty(pg)) throw new InvalidOperationException("geo-lab-kafka-pg* need EDDY_BENCH_PG (or EDDY_TEST_PG): an Npgsql connection string");
            using (var c = new NpgsqlConnection(pg))
            {
                c.Open();
                using var drop = new NpgsqlCommand($"DROP TABLE IF EXISTS {PgTable}", c);
                drop.ExecuteNonQuery();
            }
            sink = $"'connector' = 'postgres', 'url' = '{pg}', 'table-name' = '{PgTable}', 'sink.create-table' = 'true'";
        }
        var session = new SqlSession(BenchConnectors.Registry, TextWriter.Null, Console.Error);
        var jobs = session.Execute($"""
            CREATE TABLE events (
              url VARCHAR, referrer VARCHAR, user_agent VARCHAR, host VARCHAR, ip VARCHAR, headers VARCHAR, event_time VARCHAR,
              event_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z''')
            ) WITH (
              'connector' = 'kafka', 'topic' = '{topic}', 'properties.bootstrap.servers' = '{cluster!.Bootstrap}',
              'properties.group.id' = 'bench-geo-lab', 'properties.enable.auto.commit' = 'false',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json'
            );
            CREATE TABLE processed_events (ip VARCHAR, event_timestamp TIMESTAMP(3), referrer VARCHAR, host VARCHAR, url VARCHAR{(geo ? ", geodata VARCHAR" : "")})
            WITH ({sink});
            INSERT INTO processed_events SELECT ip, event_timestamp, referrer, host, url{(geo ? ", get_location(ip) AS geodata" : "")} FROM events;
            """);
        if (pg is null) return SqlWorkloads.ExecuteCounted(jobs[0]);
        var result = jobs[0].Environment.ExecuteAsync("geo-lab-kafka-pg").GetAwaiter().GetResult();
        if (result.Failure is not null) throw result.Failure;
        using var conn = new NpgsqlConnection(pg);
        conn.Open();
        using var count = new NpgsqlCommand($"SELECT count(*) FROM {PgTable}", conn);
        return (long)count.ExecuteScalar()!;
    }

    /// <summary>Produces the lab's events into a fresh topic unless the last fill had the same count (not timed).</summary>
    private static void Fill(int count)
    {
        cluster ??= new MockKafkaCluster();
        string wanted = $"geo-lab-{count}";
        if (topic == wanted) return;
        // The mock keeps about 5 MB per partition.
        int partitions = Math.Max(3, (int)((long)count * 480 / (3 << 20)) + 1);
        cluster.CreateTopic(wanted, partitions);
        var generator = new Eddy.Connectors.WebTrafficGenerator(new Eddy.Connectors.WebTrafficOptions { Users = 100000, Count = count }, 7);
        using var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig
        {
            BootstrapServers = cluster.Bootstrap, LingerMs = 20, BatchSize = 1 << 20, QueueBufferingMaxMessages = 1_000_000,
        }).SetLogHandler((_, _) => { }).Build();
        for (int i = 0; i < count && generator.TryNext(out var e, out _); i++)
        {
            var value = JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, string?>
            {
                ["url"] = e.Url, ["referrer"] = e.Referrer, ["user_agent"] = e.UserAgent, ["host"] = e.Host, ["ip"] = e.Ip,
                ["headers"] = e.Headers, ["event_time"] = e.EventTime,
            });
            KafkaWorkloads.Produce(producer, new TopicPartition(wanted, i % partitions), value);
        }
        if (producer.Flush(TimeSpan.FromMinutes(5)) > 0) throw new TimeoutException("the lab topic was not filled");
        topic = wanted;
    }
}
