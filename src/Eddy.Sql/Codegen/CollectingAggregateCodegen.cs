using System.Linq.Expressions;
using Eddy.Sql.Plan.Aggregate;
using Eddy.Sql.Planning;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Codegen;

/// <summary>
/// The generated code of ARRAY_AGG, JSON_ARRAYAGG, JSON_OBJECTAGG and PERCENTILE: one accumulator field each (a list
/// or a map, see <see cref="ArrayAggOps"/>, <see cref="JsonAggOps"/>, <see cref="PercentileOps"/>), updated through
/// those helpers. They see NULL arguments themselves (ARRAY_AGG and the JSON aggregates keep them).
/// </summary>
internal static class CollectingAggregates
{
    public static bool IsCollecting(AggregateKind kind) =>
        kind is AggregateKind.ArrayAgg or AggregateKind.JsonArrayAgg or AggregateKind.JsonObjectAgg or AggregateKind.Percentile;

    private static Type NonNullable(Type t) => Nullable.GetUnderlyingType(t) ?? t;

    private static Type ElementType(AggregateCall call)
    {
        var t = ExpressionCompiler.ValueType(call.Argument!.Type);
        return call.Distinct ? NonNullable(t) : t;
    }

    public static Type AccumulatorType(AggregateCall call) => call.Kind switch
    {
        AggregateKind.ArrayAgg when call.Distinct => typeof(DistinctValues<>).MakeGenericType(ElementType(call)),
        AggregateKind.ArrayAgg => typeof(List<>).MakeGenericType(ElementType(call)),
        AggregateKind.JsonArrayAgg => typeof(List<string>),
        AggregateKind.JsonObjectAgg => typeof(Dictionary<string, string?>),
        _ => typeof(Dictionary<double, long>),
    };

    /// <summary>The statement that adds (or retracts) a row's value into <paramref name="field"/>.</summary>
    public static LinqExpr Update(AggregateCall call, MemberExpression field, ParameterExpression row, bool retract)
    {
        var value = ExpressionCompiler.Compile(call.Argument!, row);
        switch (call.Kind)
        {
            case AggregateKind.ArrayAgg:
            {
                var elem = ElementType(call);
                var v = LinqExpr.Variable(value.Type, "v");
                LinqExpr apply = call.Distinct
                    ? LinqExpr.Assign(field, LinqExpr.Call(field.Type.GetMethod(nameof(DistinctValues<int>.Add))!, field, LinqExpr.Convert(v, elem)))
                    : LinqExpr.Assign(field, LinqExpr.Call(typeof(ArrayAggOps).GetMethod(retract ? nameof(ArrayAggOps.Retract) : nameof(ArrayAggOps.Add))!
                        .MakeGenericMethod(elem), field, LinqExpr.Convert(v, elem)));
                bool canBeNull = !value.Type.IsValueType || Nullable.GetUnderlyingType(value.Type) is not null;
                if ((call.SkipNulls || call.Distinct) && canBeNull)
                    apply = LinqExpr.IfThen(LinqExpr.NotEqual(v, LinqExpr.Constant(null, v.Type)), apply);
                return LinqExpr.Block([v], LinqExpr.Assign(v, value), apply);
            }
            case AggregateKind.JsonArrayAgg:
            {
                var json = Json(value);
                return retract
                    ? LinqExpr.Assign(field, LinqExpr.Call(typeof(JsonAggOps).GetMethod(nameof(JsonAggOps.RetractItem))!, field, json))
                    : LinqExpr.Assign(field, LinqExpr.Call(typeof(JsonAggOps).GetMethod(nameof(JsonAggOps.AddItem))!, field, json, LinqExpr.Constant(call.SkipNulls)));
            }
            case AggregateKind.JsonObjectAgg:
            {
                var key = LinqExpr.Convert(value, typeof(string));
                var json = Json(ExpressionCompiler.Compile(call.Second!, row));
                return retract
                    ? LinqExpr.Assign(field, LinqExpr.Call(typeof(JsonAggOps).GetMethod(nameof(JsonAggOps.Remove))!, field, key, json))
                    : LinqExpr.Assign(field, LinqExpr.Call(typeof(JsonAggOps).GetMethod(nameof(JsonAggOps.Put))!, field, key, json, LinqExpr.Constant(call.SkipNulls)));
            }
            default:
            {
                var number = value.Type == typeof(decimal?) || value.Type == typeof(decimal)
                    ? LinqExpr.Convert(LinqExpr.Convert(value, typeof(decimal?)), typeof(double?))
                    : LinqExpr.Convert(value, typeof(double?));
                LinqExpr frequency = call.Second is null ? LinqExpr.Constant(1L, typeof(long?))
                    : LinqExpr.Convert(ExpressionCompiler.Compile(call.Second, row), typeof(long?));
                return LinqExpr.Assign(field, LinqExpr.Call(typeof(PercentileOps).GetMethod(nameof(PercentileOps.Update))!, field, number, frequency,
                    LinqExpr.Constant(retract)));
            }
        }
    }

    /// <summary>The value as JSON text (null for NULL), as Flink's JSON_STRING.</summary>
    private static LinqExpr Json(LinqExpr value)
    {
        var plain = NonNullable(value.Type);
        Type target = plain == typeof(string) ? typeof(string)
            : plain == typeof(bool) ? typeof(bool?)
            : plain == typeof(double) || plain == typeof(float) ? typeof(double?)
            : plain == typeof(decimal) ? typeof(decimal?)
            : typeof(long?);
        var method = typeof(JsonAggOps).GetMethod(nameof(JsonAggOps.ToJson), [target])!;
        return LinqExpr.Call(method, value.Type == target ? value : LinqExpr.Convert(value, target));
    }

    public static LinqExpr Merge(AggregateCall call, LinqExpr a, LinqExpr b) => call.Kind switch
    {
        AggregateKind.ArrayAgg when call.Distinct => LinqExpr.Call(a.Type.GetMethod(nameof(DistinctValues<int>.Merge))!, a, b),
        AggregateKind.ArrayAgg or AggregateKind.JsonArrayAgg =>
            LinqExpr.Call(typeof(ArrayAggOps).GetMethod(nameof(ArrayAggOps.Merge))!.MakeGenericMethod(a.Type.GetGenericArguments()[0]), a, b),
        AggregateKind.JsonObjectAgg => LinqExpr.Call(typeof(JsonAggOps).GetMethod(nameof(JsonAggOps.Merge))!, a, b),
        _ => LinqExpr.Call(typeof(PercentileOps).GetMethod(nameof(PercentileOps.Merge))!, a, b),
    };

    public static LinqExpr Result(AggregateCall call, LinqExpr acc) => call.Kind switch
    {
        AggregateKind.ArrayAgg when call.Distinct => LinqExpr.Call(acc.Type.GetMethod(nameof(DistinctValues<int>.Result))!, acc),
        AggregateKind.ArrayAgg => LinqExpr.Call(typeof(ArrayAggOps).GetMethod(nameof(ArrayAggOps.Result))!.MakeGenericMethod(acc.Type.GetGenericArguments()[0]), acc),
        AggregateKind.JsonArrayAgg => LinqExpr.Call(typeof(JsonAggOps).GetMethod(nameof(JsonAggOps.ArrayText))!, acc),
        AggregateKind.JsonObjectAgg => LinqExpr.Call(typeof(JsonAggOps).GetMethod(nameof(JsonAggOps.ObjectText))!, acc),
        _ when call.PercentileArray => LinqExpr.Call(typeof(PercentileOps).GetMethod(nameof(PercentileOps.Multi))!, acc,
            LinqExpr.Constant(call.Percentages.ToArray())),
        _ => LinqExpr.Call(typeof(PercentileOps).GetMethod(nameof(PercentileOps.Single))!, acc, LinqExpr.Constant(call.Percentages[0])),
    };
}
