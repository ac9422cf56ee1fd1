namespace Eddy.Functions;

/// <summary>
/// The base of a function that SQL loads with <c>CREATE FUNCTION name AS 'Namespace.Class' [USING JAR 'x.dll']</c>.
/// Deriving from one of <see cref="ScalarFunction"/>, <see cref="TableFunction{T}"/> or
/// <see cref="AggregateFunction{TResult, TAccumulator}"/> is optional (Eddy finds the methods by name, as Flink does),
/// but it states the kind and lets the compiler check the aggregate's required methods.
/// </summary>
/// <remarks>
/// An instance is made once per function per job with the public parameterless constructor and shared by the job's
/// subtasks, which call it from several threads at once: keep it free of mutable fields.
/// </remarks>
public abstract class UserFunction;

/// <summary>
/// One value in, one value out: public <c>Eval</c> methods (overloads allowed), static or instance, whose parameter
/// and return types are the SQL types' CLR representations (<c>long</c>, <c>int</c>, <c>double</c>, <c>decimal</c>,
/// <c>bool</c>, <c>string</c>, <c>DateTime</c> for TIMESTAMP, <c>DateTimeOffset</c> for TIMESTAMP_LTZ,
/// <c>DateOnly</c> for DATE); a nullable parameter (<c>long?</c>, <c>string?</c>) receives SQL NULL as null.
/// </summary>
public abstract class ScalarFunction : UserFunction;

/// <summary>
/// One value in, rows out (<c>LATERAL TABLE(f(x))</c>): public <c>Eval</c> methods returning
/// <c>IEnumerable&lt;T&gt;</c>; <typeparamref name="T"/> is a scalar (one column <c>f0</c>), a value tuple
/// (columns <c>f0..fN</c>) or a record (one column per property).
/// </summary>
public abstract class TableFunction<T> : UserFunction;

/// <summary>
/// Many values in, one out, as Flink's <c>AggregateFunction</c>: <see cref="CreateAccumulator"/>, public
/// <c>Accumulate(TAccumulator acc, args...)</c> methods that update the accumulator in place, <see cref="GetValue"/>,
/// and <c>Merge(TAccumulator acc, TAccumulator other)</c> where windows combine partial results (hopping,
/// cumulative and session windows).
/// </summary>
public abstract class AggregateFunction<TResult, TAccumulator> : UserFunction
    where TAccumulator : class
{
    public abstract TAccumulator CreateAccumulator();

    public abstract TResult GetValue(TAccumulator accumulator);
}
