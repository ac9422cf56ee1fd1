using Eddy.Sql.Connectors;
using Eddy.Connectors;
using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

/// <summary>
/// The partitioned filesystem sink driven by hand as the runtime drives it (writes, barriers, completions, watermarks,
/// a restore), with the written folders and files read back with plain file reads.
/// </summary>
public class PartitionedFileSinkTests
{
    private static readonly Schema Events = Schema.Of(("id", DataType.Int), ("dt", DataType.String), ("hm", DataType.String));

    private static Dictionary<string, string> Options(string path, params (string Key, string Value)[] extra)
    {
        var o = new Dictionary<string, string> { ["connector"] = "filesystem", ["path"] = path, ["format"] = "csv" };
        foreach (var (k, v) in extra) o[k] = v;
        return o;
    }

    private static PartitionedFileSink Sink(string path, params (string Key, string Value)[] extra) =>
        new(FileConnectorOptions.Parse("t", Options(path, extra)), Events, ["dt", "hm"]);

    private static SinkWriter<Row> Writer(PartitionedFileSink sink, ManualClock clock, int subtask = 0, int parallelism = 1, RestoredState? restored = null) =>
        sink.CreateWriter(new SinkWriterContext(subtask, parallelism, clock, new SubtaskMetrics("sink", subtask))
        {
            CheckpointingEnabled = true,
            Restored = restored,
        });

    private static void Write(SinkWriter<Row> writer, params (int Id, string Dt, string Hm)[] rows)
    {
        var batch = BatchPool<Row>.Rent();
        foreach (var (id, dt, hm) in rows) batch.Add(Row.Of(id, dt, hm), EventTime.None);
        writer.Write(batch);
        BatchPool<Row>.Return(batch);
    }

    private static byte[] Snapshot(SinkWriter<Row> writer, long id)
    {
        var ms = new MemoryStream();
        using (var w = new BinaryWriter(ms)) writer.SnapshotState(id, w);
        return ms.ToArray();
    }

    /// <summary>Visible rows as "partition folder: id", from the files whose names do not start with '.' or '_'.</summary>
    private static List<string> Visible(string root) =>
        Directory.Exists(root)
            ? Directory.GetFiles(root, "*", SearchOption.AllDirectories)
                .Where(f => !Path.GetFileName(f).StartsWith('.') && !Path.GetFileName(f).StartsWith('_'))
                .SelectMany(f => File.ReadAllLines(f).Select(l => $"{Path.GetRelativePath(root, Path.GetDirectoryName(f)!)}: {l}"))
                .Order(StringComparer.Ordinal).ToList()
            : [];

    private static bool Committed(string root, string partition) => File.Exists(Path.Combine(root, partition, "_SUCCESS"));

    [Fact]
    public void Rows_go_to_escaped_hive_folders_without_the_partition_columns_and_become_visible_with_their_checkpoint()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(1_000);
        var sink = Sink(dir.Path, ("sink.partition-commit.policy.kind", "success-file"));
        var writer = Writer(sink, clock);
        Write(writer, (1, "2024-01-01", "23:59"), (2, "2024-01-02", "00:00"), (3, "2024-01-01", "23:59"), (4, "", "00:00"));
        Snapshot(writer, 1);
        Assert.Empty(Visible(dir.Path));
        writer.NotifyCheckpointComplete(1);
        Assert.Equal(
            ["dt=2024-01-01/hm=23%3A59: 1", "dt=2024-01-01/hm=23%3A59: 3", "dt=2024-01-02/hm=00%3A00: 2", "dt=__DEFAULT_PARTITION__/hm=00%3A00: 4"],
            Visible(dir.Path));
        // process-time trigger without delay: committed as soon as its files are.
        Assert.True(Committed(dir.Path, "dt=2024-01-01/hm=23%3A59"));
        Assert.True(Committed(dir.Path, "dt=__DEFAULT_PARTITION__/hm=00%3A00"));
        writer.Dispose();
    }

    [Fact]
    public void Exactly_once_a_restore_publishes_the_completed_checkpoint_and_drops_what_came_after()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(1_000);
        var sink = Sink(dir.Path);
        var writer = Writer(sink, clock);
        Write(writer, (1, "d1", "h1"));
        Snapshot(writer, 1);
        writer.NotifyCheckpointComplete(1);
        Write(writer, (2, "d1", "h1"), (3, "d2", "h1"));
        var state2 = Snapshot(writer, 2);
        Write(writer, (4, "d2", "h1"));
        // The process dies before checkpoint 2's completion reaches the sink.
        writer.Dispose();
        Assert.Equal(["dt=d1/hm=h1: 1"], Visible(dir.Path));

        var restored = Writer(sink, clock, restored: new RestoredState(2, [state2], 1));
        Assert.Equal(["dt=d1/hm=h1: 1", "dt=d1/hm=h1: 2", "dt=d2/hm=h1: 3"], Visible(dir.Path));
        Write(restored, (4, "d2", "h1"));
        restored.Flush();
        Assert.Equal(["dt=d1/hm=h1: 1", "dt=d1/hm=h1: 2", "dt=d2/hm=h1: 3", "dt=d2/hm=h1: 4"], Visible(dir.Path));
        Assert.DoesNotContain(Directory.GetFiles(dir.Path, ".*", SearchOption.AllDirectories), f => f.EndsWith(".pending", StringComparison.Ordinal));
        restored.Dispose();
    }

    [Fact]
    public void Process_time_commit_waits_for_the_delay_after_creation()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(10_000);
        var sink = Sink(dir.Path, ("sink.partition-commit.policy.kind", "success-file"), ("sink.partition-commit.delay", "1 min"));
        var writer = Writer(sink, clock);
        Write(writer, (1, "d", "h"));
        Snapshot(writer, 1);
        clock.Advance(TimeSpan.FromSeconds(60));
        writer.NotifyCheckpointComplete(1);
        // Created at 10 s, now 70 s: not after creation + 1 min yet.
        Assert.Equal(["dt=d/hm=h: 1"], Visible(dir.Path));
        Assert.False(Committed(dir.Path, "dt=d/hm=h"));
        Snapshot(writer, 2);
        clock.Advance(TimeSpan.FromMilliseconds(1));
        writer.NotifyCheckpointComplete(2);
        Assert.True(Committed(dir.Path, "dt=d/hm=h"));
        writer.Dispose();
    }

    [Fact]
    public void Partition_time_commit_waits_for_the_watermark_of_every_subtask_to_pass_partition_time_and_delay()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(0);
        var sink = Sink(dir.Path, ("sink.partition-commit.trigger", "partition-time"), ("sink.partition-commit.policy.kind", "success-file"),
            ("sink.partition-commit.delay", "1 min"), ("partition.time-extractor.timestamp-pattern", "$dt $hm:00"));
        var first = Writer(sink, clock, 0, 2);
        var second = Writer(sink, clock, 1, 2);
        const string partition = "dt=2024-01-01/hm=10%3A00";
        long partitionTime = new DateTimeOffset(2024, 1, 1, 10, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        Write(first, (1, "2024-01-01", "10:00"));
        first.OnWatermark(partitionTime + 120_000);
        second.OnWatermark(partitionTime + 60_000);
        Snapshot(first, 1);
        Snapshot(second, 1);
        first.NotifyCheckpointComplete(1);
        Assert.False(Committed(dir.Path, partition));
        second.NotifyCheckpointComplete(1);
        // The smaller watermark (partition time + 1 min) is not past partition time + delay: not yet.
        Assert.False(Committed(dir.Path, partition));
        second.OnWatermark(partitionTime + 60_001);
        Snapshot(first, 2);
        Snapshot(second, 2);
        first.NotifyCheckpointComplete(2);
        second.NotifyCheckpointComplete(2);
        Assert.True(Committed(dir.Path, partition));
        first.Dispose();
        second.Dispose();
    }

    [Fact]
    public void Parts_roll_by_size_and_by_rollover_interval()
    {
        using var dir = new TempDir();
        var clock = new ManualClock(0);
        var sink = Sink(dir.Path, ("sink.rolling-policy.file-size", "10b"), ("sink.rolling-policy.rollover-interval", "1 min"),
            ("sink.rolling-policy.check-interval", "10 s"));
        var writer = Writer(sink, clock);
        Write(writer, (1000000, "d", "h"));
        Write(writer, (2, "d", "h"));
        Write(writer, (3, "d", "h"));
        clock.Advance(TimeSpan.FromMinutes(2));
        Write(writer, (4, "d", "h"));
        Snapshot(writer, 1);
        writer.NotifyCheckpointComplete(1);
        Assert.Equal(["dt=d/hm=h: 1000000", "dt=d/hm=h: 2", "dt=d/hm=h: 3", "dt=d/hm=h: 4"], Visible(dir.Path));
        // "1000000\n" is 8 bytes: under 10, so 2 follows in the same part and closes it; 3 opens a part that the
        // rollover interval closes at the next check, before 4.
        var parts = Directory.GetFiles(Path.Combine(dir.Path, "dt=d", "hm=h")).Select(File.ReadAllText).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["1000000\n2\n", "3\n", "4\n"], parts);
        writer.Dispose();
    }

    [Fact]
    public void Options_partitioned_sinks_cannot_honour_are_refused()
    {
        using var dir = new TempDir();
        Assert.Contains("option 'sink.partition-commit.policy.kind': 'metastore' needs a Hive metastore",
            Assert.Throws<ConnectorOptionException>(() => Sink(dir.Path, ("sink.partition-commit.policy.kind", "metastore"))).Message);
        Assert.Contains("option 'sink.partition-commit.watermark-time-zone': Eddy compares watermarks with partition times in UTC only, got 'Asia/Shanghai'",
            Assert.Throws<ConnectorOptionException>(() => Sink(dir.Path, ("sink.partition-commit.watermark-time-zone", "Asia/Shanghai"))).Message);
        Assert.Contains("option 'sink.rolling-policy.file-size': supported on a partitioned table only (PARTITIONED BY)",
            Assert.Throws<ConnectorOptionException>(() => FileSink.Create(Events, Options(dir.Path, ("sink.rolling-policy.file-size", "1mb")))).Message);
        Assert.Contains("option 'partition.time-extractor.kind': only the 'default' extractor is supported by Eddy, got 'custom'",
            Assert.Throws<ConnectorOptionException>(() => Sink(dir.Path, ("partition.time-extractor.kind", "custom"))).Message);
    }
}
