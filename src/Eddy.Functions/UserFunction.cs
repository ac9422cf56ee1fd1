namespace Eddy.Functions;

/// <summary>
/// The base of a function that SQL loads with <c>CREATE FUNCTION name AS 'Namespace.Class' [USING JAR 'x.dll']</c>.
/// Deriving from one of <see cref="ScalarFunction"/>, <see cref="AsyncScalarFunction"/>, <see cref="TableFunction{T}"/>
/// or <see cref="AggregateFunction{TResult, TAccumulator}"/> is optional for the synchronous kinds (Eddy finds the
/// methods by name, as Flink does), but it states the kind and gives the function its lifecycle
/// (<see cref="Open"/>, <see cref="Close"/>).
/// </summary>
/// <remarks>
/// As in Flink, every parallel instance of an operator that calls the function has an instance of its own, made with
/// the public parameterless constructor: <see cref="Open"/> runs on it once before its first row, <see cref="Close"/>
/// once after its last, also when the job fails or is cancelled. An instance is called from one thread at a time
/// (an async function's <c>Eval</c> is started from its task's thread; what runs after an await is the function's own
/// business).
/// </remarks>
public abstract class UserFunction
{
    /// <summary>Flink's <c>open(FunctionContext)</c>: set up what the calls share (a client, a cache). An exception fails the job, naming the function.</summary>
    public virtual void Open(FunctionContext context)
    {
    }

    /// <summary>Flink's <c>close()</c>: release what <see cref="Open"/> set up; called at the end of the input and when the job fails or is cancelled.</summary>
    public virtual void Close()
    {
    }
}

/// <summary>
/// What <see cref="UserFunction.Open"/> learns about where the function runs, as Flink's <c>FunctionContext</c>: the
/// job's parameters (the options the script SET before the statement, as Flink's global job parameters hold the
/// table configuration) and which parallel instance this is.
/// </summary>
/// <param name="metricGroup">the operator instance's metric group (a detached one when the host reports none).</param>
public sealed class FunctionContext(IReadOnlyDictionary<string, string> jobParameters, string taskName, int subtaskIndex, int parallelism,
    MetricGroup? metricGroup = null)
{
    private readonly MetricGroup metrics = metricGroup ?? new MetricGroup();

    /// <summary>
    /// Flink's <c>getMetricGroup()</c>: the operator instance's metrics, shown with the job's (Prometheus
    /// <c>eddy_operator_&lt;group&gt;_&lt;name&gt;</c> with the job, task, operator and subtask as labels; REST
    /// <c>/jobs/ID/vertices/VID/metrics</c>).
    /// </summary>
    public MetricGroup GetMetricGroup() => metrics;

    /// <summary>Flink's <c>getJobParameter(key, defaultValue)</c>: the value SET for <paramref name="key"/>, else <paramref name="defaultValue"/>.</summary>
    public string? GetJobParameter(string key, string? defaultValue) =>
        jobParameters.TryGetValue(key, out var value) ? value : defaultValue;

    /// <summary>The operator instance's task, e.g. <c>Source: t -&gt; Calc -&gt; Sink: p (1/2)</c>.</summary>
    public string TaskName { get; } = taskName;

    /// <summary>Which parallel instance (0-based) of its operator this function instance serves.</summary>
    public int SubtaskIndex { get; } = subtaskIndex;

    /// <summary>How many parallel instances the operator has.</summary>
    public int Parallelism { get; } = parallelism;
}

/// <summary>
/// One value in, one value out: public <c>Eval</c> methods (overloads allowed), static or instance, whose parameter
/// and return types are the SQL types' CLR representations (<c>long</c>, <c>int</c>, <c>double</c>, <c>decimal</c>,
/// <c>bool</c>, <c>string</c>, <c>DateTime</c> for TIMESTAMP, <c>DateTimeOffset</c> for TIMESTAMP_LTZ,
/// <c>DateOnly</c> for DATE); a nullable parameter (<c>long?</c>, <c>string?</c>) receives SQL NULL as null.
/// </summary>
public abstract class ScalarFunction : UserFunction;

/// <summary>
/// One value in, one value out, later: Flink's <c>AsyncScalarFunction</c> for calls to services. Public instance
/// <c>Eval</c> methods return <c>Task&lt;T&gt;</c> (T one of the CLR types a <see cref="ScalarFunction"/> returns)
/// and may take a <see cref="CancellationToken"/> last, which is cancelled when the call's time
/// (<c>table.exec.async-scalar.timeout</c>) is up or the job stops. Where Flink's <c>eval</c> completes a
/// <c>CompletableFuture</c> passed in first, .NET's shape is the returned task: <c>async</c>/<c>await</c> composes
/// with every client library (HttpClient, Npgsql, ...), an exception thrown before the first await and one the task
/// ends with are the same failure, and a callback-based API adapts through <c>TaskCompletionSource&lt;T&gt;</c>.
/// </summary>
/// <remarks>
/// The operator starts up to <c>table.exec.async-scalar.buffer-capacity</c> calls before the first has finished and
/// emits the rows in their input order. A call that fails is retried after <c>table.exec.async-scalar.retry-delay</c>
/// up to <c>table.exec.async-scalar.max-attempts</c> times (<c>retry-strategy</c> FIXED_DELAY); after that, or when
/// the timeout passes, the job fails, naming the function, where the SQL calls it and the row.
/// </remarks>
public abstract class AsyncScalarFunction : UserFunction;

/// <summary>
/// One value in, rows out, later: Flink's <c>AsyncTableFunction</c> for lookups that return several rows. Public instance
/// <c>Eval</c> methods return <c>Task&lt;IEnumerable&lt;T&gt;&gt;</c> (T as for <see cref="TableFunction{T}"/>) and may
/// take a <see cref="CancellationToken"/> last; used as <c>LATERAL TABLE(f(x))</c>. The operator starts up to
/// <c>table.exec.async-table.buffer-capacity</c> calls at once and emits each row's results in input order; a call
/// that fails is retried (<c>table.exec.async-table.retry-strategy</c>, <c>retry-delay</c>, <c>max-attempts</c>), and
/// out of attempts or time (<c>table.exec.async-table.timeout</c>) the job fails naming the function, where the SQL
/// calls it and the row.
/// </summary>
public abstract class AsyncTableFunction<T> : UserFunction;

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
