using System.Reflection;

namespace Eddy.Sql.Catalog;

/// <summary>
/// Scalar functions registered by users: from C# (a delegate or static method) or with
/// <c>CREATE FUNCTION name AS 'Namespace.Type'</c>, where the type has public <c>Eval</c> methods (Flink's convention).
/// A user function wins over a built-in of the same name.
/// </summary>
public sealed class UserFunctions
{
    private readonly Dictionary<string, List<(MethodInfo Method, object? Target)>> functions = new(StringComparer.OrdinalIgnoreCase);

    public bool Contains(string name) => functions.ContainsKey(name) || asyncFunctions.ContainsKey(name);

    public IEnumerable<string> Names => functions.Keys.Concat(aggregates.Keys).Concat(asyncFunctions.Keys);

    private readonly Dictionary<string, UserAsyncFunction> asyncFunctions = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The async scalar function of that name (<c>Eval</c> methods returning <c>Task&lt;T&gt;</c>), if it is one.</summary>
    public bool TryGetAsync(string name, out UserAsyncFunction function) => asyncFunctions.TryGetValue(name, out function!);

    public void Register(string name, Delegate function) =>
        Add(name, function.Method, function.Target);

    public void Register(string name, MethodInfo staticMethod)
    {
        if (!staticMethod.IsStatic) throw new ArgumentException("use Register(name, delegate) for instance methods", nameof(staticMethod));
        Add(name, staticMethod, null);
    }

    /// <summary>Registers every public <c>Eval</c> method of <paramref name="type"/> (an instance is made for instance methods).</summary>
    public void RegisterClass(string name, Type type)
    {
        if (type.GetMethod("Accumulate") is not null)
        {
            aggregates[name] = UserAggregate.From(type);
            functions.Remove(name);
            asyncFunctions.Remove(name);
            return;
        }
        var evals = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.Name == "Eval").ToList();
        if (evals.Count == 0)
            throw new ArgumentException($"'{type.FullName}' has no public Eval method (scalar or table function) nor Accumulate (aggregate function)");
        if (typeof(Eddy.Functions.AsyncScalarFunction).IsAssignableFrom(type) || evals.Any(m => UserAsyncFunction.ResultType(m) is not null))
        {
            var asyncFunction = UserAsyncFunction.From(type, evals);
            Drop(name);
            asyncFunctions[name] = asyncFunction;
            return;
        }
        aggregates.Remove(name);
        asyncFunctions.Remove(name);
        object? instance = evals.Any(m => !m.IsStatic) ? Activator.CreateInstance(type) : null;
        functions.Remove(name);
        foreach (var m in evals) Add(name, m, m.IsStatic ? null : instance);
    }

    public void Drop(string name)
    {
        functions.Remove(name);
        aggregates.Remove(name);
        asyncFunctions.Remove(name);
    }

    private readonly Dictionary<string, UserAggregate> aggregates = new(StringComparer.OrdinalIgnoreCase);

    public bool TryGetAggregate(string name, out UserAggregate aggregate) => aggregates.TryGetValue(name, out aggregate!);

    /// <summary>For a table function's Eval (returning <c>IEnumerable&lt;T&gt;</c>, not a string): T; otherwise null.</summary>
    public static Type? TableElementType(MethodInfo method) => TableElementType(method.ReturnType);

    /// <summary>T of a sequence type <c>IEnumerable&lt;T&gt;</c> (not a string), else null.</summary>
    public static Type? TableElementType(Type r)
    {
        if (r == typeof(string)) return null;
        var enumerable = r.IsGenericType && r.GetGenericTypeDefinition() == typeof(IEnumerable<>) ? r
            : r.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IEnumerable<>));
        return enumerable?.GetGenericArguments()[0];
    }

    /// <summary>The columns of a table function's rows: one for a scalar, one per item of a ValueTuple or property of a record.</summary>
    public static IReadOnlyList<(string Name, Type Type, MemberInfo? Member)> TableColumns(Type element)
    {
        if (element.IsGenericType && element.FullName!.StartsWith("System.ValueTuple`", StringComparison.Ordinal))
            return element.GetFields().OrderBy(f => f.Name, StringComparer.Ordinal).Select((f, i) => ($"f{i}", f.FieldType, (MemberInfo?)f)).ToList();
        if (element.IsPrimitive || element == typeof(string) || element == typeof(decimal) || element == typeof(DateTime)
            || element == typeof(DateTimeOffset) || Nullable.GetUnderlyingType(element) is not null)
            return [("f0", element, null)];
        return element.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .Select(p => (p.Name, p.PropertyType, (MemberInfo?)p)).ToList();
    }

    public IReadOnlyList<(MethodInfo Method, object? Target)> Overloads(string name) =>
        functions.TryGetValue(name, out var list) ? list : [];

    private void Add(string name, MethodInfo method, object? target)
    {
        if (!functions.TryGetValue(name, out var list)) functions[name] = list = [];
        list.Add((method, target));
    }
}

/// <summary>
/// A user's async scalar function, as Flink's AsyncScalarFunction: a class whose public instance <c>Eval</c> methods
/// return <c>Task&lt;T&gt;</c> and may take a <see cref="CancellationToken"/> last. Each operator instance makes its
/// own instance of the class (public parameterless constructor), which it opens and closes.
/// </summary>
public sealed record UserAsyncFunction(Type Type, IReadOnlyList<MethodInfo> Evals)
{
    /// <summary>T of an Eval returning <c>Task&lt;T&gt;</c>, else null.</summary>
    public static Type? ResultType(MethodInfo eval) =>
        eval.ReturnType.IsGenericType && eval.ReturnType.GetGenericTypeDefinition() == typeof(Task<>) ? eval.ReturnType.GetGenericArguments()[0] : null;

    /// <summary>Whether the Eval takes a <see cref="CancellationToken"/> last (not an SQL argument).</summary>
    public static bool TakesCancellation(MethodInfo eval) => eval.GetParameters() is [.., var last] && last.ParameterType == typeof(CancellationToken);

    /// <summary>The SQL arguments' CLR types of an Eval.</summary>
    public static Type[] ArgumentTypes(MethodInfo eval) =>
        eval.GetParameters().Take(eval.GetParameters().Length - (TakesCancellation(eval) ? 1 : 0)).Select(p => p.ParameterType).ToArray();

    public static UserAsyncFunction From(Type type, IReadOnlyList<MethodInfo> evals)
    {
        foreach (var m in evals)
        {
            if (m.IsStatic)
                throw new ArgumentException($"async function '{type.FullName}': Eval must be an instance method (each operator instance opens its own instance)");
            if (ResultType(m) is null)
                throw new ArgumentException($"async function '{type.FullName}': Eval({string.Join(", ", m.GetParameters().Select(p => p.ParameterType.Name))}) returns {m.ReturnType.Name}; an async function's Eval returns Task<T>");
        }
        if (type.IsAbstract || type.GetConstructor(Type.EmptyTypes) is null)
            throw new ArgumentException($"async function '{type.FullName}' needs a public parameterless constructor (each operator instance makes its own instance)");
        return new UserAsyncFunction(type, evals);
    }
}

/// <summary>
/// A user aggregate function, as Flink's AggregateFunction: <c>CreateAccumulator()</c>, <c>Accumulate(acc, args...)</c>
/// (updates the accumulator in place), <c>GetValue(acc)</c>, and <c>Merge(acc, other)</c> (needed by windows that
/// combine partial results: sliding, cumulative and session windows).
/// </summary>
public sealed record UserAggregate(object Instance, MethodInfo Create, MethodInfo Accumulate, MethodInfo GetValue, MethodInfo? Merge)
{
    public Type AccumulatorType => Create.ReturnType;

    public static UserAggregate From(Type type)
    {
        MethodInfo Need(string name) => type.GetMethod(name, BindingFlags.Public | BindingFlags.Instance)
            ?? throw new ArgumentException($"aggregate function '{type.FullName}' needs a public {name} method");
        var create = Need("CreateAccumulator");
        var accumulate = Need("Accumulate");
        var getValue = Need("GetValue");
        if (create.ReturnType.IsValueType)
            throw new ArgumentException($"the accumulator of '{type.FullName}' must be a class (Accumulate updates it in place)");
        if (accumulate.GetParameters() is not [var first, ..] || !first.ParameterType.IsAssignableFrom(create.ReturnType))
            throw new ArgumentException($"{type.Name}.Accumulate must take the accumulator ({create.ReturnType.Name}) first");
        var merge = type.GetMethod("Merge", BindingFlags.Public | BindingFlags.Instance);
        return new UserAggregate(Activator.CreateInstance(type)!, create, accumulate, getValue, merge);
    }
}
