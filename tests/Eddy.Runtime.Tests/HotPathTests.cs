using Eddy.Runtime;

namespace Eddy.Tests;

/// <summary>The semantics the hot-path optimizations must keep: gate bounds, ordering, bulk sources, watermarks.</summary>
public class HotPathTests
{
    [Fact]
    public void Gate_producer_blocks_while_its_channel_is_full()
    {
        var gate = new InputGate(channelCount: 1, channelCapacity: 2);
        int put = 0;
        var producer = new Thread(() =>
        {
            for (int i = 0; i < 10; i++)
            {
                gate.Put(0, StreamElement.ForWatermark(i));
                Interlocked.Increment(ref put);
            }
        });
        producer.IsBackground = true;
        producer.Start();
        // Two elements fit; the third put waits (after spinning) until the consumer takes. A loaded machine may start
        // the producer late, so wait for the two before checking that the third stays out.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref put) < 2 && DateTime.UtcNow < deadline) Thread.Sleep(1);
        Thread.Sleep(300);
        Assert.Equal(2, Volatile.Read(ref put));
        Assert.Equal(2, gate.MaxQueued);
        var taken = new List<long>();
        while (taken.Count < 10)
        {
            Assert.True(gate.TryTake(out var e, out int channel, 5_000));
            Assert.Equal(0, channel);
            taken.Add(e.Value);
        }
        Assert.True(producer.Join(5_000));
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (long)i), taken);
        Assert.True(gate.MaxQueued <= 2);
    }

    [Fact]
    public void A_producer_waiting_for_room_reads_as_backpressured_before_its_wait_ends()
    {
        var gate = new InputGate(channelCount: 1, channelCapacity: 1);
        var metrics = new SubtaskMetrics("producer", 0);
        gate.Put(0, StreamElement.ForWatermark(1), metrics);
        var producer = new Thread(() => metrics.BackPressuredTicks += gate.Put(0, StreamElement.ForWatermark(2), metrics)) { IsBackground = true };
        producer.Start();
        // The second put sleeps until the consumer takes: a reading now counts the wait so far (nothing was added yet).
        Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref metrics.BackPressuredSince) != 0, 10_000));
        var during = metrics.Snapshot();
        Assert.Equal(0, Volatile.Read(ref metrics.BackPressuredTicks));
        Assert.True(during.BackPressuredTicks > 0);
        Assert.True(gate.TryTake(out _, out _, 5_000));
        Assert.True(producer.Join(5_000));
        Assert.Equal(0, metrics.BackPressuredSince);
        Assert.True(metrics.Snapshot().BackPressuredTicks >= during.BackPressuredTicks);
    }

    [Fact]
    public void Gate_keeps_per_channel_order_under_concurrent_producers()
    {
        const int producers = 3, perProducer = 20_000;
        var gate = new InputGate(producers, channelCapacity: 4);
        var threads = Enumerable.Range(0, producers).Select(p => new Thread(() =>
        {
            for (int i = 0; i < perProducer; i++) gate.Put(p, StreamElement.ForWatermark(i));
            gate.Put(p, StreamElement.End);
        })).ToList();
        threads.ForEach(t =>
        {
            t.IsBackground = true;
            t.Start();
        });
        var next = new long[producers];
        int ended = 0;
        while (ended < producers)
        {
            Assert.True(gate.TryTake(out var e, out int channel, 5_000));
            if (e.Kind == ElementKind.EndOfInput)
            {
                ended++;
                continue;
            }
            Assert.Equal(next[channel]++, e.Value);
        }
        Assert.All(next, n => Assert.Equal(perProducer, n));
        Assert.True(gate.MaxQueued <= 4);
        threads.ForEach(t => Assert.True(t.Join(5_000)));
    }

    [Fact]
    public void Gate_take_times_out_and_cancel_wakes_a_waiting_consumer()
    {
        var gate = new InputGate(1);
        Assert.False(gate.TryTake(out _, out int channel, 0));
        Assert.Equal(-1, channel);
        Assert.False(gate.TryTake(out _, out _, 20));
        var consumer = Task.Run(() => gate.TryTake(out _, out _, -1));
        Thread.Sleep(100);
        gate.Cancel();
        Assert.Throws<OperationCanceledException>(() => consumer.GetAwaiter().GetResult());
    }

    [Fact]
    public void Gate_producer_waiting_on_a_channel_that_gets_blocked_uses_the_room_a_take_made()
    {
        // The consumer takes one element of a full channel (not enough to reach half capacity) and blocks it, as
        // barrier alignment does: the producer waiting on it must still get the free slot and move on.
        var gate = new InputGate(channelCount: 2, channelCapacity: 4);
        for (int i = 0; i < 4; i++) gate.Put(0, StreamElement.ForWatermark(i));
        var producer = new Thread(() =>
        {
            gate.Put(0, StreamElement.ForWatermark(4));
            gate.Put(1, StreamElement.ForWatermark(100));
        });
        producer.IsBackground = true;
        producer.Start();
        Thread.Sleep(200);
        Assert.True(gate.TryTake(out var first, out int channel, 0));
        Assert.Equal((0, 0L), (channel, first.Value));
        gate.Block(0);
        Assert.True(gate.TryTake(out var other, out channel, 5_000));
        Assert.Equal((1, 100L), (channel, other.Value));
        Assert.True(producer.Join(5_000));
        Assert.True(gate.MaxQueued <= 4);
    }

    [Fact]
    public void Gate_blocked_channel_is_skipped_until_unblocked()
    {
        var gate = new InputGate(2);
        gate.Put(0, StreamElement.ForWatermark(1));
        gate.Put(1, StreamElement.ForWatermark(2));
        gate.Block(0);
        Assert.True(gate.TryTake(out var e, out int channel, 0));
        Assert.Equal((1, 2L), (channel, e.Value));
        Assert.False(gate.TryTake(out _, out _, 10));
        gate.UnblockAll();
        Assert.True(gate.TryTake(out e, out channel, 0));
        Assert.Equal((0, 1L), (channel, e.Value));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void Collection_source_over_array_list_and_other_lists_gives_the_same_records(int parallelism)
    {
        var items = Enumerable.Range(0, 5_000).Select(i => (long)i).ToArray();
        var fromArray = Run(items, parallelism);
        var fromList = Run(items.ToList(), parallelism);
        var fromOther = Run(new System.Collections.ObjectModel.ReadOnlyCollection<long>(items), parallelism);
        Assert.Equal(items, fromArray.Select(r => r.Value).Order());
        Assert.Equal(fromArray.OrderBy(r => r.Value), fromList.OrderBy(r => r.Value));
        Assert.Equal(fromArray.OrderBy(r => r.Value), fromOther.OrderBy(r => r.Value));
        // Event time comes from the assigner; everything is an insert.
        Assert.All(fromArray, r => Assert.Equal(r.Value * 10, r.Timestamp));
    }

    private static List<(long Value, long Timestamp, RowKind Kind)> Run(IReadOnlyList<long> items, int parallelism)
    {
        var env = StreamEnvironment.Create().SetParallelism(parallelism);
        var sink = new CollectSink<long>();
        env.FromCollection(items, WatermarkStrategy<long>.ForMonotonousTimestamps().WithTimestampAssigner(v => v * 10))
            .Filter(v => v >= 0)
            .SinkTo(sink);
        env.Execute();
        return sink.Records.ToList();
    }

    [Fact]
    public void Source_output_bulk_add_fills_timestamps_and_checks_room()
    {
        var output = new SourceOutput<int>();
        output.AddRange([1, 2, 3], 42);
        output.AddRange([4, 5], v => v * 100);
        Assert.Equal(5, output.Count);
        Assert.Equal(Batch<int>.DefaultCapacity - 5, output.Room);
        var batch = output.Batch;
        Assert.Equal([1, 2, 3, 4, 5], batch.Values.Take(5));
        Assert.Equal([42, 42, 42, 400, 500], batch.Timestamps.Take(5));
        Assert.Throws<ArgumentException>(() => output.AddRange(new int[Batch<int>.DefaultCapacity]));
        BatchPool<int>.Return(output.Batch);
    }

    private sealed class WatermarkRecorder : ProcessFunction<long, long>
    {
        public List<(long Value, long Watermark)> Seen { get; } = [];

        public override void ProcessElement(long value, ProcessContext context, Collector<long> output)
        {
            lock (Seen) Seen.Add((value, context.CurrentWatermark));
        }
    }

    [Fact]
    public void Bounded_source_watermark_follows_each_batch_maximum()
    {
        // 3000 records = 3 batches: the watermark after a batch is its max timestamp − 1, seen by the next batch.
        var items = Enumerable.Range(0, 3_000).Select(i => (long)i).ToArray();
        var env = StreamEnvironment.Create();
        var recorder = new WatermarkRecorder();
        env.FromCollection(items, WatermarkStrategy<long>.ForMonotonousTimestamps().WithTimestampAssigner(v => v))
            .Process(() => recorder)
            .SinkTo(new CollectSink<long>());
        env.Execute();
        Assert.Equal(3_000, recorder.Seen.Count);
        Assert.Equal(EventTime.MinWatermark, recorder.Seen[0].Watermark);
        Assert.Equal(Batch<long>.DefaultCapacity - 2, recorder.Seen[Batch<long>.DefaultCapacity].Watermark);
        Assert.Equal(2 * Batch<long>.DefaultCapacity - 2, recorder.Seen[2 * Batch<long>.DefaultCapacity].Watermark);
    }

    private sealed class SubtaskTagger : ProcessFunction<int, (int Key, int Subtask)>
    {
        public override void ProcessElement(int value, ProcessContext context, Collector<(int Key, int Subtask)> output) =>
            output.Collect((value, context.SubtaskIndex));
    }

    [Theory]
    [InlineData(3, 128)]
    [InlineData(2, 7)]
    [InlineData(5, 32768)]
    [InlineData(1, 1)]
    public void Hash_exchange_routes_every_key_to_the_subtask_of_its_key_group(int parallelism, int maxParallelism)
    {
        var keys = Enumerable.Range(-5_000, 20_000).Select(i => i * 7919).ToArray();
        var env = StreamEnvironment.Create().SetParallelism(parallelism).SetMaxParallelism(maxParallelism);
        var sink = new CollectSink<(int Key, int Subtask)>();
        env.FromCollection(keys).KeyBy(k => k).Process(() => new SubtaskTagger()).SinkTo(sink);
        env.Execute();
        var seen = sink.Values;
        Assert.Equal(keys.Length, seen.Count);
        Assert.All(seen, r => Assert.Equal(
            KeyGroups.SubtaskFor(KeyGroups.ForKey(r.Key, maxParallelism), maxParallelism, parallelism), r.Subtask));
    }

    [Fact]
    public void Batch_reused_after_compaction_reads_inserts_where_no_kind_was_set()
    {
        var batch = new Batch<int>(8);
        for (int i = 0; i < 8; i++) batch.Add(i, i, i % 2 == 0 ? RowKind.Insert : RowKind.Delete);
        batch.Truncate(3);
        batch.Add(100, 100);
        Assert.Equal(RowKind.Insert, batch.KindAt(3));
        batch.Clear();
        for (int i = 0; i < 6; i++) batch.Add(i, i);
        batch.SetKind(6 - 1, RowKind.UpdateBefore);
        batch.Add(7, 7);
        Assert.Equal([RowKind.Insert, RowKind.Insert, RowKind.Insert, RowKind.Insert, RowKind.Insert, RowKind.UpdateBefore, RowKind.Insert],
            Enumerable.Range(0, batch.Count).Select(batch.KindAt));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public async Task Exchanges_with_small_channels_deliver_everything(int channelCapacity)
    {
        var input = Enumerable.Range(0, 200_000).ToArray();
        var env = StreamEnvironment.Create().SetParallelism(3).Configure(c => c with { ChannelCapacity = channelCapacity });
        var sink = new CollectSink<int>();
        env.FromCollection(input, WatermarkStrategy<int>.ForMonotonousTimestamps().WithTimestampAssigner(v => v))
            .Rebalance()
            .Map(x => x + 1)
            .KeyBy(x => x % 11)
            .Filter(x => x % 3 != 0)
            .SetParallelism(2)
            .SinkTo(sink);
        // A lost wake-up shows as a job that never finishes: WaitAsync fails with a TimeoutException.
        var result = await env.ExecuteAsync().WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal(JobStatus.Finished, result.Status);
        var expected = input.Select(x => x + 1).Where(x => x % 3 != 0).Order();
        Assert.Equal(expected, sink.Values.Order());
    }
}
