using System.Text;
using Eddy.Connectors.Kafka.Repartition;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka.Tests.Repartition;

/// <summary>
/// Records that share a source offset (a HOP or CUMULATE window table function makes one per window of a row) told
/// apart by their ordinals through a repartition topic on the dev broker: a reader checkpointed between two records of
/// one source offset keeps the second after its restore, and drops the upstream's replay of both. Expected records:
/// each written record exactly once, by hand.
/// </summary>
public class RepartitionOrdinalTests
{
    private sealed class OnePartition : IPartitionedSource
    {
        public int PartitionCount() => 1;

        public string Describe() => "'upstream'";

        public IReadOnlyList<string> Topics() => ["upstream"];
    }

    /// <summary>Writes one batch: each value with its source offset (partition 0) and ordinal, as a window table function relays them.</summary>
    private static void Write(SinkWriter<long> writer, params (long Value, long Offset, long Ordinal)[] records)
    {
        var batch = BatchPool<long>.Rent();
        foreach (var r in records) batch.Add(r.Value, r.Value);
        long[] positions = [.. records.Select(r => SourcePositions.Pack(0, r.Offset))];
        long[] ordinals = [.. records.Select(r => r.Ordinal)];
        var previous = SourcePositions.Relay(batch, positions, ordinals);
        try
        {
            writer.Write(batch);
        }
        finally
        {
            SourcePositions.Restore(previous);
            BatchPool<long>.Return(batch);
        }
        writer.Flush();
    }

    /// <summary>Reads until <paramref name="count"/> records came (or 60 s passed), then a little longer for any record too many.</summary>
    private static List<long> Read(RepartitionReader<long> reader, int count)
    {
        var values = new List<long>();
        var output = new SourceOutput<long>();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (values.Count < count && DateTime.UtcNow < deadline) Take();
        // Whatever else the topic holds is read too: a record that should have been dropped would show here.
        for (int i = 0; i < 10; i++) Take();
        return values;

        void Take()
        {
            reader.Read(output);
            var batch = output.TakeBatch();
            for (int i = 0; i < batch.Count; i++) values.Add(batch.Values[i]);
            BatchPool<long>.Return(batch);
        }
    }

    private static byte[] Snapshot(RepartitionReader<long> reader)
    {
        using var bytes = new MemoryStream();
        using (var w = new BinaryWriter(bytes, Encoding.UTF8, leaveOpen: true)) reader.SnapshotState(1, w);
        return bytes.ToArray();
    }

    [Fact]
    public void A_checkpoint_between_two_records_of_one_source_offset_keeps_the_second_and_a_replay_doubles_neither()
    {
        using var cluster = new MockKafkaCluster();
        var exchange = new KafkaRepartitionExchange(cluster.Bootstrap);
        var topic = new RepartitionTopic($"ordinals-{Guid.NewGuid():N}-repartition", "WindowRank", 1, 0, 1) { UpstreamSource = new OnePartition() };
        using var writer = exchange.CreateWriter<long>(topic, v => 0, 128)
            .CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("writer", 0)) { PartitionTask = new PartitionTaskScope(0, 0) });
        SourceReaderContext Context(byte[]? state) => new(0, 1, TimeProvider.System, new SubtaskMetrics("reader", 0))
        {
            CheckpointingEnabled = true,
            Restored = state is null ? null : new RestoredState(1, [state], 1),
        };

        // Source offset 4 made one record, offset 5 three (the windows of a HOP row); the window table function's
        // output batch filled up after the first of offset 5, so its other two come in the next batch (message).
        Write(writer, (40, 4, 0), (50, 5, 0));
        var first = (RepartitionReader<long>)exchange.CreateReader<long>(topic).CreateReader(Context(null));
        Assert.Equal([40, 50], Read(first, 2));
        // The checkpoint falls between the records of offset 5: (5, 0) is applied, (5, 1) and (5, 2) are not.
        byte[] state = Snapshot(first);
        Assert.Equal(4, state[0]);
        first.Dispose();

        Write(writer, (51, 5, 1), (52, 5, 2));
        // The upstream task dies before its next checkpoint and replays from its own, before offset 4, then goes on.
        Write(writer, (40, 4, 0), (50, 5, 0), (51, 5, 1));
        Write(writer, (52, 5, 2), (60, 6, 0));
        Write(writer, (61, 6, 1));

        using var restored = (RepartitionReader<long>)exchange.CreateReader<long>(topic).CreateReader(Context(state));
        // After the restore: the rest of offset 5 once (by ordinal), none of the replay, then offset 6.
        Assert.Equal([51, 52, 60, 61], Read(restored, 4));
        Assert.Equal(0, Assert.Single(RepartitionReaderState.CheckpointedOffsets(state)).Partition);
    }

    [Theory]
    [InlineData(4, 0, 5, 0, true)]
    [InlineData(5, 0, 5, 0, true)]
    [InlineData(5, 1, 5, 0, false)] // the second record of an applied offset's first
    [InlineData(5, 0, 5, 1, true)]
    [InlineData(5, 3, 5, 2, false)]
    [InlineData(6, 0, 5, 7, false)]
    [InlineData(0, 0, -1, 0, false)] // nothing applied yet
    public void A_record_is_applied_when_its_offset_and_ordinal_are_at_or_below_the_highest_applied(long offset, long ordinal, long appliedOffset, long appliedOrdinal, bool applied)
    {
        Assert.Equal(applied, RepartitionReader<long>.IsApplied(offset, ordinal, appliedOffset, appliedOrdinal));
    }
}
