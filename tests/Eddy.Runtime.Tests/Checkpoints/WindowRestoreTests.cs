using Eddy.Runtime;
using Eddy.Windows;

namespace Eddy.Tests.Checkpoints;

public class WindowRestoreTests
{
    private static StreamEnvironment Job(JobConfig config, CollectSink<string> windows, CollectSink<int> other)
    {
        var env = StreamEnvironment.Create(config).SetParallelism(1);
        var events = Enumerable.Range(0, 60).Select(i => (Key: i % 3, Ts: i * 500L)).ToArray();
        var strategy = WatermarkStrategy<(int Key, long Ts)>.ForBoundedOutOfOrderness(TimeSpan.FromSeconds(1)).WithTimestampAssigner(e => e.Ts);
        env.FromCollection(events, strategy).Uid("events")
            .KeyBy(e => e.Key)
            .Window(TumblingEventTimeWindows.Of(TimeSpan.FromSeconds(5)))
            .AllowedLateness(TimeSpan.FromSeconds(2))
            .Count().Uid("windows")
            .Map(r => $"{r.Key} {r.Window.Start}-{r.Window.End}: {r.Value}").Uid("format")
            .SinkTo(windows).Uid("window-sink");
        env.FromCollection(Enumerable.Range(0, 5000).ToArray()).Uid("other").SinkTo(other).Uid("other-sink");
        return env;
    }

    [Fact]
    public async Task A_window_operator_that_fired_at_the_end_of_its_input_does_not_fire_again_after_a_restore()
    {
        var dir = CheckpointTestDirs.NewTemp();
        // The other source is held after 100 records, so the job is still running when the windows' input has ended:
        // the window task has fired everything and finished, and its final state stands for it in the checkpoint.
        var hold = new SourceHold((id, _) => id == "other" ? 100 : long.MaxValue);
        var config = new JobConfig
        {
            CheckpointInterval = TimeSpan.FromHours(1),
            CheckpointDirectory = dir,
            RestartStrategy = RestartStrategy.None,
        };
        var windows = new CollectSink<string>();
        var first = Job(config with { SourceHold = hold }, windows, new CollectSink<int>()).Start("windows-end");
        await hold.WaitAllHeldAsync(2, TimeSpan.FromMinutes(1));
        // Events at 0 … 29.5 s, 3 keys, 5 s windows: 6 windows per key, fired as the input ends.
        while (windows.Values.Count < 18) await Task.Delay(5);
        var stats = await first.TriggerCheckpoint().WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(CheckpointStatus.Completed, stats.Status);
        Assert.NotNull(first.LatestCheckpoint!.Find("windows"));
        first.Cancel();
        await first.Completion.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Equal(18, windows.Values.Count);
        Assert.Equal(18, windows.Values.Distinct().Count());

        var windowsAgain = new CollectSink<string>();
        var other = new CollectSink<int>();
        var restored = Job(config with { RestorePath = stats.Path }, windowsAgain, other).Start("windows-end");
        var result = await restored.Completion.WaitAsync(TimeSpan.FromMinutes(1));
        Assert.Null(result.Failure);
        Assert.Equal(stats.Id, restored.RestoredFrom!.Id);
        Assert.Equal(Enumerable.Range(100, 4900), other.Values);
        Assert.Empty(windowsAgain.Values);
    }
}
