using System.Linq.Expressions;
using System.Reflection;
using Eddy.Runtime;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Planning;
using Eddy.Windows;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Codegen;

/// <summary>
/// SQL aggregates as one incremental function over a generated accumulator struct (one field or two per call). A
/// struct, so that the window operators (generic over the function type) are compiled for it: no interface dispatch,
/// no shared generic code, one compiled delegate call per record. A new accumulator is all zeros/NULLs.
/// </summary>
/// <remarks>
/// The user aggregate functions with a lifecycle that its code calls (<c>functions</c>) are the operator instance's
/// own: the operator opens and closes them through <see cref="IFunctionLifecycle"/>.
/// </remarks>
public readonly struct CompiledAggregate<TIn, TAcc>(Func<TIn, TAcc, TAcc> add, Lazy<Func<TAcc, TAcc, TAcc>> merge, UserFunctionInstances? functions = null)
    : IAggregateFunction<TIn, TAcc, TAcc>, IFunctionLifecycle
{
    public void Open(OperatorContext context) => functions?.Open(context);

    public void Close() => functions?.Close();

    public TAcc CreateAccumulator() => default!;

    public TAcc Add(TIn value, TAcc accumulator) => add(value, accumulator);

    // Compiled on first use: tumbling windows never merge accumulators, so their jobs skip its compilation.
    public TAcc Merge(TAcc a, TAcc b) => merge.Value(a, b);

    public TAcc GetResult(TAcc accumulator) => accumulator;
}

/// <summary>Helpers the generated aggregate code calls for DISTINCT aggregates.</summary>
public static class DistinctOps
{
    public static HashSet<T> Add<T>(HashSet<T>? set, T value)
    {
        set ??= [];
        set.Add(value);
        return set;
    }

    /// <summary>Merges into a set owned by the result (never returns <paramref name="b"/> itself).</summary>
    public static HashSet<T>? Union<T>(HashSet<T>? a, HashSet<T>? b)
    {
        if (b is null || b.Count == 0) return a;
        if (a is null) return [.. b];
        a.UnionWith(b);
        return a;
    }

    public static long Count<T>(HashSet<T>? set) => set?.Count ?? 0;

    public static string? Join(HashSet<string>? set, string separator) => set is null || set.Count == 0 ? null : string.Join(separator, set);
}

/// <summary>
/// Helpers the generated retracting aggregate code calls: a count per value (MIN/MAX and DISTINCT over a changelog,
/// as the MapView of Flink's MinWithRetractAggFunction and its distinct views). The map is allocated with the group;
/// a value's entry when that value first comes.
/// </summary>
public static class RetractOps
{
    public static Dictionary<T, long> Add<T>(Dictionary<T, long>? counts, T value) where T : notnull
    {
        counts ??= [];
        ref long n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(counts, value, out _);
        n++;
        return counts;
    }

    /// <summary>Takes one copy of <paramref name="value"/> out; true when that was its last (the value is gone).</summary>
    public static bool Remove<T>(Dictionary<T, long>? counts, T value) where T : notnull
    {
        if (counts is null) return false;
        ref long n = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrNullRef(counts, value);
        // A retraction of a value never accumulated (the changelog started before this job's state): nothing to take.
        if (System.Runtime.CompilerServices.Unsafe.IsNullRef(ref n)) return false;
        if (--n > 0) return false;
        counts.Remove(value);
        return true;
    }

    public static long Count<T>(Dictionary<T, long>? counts) where T : notnull => counts?.Count ?? 0;

    public static T? ExtremeValue<T>(Dictionary<T, long> counts, bool min) where T : struct
    {
        if (counts.Count == 0) return null;
        var comparer = Comparer<T>.Default;
        bool first = true;
        T best = default;
        foreach (var v in counts.Keys)
        {
            if (first || (min ? comparer.Compare(v, best) < 0 : comparer.Compare(v, best) > 0)) best = v;
            first = false;
        }
        return best;
    }

    public static T? ExtremeReference<T>(Dictionary<T, long> counts, bool min) where T : class
    {
        var comparer = Comparer<T>.Default;
        T? best = null;
        foreach (var v in counts.Keys)
            if (best is null || (min ? comparer.Compare(v, best) < 0 : comparer.Compare(v, best) > 0)) best = v;
        return best;
    }
}

/// <summary>
/// LISTAGG over a changelog, as Flink's ListAggWithRetractAggFunction in a group aggregation: the values in arrival
/// order; a retraction takes out the first equal value (one that is not there changes nothing: Flink keeps it aside
/// only for merging partial accumulators, which a group aggregation does not do).
/// </summary>
public static class ListAggValues
{
    public static List<string> Accumulate(List<string>? values, string value)
    {
        values ??= [];
        values.Add(value);
        return values;
    }

    public static List<string>? Retract(List<string>? values, string value)
    {
        values?.Remove(value);
        return values;
    }

    public static string? Join(List<string>? values, string separator) =>
        values is null || values.Count == 0 ? null : string.Join(separator, values);
}

/// <summary>Generates the accumulator type and the add, merge and result code of a list of aggregate calls.</summary>
public sealed class AggregateCompiler
{
    private readonly IReadOnlyList<AggregateCall> calls;
    private readonly UserFunctionInstances? instances;
    private readonly List<Type> fields = [];
    private readonly List<(int Value, int Extra)> layout = [];

    /// <param name="retracting">
    /// the input is a changelog: accumulators that can also retract a row (-U/-D), as Flink's *WithRetract aggregate
    /// functions: SUM keeps the count of its values, MIN/MAX and DISTINCT a count per value, and a row counter tells
    /// when a group is empty (see <see cref="CanRetract"/> for the calls this supports).
    /// </param>
    /// <param name="instances">
    /// the operator instance's own instances of user aggregate functions with a lifecycle (Open/Close), which the
    /// compiled code calls instead of the catalog's; required when a call has a lifecycle.
    /// </param>
    public AggregateCompiler(IReadOnlyList<AggregateCall> calls, bool retracting = false, UserFunctionInstances? instances = null)
    {
        this.calls = calls;
        this.instances = instances;
        Retracting = retracting;
        foreach (var call in calls)
        {
            var argType = call.Argument is null ? typeof(long) : ExpressionCompiler.ValueType(call.Argument.Type);
            var resultType = ExpressionCompiler.ValueType(call.Type);
            if (CollectingAggregates.IsCollecting(call.Kind))
            {
                layout.Add((Field(CollectingAggregates.AccumulatorType(call)), -1));
                continue;
            }
            if (retracting)
            {
                if (!CanRetract(call)) throw new NotSupportedException($"{call} cannot retract");
                if (call.Kind == AggregateKind.ListAgg)
                    layout.Add((Field(typeof(List<string>)), -1));
                else if (call.Kind is AggregateKind.Min or AggregateKind.Max)
                    layout.Add((Field(resultType), Field(typeof(Dictionary<,>).MakeGenericType(NonNullable(resultType), typeof(long)))));
                else if (call.Kind == AggregateKind.WelfordM2)
                    layout.Add((Field(typeof(WelfordM2)), -1));
                else if (call.Distinct)
                    layout.Add((Field(typeof(Dictionary<,>).MakeGenericType(NonNullable(argType), typeof(long))), -1));
                else if (call.Kind is AggregateKind.Count or AggregateKind.CountStar)
                    layout.Add((Field(typeof(long)), -1));
                else
                    layout.Add((Field(call.Kind == AggregateKind.Avg ? AvgSumType(call) : resultType), Field(typeof(long))));
                continue;
            }
            if (call.Distinct && call.Kind is not (AggregateKind.Min or AggregateKind.Max))
            {
                layout.Add((Field(typeof(HashSet<>).MakeGenericType(NonNullable(argType))), -1));
                continue;
            }
            switch (call.Kind)
            {
                case AggregateKind.Count or AggregateKind.CountStar:
                    layout.Add((Field(typeof(long)), -1));
                    break;
                case AggregateKind.Avg:
                    layout.Add((Field(AvgSumType(call)), Field(typeof(long))));
                    break;
                case AggregateKind.FirstValue or AggregateKind.LastValue:
                    layout.Add((Field(resultType), Field(typeof(bool))));
                    break;
                case AggregateKind.User:
                    layout.Add((Field(typeof(object)), -1));
                    break;
                case AggregateKind.WelfordM2:
                    layout.Add((Field(typeof(WelfordM2)), -1));
                    break;
                default:
                    layout.Add((Field(resultType), -1));
                    break;
            }
        }
        if (retracting) rowCountField = Field(typeof(long));
        AccumulatorType = RowTypes.ForFields(fields.Count == 0 ? [typeof(byte)] : fields);
    }

    public Type AccumulatorType { get; }

    public bool Retracting { get; }

    // Retracting: the number of rows accumulated minus those retracted (Flink's record counter, count1).
    private readonly int rowCountField = -1;

    /// <summary>Whether the call has an exact retracting form (non-windowed GROUP BY over a changelog).</summary>
    public static bool CanRetract(AggregateCall call) =>
        call.User is null && (call.Kind is AggregateKind.Count or AggregateKind.CountStar or AggregateKind.Sum or AggregateKind.Avg
            or AggregateKind.Min or AggregateKind.Max || (call.Kind is AggregateKind.ListAgg or AggregateKind.WelfordM2 && !call.Distinct)
            || (CollectingAggregates.IsCollecting(call.Kind) && !call.Distinct));

    /// <summary>
    /// True for a lone COUNT(*) (no FILTER): the commonest windowed aggregate. Its accumulator can then be a plain
    /// <c>long</c> counted by the runtime's <see cref="CountAggregate{T}"/> struct, which the window operators inline
    /// (no delegate call per record). <see cref="Result"/> accepts such a <c>long</c> accumulator.
    /// </summary>
    public bool IsCountStarOnly => calls.Count == 1 && calls[0].Kind == AggregateKind.CountStar && calls[0].Filter is null && !calls[0].Distinct;

    private int Field(Type t)
    {
        fields.Add(t);
        return fields.Count - 1;
    }

    private static Type NonNullable(Type t) => Nullable.GetUnderlyingType(t) ?? t;

    private static Type AvgSumType(AggregateCall call) => call.Argument!.Type.Kind switch
    {
        TypeKind.Float or TypeKind.Double => typeof(double?),
        TypeKind.Decimal => typeof(decimal?),
        _ => typeof(long?),
    };

    private MemberExpression F(LinqExpr acc, int field) => LinqExpr.Field(acc, AccumulatorType.GetField($"c{field}")!);

    /// <summary>Retracting: the accumulate (+I/+U) and retract (-U/-D) functions, and the group's row count.</summary>
    public (Func<TIn, TAcc, TAcc> Accumulate, Func<TIn, TAcc, TAcc> Retract, Func<TAcc, long> RowCount) CompileRetracting<TIn, TAcc>()
    {
        if (!Retracting) throw new InvalidOperationException("not a retracting aggregate");
        var acc = LinqExpr.Parameter(typeof(TAcc), "acc");
        var rows = LinqExpr.Lambda<Func<TAcc, long>>(F(acc, rowCountField), acc).Compile();
        return (CompileRetractingUpdate<TIn, TAcc>(retract: false), CompileRetractingUpdate<TIn, TAcc>(retract: true), rows);
    }

    private Func<TIn, TAcc, TAcc> CompileRetractingUpdate<TIn, TAcc>(bool retract)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var accIn = LinqExpr.Parameter(typeof(TAcc), "accIn");
        var acc = LinqExpr.Variable(typeof(TAcc), "acc");
        var step = LinqExpr.Constant(retract ? -1L : 1L);
        var body = new List<LinqExpr> { LinqExpr.Assign(acc, accIn), Increment(F(acc, rowCountField), step) };
        for (int k = 0; k < calls.Count; k++)
        {
            var call = calls[k];
            var (vf, extra) = layout[k];
            LinqExpr update;
            if (call.Kind == AggregateKind.CountStar)
            {
                update = Increment(F(acc, vf), step);
            }
            else if (CollectingAggregates.IsCollecting(call.Kind))
            {
                update = CollectingAggregates.Update(call, F(acc, vf), row, retract);
            }
            else
            {
                var value = ExpressionCompiler.Compile(call.Argument!, row);
                var v = LinqExpr.Variable(value.Type, "v");
                var notNull = LinqExpr.NotEqual(v, LinqExpr.Constant(null, v.Type));
                LinqExpr onValue;
                if (call.Kind == AggregateKind.ListAgg)
                {
                    var list = F(acc, vf);
                    onValue = LinqExpr.Assign(list, LinqExpr.Call(typeof(ListAggValues).GetMethod(retract ? nameof(ListAggValues.Retract) : nameof(ListAggValues.Accumulate))!,
                        list, LinqExpr.Convert(v, typeof(string))));
                }
                else if (call.Kind is AggregateKind.Min or AggregateKind.Max)
                {
                    var map = F(acc, extra);
                    var elem = map.Type.GetGenericArguments()[0];
                    var current = F(acc, vf);
                    var typed = LinqExpr.Convert(v, elem);
                    bool min = call.Kind == AggregateKind.Min;
                    if (!retract)
                    {
                        onValue = LinqExpr.Block(
                            LinqExpr.Assign(map, LinqExpr.Call(RetractOpsMethod(nameof(RetractOps.Add), elem), map, typed)),
                            LinqExpr.IfThen(LinqExpr.OrElse(LinqExpr.Equal(current, LinqExpr.Constant(null, current.Type)), Better(v, current, min)),
                                LinqExpr.Assign(current, LinqExpr.Convert(v, current.Type))));
                    }
                    else
                    {
                        // Only when the current extreme's last copy leaves does the map get scanned for the next one.
                        var extreme = elem.IsValueType ? nameof(RetractOps.ExtremeValue) : nameof(RetractOps.ExtremeReference);
                        onValue = LinqExpr.IfThen(
                            LinqExpr.AndAlso(LinqExpr.Call(RetractOpsMethod(nameof(RetractOps.Remove), elem), map, typed),
                                LinqExpr.Equal(LinqExpr.Convert(current, elem.IsValueType ? typeof(Nullable<>).MakeGenericType(elem) : elem),
                                    LinqExpr.Convert(v, elem.IsValueType ? typeof(Nullable<>).MakeGenericType(elem) : elem))),
                            LinqExpr.Assign(current, LinqExpr.Convert(LinqExpr.Call(RetractOpsMethod(extreme, elem), map, LinqExpr.Constant(min)), current.Type)));
                    }
                }
                else if (call.Kind == AggregateKind.WelfordM2)
                {
                    onValue = WelfordUpdate(F(acc, vf), v, retract);
                }
                else if (call.Distinct)
                {
                    var map = F(acc, vf);
                    var elem = map.Type.GetGenericArguments()[0];
                    onValue = retract
                        ? LinqExpr.Call(RetractOpsMethod(nameof(RetractOps.Remove), elem), map, LinqExpr.Convert(v, elem))
                        : LinqExpr.Assign(map, LinqExpr.Call(RetractOpsMethod(nameof(RetractOps.Add), elem), map, LinqExpr.Convert(v, elem)));
                }
                else if (call.Kind == AggregateKind.Count)
                {
                    onValue = Increment(F(acc, vf), step);
                }
                else
                {
                    // SUM and AVG: the sum, and the count of values that says when it is NULL again.
                    onValue = LinqExpr.Block(retract ? SubtractFrom(F(acc, vf), v) : SumInto(F(acc, vf), v), Increment(F(acc, extra), step));
                }
                update = LinqExpr.Block([v], LinqExpr.Assign(v, value), LinqExpr.IfThen(notNull, onValue));
            }
            if (call.Filter is not null)
            {
                var test = ExpressionCompiler.Compile(call.Filter, row);
                update = LinqExpr.IfThen(LinqExpr.Equal(test, LinqExpr.Constant(true, typeof(bool?))), update);
            }
            body.Add(update);
        }
        body.Add(acc);
        return LinqExpr.Lambda<Func<TIn, TAcc, TAcc>>(LinqExpr.Block([acc], body), row, accIn).Compile();
    }

    private static MethodInfo RetractOpsMethod(string name, Type elem) => typeof(RetractOps).GetMethod(name)!.MakeGenericMethod(elem);

    private static LinqExpr SubtractFrom(MemberExpression field, LinqExpr value)
    {
        var plain = NonNullable(field.Type);
        var current = LinqExpr.Coalesce(field, LinqExpr.Default(plain));
        return LinqExpr.Assign(field, LinqExpr.Convert(LinqExpr.Subtract(current, LinqExpr.Convert(value, plain)), field.Type));
    }

    public CompiledAggregate<TIn, TAcc> Compile<TIn, TAcc>()
    {
        if (Retracting) throw new InvalidOperationException("a retracting aggregate compiles with CompileRetracting");
        return new CompiledAggregate<TIn, TAcc>(CompileAdd<TIn, TAcc>(), new Lazy<Func<TAcc, TAcc, TAcc>>(CompileMerge<TAcc>), instances);
    }

    private Func<TIn, TAcc, TAcc> CompileAdd<TIn, TAcc>()
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var accIn = LinqExpr.Parameter(typeof(TAcc), "accIn");
        var acc = LinqExpr.Variable(typeof(TAcc), "acc");
        var body = new List<LinqExpr> { LinqExpr.Assign(acc, accIn) };
        for (int k = 0; k < calls.Count; k++)
        {
            var call = calls[k];
            var (vf, extra) = layout[k];
            var value = call.Argument is null ? null : ExpressionCompiler.Compile(call.Argument, row);
            LinqExpr update;
            if (call.User is { } user)
            {
                update = UserAccumulate(user, F(acc, vf), call.Arguments.Select(a => ExpressionCompiler.Compile(a, row)).ToList(), call, row);
            }
            else if (call.Kind == AggregateKind.CountStar)
            {
                update = Increment(F(acc, vf), LinqExpr.Constant(1L));
            }
            else if (CollectingAggregates.IsCollecting(call.Kind))
            {
                update = CollectingAggregates.Update(call, F(acc, vf), row, retract: false);
            }
            else
            {
                var v = LinqExpr.Variable(value!.Type, "v");
                var notNull = LinqExpr.NotEqual(v, LinqExpr.Constant(null, v.Type));
                LinqExpr onValue;
                if (call.Distinct && call.Kind is not (AggregateKind.Min or AggregateKind.Max))
                {
                    var elem = NonNullable(v.Type);
                    var addSet = typeof(DistinctOps).GetMethod(nameof(DistinctOps.Add))!.MakeGenericMethod(elem);
                    onValue = LinqExpr.Assign(F(acc, vf), LinqExpr.Call(addSet, F(acc, vf), LinqExpr.Convert(v, elem)));
                }
                else
                {
                    onValue = call.Kind switch
                    {
                        AggregateKind.Count => Increment(F(acc, vf), LinqExpr.Constant(1L)),
                        AggregateKind.Sum => SumInto(F(acc, vf), v),
                        AggregateKind.Avg => LinqExpr.Block(SumInto(F(acc, vf), v), Increment(F(acc, extra), LinqExpr.Constant(1L))),
                        AggregateKind.Min or AggregateKind.Max => LinqExpr.IfThen(
                            LinqExpr.OrElse(LinqExpr.Equal(F(acc, vf), LinqExpr.Constant(null, F(acc, vf).Type)),
                                Better(v, F(acc, vf), call.Kind == AggregateKind.Min)),
                            LinqExpr.Assign(F(acc, vf), LinqExpr.Convert(v, F(acc, vf).Type))),
                        AggregateKind.FirstValue => LinqExpr.IfThen(LinqExpr.Not(F(acc, extra)),
                            LinqExpr.Block(LinqExpr.Assign(F(acc, vf), LinqExpr.Convert(v, F(acc, vf).Type)), LinqExpr.Assign(F(acc, extra), LinqExpr.Constant(true)))),
                        AggregateKind.LastValue => LinqExpr.Block(LinqExpr.Assign(F(acc, vf), LinqExpr.Convert(v, F(acc, vf).Type)),
                            LinqExpr.Assign(F(acc, extra), LinqExpr.Constant(true))),
                        AggregateKind.WelfordM2 => WelfordUpdate(F(acc, vf), v, retract: false),
                        _ => LinqExpr.Assign(F(acc, vf), LinqExpr.Call(typeof(AggregateCompiler).GetMethod(nameof(AppendList), BindingFlags.NonPublic | BindingFlags.Static)!,
                            F(acc, vf), v, LinqExpr.Constant(call.Separator))),
                    };
                }
                update = LinqExpr.Block([v], LinqExpr.Assign(v, value), LinqExpr.IfThen(notNull, onValue));
            }
            if (call.Filter is not null)
            {
                var test = ExpressionCompiler.Compile(call.Filter, row);
                update = LinqExpr.IfThen(LinqExpr.Equal(test, LinqExpr.Constant(true, typeof(bool?))), update);
            }
            body.Add(update);
        }
        body.Add(acc);
        return LinqExpr.Lambda<Func<TIn, TAcc, TAcc>>(LinqExpr.Block([acc], body), row, accIn).Compile();
    }

    /// <summary>
    /// The instance the compiled code calls: the catalog's, or for a function with a lifecycle the operator instance's
    /// own (a lifecycle function compiled anywhere else would never be opened).
    /// </summary>
    private ConstantExpression Target(AggregateCall call, Catalog.UserAggregate user)
    {
        if (!UserFunctionInstances.HasLifecycle(user.Instance.GetType())) return LinqExpr.Constant(user.Instance);
        if (instances is null)
            throw new NotSupportedException($"aggregate function {call.Name} has a lifecycle (Open/Close), which Eddy runs in GROUP BY and window aggregations only");
        return LinqExpr.Constant(instances.InstanceFor(user.Instance, call.Name, call.Location));
    }

    /// <summary>Creates the user's accumulator on first use, then calls Accumulate(acc, args...) on it.</summary>
    private LinqExpr UserAccumulate(Catalog.UserAggregate user, MemberExpression field, IReadOnlyList<LinqExpr> args,
        AggregateCall call, ParameterExpression row)
    {
        var instance = Target(call, user);
        var ps = user.Accumulate.GetParameters();
        // The arguments are evaluated before the try: their own errors are not the function's.
        var temps = new List<ParameterExpression>();
        var body = new List<LinqExpr>();
        var callArgs = new List<LinqExpr> { LinqExpr.Convert(field, ps[0].ParameterType) };
        for (int i = 0; i < args.Count; i++)
        {
            var temp = LinqExpr.Variable(ps[i + 1].ParameterType, $"arg{i}");
            temps.Add(temp);
            body.Add(LinqExpr.Assign(temp, args[i].Type == ps[i + 1].ParameterType ? args[i] : LinqExpr.Convert(args[i], ps[i + 1].ParameterType)));
            callArgs.Add(temp);
        }
        var error = LinqExpr.Parameter(typeof(Exception), "error");
        var fail = LinqExpr.Call(typeof(UserFunctionFailure).GetMethod(nameof(UserFunctionFailure.Wrap), [typeof(Exception), typeof(string), typeof(string), typeof(object)])!,
            error, LinqExpr.Constant(call.Name), LinqExpr.Constant(call.Location, typeof(string)), LinqExpr.Convert(row, typeof(object)));
        body.Add(LinqExpr.TryCatch(
            LinqExpr.Block(typeof(void),
                LinqExpr.IfThen(LinqExpr.Equal(field, LinqExpr.Constant(null)),
                    LinqExpr.Assign(field, LinqExpr.Convert(LinqExpr.Call(instance, user.Create), typeof(object)))),
                LinqExpr.Call(instance, user.Accumulate, callArgs)),
            LinqExpr.Catch(error, LinqExpr.Throw(fail, typeof(void)))));
        return LinqExpr.Block(temps, body);
    }

    /// <summary>acc.M2 = WelfordM2.Accumulate|Retract(acc.M2, (double)v) for a non-NULL <paramref name="value"/>.</summary>
    private static LinqExpr WelfordUpdate(MemberExpression field, LinqExpr value, bool retract)
    {
        var plain = LinqExpr.Convert(value, NonNullable(value.Type));
        LinqExpr asDouble = plain.Type == typeof(decimal)
            ? LinqExpr.Call(typeof(WelfordM2).GetMethod(nameof(WelfordM2.ToDouble))!, plain)
            : LinqExpr.Convert(plain, typeof(double));
        var update = typeof(WelfordM2).GetMethod(retract ? nameof(WelfordM2.Retract) : nameof(WelfordM2.Accumulate))!;
        return LinqExpr.Assign(field, LinqExpr.Call(update, field, asDouble));
    }

    // Compound assignment on a struct field writes to a copy in LINQ expression trees: assign explicitly.
    private static LinqExpr Increment(MemberExpression field, LinqExpr by) => LinqExpr.Assign(field, LinqExpr.Add(field, by));

    private static string? AppendList(string? current, string value, string separator) =>
        current is null ? value : string.Concat(current, separator, value);

    private static LinqExpr SumInto(MemberExpression field, LinqExpr value)
    {
        var converted = LinqExpr.Convert(value, field.Type);
        return LinqExpr.Assign(field, LinqExpr.Condition(
            LinqExpr.Equal(field, LinqExpr.Constant(null, field.Type)), converted, LinqExpr.Add(field, converted)));
    }

    /// <summary>True when <paramref name="candidate"/> should replace <paramref name="current"/> (both not null).</summary>
    private static LinqExpr Better(LinqExpr candidate, LinqExpr current, bool min)
    {
        var t = NonNullable(candidate.Type);
        var comparer = typeof(Comparer<>).MakeGenericType(t);
        var compare = LinqExpr.Call(LinqExpr.Property(null, comparer.GetProperty("Default")!), comparer.GetMethod("Compare")!,
            LinqExpr.Convert(candidate, t), LinqExpr.Convert(current, t));
        return min ? LinqExpr.LessThan(compare, LinqExpr.Constant(0)) : LinqExpr.GreaterThan(compare, LinqExpr.Constant(0));
    }

    private Func<TAcc, TAcc, TAcc> CompileMerge<TAcc>()
    {
        var a = LinqExpr.Parameter(typeof(TAcc), "a");
        var b = LinqExpr.Parameter(typeof(TAcc), "b");
        var acc = LinqExpr.Variable(typeof(TAcc), "acc");
        var body = new List<LinqExpr> { LinqExpr.Assign(acc, a) };
        for (int k = 0; k < calls.Count; k++)
        {
            var call = calls[k];
            var (vf, extra) = layout[k];
            var fa = F(acc, vf);
            var fb = F(b, vf);
            if (call.User is { } user)
            {
                // Merge into an accumulator this result owns: a fresh one when there is none yet.
                var instance = Target(call, user);
                if (user.Merge is { } mergeMethod)
                {
                    body.Add(LinqExpr.IfThen(LinqExpr.NotEqual(fb, LinqExpr.Constant(null)), LinqExpr.Block(
                        LinqExpr.IfThen(LinqExpr.Equal(fa, LinqExpr.Constant(null)),
                            LinqExpr.Assign(fa, LinqExpr.Convert(LinqExpr.Call(instance, user.Create), typeof(object)))),
                        LinqExpr.Call(instance, mergeMethod, LinqExpr.Convert(fa, mergeMethod.GetParameters()[0].ParameterType),
                            LinqExpr.Convert(fb, mergeMethod.GetParameters()[1].ParameterType)))));
                }
                else
                {
                    body.Add(LinqExpr.IfThen(LinqExpr.NotEqual(fb, LinqExpr.Constant(null)),
                        LinqExpr.Throw(LinqExpr.Constant(new NotSupportedException($"{call.Name} has no Merge method")))));
                }
                continue;
            }
            if (CollectingAggregates.IsCollecting(call.Kind))
            {
                body.Add(LinqExpr.Assign(fa, CollectingAggregates.Merge(call, fa, fb)));
                continue;
            }
            if (call.Distinct && call.Kind is not (AggregateKind.Min or AggregateKind.Max))
            {
                var union = typeof(DistinctOps).GetMethod(nameof(DistinctOps.Union))!.MakeGenericMethod(fa.Type.GetGenericArguments()[0]);
                body.Add(LinqExpr.Assign(fa, LinqExpr.Call(union, fa, fb)));
                continue;
            }
            switch (call.Kind)
            {
                case AggregateKind.Count or AggregateKind.CountStar:
                    body.Add(Increment(fa, fb));
                    break;
                case AggregateKind.Sum:
                    body.Add(LinqExpr.IfThen(LinqExpr.NotEqual(fb, LinqExpr.Constant(null, fb.Type)), SumInto(fa, fb)));
                    break;
                case AggregateKind.Avg:
                    body.Add(LinqExpr.IfThen(LinqExpr.NotEqual(fb, LinqExpr.Constant(null, fb.Type)), SumInto(fa, fb)));
                    body.Add(Increment(F(acc, extra), F(b, extra)));
                    break;
                case AggregateKind.Min or AggregateKind.Max:
                    body.Add(LinqExpr.IfThen(
                        LinqExpr.AndAlso(LinqExpr.NotEqual(fb, LinqExpr.Constant(null, fb.Type)),
                            LinqExpr.OrElse(LinqExpr.Equal(fa, LinqExpr.Constant(null, fa.Type)), Better(fb, fa, call.Kind == AggregateKind.Min))),
                        LinqExpr.Assign(fa, fb)));
                    break;
                case AggregateKind.FirstValue:
                    body.Add(LinqExpr.IfThen(LinqExpr.AndAlso(LinqExpr.Not(F(acc, extra)), F(b, extra)),
                        LinqExpr.Block(LinqExpr.Assign(fa, fb), LinqExpr.Assign(F(acc, extra), LinqExpr.Constant(true)))));
                    break;
                case AggregateKind.LastValue:
                    body.Add(LinqExpr.IfThen(F(b, extra),
                        LinqExpr.Block(LinqExpr.Assign(fa, fb), LinqExpr.Assign(F(acc, extra), LinqExpr.Constant(true)))));
                    break;
                case AggregateKind.WelfordM2:
                    body.Add(LinqExpr.Assign(fa, LinqExpr.Call(typeof(WelfordM2).GetMethod(nameof(WelfordM2.Merge))!, fa, fb)));
                    break;
                default:
                    body.Add(LinqExpr.IfThen(LinqExpr.NotEqual(fb, LinqExpr.Constant(null, typeof(string))),
                        LinqExpr.Assign(fa, LinqExpr.Call(typeof(AggregateCompiler).GetMethod(nameof(AppendList), BindingFlags.NonPublic | BindingFlags.Static)!,
                            fa, fb, LinqExpr.Constant(call.Separator)))));
                    break;
            }
        }
        body.Add(acc);
        return LinqExpr.Lambda<Func<TAcc, TAcc, TAcc>>(LinqExpr.Block([acc], body), a, b).Compile();
    }

    /// <summary>The final value of aggregate <paramref name="k"/> read from an accumulator, in its nullable representation.</summary>
    public LinqExpr Result(int k, LinqExpr acc)
    {
        var call = calls[k];
        var (vf, extra) = layout[k];
        var resultType = ExpressionCompiler.ValueType(call.Type);
        if (acc.Type == typeof(long) && IsCountStarOnly) return LinqExpr.Convert(acc, resultType);
        var f = F(acc, vf);
        if (call.User is { } user)
        {
            var instance = Target(call, user);
            var accType = user.GetValue.GetParameters()[0].ParameterType;
            var value = LinqExpr.Call(instance, user.GetValue, LinqExpr.Convert(
                LinqExpr.Coalesce(f, LinqExpr.Convert(LinqExpr.Call(instance, user.Create), typeof(object))), accType));
            return value.Type == resultType ? value : LinqExpr.Convert(value, resultType);
        }
        if (call.Kind == AggregateKind.WelfordM2)
            return LinqExpr.Call(typeof(WelfordM2).GetMethod(nameof(WelfordM2.Value))!, f);
        if (CollectingAggregates.IsCollecting(call.Kind))
        {
            var collected = CollectingAggregates.Result(call, f);
            return collected.Type == resultType ? collected : LinqExpr.Convert(collected, resultType);
        }
        if (Retracting)
        {
            if (call.Kind == AggregateKind.ListAgg)
                return LinqExpr.Call(typeof(ListAggValues).GetMethod(nameof(ListAggValues.Join))!, f, LinqExpr.Constant(call.Separator));
            if (call.Kind is AggregateKind.Min or AggregateKind.Max || (call.Kind is AggregateKind.Count or AggregateKind.CountStar && !call.Distinct))
                return f.Type == resultType ? f : LinqExpr.Convert(f, resultType);
            if (call.Distinct)
            {
                var elem = f.Type.GetGenericArguments()[0];
                return call.Kind == AggregateKind.Count
                    ? LinqExpr.Convert(LinqExpr.Call(RetractOpsMethod(nameof(RetractOps.Count), elem), f), resultType)
                    : LinqExpr.Call(typeof(AggregateCompiler).GetMethod(nameof(DistinctNumericCounted), BindingFlags.NonPublic | BindingFlags.Static)!
                        .MakeGenericMethod(elem, NonNullable(resultType)), f, LinqExpr.Constant(call.Kind == AggregateKind.Avg));
            }
            if (call.Kind == AggregateKind.Sum)
                return LinqExpr.Condition(LinqExpr.Equal(F(acc, extra), LinqExpr.Constant(0L)), LinqExpr.Constant(null, resultType),
                    f.Type == resultType ? f : LinqExpr.Convert(f, resultType));
        }
        if (call.Distinct && call.Kind is not (AggregateKind.Min or AggregateKind.Max))
        {
            var elem = f.Type.GetGenericArguments()[0];
            return call.Kind switch
            {
                AggregateKind.Count => LinqExpr.Convert(LinqExpr.Call(typeof(DistinctOps).GetMethod(nameof(DistinctOps.Count))!.MakeGenericMethod(elem), f), resultType),
                AggregateKind.ListAgg => LinqExpr.Call(typeof(DistinctOps).GetMethod(nameof(DistinctOps.Join))!, f, LinqExpr.Constant(call.Separator)),
                _ => LinqExpr.Call(typeof(AggregateCompiler).GetMethod(nameof(DistinctNumeric), BindingFlags.NonPublic | BindingFlags.Static)!
                    .MakeGenericMethod(elem, NonNullable(resultType)), f, LinqExpr.Constant(call.Kind == AggregateKind.Avg)),
            };
        }
        switch (call.Kind)
        {
            case AggregateKind.Avg:
            {
                var count = F(acc, extra);
                var sum = LinqExpr.Convert(f, NonNullable(f.Type));
                LinqExpr avg = LinqExpr.Divide(sum, LinqExpr.Convert(count, sum.Type));
                return LinqExpr.Condition(LinqExpr.Equal(count, LinqExpr.Constant(0L)), LinqExpr.Constant(null, resultType), LinqExpr.Convert(avg, resultType));
            }
            default:
                return f.Type == resultType ? f : LinqExpr.Convert(f, resultType);
        }
    }

    private static TResult? DistinctNumericCounted<T, TResult>(Dictionary<T, long>? counts, bool average) where T : notnull where TResult : struct
    {
        if (counts is null || counts.Count == 0) return null;
        decimal sum = 0;
        foreach (var v in counts.Keys) sum += Convert.ToDecimal(v, System.Globalization.CultureInfo.InvariantCulture);
        if (average) sum /= counts.Count;
        return (TResult)Convert.ChangeType(sum, typeof(TResult), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static TResult? DistinctNumeric<T, TResult>(HashSet<T>? set, bool average) where TResult : struct
    {
        if (set is null || set.Count == 0) return null;
        decimal sum = 0;
        foreach (var v in set) sum += Convert.ToDecimal(v, System.Globalization.CultureInfo.InvariantCulture);
        if (average) sum /= set.Count;
        return (TResult)Convert.ChangeType(sum, typeof(TResult), System.Globalization.CultureInfo.InvariantCulture);
    }
}
