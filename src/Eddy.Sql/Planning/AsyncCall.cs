using Eddy.Runtime;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Planning;

/// <summary>
/// A scalar function whose result arrives later: a built-in answered by a remote service (ip2location) or a user's
/// <c>AsyncScalarFunction</c>. The planner runs it in an async operator (<see cref="AsyncWaitOperator{TIn, TOut}"/>)
/// in front of the Calc that uses the result.
/// </summary>
/// <param name="Describe">what EXPLAIN shows of the provider (never secrets).</param>
/// <param name="Factory">makes the function of one operator instance (opened and closed by the operator).</param>
public sealed record AsyncFunctionSpec(string Describe, Func<IAsyncCallFunction> Factory, AsyncOptions Options);

/// <summary>One async function as an operator instance runs it: the call's arguments in, its result later.</summary>
public interface IAsyncCallFunction
{
    /// <summary>Before the operator instance's first call.</summary>
    void Open(OperatorContext context);

    /// <param name="cancellation">cancelled at the call's timeout and when the operator closes.</param>
    Task<object?> InvokeAsync(object?[] arguments, CancellationToken cancellation);

    /// <summary>As <see cref="InvokeAsync"/>, without a task when the result is there at once.</summary>
    ValueTask<object?> InvokeValueAsync(object?[] arguments, CancellationToken cancellation) => new(InvokeAsync(arguments, cancellation));

    /// <summary>The result of a call that did not finish in time; throws when a late call fails the job (a user's function).</summary>
    object? Timeout(object?[] arguments);

    /// <summary>At the end of the input, and when the job fails or is cancelled.</summary>
    void Close();
}

/// <summary>A call of an async function inside a projection or filter.</summary>
public sealed record AsyncCall(string Name, IReadOnlyList<BoundExpr> Arguments, AsyncFunctionSpec Function, DataType Type) : BoundExpr(Type)
{
    /// <summary>Where the call is written (<c>file: line L, column C</c>), for the error when a user's function fails; null for built-ins.</summary>
    public string? Location { get; init; }

    /// <summary>The call's position, for the error when it stands where an async operator cannot run it.</summary>
    public SourceSpan? Span { get; init; }
}

/// <summary>
/// A construct the binder accepted but translation cannot run where it stands (an async call in a join condition, a
/// function with a lifecycle compiled outside an operator that opens it): the session reports it at <see cref="Span"/>.
/// </summary>
public sealed class LocatedPlanningException(SourceSpan span, string message) : Exception(message)
{
    public SourceSpan Span { get; } = span;
}
