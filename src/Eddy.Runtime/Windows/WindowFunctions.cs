using System.Runtime.CompilerServices;
using Eddy.Runtime;

namespace Eddy.Windows;

/// <summary>The result of a window for one key, as the convenience aggregations (<c>Count()</c>, <c>Sum</c>, …) emit it.</summary>
public readonly record struct WindowResult<TKey, TWindow, TValue>(TKey Key, TWindow Window, TValue Value);

/// <summary>
/// Sees every element of a window when it fires, as Flink's <c>ProcessWindowFunction</c>; the window then keeps
/// its elements instead of an accumulator. One instance per subtask.
/// </summary>
public abstract class ProcessWindowFunction<T, TOut, TKey, TWindow>
{
    public abstract void Process(TKey key, TWindow window, IReadOnlyList<T> elements, Collector<TOut> output);
}

/// <summary>
/// Where a window's results go. The operator sets the timestamp (the window's max timestamp) and the row kind (+I on
/// the first firing, -U/+U when late data updates it) before each window, and keeps what was emitted when it will
/// need to retract it.
/// </summary>
public sealed class WindowOutput<TOut>
{
    private readonly Collector<TOut> target;

    internal WindowOutput(Collector<TOut> target) => this.target = target;

    internal long Timestamp;
    internal RowKind Kind;

    /// <summary>Non-null while the results of the current window must be remembered (allowed lateness).</summary>
    internal List<TOut>? Recording;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Collect(TOut value)
    {
        if (Kind == RowKind.Insert) target.Collect(value, Timestamp);
        else target.Collect(value, Timestamp, Kind);
        Recording?.Add(value);
    }

    /// <summary>Emits what windows emitted before, as retractions (-U) with their original timestamps.</summary>
    internal void Retract(EmittedResult<TOut>[] previous)
    {
        foreach (var p in previous) target.Collect(p.Value, p.Timestamp, RowKind.UpdateBefore);
    }
}

/// <summary>A result a window emitted, kept while late data may still retract it.</summary>
internal readonly record struct EmittedResult<TOut>(TOut Value, long Timestamp);

/// <summary>
/// Turns a window's aggregate into output records. Implementations are structs so that the operator, generic over
/// them, calls them directly; the window type is a method parameter so one emitter serves every window type.
/// </summary>
/// <summary>
/// A function an operator sets up per instance (Flink's rich functions): opened on the task's thread before the first
/// element (and before a restored state is used), closed when the operator closes: at the end of the input, and when
/// the job fails or is cancelled. A window operator opens its aggregate function when that implements it.
/// </summary>
public interface IFunctionLifecycle
{
    void Open(OperatorContext context);

    void Close();
}

public interface IWindowEmitter<TKey, TResult, TOut>
{
    void Emit<TWindow>(TKey key, TWindow window, TResult result, WindowOutput<TOut> output) where TWindow : struct;
}

/// <summary>Emits the aggregate's result as it is.</summary>
public readonly struct ResultEmitter<TKey, TResult> : IWindowEmitter<TKey, TResult, TResult>
{
    public void Emit<TWindow>(TKey key, TWindow window, TResult result, WindowOutput<TResult> output) where TWindow : struct =>
        output.Collect(result);
}

/// <summary>Emits (key, window, result).</summary>
public readonly struct KeyedResultEmitter<TKey, TWindowOut, TResult> : IWindowEmitter<TKey, TResult, WindowResult<TKey, TWindowOut, TResult>>
    where TWindowOut : struct
{
    public void Emit<TWindow>(TKey key, TWindow window, TResult result, WindowOutput<WindowResult<TKey, TWindowOut, TResult>> output)
        where TWindow : struct =>
        // The operator's window type is this emitter's: the cast is folded away by the JIT.
        output.Collect(new(key, (TWindowOut)(object)window, result));
}

/// <summary>Flink's <c>WindowFunction</c> after an aggregation, as a function of key, window and result.</summary>
public readonly struct FunctionEmitter<TKey, TWindowOut, TResult, TOut>(Func<TKey, TWindowOut, TResult, TOut> function)
    : IWindowEmitter<TKey, TResult, TOut> where TWindowOut : struct
{
    public void Emit<TWindow>(TKey key, TWindow window, TResult result, WindowOutput<TOut> output) where TWindow : struct =>
        output.Collect(function(key, (TWindowOut)(object)window, result));
}

/// <summary>
/// Runs a <see cref="ProcessWindowFunction{T,TOut,TKey,TWindow}"/> over an aggregate's result, as Flink's
/// <c>aggregate(aggFunction, processWindowFunction)</c>: the function sees one element, the window's result.
/// </summary>
public readonly struct AggregateProcessEmitter<TResult, TOut, TKey, TWindowOut> : IWindowEmitter<TKey, TResult, TOut> where TWindowOut : struct
{
    private readonly ProcessEmitter<TResult, TOut, TKey, TWindowOut> process;
    private readonly List<TResult> single = new(1);

    public AggregateProcessEmitter(ProcessWindowFunction<TResult, TOut, TKey, TWindowOut> function) => process = new(function);

    public void Emit<TWindow>(TKey key, TWindow window, TResult result, WindowOutput<TOut> output) where TWindow : struct
    {
        single.Clear();
        single.Add(result);
        process.Emit(key, window, single, output);
        single.Clear();
    }
}

/// <summary>Runs a <see cref="ProcessWindowFunction{T,TOut,TKey,TWindow}"/> over the collected elements.</summary>
public readonly struct ProcessEmitter<T, TOut, TKey, TWindowOut> : IWindowEmitter<TKey, List<T>, TOut> where TWindowOut : struct
{
    private readonly ProcessWindowFunction<T, TOut, TKey, TWindowOut> function;
    private readonly Forwarder forwarder;
    private readonly Collector<TOut> collector;

    public ProcessEmitter(ProcessWindowFunction<T, TOut, TKey, TWindowOut> function)
    {
        this.function = function;
        forwarder = new Forwarder();
        collector = new Collector<TOut>(forwarder);
    }

    public void Emit<TWindow>(TKey key, TWindow window, List<T> result, WindowOutput<TOut> output) where TWindow : struct
    {
        forwarder.Output = output;
        function.Process(key, (TWindowOut)(object)window, result, collector);
        // The user's collector batches; flushing here keeps each window's records under its own kind and timestamp.
        collector.Flush();
    }

    private sealed class Forwarder : IBatchInput<TOut>
    {
        public WindowOutput<TOut>? Output;

        public void OnBatch(Batch<TOut> batch)
        {
            for (int i = 0; i < batch.Count; i++) Output!.Collect(batch.Values[i]);
            BatchPool<TOut>.Return(batch);
        }

        public void OnWatermark(long watermark) { }

        public void Flush() { }

        public void OnEndOfInput() { }
    }
}

/// <summary>A process window function from a lambda.</summary>
internal sealed class LambdaProcessWindowFunction<T, TOut, TKey, TWindow>(Action<TKey, TWindow, IReadOnlyList<T>, Collector<TOut>> process)
    : ProcessWindowFunction<T, TOut, TKey, TWindow>
{
    public override void Process(TKey key, TWindow window, IReadOnlyList<T> elements, Collector<TOut> output) =>
        process(key, window, elements, output);
}
