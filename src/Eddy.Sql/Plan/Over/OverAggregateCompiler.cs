using System.Linq.Expressions;
using Eddy.Sql.Codegen;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Planning;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.Over;

/// <summary>
/// The aggregates of an OVER window over one generated accumulator struct, with add and — for bounded windows —
/// retract (the row leaving the window), as Flink's retractable aggregate functions: SUM and AVG keep a count of
/// the non-NULL values so that an emptied window gives NULL; MIN and MAX keep a multiset of the values in the window
/// (<see cref="OverMinMax{T}"/>). Unbounded windows never retract: MIN and MAX keep only the extreme value.
/// </summary>
internal sealed class OverAggregateCompiler
{
    private readonly IReadOnlyList<AggregateCall> calls;
    private readonly bool retracts;
    private readonly List<Type> fields = [];
    private readonly List<(int Value, int Count)> layout = [];

    public OverAggregateCompiler(IReadOnlyList<AggregateCall> calls, bool retracts)
    {
        this.calls = calls;
        this.retracts = retracts;
        foreach (var call in calls)
        {
            var resultType = ExpressionCompiler.ValueType(call.Type);
            switch (call.Kind)
            {
                case AggregateKind.Count or AggregateKind.CountStar:
                    layout.Add((Field(typeof(long)), -1));
                    break;
                case AggregateKind.Sum:
                    layout.Add((Field(resultType), Field(typeof(long))));
                    break;
                case AggregateKind.Avg:
                    layout.Add((Field(AvgSumType(call)), Field(typeof(long))));
                    break;
                case AggregateKind.Min or AggregateKind.Max:
                    layout.Add((Field(retracts ? typeof(OverMinMax<>).MakeGenericType(ArgumentType(call)) : resultType), -1));
                    break;
                case AggregateKind.RowNumber:
                    layout.Add((Field(typeof(long)), -1));
                    break;
                case AggregateKind.Rank or AggregateKind.DenseRank:
                    layout.Add((Field(typeof(OverRank)), -1));
                    break;
                case AggregateKind.Lag:
                    layout.Add((Field(typeof(LagBuffer<>).MakeGenericType(ExpressionCompiler.ValueType(call.Argument!.Type))), -1));
                    break;
                case AggregateKind.ListAgg:
                    // The values in order (Flink's ListAggWithRetractAggFunction: a retraction takes out the first equal value).
                    layout.Add((Field(typeof(List<string>)), -1));
                    break;
                case AggregateKind.FirstValue or AggregateKind.LastValue when retracts:
                    // The frame's non-NULL values in order: the row leaving a frame is its oldest, so its value (when
                    // not NULL) is the list's first (Flink's First/LastValueWithRetractAggFunction order rows by arrival).
                    layout.Add((Field(typeof(List<>).MakeGenericType(ArgumentType(call))), -1));
                    break;
                case AggregateKind.FirstValue or AggregateKind.LastValue:
                    layout.Add((Field(resultType), Field(typeof(bool))));
                    break;
                case AggregateKind.ArrayAgg or AggregateKind.Percentile:
                    // The group aggregation's accumulators, which retract as Flink's ArrayAgg/PercentileAggFunction.
                    layout.Add((Field(CollectingAggregates.AccumulatorType(call)), -1));
                    break;
                default:
                    throw new NotSupportedException($"{call.Kind} in an OVER window");
            }
        }
        AccumulatorType = RowTypes.ForFields(fields.Count == 0 ? [typeof(byte)] : fields);
    }

    public Type AccumulatorType { get; }

    private int Field(Type t)
    {
        fields.Add(t);
        return fields.Count - 1;
    }

    private static Type NonNullable(Type t) => Nullable.GetUnderlyingType(t) ?? t;

    private static Type ArgumentType(AggregateCall call) => NonNullable(ExpressionCompiler.ValueType(call.Argument!.Type));

    private static Type AvgSumType(AggregateCall call) => call.Argument!.Type.Kind switch
    {
        TypeKind.Float or TypeKind.Double => typeof(double?),
        TypeKind.Decimal => typeof(decimal?),
        _ => typeof(long?),
    };

    private MemberExpression F(LinqExpr acc, int field) => LinqExpr.Field(acc, AccumulatorType.GetField($"c{field}")!);

    // Compound assignment on a struct field writes to a copy in LINQ expression trees: assign explicitly.
    private static LinqExpr Assign(MemberExpression field, LinqExpr value) =>
        LinqExpr.Assign(field, value.Type == field.Type ? value : LinqExpr.Convert(value, field.Type));

    /// <summary>Adds a row to the accumulator (<paramref name="retract"/> false) or takes it out (true).</summary>
    public Func<TIn, TAcc, TAcc> CompileUpdate<TIn, TAcc>(bool retract)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var accIn = LinqExpr.Parameter(typeof(TAcc), "accIn");
        var acc = LinqExpr.Variable(typeof(TAcc), "acc");
        var body = new List<LinqExpr> { LinqExpr.Assign(acc, accIn) };
        var step = LinqExpr.Constant(retract ? -1L : 1L);
        for (int k = 0; k < calls.Count; k++)
        {
            var call = calls[k];
            var (vf, count) = layout[k];
            if (call.Kind is AggregateKind.CountStar or AggregateKind.RowNumber)
            {
                // ROW_NUMBER never retracts: the binder allows it only in an unbounded window, as Flink.
                body.Add(Assign(F(acc, vf), LinqExpr.Add(F(acc, vf), step)));
                continue;
            }
            if (CollectingAggregates.IsCollecting(call.Kind))
            {
                body.Add(CollectingAggregates.Update(call, F(acc, vf), row, retract));
                continue;
            }
            var value = ExpressionCompiler.Compile(call.Argument!, row);
            if (call.Kind == AggregateKind.Lag)
            {
                // LAG keeps NULL values too; it never retracts (the binder gives it an unbounded ROWS window, as Calcite).
                var buffer = F(acc, vf);
                if (!retract)
                {
                    var element = buffer.Type.GetGenericArguments()[0];
                    body.Add(LinqExpr.Assign(buffer, LinqExpr.Call(buffer.Type.GetMethod(nameof(LagBuffer<int>.Add))!, buffer,
                        value.Type == element ? value : LinqExpr.Convert(value, element), LinqExpr.Constant(call.Offset + 1))));
                }
                continue;
            }
            var v = LinqExpr.Variable(value.Type, "v");
            LinqExpr onValue;
            switch (call.Kind)
            {
                case AggregateKind.ListAgg:
                {
                    var list = F(acc, vf);
                    onValue = LinqExpr.Assign(list, LinqExpr.Call(typeof(ListAggValues).GetMethod(retract ? nameof(ListAggValues.Retract) : nameof(ListAggValues.Accumulate))!,
                        list, LinqExpr.Convert(v, typeof(string))));
                    break;
                }
                case AggregateKind.FirstValue or AggregateKind.LastValue when retracts:
                {
                    var list = F(acc, vf);
                    var element = ArgumentType(call);
                    onValue = LinqExpr.Assign(list, LinqExpr.Call(typeof(ArrayAggOps).GetMethod(retract ? nameof(ArrayAggOps.Retract) : nameof(ArrayAggOps.Add))!
                        .MakeGenericMethod(element), list, LinqExpr.Convert(v, element)));
                    break;
                }
                case AggregateKind.FirstValue:
                    onValue = LinqExpr.IfThen(LinqExpr.Not(F(acc, count)),
                        LinqExpr.Block(Assign(F(acc, vf), v), LinqExpr.Assign(F(acc, count), LinqExpr.Constant(true))));
                    break;
                case AggregateKind.LastValue:
                    onValue = LinqExpr.Block(Assign(F(acc, vf), v), LinqExpr.Assign(F(acc, count), LinqExpr.Constant(true)));
                    break;
                case AggregateKind.Count:
                    onValue = Assign(F(acc, vf), LinqExpr.Add(F(acc, vf), step));
                    break;
                case AggregateKind.Rank or AggregateKind.DenseRank:
                {
                    var time = LinqExpr.Convert(v, NonNullable(v.Type));
                    LinqExpr ticks = time.Type == typeof(DateTimeOffset) ? LinqExpr.Property(time, nameof(DateTimeOffset.UtcTicks))
                        : time.Type == typeof(DateTime) ? LinqExpr.Property(time, nameof(DateTime.Ticks))
                        : LinqExpr.Convert(time, typeof(long));
                    onValue = Assign(F(acc, vf), LinqExpr.Call(typeof(OverRank).GetMethod(nameof(OverRank.Accumulate))!, F(acc, vf), ticks,
                        LinqExpr.Constant(call.Kind == AggregateKind.DenseRank)));
                    break;
                }
                case AggregateKind.Sum or AggregateKind.Avg:
                {
                    var sum = F(acc, vf);
                    var converted = LinqExpr.Convert(v, sum.Type);
                    // The sum is not NULL while the count is positive.
                    LinqExpr newSum = retract ? LinqExpr.Subtract(sum, converted)
                        : LinqExpr.Condition(LinqExpr.Equal(sum, LinqExpr.Constant(null, sum.Type)), converted, LinqExpr.Add(sum, converted));
                    onValue = LinqExpr.Block(Assign(sum, newSum), Assign(F(acc, count), LinqExpr.Add(F(acc, count), step)));
                    break;
                }
                default:
                {
                    bool min = call.Kind == AggregateKind.Min;
                    var target = F(acc, vf);
                    var arg = LinqExpr.Convert(v, ArgumentType(call));
                    if (retracts)
                    {
                        var ensure = LinqExpr.IfThen(LinqExpr.Equal(target, LinqExpr.Constant(null, target.Type)),
                            LinqExpr.Assign(target, LinqExpr.New(target.Type)));
                        var method = target.Type.GetMethod(retract ? nameof(OverMinMax<int>.Retract) : nameof(OverMinMax<int>.Add))!;
                        onValue = LinqExpr.Block(ensure, LinqExpr.Call(target, method, arg, LinqExpr.Constant(min)));
                    }
                    else
                    {
                        var better = LinqExpr.Call(typeof(OverMinMax<>).MakeGenericType(ArgumentType(call)).GetMethod(nameof(OverMinMax<int>.Compare))!,
                            arg, LinqExpr.Convert(target, ArgumentType(call)));
                        var replaces = min ? LinqExpr.LessThan(better, LinqExpr.Constant(0)) : LinqExpr.GreaterThan(better, LinqExpr.Constant(0));
                        onValue = LinqExpr.IfThen(LinqExpr.OrElse(LinqExpr.Equal(target, LinqExpr.Constant(null, target.Type)), replaces),
                            Assign(target, v));
                    }
                    break;
                }
            }
            body.Add(LinqExpr.Block([v], LinqExpr.Assign(v, value), LinqExpr.IfThen(LinqExpr.NotEqual(v, LinqExpr.Constant(null, v.Type)), onValue)));
        }
        body.Add(acc);
        return LinqExpr.Lambda<Func<TIn, TAcc, TAcc>>(LinqExpr.Block([acc], body), row, accIn).Compile();
    }

    /// <summary>The value of aggregate <paramref name="k"/> from an accumulator expression.</summary>
    public LinqExpr Result(int k, LinqExpr acc, ParameterExpression row)
    {
        var call = calls[k];
        var (vf, count) = layout[k];
        var resultType = ExpressionCompiler.ValueType(call.Type);
        var f = F(acc, vf);
        if (CollectingAggregates.IsCollecting(call.Kind))
        {
            var collected = CollectingAggregates.Result(call, f);
            return collected.Type == resultType ? collected : LinqExpr.Convert(collected, resultType);
        }
        switch (call.Kind)
        {
            case AggregateKind.ListAgg:
                return LinqExpr.Call(typeof(ListAggValues).GetMethod(nameof(ListAggValues.Join))!, f, LinqExpr.Constant(call.Separator));
            case AggregateKind.FirstValue or AggregateKind.LastValue when retracts:
            {
                var method = typeof(OverValues).GetMethod(call.Kind == AggregateKind.FirstValue ? nameof(OverValues.First) : nameof(OverValues.Last))!
                    .MakeGenericMethod(ArgumentType(call));
                var value = LinqExpr.Call(method, f);
                return value.Type == resultType ? value : LinqExpr.Convert(value, resultType);
            }
            case AggregateKind.Lag:
            {
                // The default is the current row's (Flink's LagAggFunction keeps the last accumulated row's default).
                var element = f.Type.GetGenericArguments()[0];
                LinqExpr fallback = call.Second is null ? LinqExpr.Constant(null, element) : ExpressionCompiler.Compile(call.Second, row);
                if (fallback.Type != element) fallback = LinqExpr.Convert(fallback, element);
                var lag = LinqExpr.Call(f.Type.GetMethod(nameof(LagBuffer<int>.Value))!, f, LinqExpr.Constant(call.Offset + 1), fallback);
                return lag.Type == resultType ? lag : LinqExpr.Convert(lag, resultType);
            }
            case AggregateKind.Sum:
                return LinqExpr.Condition(LinqExpr.Equal(F(acc, count), LinqExpr.Constant(0L)), LinqExpr.Constant(null, resultType),
                    f.Type == resultType ? f : LinqExpr.Convert(f, resultType));
            case AggregateKind.Avg:
            {
                var n = F(acc, count);
                var sum = LinqExpr.Convert(f, NonNullable(f.Type));
                LinqExpr avg = LinqExpr.Divide(sum, LinqExpr.Convert(n, sum.Type));
                return LinqExpr.Condition(LinqExpr.Equal(n, LinqExpr.Constant(0L)), LinqExpr.Constant(null, resultType), LinqExpr.Convert(avg, resultType));
            }
            case AggregateKind.Rank or AggregateKind.DenseRank:
                return LinqExpr.Convert(LinqExpr.Field(f, nameof(OverRank.Rank)), resultType);
            case AggregateKind.Min or AggregateKind.Max when retracts:
                return LinqExpr.Condition(
                    LinqExpr.OrElse(LinqExpr.Equal(f, LinqExpr.Constant(null, f.Type)), LinqExpr.Not(LinqExpr.Property(f, nameof(OverMinMax<int>.HasCurrent)))),
                    LinqExpr.Constant(null, resultType), LinqExpr.Convert(LinqExpr.Property(f, nameof(OverMinMax<int>.Current)), resultType));
            default:
                return f.Type == resultType ? f : LinqExpr.Convert(f, resultType);
        }
    }

    /// <summary>The output row: the input row's columns, then the aggregates.</summary>
    public Func<TIn, TAcc, TOut> CompileResult<TIn, TAcc, TOut>(int inputColumns)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var acc = LinqExpr.Parameter(typeof(TAcc), "acc");
        var result = LinqExpr.Variable(typeof(TOut), "result");
        var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(typeof(TOut))) };
        for (int c = 0; c < inputColumns; c++)
        {
            var to = RowTypes.FieldOf(typeof(TOut), c);
            var from = LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), c));
            body.Add(LinqExpr.Assign(LinqExpr.Field(result, to), from.Type == to.FieldType ? from : LinqExpr.Convert(from, to.FieldType)));
        }
        for (int k = 0; k < calls.Count; k++)
        {
            var to = RowTypes.FieldOf(typeof(TOut), inputColumns + k);
            var value = Result(k, acc, row);
            body.Add(LinqExpr.Assign(LinqExpr.Field(result, to), value.Type == to.FieldType ? value : LinqExpr.Convert(value, to.FieldType)));
        }
        body.Add(result);
        return LinqExpr.Lambda<Func<TIn, TAcc, TOut>>(LinqExpr.Block([result], body), row, acc).Compile();
    }
}

/// <summary>
/// RANK and DENSE_RANK over the order key, as Flink's RankAggFunction and DenseRankAggFunction accumulate: a row whose
/// key equals the previous row's keeps the rank; otherwise RANK jumps to the row's position, DENSE_RANK adds one.
/// </summary>
public struct OverRank
{
    public long Sequence;
    public long Rank;
    public long LastKey;

    public static OverRank Accumulate(OverRank state, long key, bool dense)
    {
        state.Sequence++;
        if (state.Sequence == 1 || key != state.LastKey) state.Rank = dense ? state.Rank + 1 : state.Sequence;
        state.LastKey = key;
        return state;
    }
}

/// <summary>
/// MIN/MAX with retraction (Flink's Min/MaxWithRetractAggFunction): the count of each value in the window and the
/// current extreme; taking out the last copy of the extreme scans the remaining values for the next one.
/// </summary>
public sealed class OverMinMax<T> where T : notnull
{
    // Strings compare by code unit, as SQL's binary string order, not by culture.
    private static readonly IComparer<T> Comparer = typeof(T) == typeof(string) ? (IComparer<T>)StringComparer.Ordinal : Comparer<T>.Default;

    public Dictionary<T, long> Counts { get; set; } = [];

    public T Current { get; set; } = default!;

    public bool HasCurrent { get; set; }

    public static int Compare(T a, T b) => Comparer.Compare(a, b);

    public void Add(T value, bool min)
    {
        Counts[value] = Counts.TryGetValue(value, out var n) ? n + 1 : 1;
        if (!HasCurrent || (min ? Compare(value, Current) < 0 : Compare(value, Current) > 0))
        {
            Current = value;
            HasCurrent = true;
        }
    }

    public void Retract(T value, bool min)
    {
        if (!Counts.TryGetValue(value, out var n)) return;
        if (n > 1)
        {
            Counts[value] = n - 1;
            return;
        }
        Counts.Remove(value);
        if (!HasCurrent || Compare(value, Current) != 0) return;
        HasCurrent = false;
        foreach (var candidate in Counts.Keys)
        {
            if (!HasCurrent || (min ? Compare(candidate, Current) < 0 : Compare(candidate, Current) > 0))
            {
                Current = candidate;
                HasCurrent = true;
            }
        }
    }
}

/// <summary>
/// LAG's rows (Flink's LagAggFunction buffer): the last <c>offset + 1</c> values of the partition in a ring; the
/// oldest is the value <c>offset</c> rows back once the ring is full.
/// </summary>
public sealed class LagBuffer<T>
{
    public T[] Values { get; set; } = [];

    /// <summary>The slot the next value goes to: once the ring is full, the oldest value's.</summary>
    public int Next { get; set; }

    public int Count { get; set; }

    public static LagBuffer<T> Add(LagBuffer<T>? buffer, T value, int capacity)
    {
        buffer ??= new LagBuffer<T> { Values = new T[capacity] };
        buffer.Values[buffer.Next] = value;
        buffer.Next = buffer.Next + 1 == capacity ? 0 : buffer.Next + 1;
        if (buffer.Count < capacity) buffer.Count++;
        return buffer;
    }

    public static T Value(LagBuffer<T>? buffer, int capacity, T fallback) =>
        buffer is null || buffer.Count < capacity ? fallback : buffer.Values[buffer.Next];
}

/// <summary>FIRST_VALUE and LAST_VALUE of a bounded OVER frame: the first or last of its non-NULL values, boxed (NULL for none).</summary>
public static class OverValues
{
    public static object? First<T>(List<T>? values) => values is null || values.Count == 0 ? null : values[0];

    public static object? Last<T>(List<T>? values) => values is null || values.Count == 0 ? null : values[^1];
}
