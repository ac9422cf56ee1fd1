using System.Numerics;
using Eddy.Runtime;
using Eddy.Windows;

namespace Eddy;

public sealed partial class KeyedStream<T, TKey>
{
    /// <summary>Groups each key's elements into windows: aggregate them with the returned stream's methods.</summary>
    public WindowedStream<T, TKey, TWindow> Window<TWindow>(WindowAssigner<TWindow> assigner) where TWindow : struct =>
        new(this, assigner);

    /// <summary>Windows of <paramref name="size"/> elements per key, fired and purged when full (Flink's <c>countWindow</c>).</summary>
    public WindowedStream<T, TKey, GlobalWindow> CountWindow(long size) =>
        Window(GlobalWindows.Create()).Trigger(CountTrigger.Of(size));
}

/// <summary>
/// A keyed stream split into windows, as Flink's <c>WindowedStream</c>: set lateness, late-data output and trigger,
/// then aggregate. Aggregation is incremental (one accumulator per key and slice or session) except for
/// <see cref="Process{TOut}(Func{ProcessWindowFunction{T,TOut,TKey,TWindow}}, string)"/>, which keeps the elements.
/// Results carry the window's max timestamp; with allowed lateness, late updates come as -U/+U pairs.
/// </summary>
public sealed class WindowedStream<T, TKey, TWindow> where TKey : notnull where TWindow : struct
{
    private readonly KeyedStream<T, TKey> input;
    private readonly WindowAssigner<TWindow> assigner;
    private long allowedLateness;
    private OutputTag<T>? lateDataTag;
    private WindowTrigger? trigger;
    private bool fireAtEndOfInput;

    internal WindowedStream(KeyedStream<T, TKey> input, WindowAssigner<TWindow> assigner)
    {
        this.input = input;
        this.assigner = assigner ?? throw new ArgumentNullException(nameof(assigner));
    }

    /// <summary>How long after a window fired late elements still update it (event time only).</summary>
    public WindowedStream<T, TKey, TWindow> AllowedLateness(TimeSpan lateness)
    {
        if (lateness < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(lateness));
        if (!assigner.IsEventTime && lateness > TimeSpan.Zero)
            throw new NotSupportedException("allowed lateness applies to event-time windows only");
        allowedLateness = EventTime.Millis(lateness);
        return this;
    }

    /// <summary>
    /// Processing-time windows still open when the input ends fire then, instead of being dropped with the job
    /// (what Flink SQL does with a bounded input; event-time windows fire on the final watermark anyway).
    /// </summary>
    public WindowedStream<T, TKey, TWindow> FireAtEndOfInput()
    {
        fireAtEndOfInput = true;
        return this;
    }

    /// <summary>Sends elements too late for any window to <paramref name="tag"/> instead of dropping them.</summary>
    public WindowedStream<T, TKey, TWindow> SideOutputLateData(OutputTag<T> tag)
    {
        lateDataTag = tag ?? throw new ArgumentNullException(nameof(tag));
        return this;
    }

    /// <summary>Replaces the default trigger; global windows need one (a <see cref="CountTrigger"/>).</summary>
    public WindowedStream<T, TKey, TWindow> Trigger(WindowTrigger windowTrigger)
    {
        if (assigner is not GlobalWindows)
            throw new NotSupportedException("only global windows take a trigger; time windows fire at their end");
        trigger = windowTrigger ?? throw new ArgumentNullException(nameof(windowTrigger));
        return this;
    }

    /// <summary>Aggregates incrementally with a user function (dispatched through its interface).</summary>
    public DataStream<TResult> Aggregate<TAcc, TResult>(IAggregateFunction<T, TAcc, TResult> aggregate, string name = "Window") =>
        Build<TAcc, TResult, TResult, IAggregateFunction<T, TAcc, TResult>, ResultEmitter<TKey, TResult>>(
            name, () => aggregate, () => default);

    /// <summary>Aggregates incrementally, then turns each key's result into an output with the key and window.</summary>
    public DataStream<TOut> Aggregate<TAcc, TResult, TOut>(IAggregateFunction<T, TAcc, TResult> aggregate,
        Func<TKey, TWindow, TResult, TOut> windowFunction, string name = "Window") =>
        Build<TAcc, TResult, TOut, IAggregateFunction<T, TAcc, TResult>, FunctionEmitter<TKey, TWindow, TResult, TOut>>(
            name, () => aggregate, () => new(windowFunction));

    /// <summary>
    /// Aggregates incrementally, then hands each key's result (the only element) to a process window function, as
    /// Flink's <c>aggregate(aggFunction, processWindowFunction)</c>.
    /// </summary>
    public DataStream<TOut> Aggregate<TAcc, TResult, TOut>(IAggregateFunction<T, TAcc, TResult> aggregate,
        Func<ProcessWindowFunction<TResult, TOut, TKey, TWindow>> function, string name = "Window") =>
        Build<TAcc, TResult, TOut, IAggregateFunction<T, TAcc, TResult>, AggregateProcessEmitter<TResult, TOut, TKey, TWindow>>(
            name, () => aggregate, () => new(function()));

    /// <summary>
    /// Aggregates with a struct function, for which the operator is compiled specially (calls inlined); the type
    /// arguments must be given: <c>Aggregate&lt;MyAgg, long, long&gt;(new MyAgg())</c>.
    /// </summary>
    public DataStream<TResult> Aggregate<TAgg, TAcc, TResult>(TAgg aggregate, string name = "Window")
        where TAgg : struct, IAggregateFunction<T, TAcc, TResult> =>
        Build<TAcc, TResult, TResult, TAgg, ResultEmitter<TKey, TResult>>(name, () => aggregate, () => default);

    /// <summary>
    /// As <see cref="Aggregate{TAgg,TAcc,TResult}(TAgg,string)"/> (a struct function, calls not dispatched through the
    /// interface), then turns each key's result into an output with the key and window.
    /// </summary>
    public DataStream<TOut> Aggregate<TAgg, TAcc, TResult, TOut>(TAgg aggregate, Func<TKey, TWindow, TResult, TOut> windowFunction, string name = "Window")
        where TAgg : struct, IAggregateFunction<T, TAcc, TResult> =>
        Build<TAcc, TResult, TOut, TAgg, FunctionEmitter<TKey, TWindow, TResult, TOut>>(name, () => aggregate, () => new(windowFunction));

    /// <summary>
    /// As <see cref="Aggregate{TAgg,TAcc,TResult,TOut}(TAgg,Func{TKey,TWindow,TResult,TOut},string)"/>, with the
    /// function and the result builder made for each operator instance (they share that instance's state, e.g. user
    /// functions it opens: a <typeparamref name="TAgg"/> implementing <see cref="IFunctionLifecycle"/> is opened and
    /// closed with the operator).
    /// </summary>
    public DataStream<TOut> Aggregate<TAgg, TAcc, TResult, TOut>(Func<(TAgg Aggregate, Func<TKey, TWindow, TResult, TOut> Result)> perInstance, string name = "Window")
        where TAgg : struct, IAggregateFunction<T, TAcc, TResult> =>
        input.Transform(name, CreateOperatorFactory<TAcc, TResult, TOut, TAgg, FunctionEmitter<TKey, TWindow, TResult, TOut>>(() =>
        {
            var (aggregate, result) = perInstance();
            return (aggregate, new FunctionEmitter<TKey, TWindow, TResult, TOut>(result));
        }));

    /// <summary>Combines the elements of each key's window pairwise, as Flink's <c>reduce</c>.</summary>
    public DataStream<T> Reduce(Func<T, T, T> reduce, string name = "Window") =>
        Build<Maybe<T>, T, T, ReduceAggregate<T>, ResultEmitter<TKey, T>>(name, () => new(reduce), () => default);

    public DataStream<TOut> Reduce<TOut>(Func<T, T, T> reduce, Func<TKey, TWindow, T, TOut> windowFunction, string name = "Window") =>
        Build<Maybe<T>, T, TOut, ReduceAggregate<T>, FunctionEmitter<TKey, TWindow, T, TOut>>(
            name, () => new(reduce), () => new(windowFunction));

    /// <summary>Sees all the elements of each window; a fresh function per subtask comes from <paramref name="function"/>.</summary>
    public DataStream<TOut> Process<TOut>(Func<ProcessWindowFunction<T, TOut, TKey, TWindow>> function, string name = "Window") =>
        Build<List<T>, List<T>, TOut, CollectAggregate<T>, ProcessEmitter<T, TOut, TKey, TWindow>>(
            name, () => default, () => new(function()));

    public DataStream<TOut> Process<TOut>(Action<TKey, TWindow, IReadOnlyList<T>, Collector<TOut>> function, string name = "Window") =>
        Process(() => new LambdaProcessWindowFunction<T, TOut, TKey, TWindow>(function), name);

    /// <summary>The number of elements of each key's window.</summary>
    public DataStream<WindowResult<TKey, TWindow, long>> Count(string name = "WindowCount") =>
        Build<long, long, WindowResult<TKey, TWindow, long>, CountAggregate<T>, KeyedResultEmitter<TKey, TWindow, long>>(
            name, () => default, () => default);

    public DataStream<WindowResult<TKey, TWindow, TValue>> Sum<TValue>(Func<T, TValue> selector, string name = "WindowSum")
        where TValue : INumber<TValue> =>
        Build<TValue, TValue, WindowResult<TKey, TWindow, TValue>, SumAggregate<T, TValue>, KeyedResultEmitter<TKey, TWindow, TValue>>(
            name, () => new(selector), () => default);

    public DataStream<WindowResult<TKey, TWindow, TValue>> Min<TValue>(Func<T, TValue> selector, string name = "WindowMin")
        where TValue : INumber<TValue> =>
        Build<Maybe<TValue>, TValue, WindowResult<TKey, TWindow, TValue>, MinAggregate<T, TValue>, KeyedResultEmitter<TKey, TWindow, TValue>>(
            name, () => new(selector), () => default);

    public DataStream<WindowResult<TKey, TWindow, TValue>> Max<TValue>(Func<T, TValue> selector, string name = "WindowMax")
        where TValue : INumber<TValue> =>
        Build<Maybe<TValue>, TValue, WindowResult<TKey, TWindow, TValue>, MaxAggregate<T, TValue>, KeyedResultEmitter<TKey, TWindow, TValue>>(
            name, () => new(selector), () => default);

    public DataStream<WindowResult<TKey, TWindow, double>> Average<TValue>(Func<T, TValue> selector, string name = "WindowAvg")
        where TValue : INumber<TValue> =>
        Build<AverageAccumulator<TValue>, double, WindowResult<TKey, TWindow, double>, AverageAggregate<T, TValue>, KeyedResultEmitter<TKey, TWindow, double>>(
            name, () => new(selector), () => default);

    private DataStream<TOut> Build<TAcc, TResult, TOut, TAgg, TEmit>(string name, Func<TAgg> aggregate, Func<TEmit> emitter)
        where TAgg : IAggregateFunction<T, TAcc, TResult>
        where TEmit : IWindowEmitter<TKey, TResult, TOut>
    {
        var factory = CreateOperatorFactory<TAcc, TResult, TOut, TAgg, TEmit>(() => (aggregate(), emitter()));
        return input.Transform(name, factory);
    }

    /// <summary>Picks the operator for the assigner; checks the configuration once, when the job is built.</summary>
    /// <param name="make">the aggregate function and emitter of one operator instance (made together: they may share state of that instance).</param>
    internal Func<StreamOperator<T, TOut>> CreateOperatorFactory<TAcc, TResult, TOut, TAgg, TEmit>(Func<(TAgg Aggregate, TEmit Emitter)> make)
        where TAgg : IAggregateFunction<T, TAcc, TResult>
        where TEmit : IWindowEmitter<TKey, TResult, TOut>
    {
        var keyOf = input.KeySelector;
        long lateness = allowedLateness;
        var lateTag = lateDataTag;
        bool fireAtEnd = fireAtEndOfInput;
        switch (assigner)
        {
            case SlicingWindowAssigner slicing:
                return () =>
                {
                    var (aggregate, emitter) = make();
                    return new SlicingWindowOperator<T, TKey, TAcc, TResult, TOut, TAgg, TEmit>(
                        keyOf, slicing, aggregate, emitter, lateness, lateTag) { FireAtEndOfInput = fireAtEnd };
                };
            case EventTimeSessionWindows session:
                return () =>
                {
                    var (aggregate, emitter) = make();
                    return new SessionWindowOperator<T, TKey, TAcc, TResult, TOut, TAgg, TEmit>(keyOf, session.Gap, null, aggregate, emitter, lateness, lateTag);
                };
            case DynamicEventTimeSessionWindows<T> dynamic:
                return () =>
                {
                    var (aggregate, emitter) = make();
                    return new SessionWindowOperator<T, TKey, TAcc, TResult, TOut, TAgg, TEmit>(keyOf, 0, dynamic.GapOf, aggregate, emitter, lateness, lateTag);
                };
            case SessionWindowAssigner:
                throw new ArgumentException($"the dynamic gap must be a function of the stream's type {typeof(T).Name}");
            case GlobalWindows:
                var count = trigger as CountTrigger
                    ?? throw new InvalidOperationException("global windows never fire without a trigger: add Trigger(CountTrigger.Of(n))");
                return () =>
                {
                    var (aggregate, emitter) = make();
                    return new GlobalWindowOperator<T, TKey, TAcc, TResult, TOut, TAgg, TEmit>(keyOf, count, aggregate, emitter);
                };
            default:
                throw new NotSupportedException($"no window operator for {assigner.GetType().Name}");
        }
    }
}
