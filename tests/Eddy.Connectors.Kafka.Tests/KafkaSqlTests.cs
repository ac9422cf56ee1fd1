using Eddy.Sql;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka.Tests;

public class KafkaSqlTests
{
    static KafkaSqlTests() => KafkaTableConnector.Register();

    private static List<string> Run(string sql)
    {
        var output = new StringWriter();
        var session = new SqlSession(output, TextWriter.Null, _ => null);
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];
    }

    private static string Json(string host, string time, string extra = "") =>
        $$"""{"host":"{{host}}","event_time":"{{time}}","headers":{"accept":"*/*","n":[1,2]}{{extra}}}""";

    [Fact]
    public void Tumbling_window_counts_per_host_over_a_topic()
    {
        using var kafka = new KafkaFixture(partitions: 2, topic: "web");
        long ts = 1_704_103_200_000; // 2024-01-01 10:00:00 UTC
        kafka.Produce(
        [
            (0, Json("a", "2024-01-01T10:00:01.000Z"), ts),
            (1, Json("b", "2024-01-01T10:00:30.000Z"), ts),
            (0, Json("a", "2024-01-01T10:00:59.999Z"), ts),
            (1, Json("a", "2024-01-01T10:01:00.000Z"), ts),
            (0, Json("b", "2024-01-01T10:02:10.000Z"), ts),
        ]);
        var lines = Run($$"""
            SET 'parallelism.default' = '2';
            CREATE TABLE events (
              host STRING,
              event_time STRING,
              headers STRING,
              ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
              WATERMARK FOR ts AS ts - INTERVAL '15' SECOND
            ) WITH (
              'connector' = 'kafka',
              'topic' = 'web',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'properties.group.id' = 'sql-test',
              'scan.startup.mode' = 'earliest-offset',
              'scan.bounded.mode' = 'latest-offset',
              'format' = 'json'
            );
            CREATE TABLE hits (event_minute TIMESTAMP(3), host STRING, num_hits BIGINT) WITH ('connector' = 'print');
            INSERT INTO hits
            SELECT window_start AS event_minute, host, COUNT(*) AS num_hits
            FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end, host;
            """);
        Assert.Equal(
            ["+I[2024-01-01 10:00:00.000, a, 2]", "+I[2024-01-01 10:00:00.000, b, 1]", "+I[2024-01-01 10:01:00.000, a, 1]", "+I[2024-01-01 10:02:00.000, b, 1]"],
            lines.Select(l => l[(l.IndexOf('>') + 1)..].Trim()).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void Objects_into_string_columns_and_metadata_columns()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "web");
        kafka.Produce([(0, Json("a", "x"), 1_704_103_200_123)]);
        var lines = Run($$"""
            CREATE TABLE events (
              host STRING,
              headers STRING,
              `partition` INT METADATA VIRTUAL,
              `offset` BIGINT METADATA VIRTUAL,
              src STRING METADATA FROM 'topic' VIRTUAL,
              rec_time TIMESTAMP_LTZ(3) METADATA FROM 'timestamp'
            ) WITH (
              'connector' = 'kafka', 'topic' = 'web', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json'
            );
            CREATE TABLE out_t (host STRING, headers STRING, p INT, o BIGINT, src STRING, rec_time TIMESTAMP_LTZ(3)) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT host, headers, `partition`, `offset`, src, rec_time FROM events;
            """);
        Assert.Equal(["""+I[a, {"accept":"*/*","n":[1,2]}, 0, 0, web, 2024-01-01 10:00:00.123]"""], lines);
    }

    [Theory]
    [InlineData("'scan.startup.mod' = 'earliest-offset'", "option 'scan.startup.mod': unknown option for connector 'kafka'")]
    [InlineData("'scan.startup.mode' = 'earliest-offset', 'value.format' = 'json'", "option 'value.format': unknown option")]
    [InlineData("'scan.startup.mode' = 'group-offsets'", "option 'scan.startup.mode': 'group-offsets' is not supported")]
    [InlineData("'scan.startup.mode' = 'timestamp'", "scan.startup.timestamp-millis")]
    [InlineData("'scan.startup.mode' = 'earliest-offset', 'value.fields-include' = 'EXCEPT_KEY'", "option 'value.fields-include': 'EXCEPT_KEY' cannot be read")]
    [InlineData("'scan.startup.mode' = 'earliest-offset', 'properties.key.deserializer' = 'x'", "option 'properties.key.deserializer': a Java Kafka client property")]
    [InlineData("'scan.startup.mode' = 'earliest-offset', 'properties.sasl.jaas.config' = 'x.PlainLoginModule required username=\"u\" password=\"p\";'", "login module 'x.PlainLoginModule' is not supported")]
    [InlineData("'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'timestamp'", "option 'scan.bounded.mode': 'timestamp' is not supported")]
    public void Bad_options_are_errors_naming_them(string options, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => Run($$"""
            CREATE TABLE events (host STRING) WITH ('connector' = 'kafka', 'topic' = 't', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'json', {{options}});
            CREATE TABLE out_t (host STRING) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT host FROM events;
            """));
        Assert.Contains(expected, e.Message);
        Assert.Contains("events", e.Message);
    }

    [Fact]
    public void A_bad_record_fails_the_job_naming_where_it_is_unless_ignored()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "web");
        kafka.Produce([(0, """{"n":1}""", 0), (0, """{"n":"two"}""", 0), (0, """{"n":3}""", 0)]);
        string Sql(string extra) => $$"""
            CREATE TABLE src_t (n INT) WITH ('connector' = 'kafka', 'topic' = 'web', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json'{{extra}});
            CREATE TABLE out_t (n INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT n FROM src_t;
            """;
        var e = Assert.ThrowsAny<Exception>(() => Run(Sql("")));
        Assert.Contains("web/0@1", e.ToString());
        Assert.Equal(["+I[1]", "+I[3]"], Run(Sql(", 'json.ignore-parse-errors' = 'true'")));
    }

    [Fact]
    public void The_connector_is_registered_by_name()
    {
        Assert.Contains("kafka", TableConnectors.Names);
    }
}
