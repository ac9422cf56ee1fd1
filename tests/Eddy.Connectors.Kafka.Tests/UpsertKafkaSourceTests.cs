using System.Text;
using Confluent.Kafka;
using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka.Tests;

public class UpsertKafkaSourceTests
{
    /// <summary>Keyed messages (a null value is a tombstone) to partition 0 of the fixture's topic.</summary>
    private static void Produce(KafkaFixture kafka, params (string Key, string? Value)[] records)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap, LingerMs = 2 }).Build();
        foreach (var (key, value) in records)
            producer.Produce(new TopicPartition(kafka.Topic, 0), new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes(key), Value = value is null ? null : Encoding.UTF8.GetBytes(value),
            });
        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("records were not delivered");
    }

    private static List<string> Run(string sql)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        return [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r'))];
    }

    private static string Table(KafkaFixture kafka, string name, string keyFormat = "raw", string extra = "") => $$"""
        CREATE TABLE {{name}} (id STRING, v INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
          'connector' = 'upsert-kafka', 'topic' = '{{kafka.Topic}}', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
          'key.format' = '{{keyFormat}}', 'value.format' = 'json', 'scan.bounded.mode' = 'latest-offset'{{extra}});
        """;

    [Fact]
    public void Updates_deletes_and_tombstones_of_unknown_keys_become_a_changelog()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "upserts");
        Produce(kafka,
            ("a", """{"id":"a","v":1}"""),
            ("b", null), // a tombstone for a key never seen: nothing
            ("a", """{"id":"a","v":2}"""),
            ("c", """{"id":"c","v":3}"""),
            ("a", """{"id":"a","v":2}"""), // the same row again: no change
            ("a", null),
            ("a", null), // deleted already: nothing
            ("a", """{"id":"a","v":4}"""));
        var lines = Run(Table(kafka, "u") + """
            CREATE TABLE out_t (id STRING, v INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, v FROM u;
            """);
        Assert.Equal(["+I[a, 1]", "-U[a, 1]", "+U[a, 2]", "+I[c, 3]", "-D[a, 2]", "+I[a, 4]"], lines);
    }

    [Fact]
    public void A_json_key_and_a_filter_over_the_changelog()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "upserts");
        Produce(kafka,
            ("""{"id":"a"}""", """{"id":"a","v":1}"""),
            ("""{ "id" : "a" }""", """{"id":"a","v":20}"""), // the same key written differently
            ("""{"id":"a"}""", null));
        var lines = Run(Table(kafka, "u", keyFormat: "json") + """
            CREATE TABLE out_t (id STRING, v INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, v * 10 FROM u WHERE v > 0;
            """);
        Assert.Equal(["+I[a, 10]", "-U[a, 10]", "+U[a, 200]", "-D[a, 200]"], lines);
    }

    [Fact]
    public void Aggregating_the_changelog_retracts_and_deletes_an_emptied_group()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "upserts");
        Produce(kafka,
            ("a", """{"id":"a","v":1}"""),
            ("b", """{"id":"b","v":1}"""),
            ("a", """{"id":"a","v":2}"""),
            ("b", null));
        // The source's changelog: +I(a,1) +I(b,1) -U(a,1) +U(a,2) -D(b,1); group 1 loses its last row at the end.
        var lines = Run("SET 'parallelism.default' = '1';" + Table(kafka, "u")
            + "CREATE TABLE out_t (v INT, n BIGINT) WITH ('connector' = 'print'); INSERT INTO out_t SELECT v, COUNT(*) FROM u GROUP BY v;");
        Assert.Equal(["+I[1, 1]", "-U[1, 1]", "+U[1, 2]", "-U[1, 2]", "+U[1, 1]", "+I[2, 1]", "-D[1, 1]"], lines);
    }

    [Fact]
    public void A_window_aggregation_over_the_changelog_is_refused_at_planning()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "upserts");
        var e = Assert.ThrowsAny<Exception>(() => Run(Table(kafka, "u").Replace("v INT,", "v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts,")
            + """
            CREATE TABLE out_t (v INT, n BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT v, COUNT(*) FROM TABLE(TUMBLE(TABLE u, DESCRIPTOR(ts), INTERVAL '1' MINUTE)) GROUP BY v, window_start, window_end;
            """));
        Assert.Contains("a window aggregation over an updating stream", e.Message);
        Assert.Contains("line 4,", e.Message);
    }

    [Fact]
    public void An_append_only_sink_refuses_the_changelog()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "upserts");
        var e = Assert.ThrowsAny<Exception>(() => Run(Table(kafka, "u") + $$"""
            CREATE TABLE appended (id STRING, v INT) WITH ('connector' = 'kafka', 'topic' = 'out', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'format' = 'json');
            INSERT INTO appended SELECT id, v FROM u;
            """));
        Assert.Contains("table 'appended' (kafka) is append-only but the query produces updates", e.Message);
    }

    [Theory]
    [InlineData("", "PRIMARY KEY")]
    [InlineData("'key.fields' = 'id',", "key.fields")]
    public void Bad_tables_are_errors_naming_the_problem(string options, string expected)
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "upserts");
        string key = expected == "PRIMARY KEY" ? "" : ", PRIMARY KEY (id) NOT ENFORCED";
        var e = Assert.ThrowsAny<Exception>(() => Run($$"""
            CREATE TABLE u (id STRING, v INT{{key}}) WITH ({{options}} 'connector' = 'upsert-kafka', 'topic' = 'upserts',
              'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}', 'key.format' = 'raw', 'value.format' = 'json');
            CREATE TABLE out_t (id STRING, v INT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, v FROM u;
            """));
        Assert.Contains(expected, e.Message);
        Assert.Contains("'u'", e.Message);
    }

    [Fact]
    public void Round_trip_an_upsert_sink_writes_the_topic_and_the_upsert_source_reads_the_table_back()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "counts");
        kafka.Cluster.CreateTopic("clicks", 1);
        using (var producer = new ProducerBuilder<byte[]?, byte[]>(new ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap, LingerMs = 2 }).Build())
        {
            foreach (var host in new[] { "a", "b", "a", "a", "c", "b" })
                producer.Produce(new TopicPartition("clicks", 0), new Message<byte[]?, byte[]> { Value = Encoding.UTF8.GetBytes($$"""{"host":"{{host}}"}""") });
            producer.Flush(TimeSpan.FromSeconds(30));
        }
        string counts = $$"""
            CREATE TABLE counts (id STRING, v BIGINT, PRIMARY KEY (id) NOT ENFORCED) WITH (
              'connector' = 'upsert-kafka', 'topic' = 'counts', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'key.format' = 'json', 'value.format' = 'json', 'scan.bounded.mode' = 'latest-offset');
            """;
        Run(counts + $$"""
            CREATE TABLE clicks (host STRING) WITH ('connector' = 'kafka', 'topic' = 'clicks', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'json');
            INSERT INTO counts SELECT host, COUNT(*) FROM clicks GROUP BY host;
            """);
        var lines = Run(counts + """
            CREATE TABLE out_t (id STRING, v BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, v FROM counts;
            """);
        // Replaying the changelog gives the final counts.
        var table = new Dictionary<string, string>();
        foreach (var line in lines)
        {
            var fields = line[3..^1].Split(", ");
            if (line.StartsWith("+I") || line.StartsWith("+U")) table[fields[0]] = fields[1];
            else table.Remove(fields[0]);
        }
        Assert.Equal(["a=3", "b=2", "c=1"], table.Select(p => $"{p.Key}={p.Value}").Order(StringComparer.Ordinal));
        Assert.Equal("+I[a, 1]", lines[0]);
        Assert.Contains("-U[a, 2]", lines);
        Assert.Contains("+U[a, 3]", lines);

        // The changelog source into another upsert-kafka table (updates applied by key), read back: the same table.
        kafka.Cluster.CreateTopic("copied", 1);
        string copied = counts.Replace("TABLE counts", "TABLE copied").Replace("'topic' = 'counts'", "'topic' = 'copied'");
        Run(counts + copied + "INSERT INTO copied SELECT id, v FROM counts;");
        var copiedLines = Run(copied + """
            CREATE TABLE out_t (id STRING, v BIGINT) WITH ('connector' = 'print');
            INSERT INTO out_t SELECT id, v FROM copied;
            """);
        Assert.Equal(lines, copiedLines);
    }

    [Theory]
    // The primary key (id) does not hold the partition key (g): no upsert key holds it, Flink's RetractStrategy.
    [InlineData("u", "SELECT g, id, v FROM (SELECT g, id, v, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v DESC) AS rn FROM u) WHERE rn <= 3")]
    [InlineData("u", "SELECT g, id, v FROM (SELECT g, id, v, ROW_NUMBER() OVER (PARTITION BY g, id ORDER BY v DESC) AS rn FROM u WHERE v > 0) WHERE rn <= 3")]
    // Without a primary key (a Debezium topic may have none) the scan has no upsert key at all.
    [InlineData("n", "SELECT id, v FROM (SELECT id, v, ROW_NUMBER() OVER (PARTITION BY id ORDER BY v DESC) AS rn FROM n) WHERE rn <= 3")]
    public void Top_n_over_a_changelog_scan_whose_upsert_key_does_not_hold_the_partition_key_is_flinks_retract_strategy(string table, string query)
    {
        var explain = new StringWriter();
        new SqlSession(TestConnectors.Registry, explain, TextWriter.Null).Execute($"""
            CREATE TABLE u (id STRING, g STRING, v INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
              'connector' = 'upsert-kafka', 'topic' = 'u', 'properties.bootstrap.servers' = '127.0.0.1:1', 'key.format' = 'raw', 'value.format' = 'json');
            CREATE TABLE n (id STRING, g STRING, v INT) WITH (
              'connector' = 'kafka', 'topic' = 'n', 'properties.bootstrap.servers' = '127.0.0.1:1', 'format' = 'debezium-json');
            EXPLAIN {query};
            """);
        Assert.Contains("Rank(strategy=[RetractStrategy]", explain.ToString(), StringComparison.Ordinal);
        Assert.Contains($"Scan(table=[{table}]", explain.ToString(), StringComparison.Ordinal);
    }

    private static Source<Row> UpsertSource(KafkaFixture kafka)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        session.Execute($$"""
            CREATE TABLE u (id STRING, v INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
              'connector' = 'upsert-kafka', 'topic' = '{{kafka.Topic}}', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'key.format' = 'raw', 'value.format' = 'json');
            """).ToList();
        Assert.True(session.Catalog.TryGetTable("u", out var table));
        return new UpsertKafkaTableConnector().CreateSource(table, table.PhysicalSchema, new ConnectorContext(TextWriter.Null, TextWriter.Null));
    }

    private static List<string> Changes(IEnumerable<Read<Row>> read) => [.. read.Select(r => r.Value.ToString())];

    [Fact]
    public void The_rows_per_key_are_checkpointed_and_restored_with_the_offsets()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "upserts");
        Produce(kafka, ("a", """{"id":"a","v":1}"""), ("b", """{"id":"b","v":1}"""));
        var source = UpsertSource(kafka);
        byte[] state;
        using (var first = Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), restored: null))
        {
            Assert.Equal(["+I[a, 1]", "+I[b, 1]"], Changes(Reading.AtLeast(first, 2)));
            state = Reading.Snapshot(first, 1);
        }
        Produce(kafka, ("a", """{"id":"a","v":2}"""), ("b", null), ("z", null), ("c", """{"id":"c","v":5}"""));

        // Restored: the old rows are known, so the update and the delete carry them; the unknown key gives nothing.
        using (var restored = Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), new RestoredState(1, [state], 1)))
            Assert.Equal(["-U[a, 1]", "+U[a, 2]", "-D[b, 1]", "+I[c, 5]"], Changes(Reading.AtLeast(restored, 4)));

        // Restored at parallelism 2: the key state goes with its partition (0 → subtask 0); subtask 1 owns nothing.
        using (var other = Reading.Reader(source, 1, 2, new SubtaskMetrics("test", 1), new RestoredState(1, [state], 1)))
        {
            Assert.Equal(0, other.SplitCount);
            Assert.Equal(0, ((UpsertNormalizingReader)other).KeyCount);
        }
        using (var owner = Reading.Reader(source, 0, 2, new SubtaskMetrics("test", 0), new RestoredState(1, [state], 1)))
            Assert.Equal(2, ((UpsertNormalizingReader)owner).KeyCount);
    }

    [Fact]
    public void Messages_read_but_not_yet_emitted_are_part_of_the_checkpoint()
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "upserts");
        // Each update gives two changes: 1 500 updates cannot all go into one output batch.
        var records = new List<(string, string?)>();
        for (int i = 0; i < 1_500; i++) records.Add(($"k{i}", $$"""{"id":"k{{i}}","v":1}"""));
        for (int i = 0; i < 1_500; i++) records.Add(($"k{i}", $$"""{"id":"k{{i}}","v":2}"""));
        Produce(kafka, [.. records]);
        var source = UpsertSource(kafka);
        var output = new SourceOutput<Row>();
        var seen = new List<string>();
        byte[]? state = null;
        using (var reader = Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), restored: null))
        {
            var normalizing = (UpsertNormalizingReader)reader;
            // Read until the reader holds messages it could not emit yet, then checkpoint there.
            for (int attempt = 0; attempt < 1_000 && state is null; attempt++)
            {
                reader.Read(output);
                seen.AddRange(Changes(Reading.Drain(output)));
                if (normalizing.PendingCount > 0) state = Reading.Snapshot(reader, 1);
            }
        }
        Assert.NotNull(state);
        using (var restored = Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), new RestoredState(1, [state], 1)))
            seen.AddRange(Changes(Reading.AtLeast(restored, 1_500 + 3_000 - seen.Count)));
        Assert.Equal(1_500 + 3_000, seen.Count);
        Assert.Equal(1_500, seen.Count(s => s.StartsWith("+I")));
        Assert.Equal(1_500, seen.Count(s => s.StartsWith("-U") && s.EndsWith(", 1]")));
        Assert.Equal(1_500, seen.Count(s => s.StartsWith("+U") && s.EndsWith(", 2]")));
    }
}
