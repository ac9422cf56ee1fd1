using Eddy.Sql.Codegen;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan.Aggregate;

namespace Eddy.Sql.Planning;

/// <summary>
/// The variance family, rewritten as Flink's planner rewrites it (its copy of Calcite's AggregateReduceFunctionsRule,
/// with Welford's algorithm): <c>VAR_POP(x) = M2(x) / COUNT(x)</c>, <c>VAR_SAMP(x) = M2(x) / CASE COUNT(x) WHEN 1 THEN
/// NULL ELSE COUNT(x) - 1 END</c>, <c>STDDEV_* = POWER(VAR_*, 0.5)</c>, each CAST to the call's type. M2 and COUNT
/// are ordinary aggregate columns, so the rewrite works in every aggregation that has them (windows, GROUP BY, over a
/// changelog: both retract). <c>STDDEV</c> and <c>VARIANCE</c> are Calcite's synonyms of the sample forms.
/// </summary>
public sealed partial class Binder
{
    public static bool IsVarianceFunction(string upperName) =>
        upperName is "STDDEV_POP" or "STDDEV_SAMP" or "STDDEV" or "VAR_POP" or "VAR_SAMP" or "VARIANCE";

    /// <summary>
    /// The call's type, as Flink's deriveAvgAggType: the argument's type, DECIMAL(38, max(6, s)) for a DECIMAL (so
    /// STDDEV_POP of an INT column is an INT, truncated, as in Flink).
    /// </summary>
    private static DataType VarianceType(DataType argument) => argument.Kind == TypeKind.Decimal
        ? DataType.Decimal(38, Math.Max(6, argument.Scale))
        : argument with { Nullable = true };

    internal BoundExpr BindVariance(FunctionCall call, Scope scope, GroupContext group)
    {
        string name = call.UpperName;
        if (call.Star) throw Error(call, $"{name}(*) is not valid; only COUNT(*)");
        if (call.Arguments.Count != 1) throw Error(call, $"{name} takes one argument");
        // Flink accepts DISTINCT here; Eddy's distinct accumulators keep sets, whose order would change the rounding.
        if (call.Distinct) throw Error(call, $"{name}(DISTINCT ...) is not supported by Eddy yet");
        if (ContainsAggregate(call.Arguments[0])) throw Error(call, "aggregate functions cannot be nested");
        var arg = Bind(call.Arguments[0], scope);
        if (arg.Type.Kind == TypeKind.Null || !arg.Type.IsNumeric)
            throw Error(call.Arguments[0], $"{name} takes a numeric argument, not {arg.Type}");
        BoundExpr? filter = call.Filter is null ? null : RequireBoolean(Bind(call.Filter, scope), call.Filter);
        string site = call.ToSql();
        var m2Call = new AggregateCall(AggregateKind.WelfordM2, arg, false, filter, DataType.Double, site);
        var countCall = new AggregateCall(AggregateKind.Count, arg, false, filter, DataType.BigInt.NotNull(), site);
        aggregateSites.TryAdd(m2Call, call);
        aggregateSites.TryAdd(countCall, call);
        BoundExpr m2 = group.AggregateColumn(m2Call);
        BoundExpr count = group.AggregateColumn(countCall);

        bool population = name is "STDDEV_POP" or "VAR_POP";
        bool root = name.StartsWith("STDDEV", StringComparison.Ordinal);
        BoundExpr denominator = population
            ? new Cast(count, DataType.Double, false)
            : new CaseWhen(
                [(new Binary(BinaryOp.Equal, count, new Literal(1L, DataType.BigInt.NotNull()), DataType.Boolean.NotNull()), new Literal(null, DataType.Double))],
                new Cast(new Binary(BinaryOp.Subtract, count, new Literal(1L, DataType.BigInt.NotNull()), DataType.BigInt.NotNull()), DataType.Double, false),
                DataType.Double);
        BoundExpr variance = new Binary(BinaryOp.Divide, m2, denominator, DataType.Double);
        if (root) variance = new Call("POWER", typeof(AggregateResultOps).GetMethod(nameof(AggregateResultOps.Sqrt))!, [variance], DataType.Double);

        var type = VarianceType(arg.Type);
        BoundExpr Narrow(string method) => new Call("CAST", typeof(AggregateResultOps).GetMethod(method)!, [variance], type);
        return type.Kind switch
        {
            TypeKind.Double => variance,
            TypeKind.Float => new Cast(variance, type, false),
            TypeKind.Decimal => CastToDecimal(variance, type, false),
            TypeKind.BigInt => Narrow(nameof(AggregateResultOps.ToBigInt)),
            TypeKind.Int => Narrow(nameof(AggregateResultOps.ToInt)),
            TypeKind.SmallInt => Narrow(nameof(AggregateResultOps.ToSmallInt)),
            TypeKind.TinyInt => Narrow(nameof(AggregateResultOps.ToTinyInt)),
            _ => throw Error(call.Arguments[0], $"{name} takes a numeric argument, not {arg.Type}"),
        };
    }
}
