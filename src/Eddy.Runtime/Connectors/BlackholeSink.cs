namespace Eddy.Runtime;

/// <summary>Flink's blackhole connector: discards every record, counting them (for benchmarks and dry runs).</summary>
public sealed class BlackholeSink<T> : Sink<T>
{
    private long count;

    /// <summary>Records discarded so far, over all subtasks.</summary>
    public long Count => Interlocked.Read(ref count);

    public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(this);

    private sealed class Writer(BlackholeSink<T> sink) : SinkWriter<T>
    {
        public override void Write(Batch<T> batch) => Interlocked.Add(ref sink.count, batch.Count);
    }
}
