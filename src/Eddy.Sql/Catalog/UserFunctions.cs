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

    public bool Contains(string name) => functions.ContainsKey(name);

    public IEnumerable<string> Names => functions.Keys;

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
        var evals = type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static)
            .Where(m => m.Name == "Eval").ToList();
        if (evals.Count == 0) throw new ArgumentException($"'{type.FullName}' has no public Eval method");
        object? instance = evals.Any(m => !m.IsStatic) ? Activator.CreateInstance(type) : null;
        functions.Remove(name);
        foreach (var m in evals) Add(name, m, m.IsStatic ? null : instance);
    }

    public void Drop(string name) => functions.Remove(name);

    public IReadOnlyList<(MethodInfo Method, object? Target)> Overloads(string name) =>
        functions.TryGetValue(name, out var list) ? list : [];

    /// <summary>Finds a type by full name in the loaded assemblies, or by 'Type, Assembly'.</summary>
    public static Type? FindType(string className)
    {
        var t = Type.GetType(className, throwOnError: false);
        if (t is not null) return t;
        foreach (var asm in AppDomain.CurrentDomain.GetAssemblies())
        {
            t = asm.GetType(className, throwOnError: false);
            if (t is not null) return t;
        }
        return null;
    }

    private void Add(string name, MethodInfo method, object? target)
    {
        if (!functions.TryGetValue(name, out var list)) functions[name] = list = [];
        list.Add((method, target));
    }
}
