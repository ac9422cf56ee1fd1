using System.Collections.Concurrent;
using Eddy.Runtime;
using Eddy.Testing;

namespace Eddy.Tests;

public class AsyncWaitOperatorTests
{
    /// <summary>Calls whose completion the test controls: each input gets a task the test finishes when it wants.</summary>
    private sealed class ControlledCalls : IAsyncFunction<int, string>
    {
        public readonly ConcurrentDictionary<int, TaskCompletionSource<string>> Pending = new();
        // Running drops once the result was seen by this class's continuation (the operator's may not have run yet);
        // inFlight drops before the result is set, so that MaxRunning never counts a finished call that the operator has
        // already replaced.
        public int Running;
        public int MaxRunning;
        private int inFlight;

        public Task<string> InvokeAsync(int input, CancellationToken cancellation)
        {
            var tcs = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            Interlocked.Increment(ref Running);
            InterlockedMax(ref MaxRunning, Interlocked.Increment(ref inFlight));
            tcs.Task.ContinueWith(_ => Interlocked.Decrement(ref Running), TaskScheduler.Default);
            Pending[input] = tcs;
            return tcs.Task;
        }

        public string Timeout(int input) => $"timeout({input})";

        public void Finish(int input)
        {
            Interlocked.Decrement(ref inFlight);
            Pending[input].SetResult($"r{input}");
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while (value > (seen = Volatile.Read(ref target)) && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
        }
    }

    private sealed class MemoryStateWriter : OperatorStateWriter
    {
        public readonly MemoryStream Stream = new();
        private BinaryWriter? writer;
        public override BinaryWriter KeyGroup(int keyGroup) => throw new InvalidOperationException("not keyed");
        public override BinaryWriter OperatorState => writer ??= new BinaryWriter(Stream);
    }

    private sealed class MemoryStateReader(params byte[][] subtasks) : OperatorStateReader
    {
        public override long CheckpointId => 1;
        public override IEnumerable<(int KeyGroup, BinaryReader Reader)> KeyGroups => [];
        public override IReadOnlyList<BinaryReader> OperatorStates { get; } = subtasks.Select(b => new BinaryReader(new MemoryStream(b))).ToList();
    }

    private static void WaitUntil(Func<bool> condition)
    {
        while (!condition()) Thread.Sleep(1);
    }

    /// <summary>
    /// Flushes until the operator has emitted <paramref name="count"/> events. A finished call reaches the operator
    /// through its own continuation, which may run after the test's, so counting finished calls is not enough.
    /// </summary>
    private static void FlushUntil<TOut>(OperatorHarness<int, TOut> h, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            h.Operator.Flush();
            if (h.Output.Events.Count >= count) return;
            Assert.True(DateTime.UtcNow < deadline, $"the operator emitted {h.Output.Events.Count} of {count} events");
            Thread.Sleep(1);
        }
    }

    [Fact]
    public void Ordered_mode_emits_in_input_order_whatever_order_calls_finish_in()
    {
        var calls = new ControlledCalls();
        var op = new AsyncWaitOperator<int, string>(() => calls);
        var h = new OperatorHarness<int, string>(op);
        h.Elements([(1, 10), (2, 20), (3, 30)]);
        calls.Finish(3);
        calls.Finish(2);
        WaitUntil(() => calls.Running == 1);
        h.Operator.Flush();
        Assert.Empty(h.Output.Records);
        calls.Finish(1);
        h.EndInput();
        Assert.Equal(["r1", "r2", "r3"], h.Output.Values);
        Assert.Equal([10L, 20, 30], h.Output.Records.Select(r => r.Timestamp));
        Assert.Equal(0, op.InFlight);
    }

    [Fact]
    public void Unordered_mode_emits_as_calls_finish_but_never_across_a_watermark()
    {
        var calls = new ControlledCalls();
        var op = new AsyncWaitOperator<int, string>(() => calls, new AsyncOptions { Mode = AsyncOutputMode.Unordered });
        var h = new OperatorHarness<int, string>(op);
        h.Elements([(1, 10), (2, 20)]).Watermark(25).Elements([(3, 30)]);
        calls.Finish(3);
        calls.Finish(2);
        FlushUntil(h, 1);
        WaitUntil(() => calls.Running == 1);
        h.Operator.Flush();
        Assert.Equal(["r2"], h.Output.Values); // 3 waits behind the watermark, which waits for 1
        Assert.Empty(h.Output.Watermarks);
        calls.Finish(1);
        FlushUntil(h, 4);
        Assert.Equal(["r2", "r1", $"W@{EventTime.Describe(25)}", "r3"], h.Output.Events.Select(e => e is Emitted<string> r ? r.Value : e.ToString()!));
    }

    [Fact]
    public async Task A_full_operator_blocks_its_task_until_a_call_finishes()
    {
        var calls = new ControlledCalls();
        var op = new AsyncWaitOperator<int, string>(() => calls, new AsyncOptions { Capacity = 3 });
        var h = new OperatorHarness<int, string>(op);
        // Finishes calls in input order as they appear, from another thread, as a remote service would.
        var finisher = Task.Run(() =>
        {
            for (int i = 0; i < 50; i++)
            {
                TaskCompletionSource<string>? tcs;
                while (!calls.Pending.TryGetValue(i, out tcs)) Thread.Sleep(0);
                calls.Finish(i);
            }
        });
        h.Elements(Enumerable.Range(0, 50).Select(i => (i, (long)i)));
        h.EndInput();
        await finisher;
        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"r{i}"), h.Output.Values);
        Assert.True(calls.MaxRunning <= 3, $"{calls.MaxRunning} calls ran at once with capacity 3");
        Assert.True(op.BackpressureWaits > 0);
    }

    [Fact]
    public void A_call_that_outlives_the_timeout_gets_the_timeout_result_and_the_stream_goes_on()
    {
        var calls = new ControlledCalls();
        var op = new AsyncWaitOperator<int, string>(() => calls, new AsyncOptions { Timeout = TimeSpan.FromMilliseconds(30) });
        var h = new OperatorHarness<int, string>(op);
        h.Elements([(1, 1), (2, 2)]);
        calls.Finish(2);
        h.EndInput(); // waits for 1's timeout
        Assert.Equal(["timeout(1)", "r2"], h.Output.Values);
        Assert.Equal(1, op.TimedOut);
        calls.Finish(1); // a late answer changes nothing
        Assert.Equal(2, h.Output.Records.Count);
    }

    [Fact]
    public void A_failed_call_fails_the_operator_with_the_cause()
    {
        var op = new AsyncWaitOperator<int, string>(() => new FailingCalls());
        var h = new OperatorHarness<int, string>(op);
        var e = Assert.Throws<InvalidOperationException>(() => h.Elements([(1, 1)]));
        Assert.Contains("remote said no", e.Message);
    }

    private sealed class FailingCalls : IAsyncFunction<int, string>
    {
        public Task<string> InvokeAsync(int input, CancellationToken cancellation) => Task.FromException<string>(new IOException("remote said no"));
        public string Timeout(int input) => "";
    }

    [Fact]
    public void In_flight_elements_are_checkpointed_and_started_again_on_restore()
    {
        var calls = new ControlledCalls();
        var op = new AsyncWaitOperator<int, string>(() => calls, null, (w, v) => w.Write(v), r => r.ReadInt32());
        Assert.True(op.HasState);
        var h = new OperatorHarness<int, string>(op);
        h.Elements([(1, 100), (2, 200)]).Watermark(250).Elements([(3, 300)]);
        calls.Finish(1);
        FlushUntil(h, 1);
        Assert.Equal(["r1"], h.Output.Values);

        var snapshot = new MemoryStateWriter();
        op.SnapshotState(7, snapshot);
        snapshot.OperatorState.Flush();

        // The job fails here; a new operator restores and calls again for 2 and 3, keeping the watermark between them.
        var calls2 = new ControlledCalls();
        var restored = new AsyncWaitOperator<int, string>(() => calls2, null, (w, v) => w.Write(v), r => r.ReadInt32());
        var h2 = new OperatorHarness<int, string>(restored);
        restored.RestoreState(new MemoryStateReader(snapshot.Stream.ToArray()));
        Assert.Equal(2, restored.InFlight);
        Assert.Equal([2, 3], calls2.Pending.Keys.Order());
        calls2.Finish(3);
        calls2.Finish(2);
        h2.EndInput();
        Assert.Equal(["r2", $"W@{EventTime.Describe(250)}", "r3"], h2.Output.Events.Where(e => e is not string s || s != $"W@{EventTime.Describe(EventTime.MaxWatermark)}")
            .Select(e => e is Emitted<string> r ? r.Value : e.ToString()!));
        Assert.Equal([200L, 300], h2.Output.Records.Select(r => r.Timestamp));
    }

    [Fact]
    public void Without_checkpoints_or_serializers_the_operator_has_no_state()
    {
        var op = new AsyncWaitOperator<int, string>(() => new ControlledCalls());
        _ = new OperatorHarness<int, string>(op);
        Assert.False(op.HasState);
        Assert.Throws<ArgumentException>(() => new AsyncWaitOperator<int, string>(() => new ControlledCalls(), new AsyncOptions { Capacity = 0 }));
    }

    [Fact]
    public void In_a_job_with_checkpoints_the_input_types_state_serializer_carries_the_in_flight_elements()
    {
        var calls = new ControlledCalls();
        var op = new AsyncWaitOperator<int, string>(() => calls);
        var h = new OperatorHarness<int, string>(op, checkpointing: true);
        Assert.True(op.HasState);
        h.Elements([(1, 10), (2, 20)]);
        var snapshot = h.Snapshot();

        var calls2 = new ControlledCalls();
        var h2 = OperatorHarness<int, string>.Restored(new AsyncWaitOperator<int, string>(() => calls2), [snapshot]);
        Assert.Equal([1, 2], calls2.Pending.Keys.Order());
        calls2.Finish(2);
        calls2.Finish(1);
        h2.EndInput();
        Assert.Equal(["r1", "r2"], h2.Output.Values);
        calls.Finish(1);
        calls.Finish(2);
    }

    private interface IOpaque;

    private sealed class Opaque : IAsyncFunction<IOpaque, string>
    {
        public Task<string> InvokeAsync(IOpaque input, CancellationToken cancellation) => Task.FromResult("x");
        public string Timeout(IOpaque input) => "timeout";
    }

    [Fact]
    public void In_a_job_with_checkpoints_an_input_type_without_a_serializer_fails_at_open_naming_the_operator()
    {
        var e = Assert.Throws<StateSerializationException>(() =>
            new OperatorHarness<IOpaque, string>(new AsyncWaitOperator<IOpaque, string>(() => new Opaque()), checkpointing: true));
        Assert.Contains("in-flight elements cannot go into a checkpoint", e.Message);
        Assert.Contains("AsyncWaitOperator", e.Message);
    }
}
