using Eddy.Runtime;

namespace Eddy.Tests;

public class BackpressureTests
{
    private sealed class SlowSink : Sink<long>
    {
        public long Written;

        public override SinkWriter<long> CreateWriter(SinkWriterContext context) => new Writer(this);

        private sealed class Writer(SlowSink sink) : SinkWriter<long>
        {
            public override void Write(Batch<long> batch)
            {
                // The sink under test is slow on purpose: about 20 k records/s.
                Thread.Sleep(50);
                Interlocked.Add(ref sink.Written, batch.Count);
            }
        }
    }

    [Fact]
    public async Task A_slow_sink_slows_the_source_and_memory_stays_bounded()
    {
        const long heapLimit = 256L * 1024 * 1024;
        var env = StreamEnvironment.Create(new JobConfig { ChannelCapacity = 4 });
        var sink = new SlowSink();
        // The rebalance to parallelism 2 puts a task boundary (and a bounded queue) between source and sink.
        env.FromSource(new JobTests.EndlessSource()).Rebalance().SinkTo(sink).SetParallelism(2);
        var job = env.Start("backpressure");
        long maxHeap = 0;
        var until = DateTime.UtcNow.AddSeconds(4);
        while (DateTime.UtcNow < until)
        {
            await Task.Delay(100);
            maxHeap = Math.Max(maxHeap, GC.GetTotalMemory(false));
        }
        var source = job.Metrics.Single(m => m.TaskName.StartsWith("Source", StringComparison.Ordinal)).Snapshot();
        job.Cancel();
        await job.Completion;

        var gates = job.Plan.Tasks.Select(t => t.Gate).OfType<InputGate>().ToList();
        Assert.NotEmpty(gates);
        Assert.All(gates, g => Assert.True(g.MaxQueued <= g.Capacity, $"queued {g.MaxQueued} > capacity {g.Capacity}"));
        Assert.True(maxHeap < heapLimit, $"heap reached {maxHeap / 1024 / 1024} MB");
        // The source produced no more than the sink consumed plus what the bounded queues hold.
        long inFlight = gates.Sum(g => (long)g.Capacity * g.ChannelCount) * Batch<long>.DefaultCapacity + 2 * Batch<long>.DefaultCapacity;
        Assert.True(source.RecordsIn <= Interlocked.Read(ref sink.Written) + inFlight,
            $"source read {source.RecordsIn}, sink wrote {sink.Written}, queues hold at most {inFlight}");
        Assert.True(source.BackPressuredTicks > 0, "the source was never backpressured");
    }
}

public class ThrottledSinkTests
{
    private sealed class CountingSink : Sink<long>
    {
        public long Written;

        public override SinkWriter<long> CreateWriter(SinkWriterContext context) => new Writer(this);

        private sealed class Writer(CountingSink sink) : SinkWriter<long>
        {
            public override void Write(Batch<long> batch) => Interlocked.Add(ref sink.Written, batch.Count);
        }
    }

    [Fact]
    public async Task Cancelling_a_job_ends_a_throttled_sinks_wait()
    {
        // One row per second: a single batch stands for minutes of waiting, which cancelling the job must cut short.
        var env = StreamEnvironment.Create();
        var sink = new CountingSink();
        env.FromSource(new JobTests.EndlessSource()).SinkTo(new ThrottledSink<long>(sink, rowsPerSecond: 1));
        var job = env.Start("throttled");
        while (Interlocked.Read(ref sink.Written) == 0) await Task.Delay(20);
        job.Cancel();
        var ended = await Task.WhenAny(job.Completion, Task.Delay(TimeSpan.FromMinutes(1)));
        // Without the cancellation the first batch alone would hold the sink for about 17 minutes.
        Assert.Same(job.Completion, ended);
        Assert.Equal(JobStatus.Cancelled, (await job.Completion).Status);
    }
}
