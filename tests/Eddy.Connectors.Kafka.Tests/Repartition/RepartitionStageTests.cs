using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Eddy.Connectors.Kafka.Repartition;
using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka.Tests.Repartition;

/// <summary>
/// The lab's Day 2 aggregation (hits per host in 5-minute tumbling windows over a topic keyed by nothing) split into
/// two stages at its keyed exchange, each stage run as ordinary jobs, one pipeline per partition (as workers run
/// them), through a repartition topic on the dev broker. Expected rows: LINQ over the produced events.
/// </summary>
public class RepartitionStageTests
{
    private const int Partitions = 4;
    private const string Job = "lab-agg";
    private static readonly string[] Hosts = ["www.dataexpert.io", "bootcamp.techcreator.io", "www.eczachly.com", "learn.dataexpert.io", "www.zachwilson.tech", "admin.zachwilson.tech"];
    private static readonly DateTime Start = new(2024, 1, 1, 10, 0, 0, DateTimeKind.Utc);

    private sealed record Event(int Partition, string Host, DateTime Time);

    /// <summary>
    /// Events spread over the partitions, each partition's times ascending within the 15 s bound (jitter ±4 s), so
    /// that no event is late in one process or two stages and the windows are exactly LINQ's groups.
    /// </summary>
    private static List<Event> Produce(KafkaFixture kafka, int count, int partitions, int seed = 7)
    {
        var random = new Random(seed);
        var events = new List<Event>(count);
        for (int i = 0; i < count; i++)
        {
            var t = Start.AddMilliseconds(i * 400L + random.Next(-4000, 4000));
            events.Add(new Event(i % partitions, Hosts[random.Next(Hosts.Length)], t));
        }
        using var producer = new ProducerBuilder<Null, byte[]>(new ProducerConfig { BootstrapServers = kafka.Cluster.Bootstrap, LingerMs = 2 }).Build();
        foreach (var e in events)
        {
            string json = $$"""{"url":"/p","referrer":null,"user_agent":"x","host":"{{e.Host}}","ip":"10.0.0.1","headers":"{}","event_time":"{{e.Time.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)}}"}""";
            producer.Produce(new TopicPartition(kafka.Topic, e.Partition), new Message<Null, byte[]> { Value = Encoding.UTF8.GetBytes(json) });
        }
        if (producer.Flush(TimeSpan.FromSeconds(30)) != 0) throw new TimeoutException("events were not delivered");
        return events;
    }

    private static string Sql(KafkaFixture kafka, string bounded = "'scan.bounded.mode' = 'latest-offset'", string extra = "") => $$"""
        SET 'pipeline.name' = '{{Job}}';
        {{extra}}
        CREATE TABLE events (
            url VARCHAR, referrer VARCHAR, user_agent VARCHAR, host VARCHAR, ip VARCHAR, headers VARCHAR, event_time VARCHAR,
            window_timestamp AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''),
            WATERMARK FOR window_timestamp AS window_timestamp - INTERVAL '15' SECOND
        ) WITH (
            'connector' = 'kafka', 'topic' = '{{kafka.Topic}}', 'properties.bootstrap.servers' = '{{kafka.Cluster.Bootstrap}}',
            'scan.startup.mode' = 'earliest-offset', {{bounded}}, 'format' = 'json'
        );
        CREATE TABLE processed_events_aggregated (event_hour TIMESTAMP(3), host VARCHAR, num_hits BIGINT) WITH ('connector' = 'print');
        INSERT INTO processed_events_aggregated
        SELECT window_start AS event_hour, host, COUNT(*) AS num_hits
        FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(window_timestamp), INTERVAL '5' MINUTE))
        GROUP BY window_start, window_end, host;
        """;

    /// <summary>One partition task: the script planned afresh, split, and stage <paramref name="stage"/> started for partition <paramref name="partition"/>.</summary>
    private sealed class PartitionTask
    {
        private readonly StringWriter output = new();

        public PartitionTask(string sql, KafkaRepartitionExchange exchange, int stage, int partition)
        {
            var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
            var job = Assert.Single(session.Execute(sql));
            var stages = StageSplitter.Split(job.Environment.Graph, job.Name, exchange, session.RepartitionPartitions);
            Stages = stages;
            Execution = stages[stage].Start(job.Name, job.Environment.Config with { PartitionTask = new PartitionTaskScope(stage, partition) });
        }

        public IReadOnlyList<Stage> Stages { get; }

        public JobExecution Execution { get; }

        public List<string> Lines()
        {
            lock (output) return [.. output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim())];
        }

        public void Finish()
        {
            var result = Execution.Completion.WaitAsync(TimeSpan.FromMinutes(3)).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
    }

    private static List<string> Oracle(IEnumerable<Event> events) =>
        [.. events
            .GroupBy(e => (Window: new DateTime(e.Time.Ticks - e.Time.Ticks % TimeSpan.FromMinutes(5).Ticks, DateTimeKind.Utc), e.Host))
            .Select(g => $"+I[{g.Key.Window.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)}, {g.Key.Host}, {g.Count()}]")
            .Order(StringComparer.Ordinal)];

    private static List<string> RunStage(string sql, KafkaRepartitionExchange exchange, int stage, int partitions)
    {
        var tasks = Enumerable.Range(0, partitions).Select(p => new PartitionTask(sql, exchange, stage, p)).ToList();
        foreach (var t in tasks) t.Finish();
        return [.. tasks.SelectMany(t => t.Lines())];
    }

    [Fact]
    public void Two_stages_through_a_repartition_topic_give_the_rows_of_one_process()
    {
        using var kafka = new KafkaFixture(Partitions, "web-traffic");
        var events = Produce(kafka, 3000, Partitions);
        var exchange = new KafkaRepartitionExchange(kafka.Cluster.Bootstrap);
        string sql = Sql(kafka);

        var probe = new PartitionTask(sql, exchange, 0, 0);
        probe.Finish();
        Assert.Equal(2, probe.Stages.Count);
        var topic = Assert.Single(probe.Stages[0].Outputs);
        Assert.StartsWith($"{Job}-", topic.Name);
        Assert.EndsWith("-repartition", topic.Name);
        Assert.Equal(topic, Assert.Single(probe.Stages[1].Inputs));
        foreach (int p in new[] { 1, 2, 3 }) new PartitionTask(sql, exchange, 0, p).Finish();
        var rows = RunStage(sql, exchange, 1, Partitions);

        var oracle = Oracle(events);
        Assert.Equal(oracle, rows.Order(StringComparer.Ordinal).ToList());

        // The same script in one process, as a check of the oracle's form.
        Assert.Equal(oracle, RunInOneProcess(sql));
    }

    private static List<string> RunInOneProcess(string sql)
    {
        var single = new StringWriter();
        var job = Assert.Single(new SqlSession(TestConnectors.Registry, single, TextWriter.Null, _ => null).Execute(sql));
        var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
        Assert.Null(result.Failure);
        return [.. single.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Trim()).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void Explain_shows_each_stage_and_its_repartition_topic_with_the_partition_count()
    {
        // Planning only: no broker is asked.
        using var kafka = new KafkaFixture(1, "unused");
        string sql = Sql(kafka, extra: "SET 'table.exec.repartition.partitions' = '6';");
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null) { PlanOnly = true };
        var text = SqlSession.DescribeStages(Assert.Single(session.Execute(sql)), session.RepartitionPartitions);
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd()).ToList();
        Assert.Equal(4, lines.Count);
        Assert.StartsWith("stage 0: Source: events -> Repartition writer: lab-agg-", lines[0]);
        Assert.Matches(@"^  writes lab-agg-\S+-repartition \(6 partitions, keyed for 'WindowAggregate\(TUMBLE\(size=\[300000 ms\]\)\)'\) to stage 1$", lines[1]);
        Assert.Matches(@"^stage 1: Repartition reader: lab-agg-\S+-repartition -> WindowAggregate\(TUMBLE\(size=\[300000 ms\]\)\) -> Sink: processed_events_aggregated$", lines[2]);
        Assert.Matches(@"^  reads  lab-agg-\S+-repartition \(6 partitions\) from stage 0$", lines[3]);

        // Without the option the count is the source topic's, known only at run time.
        var fallback = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null) { PlanOnly = true };
        Assert.Contains("(partitions: as the source topic 'unused'", SqlSession.DescribeStages(Assert.Single(fallback.Execute(Sql(kafka))), null));
    }

    [Fact]
    public void A_keyed_exchange_after_another_keyed_operator_is_refused_with_the_operators_named()
    {
        using var kafka = new KafkaFixture(1, "unused");
        string sql = Sql(kafka).Replace("""
            INSERT INTO processed_events_aggregated
            SELECT window_start AS event_hour, host, COUNT(*) AS num_hits
            FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(window_timestamp), INTERVAL '5' MINUTE))
            GROUP BY window_start, window_end, host;
            """, """
            INSERT INTO processed_events_aggregated
            SELECT event_hour, 'all', SUM(num_hits) FROM (
              SELECT window_start AS event_hour, window_end AS e, host, COUNT(*) AS num_hits
              FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(window_timestamp), INTERVAL '5' MINUTE))
              GROUP BY window_start, window_end, host)
            GROUP BY event_hour;
            """);
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null, _ => null) { PlanOnly = true };
        var text = SqlSession.DescribeStages(Assert.Single(session.Execute(sql)), null);
        Assert.StartsWith("not splittable into stages: the keyed exchange into '", text);
        Assert.Contains("follows 'WindowAggregate(TUMBLE(size=[300000 ms]))', not a source", text);
    }

    [Fact]
    public void A_key_lands_in_one_partition_and_a_partition_is_a_range_of_key_groups()
    {
        using var kafka = new KafkaFixture(Partitions, "web-traffic");
        var events = Produce(kafka, 1200, Partitions);
        var exchange = new KafkaRepartitionExchange(kafka.Cluster.Bootstrap);
        string sql = Sql(kafka, extra: "SET 'table.exec.repartition.partitions' = '3';");
        var first = new PartitionTask(sql, exchange, 0, 0);
        first.Finish();
        foreach (int p in new[] { 1, 2, 3 }) new PartitionTask(sql, exchange, 0, p).Finish();
        string topic = first.Stages[0].Outputs[0].Name;
        Assert.Equal(3, first.Stages[0].Outputs[0].Partitions);

        // Each stage-2 task sees only its partition: its rows' hosts are the hosts whose key group falls in its range.
        var hostsByTask = new List<HashSet<string>>();
        for (int q = 0; q < 3; q++)
        {
            var task = new PartitionTask(sql, exchange, 1, q);
            task.Finish();
            hostsByTask.Add([.. task.Lines().Select(l => l.Split(", ")[1])]);
        }
        for (int a = 0; a < 3; a++)
            for (int b = a + 1; b < 3; b++) Assert.Empty(hostsByTask[a].Intersect(hostsByTask[b]));
        Assert.Equal(events.Select(e => e.Host).Distinct().Order(), hostsByTask.SelectMany(h => h).Order());
        using var admin = new AdminClientBuilder(new AdminClientConfig { BootstrapServers = kafka.Cluster.Bootstrap }).Build();
        Assert.Equal(3, admin.GetMetadata(TimeSpan.FromSeconds(10)).Topics.Single(t => t.Topic == topic).Partitions.Count);
    }

    [Fact]
    public void A_replayed_upstream_doubles_nothing()
    {
        using var kafka = new KafkaFixture(Partitions, "web-traffic");
        var events = Produce(kafka, 2000, Partitions);
        var exchange = new KafkaRepartitionExchange(kafka.Cluster.Bootstrap);
        string sql = Sql(kafka);
        // Partition 0's upstream task first gets half way, then starts again from the earliest offset (an older one)
        // and runs to the end: the first half reaches the repartition topic twice, before the windows can close
        // (the other partitions' watermarks have not moved yet).
        long half = events.Count(e => e.Partition == 0) / 2;
        new PartitionTask(Sql(kafka, $"'scan.bounded.mode' = 'specific-offsets', 'scan.bounded.specific-offsets' = 'partition:0,offset:{half}'"),
            exchange, 0, 0).Finish();
        new PartitionTask(sql, exchange, 0, 0).Finish();
        foreach (int p in new[] { 1, 2, 3 }) new PartitionTask(sql, exchange, 0, p).Finish();

        var rows = RunStage(sql, exchange, 1, Partitions);
        Assert.Equal(Oracle(events), rows.Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public void A_source_partition_without_data_holds_windows_back_only_until_the_idle_timeout()
    {
        using var kafka = new KafkaFixture(Partitions, "web-traffic");
        // Partition 3 gets nothing; the upstream tasks of the others run to the end of their data first (their
        // watermarks reach +∞), so that only the empty partition can hold the windows back.
        var events = Produce(kafka, 1500, Partitions - 1);
        var exchange = new KafkaRepartitionExchange(kafka.Cluster.Bootstrap);
        const string idle = "SET 'table.exec.source.idle-timeout' = '500 ms';";
        foreach (int p in new[] { 0, 1, 2 }) new PartitionTask(Sql(kafka, extra: idle), exchange, 0, p).Finish();
        string unbounded = Sql(kafka, "'scan.bounded.mode' = 'unbounded'", idle);
        var empty = new PartitionTask(unbounded, exchange, 0, 3);
        var downstream = Enumerable.Range(0, Partitions).Select(q => new PartitionTask(unbounded, exchange, 1, q)).ToList();
        try
        {
            var expected = Oracle(events);
            var deadline = DateTime.UtcNow.AddMinutes(2);
            List<string> rows;
            while ((rows = [.. downstream.SelectMany(t => t.Lines())]).Count < expected.Count && DateTime.UtcNow < deadline)
            {
                foreach (var t in downstream.Append(empty))
                    if (t.Execution.Completion.IsCompleted) t.Finish();
                Thread.Sleep(100);
            }
            Assert.True(expected.SequenceEqual(rows.Order(StringComparer.Ordinal)),
                $"missing: {string.Join(" | ", expected.Except(rows))}; extra: {string.Join(" | ", rows.Except(expected))}; per task: {string.Join(",", downstream.Select(t => t.Lines().Count))}; " +
                string.Join("; ", downstream.SelectMany(t => t.Execution.Metrics).Select(m => $"{m.TaskName}/{m.Subtask} in={m.RecordsIn} out={m.RecordsOut} late={m.LateRecordsDropped} wm={m.OutputWatermark} skipped={m.RecordsSkipped} splits=" +
                    string.Join("/", m.Splits?.Read().Select(r => $"{r.Split}:{(r.Idle ? "idle" : "active")}:{r.LastDataTime}") ?? []))));
        }
        finally
        {
            foreach (var t in downstream.Append(empty)) t.Execution.Cancel();
        }
    }

    [Fact]
    public void The_reader_checkpoints_what_it_applied_and_drops_a_replay_after_a_restore()
    {
        using var kafka = new KafkaFixture(2, "web-traffic");
        var events = Produce(kafka, 600, 2);
        var exchange = new KafkaRepartitionExchange(kafka.Cluster.Bootstrap);
        string sql = Sql(kafka);
        var first = new PartitionTask(sql, exchange, 0, 0);
        first.Finish();
        new PartitionTask(sql, exchange, 0, 1).Finish();
        var topic = first.Stages[0].Outputs[0];

        // A reader of both partitions, in the job's row type (the keyed operator's input, made by the stage split).
        var readerNode = first.Stages[1].Graph.Nodes[0];
        Assert.True(readerNode.IsSource);
        var source = readerNode.GetType().GetProperty("Source")!.GetValue(readerNode)!;
        var rowType = readerNode.OutputType;
        var run = typeof(RepartitionStageTests).GetMethod(nameof(SnapshotAndRestore), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(rowType);
        var (read, replayed, restoredWatermark) = ((int, int, long))run.Invoke(null,
            [source, (Action)(() => new PartitionTask(sql, exchange, 0, 0).Finish()), events.Count(e => e.Partition == 0)])!;
        Assert.Equal(events.Count, read);
        Assert.Equal(0, replayed);
        Assert.Equal(EventTime.MaxWatermark, restoredWatermark);
        Assert.NotNull(topic);
    }

    /// <summary>
    /// Reads all, snapshots, replays the upstream (source partition 0 again from its start), and reads with a reader
    /// restored from the snapshot: every replayed record is dropped and counted as skipped.
    /// </summary>
    private static (int Read, int Replayed, long RestoredWatermark) SnapshotAndRestore<T>(Source<T> source, Action replay, int replayCount)
    {
        var metrics = new SubtaskMetrics("test", 0);
        var reader = source.CreateReader(new SourceReaderContext(0, 1, TimeProvider.System, metrics) { CheckpointingEnabled = true });
        int read = ReadToEnd(reader, out _);
        byte[] state;
        using (var bytes = new MemoryStream())
        {
            using (var w = new BinaryWriter(bytes, Encoding.UTF8, leaveOpen: true)) reader.SnapshotState(1, w);
            state = bytes.ToArray();
        }
        reader.Dispose();
        replay();
        var restored = source.CreateReader(new SourceReaderContext(0, 1, TimeProvider.System, new SubtaskMetrics("test", 0))
        {
            CheckpointingEnabled = true,
            Restored = new RestoredState(1, [state], 1),
        });
        long watermark = ((IInBandWatermarks)restored).SplitWatermark(0);
        // The replay's records come again (with the replay's end marker); every one is dropped.
        var output = new SourceOutput<T>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        int replayed = 0;
        long skipped = 0;
        var restoredMetrics = (SubtaskMetrics)typeof(RepartitionReader<T>).GetField("metrics", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(restored)!;
        while (Volatile.Read(ref restoredMetrics.RecordsSkipped) < replayCount && DateTime.UtcNow < deadline)
        {
            restored.Read(output);
            replayed += output.Count;
            output.TakeBatch();
            skipped = restoredMetrics.RecordsSkipped;
        }
        Assert.Equal(replayCount, skipped);
        restored.Dispose();
        return (read, replayed, watermark);
    }

    private static int ReadToEnd<T>(SourceReader<T> reader, out SourceOutput<T> output)
    {
        output = new SourceOutput<T>();
        int count = 0;
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            var status = reader.Read(output);
            count += output.Count;
            output.TakeBatch();
            if (status == SourceStatus.EndOfInput) return count;
        }
        throw new TimeoutException($"the repartition reader did not end; {count} records so far");
    }
}
