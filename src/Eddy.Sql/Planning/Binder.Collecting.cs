using System.Globalization;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan.Aggregate;

namespace Eddy.Sql.Planning;

// The aggregates that collect values rather than fold them into a number: ARRAY_AGG, JSON_ARRAYAGG, JSON_OBJECTAGG
// and PERCENTILE, as Flink's ArrayAggFunction, JsonArrayAggFunction, JsonObjectAggFunction and PercentileAggFunction.
public sealed partial class Binder
{
    private AggregateCall BindCollectingAggregate(FunctionCall call, Scope scope, BoundExpr? filter)
    {
        string name = call.UpperName;
        switch (name)
        {
            case "COLLECT":
                // Flink's COLLECT returns MULTISET<T>, a type Eddy does not have; a MAP or ARRAY in its place would
                // print and compare differently.
                throw Error(call, "COLLECT is not supported by Eddy yet: it returns a MULTISET, a type Eddy does not have (ARRAY_AGG collects into an ARRAY)");
            case "ARRAY_AGG":
            {
                if (call.Arguments.Count > 1) throw Error(call.Arguments[1], "ARRAY_AGG takes one argument (ORDER BY inside ARRAY_AGG is not supported, as in Flink)");
                var arg = Bind(call.Arguments[0], scope);
                if (arg.Type.Kind == TypeKind.Null) throw Error(call.Arguments[0], "ARRAY_AGG of an untyped NULL: CAST it to a type");
                bool ignoreNulls = call.Nulls == NullTreatment.IgnoreNulls;
                // Flink keeps the first copy of each value for DISTINCT; whether a NULL counts as a value there is
                // not something Eddy has matched yet.
                if (call.Distinct && !ignoreNulls && arg.Type.Nullable)
                    throw Error(call, "ARRAY_AGG(DISTINCT ...) of a nullable value is not supported by Eddy yet (add IGNORE NULLS, or aggregate a NOT NULL value)");
                return new AggregateCall(AggregateKind.ArrayAgg, arg, call.Distinct, filter, DataType.ArrayOf(arg.Type), call.ToSql())
                {
                    SkipNulls = ignoreNulls,
                };
            }
            case "JSON_ARRAYAGG":
            {
                if (call.Arguments.Count > 1) throw Error(call.Arguments[1], "JSON_ARRAYAGG takes one item expression");
                if (call.Distinct) throw Error(call, "JSON_ARRAYAGG(DISTINCT ...) is not supported by Eddy yet");
                var arg = RequireJsonValue(Bind(call.Arguments[0], scope), call.Arguments[0], name);
                // Flink's default for JSON_ARRAYAGG is ABSENT ON NULL.
                return new AggregateCall(AggregateKind.JsonArrayAgg, arg, false, filter, DataType.String.NotNull(), call.ToSql())
                {
                    SkipNulls = call.Nulls != NullTreatment.NullOnNull,
                };
            }
            case "JSON_OBJECTAGG":
            {
                if (call.Arguments.Count != 2) throw Error(call, "JSON_OBJECTAGG takes [KEY] key VALUE value");
                if (call.Distinct) throw Error(call, "JSON_OBJECTAGG(DISTINCT ...) is not supported by Eddy yet");
                var key = Bind(call.Arguments[0], scope);
                if (!TypeRules.IsString(key.Type)) throw Error(call.Arguments[0], $"the key of JSON_OBJECTAGG must be a character string, got {key.Type}");
                var value = RequireJsonValue(Bind(call.Arguments[1], scope), call.Arguments[1], name);
                // Flink's default for JSON_OBJECTAGG is NULL ON NULL.
                return new AggregateCall(AggregateKind.JsonObjectAgg, key, false, filter, DataType.String.NotNull(), call.ToSql())
                {
                    Second = value,
                    SkipNulls = call.Nulls == NullTreatment.AbsentOnNull,
                };
            }
            default:
            {
                if (call.Distinct) throw Error(call, "PERCENTILE(DISTINCT ...) is not supported by Eddy yet");
                if (call.Arguments.Count is < 2 or > 3) throw Error(call, "PERCENTILE takes (expr, percentage [, frequency])");
                var value = RequireNumeric(Bind(call.Arguments[0], scope), call.Arguments[0]);
                var (percentages, array) = PercentageLiterals(call.Arguments[1]);
                BoundExpr? frequency = null;
                if (call.Arguments.Count == 3)
                {
                    frequency = Bind(call.Arguments[2], scope);
                    if (frequency.Type.Kind is not (TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt or TypeKind.Null))
                        throw Error(call.Arguments[2], $"the frequency of PERCENTILE must be an integer, got {frequency.Type}");
                }
                return new AggregateCall(AggregateKind.Percentile, value, false, filter,
                    array ? DataType.ArrayOf(DataType.Double) : DataType.Double, call.ToSql())
                {
                    Second = frequency,
                    Percentages = percentages,
                    PercentileArray = array,
                };
            }
        }
    }

    /// <summary>PERCENTILE's percentage: a numeric literal or an ARRAY of them, each in [0.0, 1.0] (Flink checks this when the job runs).</summary>
    private (IReadOnlyList<double> Percentages, bool Array) PercentageLiterals(Expr e)
    {
        if (e is ArrayConstructor array)
        {
            if (array.Elements.Count == 0) throw Error(e, "PERCENTILE needs at least one percentage");
            return (array.Elements.Select(Percentage).ToList(), true);
        }
        return ([Percentage(e)], false);

        double Percentage(Expr p)
        {
            if (p is not NumericLiteral n)
                throw Error(p, "the percentage of PERCENTILE must be a numeric literal or an ARRAY of numeric literals (Eddy does not take expressions there)");
            double v = double.Parse(n.Text, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (v is < 0.0 or > 1.0)
                throw Error(p, $"Percentage of PERCENTILE should be between [0.0, 1.0], but was '{n.Text}'.");
            return v;
        }
    }

    /// <summary>
    /// A value a JSON aggregate serializes as Flink's JSON_STRING does: strings, booleans, integers, DOUBLE and DECIMAL
    /// are written exactly; other types are refused rather than written in a form Flink would not write.
    /// </summary>
    private BoundExpr RequireJsonValue(BoundExpr value, SqlNode at, string function)
    {
        // Flink inserts the result of a JSON constructor call as JSON, not as a quoted string.
        if (at is JsonObjectExpr or JsonArrayExpr || at is FunctionCall { UpperName: "JSON_STRING" or "JSON_QUERY" or "JSON_OBJECT" or "JSON_ARRAY" })
            throw Error(at, $"{function} of a JSON function's result is not supported by Eddy yet");
        if (value.Type.Kind == TypeKind.Null) throw Error(at, $"{function} of an untyped NULL: CAST it to a type");
        return value.Type.Kind is TypeKind.String or TypeKind.Char or TypeKind.Boolean or TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int
            or TypeKind.BigInt or TypeKind.Double or TypeKind.Decimal
            ? value
            : throw Error(at, $"{function} of a {value.Type} value is not supported by Eddy yet (strings, booleans, integers, DOUBLE and DECIMAL are)");
    }
}
