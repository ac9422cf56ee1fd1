using Eddy.Connectors;
using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

public class FileSinkCheckpointTests
{
    private static readonly Schema Ids = Schema.Of(("id", DataType.Int));

    private static SinkWriter<Row> Writer(FileSink sink, RestoredState? restored = null) =>
        sink.CreateWriter(new SinkWriterContext(0, 1, new ManualClock(), new SubtaskMetrics("sink", 0))
        {
            CheckpointingEnabled = true,
            Restored = restored,
        });

    private static void Write(SinkWriter<Row> writer, int from, int count)
    {
        var batch = BatchPool<Row>.Rent();
        for (int i = from; i < from + count; i++) batch.Add(Row.Of(i), EventTime.None);
        writer.Write(batch);
        BatchPool<Row>.Return(batch);
    }

    private static byte[] Snapshot(SinkWriter<Row> writer, long id)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) writer.SnapshotState(id, w);
        return ms.ToArray();
    }

    private static List<int> Visible(string folder) =>
        SourceReading.Values(new FileSource(new FileConnectorOptions(folder, FileFormat.JsonLines), Ids)).Select(r => (int)r[0]!).Order().ToList();

    [Fact]
    public void Parts_become_visible_when_their_checkpoint_completes_and_a_restore_finishes_the_commit()
    {
        using var dir = new TempDir();
        var sink = FileSink.ToFolder(new FileConnectorOptions(dir.Path, FileFormat.JsonLines), Ids);
        var writer = Writer(sink);
        Write(writer, 0, 100);
        Snapshot(writer, 1);
        Assert.Empty(Visible(dir.Path));
        writer.NotifyCheckpointComplete(1);
        Assert.Equal(Enumerable.Range(0, 100), Visible(dir.Path));

        Write(writer, 100, 100);
        var state2 = Snapshot(writer, 2);
        Write(writer, 200, 50);
        // The process dies before checkpoint 2's completion reaches the sink: nothing of epoch 2 or 3 is visible.
        writer.Dispose();
        Assert.Equal(Enumerable.Range(0, 100), Visible(dir.Path));

        // Restored from checkpoint 2 (it completed): the staged part is published, the records after it are not.
        var restored = Writer(sink, new RestoredState(2, [state2], 1));
        Assert.Equal(Enumerable.Range(0, 200), Visible(dir.Path));
        Write(restored, 200, 50);
        restored.Flush();
        Assert.Equal(Enumerable.Range(0, 250), Visible(dir.Path));
        // Publishing again is harmless (a second restore from the same checkpoint).
        Writer(sink, new RestoredState(2, [state2], 1)).Dispose();
        Assert.Equal(Enumerable.Range(0, 250), Visible(dir.Path));
        restored.Dispose();
    }
}
