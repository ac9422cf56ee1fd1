using System.Diagnostics;

namespace Eddy.Runtime;

/// <summary>
/// A sink that writes at most <paramref name="rowsPerSecond"/> records per second per subtask: after each batch its
/// writer waits until the batch's share of time has passed, as a slow database would. Its task then falls behind,
/// its input channels fill, and the operators feeding it report backpressured time (the dashboard's red vertex).
/// The wait is on the wall clock, whatever clock the job runs on: it stands for a slow external system.
/// </summary>
public sealed class ThrottledSink<T> : Sink<T>
{
    private readonly Sink<T> inner;
    private readonly double rowsPerSecond;

    public ThrottledSink(Sink<T> inner, double rowsPerSecond)
    {
        if (!(rowsPerSecond > 0) || double.IsInfinity(rowsPerSecond))
            throw new ArgumentOutOfRangeException(nameof(rowsPerSecond), "rows per second must be a positive number");
        this.inner = inner ?? throw new ArgumentNullException(nameof(inner));
        this.rowsPerSecond = rowsPerSecond;
    }

    public override SinkWriter<T> CreateWriter(SinkWriterContext context) =>
        new Writer(inner.CreateWriter(context), rowsPerSecond, context.Cancellation);

    private sealed class Writer(SinkWriter<T> writer, double rowsPerSecond, CancellationToken cancel) : ForwardingSinkWriter<T, T>(writer)
    {
        private long startTicks;
        private long written;

        public override void Write(Batch<T> batch)
        {
            if (startTicks == 0) startTicks = Stopwatch.GetTimestamp();
            Inner.Write(batch);
            written += batch.Count;
            // When the records written so far are due at this rate; sleeping in the task's thread is the slowness.
            var due = TimeSpan.FromSeconds(written / rowsPerSecond);
            var ahead = due - Stopwatch.GetElapsedTime(startTicks);
            // A batch may stand for seconds at a low rate: a cancelled job stops waiting at once.
            if (ahead > TimeSpan.Zero) cancel.WaitHandle.WaitOne(ahead);
        }
    }
}
