using System.Numerics;

namespace Eddy.Windows;

/// <summary>
/// An incremental aggregation, as Flink's <c>AggregateFunction</c>: a window keeps one accumulator per key (per slice),
/// never the elements. <see cref="Merge"/> combines slices and sessions; it may return <paramref name="a"/> modified.
/// Implement it as a struct and pass it with explicit type arguments to have the operator specialised for it.
/// </summary>
public interface IAggregateFunction<in TIn, TAcc, out TResult>
{
    TAcc CreateAccumulator();

    TAcc Add(TIn value, TAcc accumulator);

    TAcc Merge(TAcc a, TAcc b);

    TResult GetResult(TAcc accumulator);
}

/// <summary>The built-in aggregations (structs, so that the operator inlines them).</summary>
public static class Aggregates
{
    public static CountAggregate<T> Count<T>() => default;

    public static SumAggregate<T, TValue> Sum<T, TValue>(Func<T, TValue> selector) where TValue : INumber<TValue> => new(selector);

    public static MinAggregate<T, TValue> Min<T, TValue>(Func<T, TValue> selector) where TValue : INumber<TValue> => new(selector);

    public static MaxAggregate<T, TValue> Max<T, TValue>(Func<T, TValue> selector) where TValue : INumber<TValue> => new(selector);

    public static AverageAggregate<T, TValue> Average<T, TValue>(Func<T, TValue> selector) where TValue : INumber<TValue> => new(selector);
}

public readonly struct CountAggregate<T> : IAggregateFunction<T, long, long>
{
    public long CreateAccumulator() => 0;

    public long Add(T value, long accumulator) => accumulator + 1;

    public long Merge(long a, long b) => a + b;

    public long GetResult(long accumulator) => accumulator;
}

public readonly struct SumAggregate<T, TValue>(Func<T, TValue> selector) : IAggregateFunction<T, TValue, TValue>
    where TValue : INumber<TValue>
{
    public TValue CreateAccumulator() => TValue.Zero;

    public TValue Add(T value, TValue accumulator) => accumulator + selector(value);

    public TValue Merge(TValue a, TValue b) => a + b;

    public TValue GetResult(TValue accumulator) => accumulator;
}

/// <summary>An optional value: what min, max and reduce accumulate (nothing before the first element).</summary>
public readonly record struct Maybe<T>(bool HasValue, T Value);

public readonly struct MinAggregate<T, TValue>(Func<T, TValue> selector) : IAggregateFunction<T, Maybe<TValue>, TValue>
    where TValue : INumber<TValue>
{
    public Maybe<TValue> CreateAccumulator() => default;

    public Maybe<TValue> Add(T value, Maybe<TValue> accumulator)
    {
        var v = selector(value);
        return !accumulator.HasValue || v < accumulator.Value ? new(true, v) : accumulator;
    }

    public Maybe<TValue> Merge(Maybe<TValue> a, Maybe<TValue> b) =>
        !b.HasValue ? a : !a.HasValue || b.Value < a.Value ? b : a;

    public TValue GetResult(Maybe<TValue> accumulator) => accumulator.Value;
}

public readonly struct MaxAggregate<T, TValue>(Func<T, TValue> selector) : IAggregateFunction<T, Maybe<TValue>, TValue>
    where TValue : INumber<TValue>
{
    public Maybe<TValue> CreateAccumulator() => default;

    public Maybe<TValue> Add(T value, Maybe<TValue> accumulator)
    {
        var v = selector(value);
        return !accumulator.HasValue || v > accumulator.Value ? new(true, v) : accumulator;
    }

    public Maybe<TValue> Merge(Maybe<TValue> a, Maybe<TValue> b) =>
        !b.HasValue ? a : !a.HasValue || b.Value > a.Value ? b : a;

    public TValue GetResult(Maybe<TValue> accumulator) => accumulator.Value;
}

public readonly record struct AverageAccumulator<TValue>(TValue Sum, long Count);

public readonly struct AverageAggregate<T, TValue>(Func<T, TValue> selector) : IAggregateFunction<T, AverageAccumulator<TValue>, double>
    where TValue : INumber<TValue>
{
    public AverageAccumulator<TValue> CreateAccumulator() => new(TValue.Zero, 0);

    public AverageAccumulator<TValue> Add(T value, AverageAccumulator<TValue> accumulator) =>
        new(accumulator.Sum + selector(value), accumulator.Count + 1);

    public AverageAccumulator<TValue> Merge(AverageAccumulator<TValue> a, AverageAccumulator<TValue> b) =>
        new(a.Sum + b.Sum, a.Count + b.Count);

    public double GetResult(AverageAccumulator<TValue> accumulator) =>
        accumulator.Count == 0 ? double.NaN : double.CreateChecked(accumulator.Sum) / accumulator.Count;
}

/// <summary>Flink's <c>reduce</c>: the accumulator is the reduced element itself.</summary>
public readonly struct ReduceAggregate<T>(Func<T, T, T> reduce) : IAggregateFunction<T, Maybe<T>, T>
{
    public Maybe<T> CreateAccumulator() => default;

    public Maybe<T> Add(T value, Maybe<T> accumulator) =>
        new(true, accumulator.HasValue ? reduce(accumulator.Value, value) : value);

    public Maybe<T> Merge(Maybe<T> a, Maybe<T> b) =>
        !a.HasValue ? b : !b.HasValue ? a : new(true, reduce(a.Value, b.Value));

    public T GetResult(Maybe<T> accumulator) => accumulator.Value;
}

/// <summary>Keeps the elements themselves: what a process window function, which sees them all, needs.</summary>
public readonly struct CollectAggregate<T> : IAggregateFunction<T, List<T>, List<T>>
{
    public List<T> CreateAccumulator() => [];

    public List<T> Add(T value, List<T> accumulator)
    {
        accumulator.Add(value);
        return accumulator;
    }

    public List<T> Merge(List<T> a, List<T> b)
    {
        a.AddRange(b);
        return a;
    }

    public List<T> GetResult(List<T> accumulator) => accumulator;
}
