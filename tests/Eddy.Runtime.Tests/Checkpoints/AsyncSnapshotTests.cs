using Eddy.Runtime;
using Eddy.Testing;
using Eddy.Windows;

namespace Eddy.Tests.Checkpoints;

/// <summary>
/// The asynchronous snapshot phase: the slicing window operator's tables are shared copy-on-write at the barrier and
/// written on a pool thread while the task goes on (held there by <see cref="JobConfig.BeforeAsyncSnapshot"/>).
/// </summary>
public class AsyncSnapshotTests
{
    private const int Records = 20_000;
    private const int Keys = 10;

    /// <summary>
    /// Source (index as event time) → key by index mod 10 → 1-hour tumbling count (fires only at the end), one chain at
    /// parallelism 1: the task that takes the barrier reads on while its window operator's snapshot is written.
    /// </summary>
    private static (StreamEnvironment Env, CollectSink<(int Key, long Count)> Sink) Job(JobConfig config, int checkpointsBeforeEnd)
    {
        var env = StreamEnvironment.Create(config).SetParallelism(1);
        var sink = new CollectSink<(int Key, long Count)>();
        var strategy = WatermarkStrategy<(int Sub, int Index)>.ForMonotonousTimestamps().WithTimestampAssigner(e => e.Index);
        env.FromSource(new SteppedSource(Records, _ => 100, checkpointsBeforeEnd: checkpointsBeforeEnd), strategy).Uid("src")
            .KeyBy(e => e.Index % Keys)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromHours(1)))
            .Count().Uid("windows")
            .Map(r => (r.Key, r.Value)).Uid("format")
            .SinkTo(sink).Uid("sink");
        return (env, sink);
    }

    private static Dictionary<int, long> Expected() =>
        Enumerable.Range(0, Keys).ToDictionary(k => k, _ => (long)(Records / Keys));

    private static long WindowRecordsIn(JobExecution job) =>
        job.Metrics.Where(m => m.TaskName.Contains("Window", StringComparison.Ordinal)).Sum(m => Interlocked.Read(ref m.RecordsIn));

    [Fact]
    public async Task Records_are_processed_during_the_async_phase_and_the_snapshot_holds_the_state_as_of_the_barrier()
    {
        var dir = CheckpointTestDirs.NewTemp();
        const int Held = 8_000;
        var hold = new SourceHold((id, _) => id == "src" ? Held : long.MaxValue);
        JobExecution? job = null;
        long recordsInAtBarrier = -1, recordsInWhenWritten = -1;
        var config = new JobConfig
        {
            CheckpointInterval = TimeSpan.FromHours(1),
            CheckpointDirectory = dir,
            RestartStrategy = RestartStrategy.None,
            SourceHold = hold,
            BeforeAsyncSnapshot = _ =>
            {
                // The barrier is behind the window task; let the source go on and wait until the window task has taken
                // every record while this phase has not written anything yet.
                recordsInAtBarrier = WindowRecordsIn(job!);
                hold.Release();
                var deadline = DateTime.UtcNow.AddMinutes(1);
                while (WindowRecordsIn(job!) < Records && DateTime.UtcNow < deadline) Thread.Sleep(5);
                // One more batch boundary: the last batch counted above has gone through the operator.
                Thread.Sleep(50);
                recordsInWhenWritten = WindowRecordsIn(job!);
            },
        };
        var (env, sink) = Job(config, checkpointsBeforeEnd: 1);
        job = env.Start("async-snapshot");
        await hold.WaitAllHeldAsync(1, TimeSpan.FromMinutes(1));
        var waitUntil = DateTime.UtcNow.AddMinutes(1);
        while (WindowRecordsIn(job) < Held)
        {
            if (DateTime.UtcNow > waitUntil)
                throw new TimeoutException("window task input: " + string.Join(", ", job.Metrics.Select(m => $"{m.TaskName}: {m.RecordsIn}")));
            await Task.Delay(5);
        }
        var stats = await job.TriggerCheckpoint().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(CheckpointStatus.Completed, stats.Status);
        Assert.Equal(Held, recordsInAtBarrier);
        Assert.Equal(Records, recordsInWhenWritten);
        Assert.True(stats.AsyncDuration > TimeSpan.Zero);
        var result = await job.Completion.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Null(result.Failure);
        // The operator's own tables (copied on their first write after the barrier) have every record.
        Assert.Equal(Expected(), sink.Values.ToDictionary(v => v.Key, v => v.Count));

        // The checkpoint has the 8,000 records before the barrier: restored, the source goes on at 8,000 and the
        // windows count each record once. Updates after the barrier in the snapshot would count 12,000 twice.
        var (env2, sink2) = Job(new JobConfig { CheckpointDirectory = dir, RestorePath = stats.Path, RestartStrategy = RestartStrategy.None },
            checkpointsBeforeEnd: 0);
        var restored = env2.Start("async-snapshot");
        var result2 = await restored.Completion.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Null(result2.Failure);
        Assert.Equal(stats.Id, restored.RestoredFrom!.Id);
        Assert.Equal(Expected(), sink2.Values.ToDictionary(v => v.Key, v => v.Count));

        // And directly: the window operator's key groups hold 800 per key, the counts of the first 8,000 records.
        var data = LocalCheckpointStorage.LoadFolder(stats.Path!);
        var windows = data.Find("windows")!;
        var harness = new OperatorHarness<(int Sub, int Index), WindowResult<int, TimeWindow, long>>(
            (StreamOperator<(int Sub, int Index), WindowResult<int, TimeWindow, long>>)WindowOperatorOf(), checkpointing: true);
        harness.Restore(MemoryOperatorStateReader.ForSubtask(windows.Subtasks, 0, 1));
        var fired = harness.EndInput().Output.Values;
        Assert.Equal(Enumerable.Range(0, Keys).ToDictionary(k => k, _ => (long)(Held / Keys)), fired.ToDictionary(r => r.Key, r => r.Value));
    }

    private static StreamOperator WindowOperatorOf()
    {
        var env = StreamEnvironment.Create();
        var stream = env.FromCollection(Array.Empty<(int Sub, int Index)>()).KeyBy(e => e.Index % Keys)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromHours(1))).Count();
        return stream.Node.CreateOperator()!;
    }

    [Fact]
    public async Task A_failing_async_phase_fails_only_that_checkpoint_with_its_reason()
    {
        var dir = CheckpointTestDirs.NewTemp();
        var config = new JobConfig
        {
            CheckpointInterval = TimeSpan.FromHours(1),
            CheckpointDirectory = dir,
            RestartStrategy = RestartStrategy.None,
            BeforeAsyncSnapshot = id =>
            {
                if (id == 1) throw new IOException("no space left on the test device");
            },
        };
        var (env, sink) = Job(config, checkpointsBeforeEnd: 1);
        var job = env.Start("async-fail");
        var failed = await job.TriggerCheckpoint().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(CheckpointStatus.Failed, failed.Status);
        Assert.Equal(1, failed.Id);
        Assert.Contains("no space left on the test device", failed.FailureReason);
        Assert.Contains("asynchronous snapshot", failed.FailureReason);
        Assert.False(Directory.Exists(Path.Combine(dir, "chk-1")));

        var next = await job.TriggerCheckpoint().WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Equal(CheckpointStatus.Completed, next.Status);
        var result = await job.Completion.WaitAsync(TimeSpan.FromMinutes(2));
        Assert.Null(result.Failure);
        Assert.Empty(job.Exceptions);
        Assert.Equal(Expected(), sink.Values.ToDictionary(v => v.Key, v => v.Count));
    }

}

/// <summary>
/// Tests that hold hundreds of megabytes run alone: others measure the process's heap (the backpressure test).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LargeStateCollection
{
    public const string Name = "large state";
}

[Collection(LargeStateCollection.Name)]
public class LargeWindowRestoreTests
{
    [Fact]
    public void A_large_tumbling_state_restored_and_indexed_on_two_cores_equals_the_original()
    {
        // 2 slices x 700,000 keys: above the 1 M entries from which the restored slice tables are indexed on two cores.
        const int ManyKeys = 700_000;
        IEnumerable<((int Sub, int Index), long)> Records()
        {
            for (int slice = 0; slice < 2; slice++)
                for (int k = 0; k < ManyKeys; k++)
                    for (int extra = 0; extra <= (slice == 1 ? k % 3 : 0); extra++) yield return ((0, k), slice * 3_600_000L + k % 1000);
        }
        var original = new OperatorHarness<(int Sub, int Index), WindowResult<int, TimeWindow, long>>(
            (StreamOperator<(int Sub, int Index), WindowResult<int, TimeWindow, long>>)WideWindowOperator(), checkpointing: true);
        original.Elements(Records());
        var snapshot = original.Snapshot();
        Assert.True(snapshot.KeyGroups.Values.Sum(b => (long)b.Length) > 12L * 1_000_000);

        var restored = OperatorHarness<(int Sub, int Index), WindowResult<int, TimeWindow, long>>.Restored(
            (StreamOperator<(int Sub, int Index), WindowResult<int, TimeWindow, long>>)WideWindowOperator(), [snapshot]);
        var again = restored.Snapshot(2);
        Assert.Equal(snapshot.KeyGroups.Keys.Order(), again.KeyGroups.Keys.Order());
        foreach (var (kg, bytes) in snapshot.KeyGroups) Assert.True(bytes.AsSpan().SequenceEqual(again.KeyGroups[kg]), $"key group {kg} differs");
        var fired = restored.EndInput().Output.Values;
        Assert.Equal(2 * ManyKeys, fired.Count);
        Assert.All(fired, r => Assert.Equal(r.Window.Start == 0 ? 1 : 1 + r.Key % 3, r.Value));
    }

    private static StreamOperator WideWindowOperator()
    {
        var env = StreamEnvironment.Create();
        var stream = env.FromCollection(Array.Empty<(int Sub, int Index)>()).KeyBy(e => e.Index)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromHours(1))).Count();
        return stream.Node.CreateOperator()!;
    }
}
