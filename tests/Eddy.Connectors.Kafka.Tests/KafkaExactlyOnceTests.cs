using System.Text;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka.Tests;

/// <summary>
/// The exactly-once sink's protocol at the level of its client calls, against the mock cluster: a transaction per
/// checkpoint interval (begun after each barrier, committed when the checkpoint completes), aborted on close, and the
/// restore of a checkpoint whose transaction may or may not have committed. librdkafka's mock cluster accepts
/// transactions but does not isolate them (a read_committed consumer also sees aborted records; see
/// ../shared/notes/dependencies.md), so these tests check the calls and the records sent, not what a read_committed
/// reader would see on a real broker.
/// </summary>
public class KafkaExactlyOnceTests
{
    private sealed class Log
    {
        private readonly List<string> lines = [];

        public void Add(string line)
        {
            lock (lines) lines.Add(line);
        }

        public List<string> Take()
        {
            lock (lines)
            {
                var taken = lines.ToList();
                lines.Clear();
                return taken;
            }
        }
    }

    private static KafkaSink<string> Sink(KafkaFixture kafka, Log log) => new(new KafkaSinkOptions
    {
        Topic = kafka.Topic, BootstrapServers = kafka.Cluster.Bootstrap, Partitioner = KafkaSinkPartitioner.Fixed,
        DeliveryGuarantee = KafkaDeliveryGuarantee.ExactlyOnce, TransactionalIdPrefix = "tx", TransactionLog = log.Add,
        RequestTimeout = TimeSpan.FromSeconds(20),
    }, () => (string value, RowKind _, out byte[]? key, out byte[]? message, out long timestamp) =>
    {
        key = null;
        message = Encoding.UTF8.GetBytes(value);
        timestamp = EventTime.None;
        return true;
    });

    private static SinkWriter<string> Writer(KafkaSink<string> sink, RestoredState? restored = null, bool checkpointing = true) =>
        sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("sink", 0)) { CheckpointingEnabled = checkpointing, Restored = restored });

    private static void Write(SinkWriter<string> writer, params string[] values)
    {
        var batch = new Batch<string>();
        foreach (var v in values) batch.Add(v, EventTime.None);
        writer.Write(batch);
    }

    private static byte[] Snapshot(SinkWriter<string> writer, long id)
    {
        var bytes = new MemoryStream();
        using (var w = new BinaryWriter(bytes, Encoding.UTF8, leaveOpen: true)) writer.SnapshotState(id, w);
        return bytes.ToArray();
    }

    private static List<string> Topic(KafkaFixture kafka, int expected) =>
        [.. kafka.ReadAll(kafka.Topic, 1, expected).Select(r => Encoding.UTF8.GetString(r.Message.Value!))];

    [Fact]
    public void Without_checkpointing_exactly_once_is_refused_with_a_clear_message()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var e = Assert.Throws<InvalidOperationException>(() => Writer(Sink(kafka, new Log()), checkpointing: false));
        Assert.Contains("'exactly-once' needs checkpointing ('execution.checkpointing.interval')", e.Message);
        Assert.Contains("sink.transactional-id-prefix", Assert.Throws<ArgumentException>(() => new KafkaSink<string>(new KafkaSinkOptions
        {
            Topic = "t", BootstrapServers = "127.0.0.1:1", DeliveryGuarantee = KafkaDeliveryGuarantee.ExactlyOnce,
        }, () => null!)).Message);
    }

    [Fact]
    public void A_transaction_per_checkpoint_interval_committed_when_its_checkpoint_completes()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var log = new Log();
        var writer = Writer(Sink(kafka, log));
        Assert.Equal(["init tx-0-0", "begin tx-0-0"], log.Take());

        Write(writer, "a", "b");
        Snapshot(writer, 1);
        // The barrier closes tx-0-0 (left open until checkpoint 1 completes) and begins the next interval's transaction.
        Assert.Equal(["init tx-0-1", "begin tx-0-1"], log.Take());
        Write(writer, "c");
        Snapshot(writer, 2);
        Assert.Equal(["init tx-0-2", "begin tx-0-2"], log.Take());

        writer.NotifyCheckpointComplete(1);
        Assert.Equal(["commit tx-0-0"], log.Take());
        writer.NotifyCheckpointComplete(1); // asked again (after a restore, say): nothing left to commit
        Assert.Empty(log.Take());
        writer.NotifyCheckpointComplete(2);
        Assert.Equal(["commit tx-0-1"], log.Take());

        Write(writer, "d");
        writer.Dispose();
        // The open interval's transaction is aborted (librdkafka drops "d" if it was not sent yet; on a real broker it is
        // never visible to read_committed readers either way).
        Assert.Equal(["abort tx-0-2"], log.Take());
        Assert.Equal(["a", "b", "c"], Topic(kafka, 3).Take(3));
    }

    [Fact]
    public void End_of_input_commits_the_open_and_pending_transactions()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var log = new Log();
        using var writer = Writer(Sink(kafka, log));
        Write(writer, "a");
        Snapshot(writer, 1);
        Write(writer, "b");
        log.Take();
        writer.Flush();
        Assert.Equal(["commit tx-0-0", "commit tx-0-1"], log.Take());
    }

    [Fact]
    public void A_restored_writer_fences_the_old_transactions_and_aborts_those_after_the_checkpoint()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var log = new Log();
        var sink = Sink(kafka, log);
        var writer = Writer(sink);
        Write(writer, "a", "b", "c");
        var state = Snapshot(writer, 1);
        Write(writer, "after-barrier");
        writer.Dispose(); // the crash: checkpoint 1 completed, its commit never ran
        log.Take();

        using var restored = Writer(sink, new RestoredState(1, [state], 1));
        // tx-0-0 belongs to the completed checkpoint: initialized again (fencing the old producer), then checked. The mock
        // shows aborted records to read_committed readers, so here it counts as committed and is not sent again.
        Assert.Equal(["init tx-0-0", "committed tx-0-0", "init tx-0-1", "abort tx-0-1", "init tx-0-2", "abort tx-0-2", "init tx-0-3", "abort tx-0-3",
            "init tx-0-4", "begin tx-0-4"], log.Take());
    }

    [Fact]
    public void A_checkpointed_transaction_that_did_not_commit_is_sent_again_and_committed()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var log = new Log();
        var sink = Sink(kafka, log);
        var writer = Writer(sink);
        Write(writer, "a", "b");
        var state = Snapshot(writer, 1);
        writer.Dispose();
        // The mock cannot hide an aborted transaction, so one is simulated: the state's marker (the transaction's first
        // stored record: byte 1 version, 4 subtask, 8 next epoch, 4 count, 8 epoch, 4 partition, then the offset) is
        // moved past the log's end, where a read_committed reader finds nothing — as it would after an abort.
        BitConverter.TryWriteBytes(state.AsSpan(29, 8), 1_000_000L);
        log.Take();

        using var restored = Writer(sink, new RestoredState(1, [state], 1));
        Assert.Equal(["init tx-0-0", "re-sent tx-0-0 (2 records)"], log.Take().Take(2));
        Assert.Equal(["a", "b", "a", "b"], Topic(kafka, 4));
    }

    [Fact]
    public void At_lower_parallelism_a_writer_also_finishes_the_transactions_of_subtasks_that_are_gone()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var log = new Log();
        var sink = Sink(kafka, log);
        var states = new List<byte[]>();
        for (int s = 0; s < 2; s++)
        {
            var w = sink.CreateWriter(new SinkWriterContext(s, 2, TimeProvider.System, new SubtaskMetrics("sink", s)) { CheckpointingEnabled = true });
            Write(w, $"from-{s}");
            states.Add(Snapshot(w, 5));
            w.Dispose();
        }
        log.Take();
        using var restored = Writer(sink, new RestoredState(5, states, 2));
        var calls = log.Take();
        Assert.Contains("init tx-0-0", calls);
        Assert.Contains("init tx-1-0", calls);
        Assert.Contains("abort tx-1-1", calls);
        Assert.Equal("begin tx-0-4", calls[^1]);
    }
    [Fact]
    public void Partition_tasks_name_transactions_by_their_input_partition_and_the_next_owner_fences_them()
    {
        using var kafka = new KafkaFixture(partitions: 1);
        var log = new Log();
        var sink = Sink(kafka, log);
        SinkWriter<string> PartitionWriter(int partition, RestoredState? restored = null) =>
            sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("sink", 0))
            {
                CheckpointingEnabled = true, Restored = restored, PartitionTask = new Eddy.Runtime.Distributed.PartitionTaskScope(0, partition),
            });
        // Two workers' tasks are each subtask 0 of their own pipeline: their ids differ by partition, not by subtask.
        var three = PartitionWriter(3);
        using var seven = PartitionWriter(7);
        Assert.Equal(["init tx-s0-p3-0", "begin tx-s0-p3-0", "init tx-s0-p7-0", "begin tx-s0-p7-0"], log.Take());
        Write(three, "a");
        var state = Snapshot(three, 1);
        log.Take();

        // Partition 3 moves to another worker while the first is thought dead: the new owner initialises the ids of the
        // checkpoint's transaction and of the ones after it, which fences the old owner's producers; partition 7's stay.
        using var next = PartitionWriter(3, new RestoredState(1, [state], 1));
        var calls = log.Take();
        Assert.Equal("init tx-s0-p3-0", calls[0]);
        Assert.Contains("init tx-s0-p3-1", calls);
        Assert.Equal("begin tx-s0-p3-4", calls[^1]);
        Assert.DoesNotContain(calls, c => c.Contains("p7", StringComparison.Ordinal));
        three.Dispose();
    }
}
