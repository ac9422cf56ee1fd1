using System.Reflection;
using Eddy.Functions;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Planning;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Functions;

/// <summary>
/// A user's async scalar function in one operator instance: its own instance of the class, opened with the job's
/// parameters before the first call and closed with the operator; each call retried under
/// <c>table.exec.async-scalar.retry-strategy</c>; a call out of time fails (as Flink's async scalar operator).
/// </summary>
public sealed class UserAsyncCallFunction : IAsyncCallFunction
{
    private readonly Type type;
    private readonly Func<object, object?[], CancellationToken, Task> invoke;
    private readonly Func<Task, object?> result;
    private readonly (int Index, string Name, Type Type)[] valueParameters;
    private readonly AsyncScalarOptions options;
    private readonly IReadOnlyDictionary<string, string> jobParameters;
    private object? instance;

    private UserAsyncCallFunction(Type type, Func<object, object?[], CancellationToken, Task> invoke, Func<Task, object?> result,
        (int, string, Type)[] valueParameters, AsyncScalarOptions options, IReadOnlyDictionary<string, string> jobParameters)
    {
        this.type = type;
        this.invoke = invoke;
        this.result = result;
        this.valueParameters = valueParameters;
        this.options = options;
        this.jobParameters = jobParameters;
    }

    /// <summary>
    /// The spec of a call of <paramref name="eval"/> (the overload the binder chose): the invoker is compiled once and
    /// shared; every operator instance gets a function of its own from the factory.
    /// </summary>
    public static AsyncFunctionSpec Spec(UserAsyncFunction function, MethodInfo eval, AsyncScalarOptions options, IReadOnlyDictionary<string, string> jobParameters)
    {
        var invoke = CompileInvoke(function.Type, eval);
        var result = CompileResult(UserAsyncFunction.ResultType(eval)!);
        var valueParameters = eval.GetParameters().Take(UserAsyncFunction.ArgumentTypes(eval).Length)
            .Select((p, i) => (i, p.Name ?? $"#{i + 1}", p.ParameterType))
            .Where(p => p.ParameterType.IsValueType && Nullable.GetUnderlyingType(p.ParameterType) is null).ToArray();
        return new AsyncFunctionSpec($"{function.Type.FullName} ({options.Describe()})",
            () => new UserAsyncCallFunction(function.Type, invoke, result, valueParameters, options, jobParameters), options.Operator);
    }

    // (target, args, token) => (Task)((T)target).Eval((A0)args[0], ..., token)
    private static Func<object, object?[], CancellationToken, Task> CompileInvoke(Type type, MethodInfo eval)
    {
        var target = LinqExpr.Parameter(typeof(object), "target");
        var args = LinqExpr.Parameter(typeof(object[]), "args");
        var token = LinqExpr.Parameter(typeof(CancellationToken), "cancellation");
        var types = UserAsyncFunction.ArgumentTypes(eval);
        var values = types.Select((t, i) => (LinqExpr)LinqExpr.Convert(LinqExpr.ArrayIndex(args, LinqExpr.Constant(i)), t)).ToList();
        if (UserAsyncFunction.TakesCancellation(eval)) values.Add(token);
        var call = LinqExpr.Call(LinqExpr.Convert(target, type), eval, values);
        return LinqExpr.Lambda<Func<object, object?[], CancellationToken, Task>>(LinqExpr.Convert(call, typeof(Task)), target, args, token).Compile();
    }

    // task => (object)((Task<R>)task).Result
    private static Func<Task, object?> CompileResult(Type resultType)
    {
        var task = LinqExpr.Parameter(typeof(Task), "task");
        var typed = typeof(Task<>).MakeGenericType(resultType);
        var value = LinqExpr.Property(LinqExpr.Convert(task, typed), typed.GetProperty(nameof(Task<int>.Result))!);
        return LinqExpr.Lambda<Func<Task, object?>>(LinqExpr.Convert(value, typeof(object)), task).Compile();
    }

    public void Open(OperatorContext context)
    {
        instance = Activator.CreateInstance(type)!;
        if (instance is UserFunction f) f.Open(Codegen.FunctionContexts.For(context, jobParameters));
    }

    public Task<object?> InvokeAsync(object?[] arguments, CancellationToken cancellation) => InvokeValueAsync(arguments, cancellation).AsTask();

    /// <summary>The first attempt; when its task is already complete, its result without a task of Eddy's.</summary>
    public ValueTask<object?> InvokeValueAsync(object?[] arguments, CancellationToken cancellation)
    {
        foreach (var (index, name, parameterType) in valueParameters)
        {
            if (arguments[index] is null)
                throw new ArgumentException($"NULL for parameter '{name}' ({parameterType.Name}) of Eval; declare it {parameterType.Name}? to receive NULL");
        }
        var target = instance ?? throw new InvalidOperationException("the async function is not open");
        Task first;
        try
        {
            first = invoke(target, arguments, cancellation);
        }
        catch (Exception e)
        {
            first = Task.FromException(e);
        }
        if (first.IsCompletedSuccessfully) return new ValueTask<object?>(result(first));
        return new ValueTask<object?>(Attempts(first, target, arguments, cancellation));
    }

    private async Task<object?> Attempts(Task first, object target, object?[] arguments, CancellationToken cancellation)
    {
        for (int attempt = 1; ; attempt++)
        {
            try
            {
                var call = attempt == 1 ? first : invoke(target, arguments, cancellation);
                await call.ConfigureAwait(false);
                return result(call);
            }
            catch (Exception) when (attempt < options.Attempts && !cancellation.IsCancellationRequested)
            {
                await Task.Delay(options.RetryDelay, cancellation).ConfigureAwait(false);
            }
        }
    }

    public object? Timeout(object?[] arguments) =>
        throw new TimeoutException($"no result within {options.OptionTimeoutKey} = {options.Timeout.TotalMilliseconds} ms"
            + (options.Attempts > 1 ? $" (all attempts together, at most {options.Attempts})" : ""));

    public void Close()
    {
        if (instance is UserFunction f) f.Close();
        instance = null;
    }
}
