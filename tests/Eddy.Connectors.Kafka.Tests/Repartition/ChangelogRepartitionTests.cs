using System.Text;
using Confluent.Kafka;
using Eddy.Connectors.Kafka.Repartition;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;
using Eddy.Sql;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka.Tests.Repartition;

/// <summary>
/// A changelog source's changes through a repartition topic: each keeps its kind (+I, -U, +U, -D), and each has a
/// position of its own, though an update's -U and +U come from one record (one offset). So the reading side passes
/// both, and drops a replay of either. And the upsert-kafka source's per-key rows under a partition task: a
/// partition's rows are checkpointed with it and restored by its next owner.
/// </summary>
public class ChangelogRepartitionTests
{
    private const string Job = "cdc-agg";

    private static string Sql(KafkaFixture kafka) => $$"""
        SET 'pipeline.name' = '{{Job}}';
        CREATE TABLE items (id BIGINT, grp VARCHAR, qty INT) WITH (
            'connector' = 'kafka', 'topic' = '{{kafka.Topic}}', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
            'scan.startup.mode' = 'earliest-offset', 'scan.bounded.mode' = 'latest-offset', 'format' = 'debezium-json'
        );
        CREATE TABLE totals (grp VARCHAR, total INT) WITH ('connector' = 'print');
        INSERT INTO totals SELECT grp, SUM(qty) FROM items GROUP BY grp;
        """;

    private static void Send(KafkaFixture kafka, params string[] values)
    {
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap, LingerMs = 2 }).Build();
        foreach (var v in values) producer.Produce(new TopicPartition(kafka.Topic, 0), new Message<Null, byte[]> { Value = Encoding.UTF8.GetBytes(v) });
        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("records were not delivered");
    }

    /// <summary>Stage 0 of the job as the partition task of partition 0, to its end; returns the split stages.</summary>
    private static IReadOnlyList<Stage> RunSourceStage(string sql, KafkaRepartitionExchange exchange)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null);
        var job = Assert.Single(session.Execute(sql));
        var stages = StageSplitter.Split(job.Environment.Graph, job.Name, exchange, session.RepartitionPartitions);
        var execution = stages[0].Start(job.Name, job.Environment.Config with { PartitionTask = new PartitionTaskScope(0, 0) });
        var result = execution.Completion.WaitAsync(TimeSpan.FromMinutes(2)).GetAwaiter().GetResult();
        if (result.Failure is not null) throw result.Failure;
        return stages;
    }

    [Fact]
    public void A_changelogs_changes_keep_their_kinds_through_a_repartition_topic_and_a_replay_of_them_is_dropped()
    {
        using var kafka = new KafkaFixture(1, "cdcitems");
        Send(kafka,
            """{"before":null,"after":{"id":1,"grp":"a","qty":5},"op":"c"}""",
            // One record, two changes: -U of the old row and +U of the new (here in another group, so another key).
            """{"before":{"id":1,"grp":"a","qty":5},"after":{"id":1,"grp":"b","qty":7},"op":"u"}""",
            """{"before":null,"after":{"id":2,"grp":"a","qty":3},"op":"c"}""",
            """{"before":{"id":2,"grp":"a","qty":3},"after":null,"op":"d"}""");
        var exchange = new KafkaRepartitionExchange(kafka.Cluster.Bootstrap);
        string sql = Sql(kafka);
        var stages = RunSourceStage(sql, exchange);

        // The keyed operator's reader (stage 1's source), in the job's row type.
        var readerNode = stages[1].Graph.Nodes[0];
        Assert.True(readerNode.IsSource);
        var source = readerNode.GetType().GetProperty("Source")!.GetValue(readerNode)!;
        var read = typeof(ChangelogRepartitionTests).GetMethod(nameof(ReadKinds), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(readerNode.OutputType);
        var (kinds, skipped, state) = ((List<RowKind>, long, byte[]))read.Invoke(null, [source, null, 0L])!;
        // The topic has one partition, so every change is in it in the order the source gave them.
        Assert.Equal([RowKind.Insert, RowKind.UpdateBefore, RowKind.UpdateAfter, RowKind.Insert, RowKind.Delete], kinds);
        Assert.Equal(0, skipped);

        // The source stage again from its start (a restart without a checkpoint): a reader restored from the state
        // above drops every change, the -U and the +U of the update alike.
        RunSourceStage(sql, exchange);
        var (again, skippedAgain, _) = ((List<RowKind>, long, byte[]))read.Invoke(null, [source, new RestoredState(1, [state], 1), 5L])!;
        Assert.Empty(again);
        Assert.Equal(5, skippedAgain);
    }

    /// <summary>
    /// Reads the repartition topic to its end, and until <paramref name="replayed"/> records were dropped as replays (a
    /// restored reader knows the end already): the kinds read, the records dropped, the reader's checkpoint.
    /// </summary>
    private static (List<RowKind> Kinds, long Skipped, byte[] State) ReadKinds<T>(Source<T> source, RestoredState? restored, long replayed)
    {
        var metrics = new SubtaskMetrics("test", 0);
        using var reader = source.CreateReader(new SourceReaderContext(0, 1, TimeProvider.System, metrics) { CheckpointingEnabled = true, Restored = restored });
        var output = new SourceOutput<T>();
        var kinds = new List<RowKind>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var status = reader.Read(output);
            var batch = output.TakeBatch();
            for (int i = 0; i < batch.Count; i++) kinds.Add(batch.KindAt(i));
            if (status == SourceStatus.EndOfInput && metrics.RecordsSkipped >= replayed) break;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"the repartition reader did not end; {kinds.Count} records so far, {metrics.RecordsSkipped} dropped");
        }
        var bytes = new MemoryStream();
        using (var w = new BinaryWriter(bytes, Encoding.UTF8, leaveOpen: true)) reader.SnapshotState(1, w);
        return (kinds, metrics.RecordsSkipped, bytes.ToArray());
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

    private static void Upsert(KafkaFixture kafka, params (int Partition, string Key, string? Value)[] records)
    {
        using var producer = new ProducerBuilder<byte[]?, byte[]?>(new ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap, LingerMs = 2 }).Build();
        foreach (var (partition, key, value) in records)
        {
            producer.Produce(new TopicPartition(kafka.Topic, partition), new Message<byte[]?, byte[]?>
            {
                Key = Encoding.UTF8.GetBytes(key), Value = value is null ? null : Encoding.UTF8.GetBytes(value),
            });
        }
        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("records were not delivered");
    }

    /// <summary>The partition task of <paramref name="partition"/>'s reader of the upsert source.</summary>
    private static SourceReader<Row> TaskReader(Source<Row> source, int partition, RestoredState? restored) =>
        source.CreateReader(new SourceReaderContext(0, 1, TimeProvider.System, new SubtaskMetrics("test", 0))
        {
            CheckpointingEnabled = true, Restored = restored, PartitionTask = new PartitionTaskScope(0, partition),
        });

    /// <summary>Reads until <paramref name="count"/> changes came: each as text with its position.</summary>
    private static List<(string Change, long Position)> ReadChanges(SourceReader<Row> reader, int count)
    {
        var output = new SourceOutput<Row>();
        var changes = new List<(string, long)>();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (changes.Count < count)
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"{changes.Count} changes of {count} came");
            reader.Read(output);
            if (output.Count == 0) continue;
            Assert.True(output.HasPositions, "the changes carry no source positions");
            var positions = output.PositionsSoFar.ToArray();
            var batch = output.TakeBatch();
            for (int i = 0; i < batch.Count; i++) changes.Add((batch.Values[i].ToString(), positions[i]));
        }
        return changes;
    }

    [Fact]
    public void Under_a_partition_task_the_upsert_sources_rows_per_key_go_with_their_partition_and_every_change_has_its_own_position()
    {
        using var kafka = new KafkaFixture(2, "upserts");
        Upsert(kafka, (0, "a", """{"id":"a","v":1}"""), (1, "b", """{"id":"b","v":1}"""), (1, "c", """{"id":"c","v":1}"""));
        var source = UpsertSource(kafka);
        byte[] state;
        using (var owner = TaskReader(source, 1, restored: null))
        {
            // Partition 1's task sees partition 1's keys only.
            Assert.Equal(["+I[b, 1]", "+I[c, 1]"], ReadChanges(owner, 2).Select(c => c.Change));
            Assert.Equal(2, ((UpsertNormalizingReader)owner).KeyCount);
            state = Reading.Snapshot(owner, 1);
        }
        // The worker's lag reads the partition's next offset out of the checkpoint (the Kafka reader's part of it).
        Assert.Equal([("upserts", 1, 2L)], KafkaSourceState.CheckpointedOffsets(state));
        Upsert(kafka, (0, "a", """{"id":"a","v":2}"""), (1, "b", """{"id":"b","v":2}"""), (1, "c", null));

        // The partition's next owner restores its rows: the update and the delete carry the old rows.
        using var next = TaskReader(source, 1, new RestoredState(1, [state], 1));
        Assert.Equal(2, ((UpsertNormalizingReader)next).KeyCount);
        var changes = ReadChanges(next, 3);
        Assert.Equal(["-U[b, 1]", "+U[b, 2]", "-D[c, 1]"], changes.Select(c => c.Change));
        // The -U and +U come from one message (offset 2 of partition 1), each with a position of its own, increasing.
        Assert.Equal(SourcePositions.PackChange(1, 2, 0), changes[0].Position);
        Assert.Equal(SourcePositions.PackChange(1, 2, 1), changes[1].Position);
        Assert.Equal(SourcePositions.PackChange(1, 3, 0), changes[2].Position);
        Assert.True(changes[0].Position < changes[1].Position && changes[1].Position < changes[2].Position);

        // Partition 0's task restored from partition 1's state knows none of its keys.
        using var other = TaskReader(source, 0, new RestoredState(1, [state], 1));
        Assert.Equal(0, ((UpsertNormalizingReader)other).KeyCount);
    }
}
