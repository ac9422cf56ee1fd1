namespace Eddy.Runtime;

public sealed class MapOperator<TIn, TOut>(Func<TIn, TOut> map) : StreamOperator<TIn, TOut>
{
    public override void OnBatch(Batch<TIn> batch)
    {
        var output = BatchPool<TOut>.Rent();
        var values = batch.Values;
        var outValues = output.Values;
        int n = batch.Count;
        for (int i = 0; i < n; i++) outValues[i] = map(values[i]);
        Array.Copy(batch.Timestamps, output.Timestamps, n);
        output.Count = n;
        if (batch.HasKinds)
        {
            for (int i = 0; i < n; i++) output.SetKind(i, batch.KindAt(i));
        }
        var positions = Distributed.SourcePositions.Of(batch);
        var ordinals = Distributed.SourcePositions.OrdinalsOf(batch);
        BatchPool<TIn>.Return(batch);
        if (positions is null)
        {
            Output.OnBatch(output);
            return;
        }
        // Record i came from record i: a repartition writer downstream tags it with the same source position and ordinal.
        var previous = Distributed.SourcePositions.Relay(output, positions, ordinals);
        try
        {
            Output.OnBatch(output);
        }
        finally
        {
            Distributed.SourcePositions.Restore(previous);
        }
    }
}

/// <summary>Keeps the records a predicate accepts, compacting the batch in place.</summary>
public sealed class FilterOperator<T>(Func<T, bool> predicate) : StreamOperator<T, T>
{
    public override void OnBatch(Batch<T> batch)
    {
        var values = batch.Values;
        int kept = 0;
        int n = batch.Count;
        for (int i = 0; i < n; i++)
        {
            if (predicate(values[i]))
            {
                if (kept != i) batch.Move(i, kept);
                kept++;
            }
        }
        if (kept == 0)
        {
            BatchPool<T>.Return(batch);
            return;
        }
        batch.Truncate(kept);
        Output.OnBatch(batch);
    }
}

public sealed class FlatMapOperator<TIn, TOut>(Action<TIn, Collector<TOut>> flatMap) : StreamOperator<TIn, TOut>
{
    public override void OnBatch(Batch<TIn> batch)
    {
        var output = Out;
        var values = batch.Values;
        var timestamps = batch.Timestamps;
        int n = batch.Count;
        for (int i = 0; i < n; i++)
        {
            output.CurrentTimestamp = timestamps[i];
            flatMap(values[i], output);
        }
        BatchPool<TIn>.Return(batch);
    }
}

/// <summary>A low-level function over each record with access to its timestamp, the watermark and side outputs.</summary>
public abstract class ProcessFunction<TIn, TOut>
{
    public virtual void Open(ProcessContext context) { }

    public abstract void ProcessElement(TIn value, ProcessContext context, Collector<TOut> output);

    public virtual void Close() { }
}

/// <summary>What a process function sees of the record being processed and of its operator.</summary>
public class ProcessContext
{
    private readonly StreamOperator owner;

    internal ProcessContext(StreamOperator owner) => this.owner = owner;

    /// <summary>Event time of the current record (or firing timer), or <see cref="EventTime.None"/>.</summary>
    public long Timestamp { get; internal set; } = EventTime.None;

    public long CurrentWatermark => owner.CurrentWatermark;

    public long CurrentProcessingTime => owner.Context.ProcessingTimers.Now;

    public int SubtaskIndex => owner.Context.SubtaskIndex;

    /// <summary>The operator instance's context (its name, parallelism, metrics), for functions it sets up.</summary>
    public OperatorContext Operator => owner.Context;

    /// <summary>Emits <paramref name="value"/> to side output <paramref name="tag"/> with the current timestamp.</summary>
    public void Output<T>(OutputTag<T> tag, T value) => owner.SideOutput(tag).Collect(value, Timestamp);
}

public sealed class ProcessOperator<TIn, TOut>(ProcessFunction<TIn, TOut> function) : StreamOperator<TIn, TOut>
{
    private ProcessContext? context;

    public override void Open()
    {
        context = new ProcessContext(this);
        function.Open(context);
    }

    public override void OnBatch(Batch<TIn> batch)
    {
        var ctx = context!;
        var output = Out;
        var values = batch.Values;
        var timestamps = batch.Timestamps;
        int n = batch.Count;
        for (int i = 0; i < n; i++)
        {
            long ts = timestamps[i];
            ctx.Timestamp = ts;
            output.CurrentTimestamp = ts;
            function.ProcessElement(values[i], ctx, output);
        }
        BatchPool<TIn>.Return(batch);
    }

    public override void Close() => function.Close();
}
