using System.Text;
using Eddy.Connectors.Kafka;
using Eddy.Connectors.Kafka.Tests;
using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Formats.Tests;

/// <summary>A debezium-json source checkpointed in the middle of a record's rows, restored, and read on: nothing lost, nothing repeated.</summary>
public class ChangelogCheckpointTests
{
    private static Source<Row> Source(KafkaFixture kafka, bool normalize)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        session.Execute($$"""
            CREATE TABLE p (id BIGINT, v INT, PRIMARY KEY (id) NOT ENFORCED) WITH (
              'connector' = 'kafka', 'topic' = '{{kafka.Topic}}', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
              'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'debezium-json');
            """).ToList();
        Assert.True(session.Catalog.TryGetTable("p", out var table));
        var options = normalize ? new Dictionary<string, string> { ["table.exec.source.cdc-events-duplicate"] = "true" } : [];
        return new KafkaTableConnector().CreateSource(table, table.PhysicalSchema, new ConnectorContext(TextWriter.Null, TextWriter.Null) { JobOptions = options });
    }

    /// <summary>Reads a bounded reader to its end, at most <paramref name="limit"/> rows per call.</summary>
    private static List<string> ToEnd(SourceReader<Row> reader, int limit = int.MaxValue)
    {
        var output = new SourceOutput<Row> { Limit = limit };
        var rows = new List<string>();
        while (true)
        {
            var status = reader.Read(output);
            rows.AddRange(Reading.Drain(output).Select(r => r.Value.ToString()));
            if (status == SourceStatus.EndOfInput) return rows;
        }
    }

    private static void Produce(KafkaFixture kafka)
    {
        var events = new List<byte[]>();
        for (int i = 0; i < 300; i++) events.Add(Encoding.UTF8.GetBytes($$"""{"after":{"id":{{i % 50}},"v":{{i}}},"op":"c"}"""));
        for (int i = 0; i < 300; i++)
            events.Add(Encoding.UTF8.GetBytes($$"""{"before":{"id":{{i % 50}},"v":{{i}}},"after":{"id":{{i % 50}},"v":{{i + 1000}}},"op":"u"}"""));
        for (int i = 0; i < 50; i += 3) events.Add(Encoding.UTF8.GetBytes($$"""{"before":{"id":{{i}},"v":0},"op":"d"}"""));
        kafka.ProduceBytes([.. events]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Rows_not_yet_emitted_and_the_rows_per_key_survive_a_restore(bool normalize)
    {
        using var kafka = new KafkaFixture(partitions: 1, topic: "cdc");
        Produce(kafka);
        var source = Source(kafka, normalize);
        List<string> whole;
        using (var reader = Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), restored: null)) whole = ToEnd(reader);
        // As given: 300 +I, 300 × (-U, +U), 17 -D. Normalized: 50 +I then 250 × (-U, +U) for the creates of known
        // keys; each update -D (its -U removes the key) and +I; 17 -D.
        Assert.Equal(normalize ? 50 + 2 * 250 + 2 * 300 + 17 : 300 + 2 * 300 + 17, whole.Count);

        var before = new List<string>();
        byte[] state;
        using (var reader = Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), restored: null))
        {
            var output = new SourceOutput<Row> { Limit = 7 };
            var changelog = (ChangelogReader)reader;
            // Into the updates (two rows each), with rows of the last batch still waiting.
            while (before.Count < 400 || changelog.PendingCount == 0)
            {
                reader.Read(output);
                before.AddRange(Reading.Drain(output).Select(r => r.Value.ToString()));
            }
            state = Reading.Snapshot(reader, 1);
        }
        List<string> after;
        using (var restored = Reading.Reader(source, 0, 1, new SubtaskMetrics("test", 0), new RestoredState(1, [state], 1)))
        {
            // Between an update's -D and +I a key is briefly absent.
            if (normalize) Assert.InRange(((ChangelogReader)restored).KeyCount, 49, 50);
            after = ToEnd(restored, limit: 5);
        }
        Assert.Equal(whole, [.. before, .. after]);
    }
}
