using Eddy.Runtime;

namespace Eddy.Sql.Planning;

/// <summary>
/// A scalar function answered by a remote service: one string argument in, one value out, later. The planner runs
/// it in an async operator (<see cref="AsyncWaitOperator{TIn, TOut}"/>) in front of the Calc that uses the result.
/// </summary>
/// <param name="Describe">what EXPLAIN shows of the provider (never secrets).</param>
/// <param name="TimeoutValue">the result of an element whose lookup did not finish in time.</param>
public sealed record AsyncScalarFunction(
    string Describe, Func<IAsyncFunction<string?, object?>> Factory, AsyncOptions Options, object? TimeoutValue);

/// <summary>A call of an <see cref="AsyncScalarFunction"/> inside a projection or filter.</summary>
public sealed record AsyncCall(string Name, BoundExpr Argument, AsyncScalarFunction Function, DataType Type) : BoundExpr(Type);
