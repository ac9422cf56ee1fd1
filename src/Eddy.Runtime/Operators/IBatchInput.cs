namespace Eddy.Runtime;

/// <summary>
/// Whatever receives a stream: the next operator of a chain, or the writer that sends batches to the next task.
/// The calls arrive in stream order; control events travel in-band with the data.
/// </summary>
public interface IBatchInput<T>
{
    /// <summary>Takes ownership of <paramref name="batch"/>.</summary>
    void OnBatch(Batch<T> batch);

    /// <summary>Event time has advanced to <paramref name="watermark"/>: no record with a smaller timestamp follows.</summary>
    void OnWatermark(long watermark);

    /// <summary>Nothing more is queued upstream for now: pass on partial batches so that latency stays bounded.</summary>
    void Flush();

    /// <summary>The input has ended (after the final watermark). Nothing follows.</summary>
    void OnEndOfInput();
}

/// <summary>A stream consumer that drops everything (an unused side output).</summary>
public sealed class DiscardingInput<T> : IBatchInput<T>
{
    public static readonly DiscardingInput<T> Instance = new();

    public void OnBatch(Batch<T> batch) => BatchPool<T>.Return(batch);

    public void OnWatermark(long watermark) { }

    public void Flush() { }

    public void OnEndOfInput() { }
}

/// <summary>Sends one stream to several consumers; every consumer but the last gets its own copy of each batch.</summary>
public sealed class FanOutInput<T>(IReadOnlyList<IBatchInput<T>> targets) : IBatchInput<T>
{
    public void OnBatch(Batch<T> batch)
    {
        for (int i = 0; i < targets.Count - 1; i++) targets[i].OnBatch(batch.Copy());
        targets[^1].OnBatch(batch);
    }

    public void OnWatermark(long watermark)
    {
        foreach (var t in targets) t.OnWatermark(watermark);
    }

    public void Flush()
    {
        foreach (var t in targets) t.Flush();
    }

    public void OnEndOfInput()
    {
        foreach (var t in targets) t.OnEndOfInput();
    }
}
