using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

public class JobTests
{
    private static readonly OutputTag<string> Odd = new("odd");

    private sealed class SplitOdd : ProcessFunction<int, int>
    {
        public override void ProcessElement(int value, ProcessContext context, Collector<int> output)
        {
            if (value % 2 == 0) output.Collect(value);
            else context.Output(Odd, $"odd {value}");
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Side_outputs_reach_their_own_consumers(int parallelism)
    {
        var env = StreamEnvironment.Create().SetParallelism(parallelism);
        var main = new CollectSink<int>();
        var side = new CollectSink<string>();
        var split = env.FromCollection(Enumerable.Range(0, 1000).ToArray()).Process(() => new SplitOdd());
        split.SinkTo(main);
        split.GetSideOutput(Odd).SinkTo(side);
        env.Execute();
        Assert.Equal(Enumerable.Range(0, 500).Select(i => i * 2), main.Values.Order());
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"odd {i * 2 + 1}").Order(), side.Values.Order());
    }

    [Fact]
    public void Forward_edges_of_equal_parallelism_chain_and_key_edges_do_not()
    {
        var env = StreamEnvironment.Create().SetParallelism(2);
        env.FromCollection([1, 2, 3]).Map(x => x + 1).Filter(x => x > 0).KeyBy(x => x).Map(x => x).SinkTo(new CollectSink<int>());
        var plan = env.Plan();
        Assert.Equal(["Collection -> Map -> Filter", "Map -> Sink"], plan.Chains.Select(c => c.Name));
        Assert.All(plan.Chains, c => Assert.Equal(2, c.Parallelism));

        var single = StreamEnvironment.Create();
        single.FromCollection([1]).KeyBy(x => x).Map(x => x).SinkTo(new CollectSink<int>());
        Assert.Single(single.Plan().Chains);
    }

    [Fact]
    public void Union_and_broadcast_and_rebalance_deliver_every_record()
    {
        var env = StreamEnvironment.Create().SetParallelism(2);
        var a = env.FromCollection(Enumerable.Range(0, 100).ToArray());
        var b = env.FromCollection(Enumerable.Range(100, 100).ToArray());
        var union = new CollectSink<int>();
        a.Union(b).Rebalance().Map(x => x).SetParallelism(3).SinkTo(union);
        var broadcast = new CollectSink<int>();
        a.Broadcast().Map(x => x).SetParallelism(3).SinkTo(broadcast);
        env.Execute();
        Assert.Equal(Enumerable.Range(0, 200), union.Values.Order());
        Assert.Equal(Enumerable.Range(0, 100).SelectMany(x => new[] { x, x, x }), broadcast.Values.Order());
    }

    [Fact]
    public async Task A_failing_operator_fails_the_job_with_the_task_named()
    {
        var env = StreamEnvironment.Create();
        env.FromCollection(Enumerable.Range(0, 10).ToArray())
            .Map(x => x == 7 ? throw new InvalidDataException("bad record 7") : x, "Parse")
            .SinkTo(new CollectSink<int>());
        var result = await env.ExecuteAsync();
        Assert.Equal(JobStatus.Failed, result.Status);
        Assert.Equal(1, result.ExitCode);
        var failure = Assert.IsType<TaskFailedException>(result.Failure);
        Assert.Contains("Parse", failure.Task);
        Assert.Contains("bad record 7", failure.Message);
    }

    [Fact]
    public async Task An_unbounded_job_runs_until_cancelled()
    {
        var env = StreamEnvironment.Create();
        var seen = 0L;
        env.FromSource(new EndlessSource()).ForEach(_ => Interlocked.Increment(ref seen));
        using var cts = new CancellationTokenSource();
        var run = env.ExecuteAsync("endless", cts.Token);
        while (Interlocked.Read(ref seen) < 100_000) await Task.Yield();
        Assert.False(run.IsCompleted);
        cts.Cancel();
        var result = await run.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(JobStatus.Cancelled, result.Status);
        Assert.Equal(130, result.ExitCode);
    }

    [Fact]
    public async Task A_bounded_job_finishes_with_exit_code_zero_and_counts_its_records()
    {
        var env = StreamEnvironment.Create();
        env.FromCollection(Enumerable.Range(0, 5000).ToArray()).Filter(x => x % 5 == 0).SinkTo(new CollectSink<int>());
        var job = env.Start("bounded");
        var result = await job.Completion;
        Assert.Equal(0, result.ExitCode);
        var m = Assert.Single(job.Metrics);
        Assert.Equal(5000, m.RecordsIn);
        Assert.Equal(1000, m.RecordsOut);
        Assert.Equal(EventTime.MaxWatermark, m.InputWatermark);
    }

    [Fact]
    public void An_idle_split_does_not_hold_the_watermark_once_the_idle_timeout_passes()
    {
        // The reader moves the manual clock itself, 100 ms per read: time is deterministic, no sleeps.
        var clock = new ManualClock(0);
        var env = StreamEnvironment.Create(new JobConfig { Clock = clock, WatermarkPerBatch = true });
        var watermarks = new List<long>();
        env.FromSource(new TwoSplitSource(clock),
                WatermarkStrategy<long>.ForMonotonousTimestamps().WithTimestampAssigner(v => v).WithIdleness(TimeSpan.FromSeconds(1)))
            .Transform("Watch", () => new WatermarkRecorder(watermarks))
            .SinkTo(new CollectSink<long>());
        env.Execute();
        // Split 1 has one record at t=0 and then nothing; split 0 advances. Before the timeout the
        // watermark is held at -1 by split 1; after it (10 reads = 1 s), split 0's watermark goes out.
        Assert.DoesNotContain(watermarks, w => w > -1 && w < 999);
        Assert.Contains(watermarks, w => w >= 10_000);
        Assert.Equal(EventTime.MaxWatermark, watermarks[^1]);
    }

    [Fact]
    public void A_subtask_without_splits_is_idle_from_the_start()
    {
        var env = StreamEnvironment.Create(new JobConfig { WatermarkPerBatch = true }).SetParallelism(2);
        var watermarks = new List<long>();
        env.FromSource(new OneSplitOnly(), WatermarkStrategy<long>.ForMonotonousTimestamps().WithTimestampAssigner(v => v))
            .KeyBy(v => 0).Transform("Watch", () => new WatermarkRecorder(watermarks)).SetParallelism(1)
            .SinkTo(new CollectSink<long>());
        env.Execute();
        // Subtask 1 has no split and must not hold the watermark below the data of subtask 0.
        lock (watermarks) Assert.Contains(watermarks, w => w >= 4999 && w < EventTime.MaxWatermark);
    }

    private sealed class WatermarkRecorder(List<long> watermarks) : StreamOperator<long, long>
    {
        public override void OnBatch(Batch<long> batch) => Output.OnBatch(batch);

        protected override void ProcessWatermark(long watermark)
        {
            lock (watermarks) watermarks.Add(watermark);
        }
    }

    private sealed class TwoSplitSource(ManualClock clock) : Source<long>
    {
        public override bool IsBounded => true;

        public override SourceReader<long> CreateReader(SourceReaderContext context) => new Reader(clock);

        private sealed class Reader(ManualClock clock) : SourceReader<long>
        {
            private int reads;

            public override int SplitCount => 2;

            public override SourceStatus Read(SourceOutput<long> output)
            {
                clock.Advance(TimeSpan.FromMilliseconds(100));
                if (reads == 0) output.Add(0, EventTime.None, split: 1);
                output.Add(reads * 500L, EventTime.None, split: 0);
                return ++reads < 40 ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
            }
        }
    }

    private sealed class OneSplitOnly : Source<long>
    {
        // Subtask 0 starts reading once subtask 1 has announced itself idle (it does so before its first read), so that
        // the test does not depend on which thread the scheduler runs first.
        private readonly ManualResetEventSlim emptyStarted = new();

        public override bool IsBounded => true;

        public override SourceReader<long> CreateReader(SourceReaderContext context) => new Reader(context.SubtaskIndex, emptyStarted);

        private sealed class Reader(int subtask, ManualResetEventSlim emptyStarted) : SourceReader<long>
        {
            private long next;

            public override int SplitCount => subtask == 0 ? 1 : 0;

            public override SourceStatus Read(SourceOutput<long> output)
            {
                if (subtask != 0)
                {
                    emptyStarted.Set();
                    return SourceStatus.EndOfInput;
                }
                if (!emptyStarted.Wait(50)) return SourceStatus.NothingAvailable;
                output.Add(next);
                next += 1000;
                return next <= 10_000 ? SourceStatus.MoreAvailable : SourceStatus.EndOfInput;
            }
        }
    }

    internal sealed class EndlessSource : Source<long>
    {
        public override bool IsBounded => false;

        public override SourceReader<long> CreateReader(SourceReaderContext context) => new Reader();

        private sealed class Reader : SourceReader<long>
        {
            private long next;

            public override SourceStatus Read(SourceOutput<long> output)
            {
                while (!output.IsFull) output.Add(next++, next);
                return SourceStatus.MoreAvailable;
            }
        }
    }
}
