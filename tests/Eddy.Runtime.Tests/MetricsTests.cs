using System.Diagnostics;
using Eddy.Runtime;

namespace Eddy.Tests;

public class MetricsTests
{
    [Fact]
    public void Busy_idle_and_backpressured_shares_add_up_to_a_second_per_second()
    {
        var m = new SubtaskMetrics("t", 0);
        var first = m.Snapshot() with { Timestamp = 0, IdleTicks = 0, BackPressuredTicks = 0, RecordsIn = 0 };
        long second = Stopwatch.Frequency;
        var later = first with
        {
            Timestamp = 2 * second,
            IdleTicks = second / 2,
            BackPressuredTicks = second,
            RecordsIn = 4000,
        };
        var rates = later.RatesSince(first);
        Assert.Equal(250, rates.IdleTimeMsPerSecond);
        Assert.Equal(500, rates.BackPressuredTimeMsPerSecond);
        Assert.Equal(250, rates.BusyTimeMsPerSecond);
        Assert.Equal(2000, rates.RecordsInPerSecond, 3);
    }

    [Fact]
    public async Task Metrics_are_readable_while_the_job_runs()
    {
        var env = StreamEnvironment.Create(new JobConfig { AutoWatermarkInterval = TimeSpan.FromMilliseconds(10) });
        env.FromSource(new JobTests.EndlessSource(),
                WatermarkStrategy<long>.ForMonotonousTimestamps().WithTimestampAssigner(v => v))
            .Rebalance().Map(x => x).SetParallelism(2).SinkTo(new CollectSinkDiscarding());
        var job = env.Start("live");
        try
        {
            MetricsSample[] samples;
            do
            {
                await Task.Delay(20);
                samples = job.Metrics.Select(m => m.Snapshot()).ToArray();
            }
            while (samples.Any(s => s.RecordsIn == 0 || s.InputWatermark == EventTime.MinWatermark));
            // Source ×1, Map ×2, Sink ×1 (the sink takes the job default and does not chain to the map).
            Assert.Equal(4, samples.Length);
            // The source counts a record before the maps can: read it after theirs, as the counters keep moving.
            long mapsIn = samples.Where(s => s.TaskName == "Map").Sum(s => s.RecordsIn);
            var source = job.Metrics.Select(m => m.Snapshot()).Single(s => s.TaskName == "Source");
            Assert.True(source.RecordsIn >= mapsIn, $"source read {source.RecordsIn}, the maps took {mapsIn}");
            Assert.All(samples.Where(s => s.TaskName != "Source"), s => Assert.InRange(s.QueueFill, 0, 1));
        }
        finally
        {
            job.Cancel();
            await job.Completion;
        }
    }

    private sealed class CollectSinkDiscarding : Sink<long>
    {
        public override SinkWriter<long> CreateWriter(SinkWriterContext context) => new Writer();

        private sealed class Writer : SinkWriter<long>
        {
            public override void Write(Batch<long> batch) { }
        }
    }
}
