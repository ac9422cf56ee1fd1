using System.Text;
using Eddy.Connectors.Kafka.Repartition;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka.Tests.Repartition;

/// <summary>
/// The watermark status of upstream source partitions carried through a repartition topic on the dev broker: writers
/// (one per source partition, as partition tasks run them) send records, watermarks and IDLE / ACTIVE; a reader job
/// (one reader owning both topic partitions) combines them. Expected watermarks worked by hand from Flink's idleness
/// semantics (an idle input is left out of the minimum; one that turns active again holds it once it has caught up;
/// when the last active input turns idle, StatusWatermarkValve puts out the largest watermark of any input).
/// </summary>
public class RepartitionIdleStatusTests
{
    private const int SourcePartitions = 4;
    private const int TopicPartitions = 2;
    /// <summary>The reader job's own idle timeout: short, so that a reader that re-derived idleness from arrivals would show it.</summary>
    private static readonly TimeSpan ReaderIdleTimeout = TimeSpan.FromMilliseconds(200);

    private sealed class FixedPartitions(int count) : IPartitionedSource
    {
        public int PartitionCount() => count;

        public string Describe() => "'upstream'";

        public IReadOnlyList<string> Topics() => ["upstream"];
    }

    private sealed class Setup : IDisposable
    {
        private readonly MockKafkaCluster cluster = new();
        private readonly long[] offsets = new long[SourcePartitions];

        public Setup()
        {
            Exchange = new KafkaRepartitionExchange(cluster.Bootstrap);
            Topic = new RepartitionTopic($"status-{Guid.NewGuid():N}-repartition", "Window", TopicPartitions, 0, 1)
            {
                UpstreamSource = new FixedPartitions(SourcePartitions),
            };
        }

        public KafkaRepartitionExchange Exchange { get; }

        public RepartitionTopic Topic { get; }

        /// <summary>The writer of source partition <paramref name="source"/>'s task (it announces itself ACTIVE).</summary>
        public SinkWriter<long> Writer(int source) => Exchange.CreateWriter<long>(Topic, v => (int)v, 128)
            .CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("writer", source))
            {
                PartitionTask = new PartitionTaskScope(0, source),
            });

        /// <summary>One record of source partition <paramref name="source"/> at event time <paramref name="timestamp"/>.</summary>
        public void Record(SinkWriter<long> writer, int source, long timestamp)
        {
            var batch = BatchPool<long>.Rent();
            batch.Add(timestamp, timestamp);
            SourcePositions.Publish(batch, [SourcePositions.Pack(source, offsets[source]++)]);
            try
            {
                writer.Write(batch);
            }
            finally
            {
                SourcePositions.Clear();
                BatchPool<long>.Return(batch);
            }
        }

        public (JobExecution Job, List<long> Watermarks) StartReader()
        {
            var watermarks = new List<long>();
            var env = StreamEnvironment.Create(new JobConfig { SourceIdleTimeout = ReaderIdleTimeout });
            env.FromSource(Exchange.CreateReader<long>(Topic), name: "Reader")
                .Transform("Watch", () => new WatermarkRecorder(watermarks))
                .SinkTo(new CollectSink<long>());
            return (env.Start("reader"), watermarks);
        }

        public void Dispose() => cluster.Dispose();
    }

    private sealed class WatermarkRecorder(List<long> watermarks) : StreamOperator<long, long>
    {
        public override void OnBatch(Batch<long> batch) => Output.OnBatch(batch);

        protected override void ProcessWatermark(long watermark)
        {
            lock (watermarks) watermarks.Add(watermark);
        }
    }

    private static List<long> Snapshot(List<long> watermarks)
    {
        lock (watermarks) return [.. watermarks];
    }

    private static void WaitUntil(Func<bool> condition, string what, List<long> watermarks, JobExecution job)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (job.Completion.IsCompleted) Assert.Fail($"the reader job ended while waiting for {what}: {job.Completion.Result.Failure}");
            if (DateTime.UtcNow > deadline) Assert.Fail($"{what} did not happen within 60 s; watermarks: [{string.Join(", ", Snapshot(watermarks))}]");
            Thread.Sleep(20);
        }
    }

    private static void Flush(params SinkWriter<long>[] writers)
    {
        foreach (var w in writers) w.Flush();
    }

    [Fact]
    public void A_late_reader_that_reads_every_backlog_at_once_keeps_the_active_source_partitions_in_its_watermark()
    {
        using var setup = new Setup();
        var writers = Enumerable.Range(0, SourcePartitions).Select(setup.Writer).ToArray();
        // Every upstream task is active (none said IDLE): each sends a record and its watermark 1000 × (s + 1).
        for (int s = 0; s < SourcePartitions; s++)
        {
            setup.Record(writers[s], s, 1000L * (s + 1) + 500);
            writers[s].OnWatermark(1000L * (s + 1));
        }
        Flush(writers);

        // The reader starts after all of it is stored: one burst. The minimum over the four active partitions is 1000.
        var (job, watermarks) = setup.StartReader();
        try
        {
            WaitUntil(() => Snapshot(watermarks).Contains(1000), "the watermark 1000", watermarks, job);
            // Nothing arrives for many of the reader's own idle timeouts: the partitions stay active (their writers
            // said nothing else), so nothing moves the watermark. A reader that took silence for idleness would move
            // it to 4000 here.
            Thread.Sleep(ReaderIdleTimeout * 5);
            Assert.Equal([1000L], Snapshot(watermarks));
            // Partition 0 moves on to 2500: the minimum is now partition 1's 2000.
            writers[0].OnWatermark(2500);
            Flush(writers[0]);
            WaitUntil(() => Snapshot(watermarks).Contains(2000), "the watermark 2000", watermarks, job);
            Assert.Equal([1000L, 2000L], Snapshot(watermarks));
            Assert.False(job.Metrics[0].IsIdle);
        }
        finally
        {
            job.Cancel();
            foreach (var w in writers) w.Dispose();
        }
    }

    [Fact]
    public void An_empty_source_partition_holds_the_watermark_until_its_writer_says_idle_and_again_once_it_resumes()
    {
        using var setup = new Setup();
        var writers = Enumerable.Range(0, SourcePartitions).Select(setup.Writer).ToArray();
        var (job, watermarks) = setup.StartReader();
        try
        {
            for (int s = 0; s < 3; s++)
            {
                setup.Record(writers[s], s, 1000L * (s + 1) + 500);
                writers[s].OnWatermark(1000L * (s + 1));
            }
            Flush(writers);
            WaitUntil(() => job.Metrics[0].RecordsIn == 3, "three records read", watermarks, job);
            // Partition 3 started (ACTIVE) and sent nothing: its −∞ holds the minimum, past the reader's own timeout.
            Thread.Sleep(ReaderIdleTimeout * 5);
            Assert.Empty(Snapshot(watermarks));

            // Its task's idle timeout passed upstream: it is left out, the minimum over 0..2 is 1000.
            writers[3].OnWatermarkStatus(idle: true);
            Flush(writers[3]);
            WaitUntil(() => Snapshot(watermarks).Contains(1000), "the watermark 1000 once partition 3 is idle", watermarks, job);
            Assert.True(job.Metrics[0].IsIdle is false);

            // Partition 3 resumes (ACTIVE, a record, its watermark 1400 ≥ 1000: caught up); then 0..2 move far ahead.
            // It holds the minimum again: 1400, not 5000.
            writers[3].OnWatermarkStatus(idle: false);
            setup.Record(writers[3], 3, 1500);
            writers[3].OnWatermark(1400);
            Flush(writers[3]);
            for (int s = 0; s < 3; s++) writers[s].OnWatermark(5000L + 1000 * s);
            Flush(writers);
            WaitUntil(() => Snapshot(watermarks).Contains(1400), "the watermark 1400", watermarks, job);
            WaitUntil(() => job.Metrics[0].RecordsIn == 4, "partition 3's record read", watermarks, job);
            Assert.Equal([1000L, 1400L], Snapshot(watermarks));

            // Every upstream task turns idle, partition 0 (holding 5000 once 3 is idle) last: no input will move the
            // watermark any more, so it becomes the largest, 7000, and the reader is idle.
            foreach (int s in new[] { 3, 2, 1, 0 }) writers[s].OnWatermarkStatus(idle: true);
            Flush(writers);
            WaitUntil(() => Snapshot(watermarks)[^1] == 7000 && job.Metrics[0].IsIdle, "the watermark 7000 and the reader idle", watermarks, job);
            Assert.All(Snapshot(watermarks), w => Assert.True(w <= 7000));
        }
        finally
        {
            job.Cancel();
            foreach (var w in writers) w.Dispose();
        }
    }

    [Fact]
    public void The_reader_checkpoints_each_source_partitions_status_and_restores_version_2_state_as_active()
    {
        using var setup = new Setup();
        var writers = Enumerable.Range(0, 2).Select(setup.Writer).ToArray();
        setup.Record(writers[0], 0, 1500);
        writers[0].OnWatermark(1000);
        writers[1].OnWatermarkStatus(idle: true);
        Flush(writers);

        var reader = (RepartitionReader<long>)setup.Exchange.CreateReader<long>(setup.Topic).CreateReader(
            new SourceReaderContext(0, 1, TimeProvider.System, new SubtaskMetrics("reader", 0)) { CheckpointingEnabled = true });
        var output = new SourceOutput<long>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(reader.SplitIdle(1) && reader.SplitWatermark(0) == 1000))
        {
            Assert.True(DateTime.UtcNow < deadline, "the reader did not see partition 1 idle and partition 0 at 1000");
            reader.Read(output);
            output.TakeBatch();
        }
        byte[] state;
        using (var bytes = new MemoryStream())
        {
            using (var w = new BinaryWriter(bytes, Encoding.UTF8, leaveOpen: true)) reader.SnapshotState(1, w);
            state = bytes.ToArray();
        }
        reader.Dispose();
        Assert.Equal(4, state[0]);

        // The IDLE was consumed before the checkpoint and will not come again: the restored reader knows it.
        using var restored = Restore(setup, state);
        Assert.True(restored.SplitIdle(1));
        Assert.False(restored.SplitIdle(0));
        Assert.False(restored.SplitIdle(2)); // never heard from: its task may not have started
        Assert.Equal(1000, restored.SplitWatermark(0));
        Assert.True(restored.TakeChanges());

        // Version 2 (before statuses): offsets, applied offsets and watermarks are kept, every partition is active.
        byte[] v2;
        using (var bytes = new MemoryStream())
        {
            using (var w = new BinaryWriter(bytes, Encoding.UTF8, leaveOpen: true))
            {
                w.Write((byte)2);
                w.Write(TopicPartitions);
                for (int q = 0; q < TopicPartitions; q++)
                {
                    w.Write(q);
                    w.Write(5L); // the offset to resume at
                    w.Write(SourcePartitions);
                    for (int s = 0; s < SourcePartitions; s++)
                    {
                        w.Write(s == 0 ? 0L : -1L);
                        w.Write(s == 0 ? 1000L : EventTime.MinWatermark);
                        w.Write(true); // heard from
                    }
                }
            }
            v2 = bytes.ToArray();
        }
        using var old = Restore(setup, v2);
        Assert.All(Enumerable.Range(0, SourcePartitions), s => Assert.False(old.SplitIdle(s)));
        Assert.Equal(1000, old.SplitWatermark(0));
        Assert.Equal(new (int, long)[] { (0, 5L), (1, 5L) }, RepartitionReaderState.CheckpointedOffsets(v2));
        Assert.Equal(2, RepartitionReaderState.CheckpointedOffsets(state).Count);
        foreach (var w in writers) w.Dispose();
    }

    private static RepartitionReader<long> Restore(Setup setup, byte[] state) =>
        (RepartitionReader<long>)setup.Exchange.CreateReader<long>(setup.Topic).CreateReader(
            new SourceReaderContext(0, 1, TimeProvider.System, new SubtaskMetrics("reader", 0))
            {
                CheckpointingEnabled = true,
                Restored = new RestoredState(1, [state], 1),
            });
}
