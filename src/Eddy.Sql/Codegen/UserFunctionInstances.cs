using System.Runtime.CompilerServices;
using Eddy.Functions;
using Eddy.Runtime;
using Eddy.Sql.Planning;
using Eddy.Windows;

namespace Eddy.Sql.Codegen;

/// <summary>
/// The instances of user functions with a lifecycle (a class overriding <see cref="UserFunction.Open"/> or
/// <see cref="UserFunction.Close"/>) that one operator instance calls: made for it, opened before its first row with
/// the job's parameters, closed with it (end of input, failure, cancellation), as Flink opens and closes the
/// function copies of each parallel operator instance. A function without a lifecycle keeps the one instance the
/// catalog made (nothing would tell the difference).
/// </summary>
public sealed class UserFunctionInstances(IReadOnlyDictionary<string, string> jobParameters) : IFunctionLifecycle
{
    // Instances made for an operator instance: the only targets the expression compiler accepts for a function with a
    // lifecycle (anywhere else the function would never be opened).
    private static readonly ConditionalWeakTable<object, object> OperatorOwned = [];

    private readonly List<(UserFunction Instance, string Name, string? Location)> functions = [];
    private readonly Dictionary<object, object> replacements = new(ReferenceEqualityComparer.Instance);
    private int opened;

    /// <summary>Whether <paramref name="type"/> overrides Open or Close of <see cref="UserFunction"/>.</summary>
    public static bool HasLifecycle(Type type) =>
        typeof(UserFunction).IsAssignableFrom(type)
        && (type.GetMethod(nameof(UserFunction.Open), [typeof(FunctionContext)])?.DeclaringType != typeof(UserFunction)
            || type.GetMethod(nameof(UserFunction.Close), Type.EmptyTypes)?.DeclaringType != typeof(UserFunction));

    /// <summary>Whether a call on <paramref name="target"/> may be compiled: no lifecycle, or an instance an operator opens.</summary>
    public static bool MayCompile(object? target) =>
        target is null || !HasLifecycle(target.GetType()) || OperatorOwned.TryGetValue(target, out _);

    /// <summary>The calls of functions with a lifecycle in <paramref name="expressions"/>.</summary>
    public static List<UserCall> LifecycleCalls(IEnumerable<BoundExpr?> expressions)
    {
        var found = new List<UserCall>();
        void Visit(BoundExpr? e)
        {
            switch (DeepStack.Ensure(e))
            {
                case null: break;
                case UserCall u:
                    if (u.Target is not null && HasLifecycle(u.Target.GetType())) found.Add(u);
                    foreach (var a in u.Args) Visit(a);
                    break;
                case Binary b: Visit(b.Left); Visit(b.Right); break;
                case Unary u: Visit(u.Operand); break;
                case Cast c: Visit(c.Operand); break;
                case CaseWhen cw:
                    foreach (var (w, t) in cw.Branches) { Visit(w); Visit(t); }
                    Visit(cw.Else);
                    break;
                case Call c: foreach (var a in c.Args) Visit(a); break;
                case AsyncCall a: foreach (var x in a.Arguments) Visit(x); break;
                case InList l: Visit(l.Value); foreach (var x in l.Items) Visit(x); break;
                case Coalesce co: foreach (var x in co.Args) Visit(x); break;
            }
        }
        foreach (var e in expressions) Visit(e);
        return found;
    }

    /// <summary>This operator instance's own instance for the catalog's <paramref name="shared"/> one (one per class instance, however often it is called).</summary>
    public object InstanceFor(object shared, string name, string? location)
    {
        if (replacements.TryGetValue(shared, out var own)) return own;
        own = Activator.CreateInstance(shared.GetType())!;
        OperatorOwned.AddOrUpdate(own, shared);
        replacements[shared] = own;
        functions.Add(((UserFunction)own, name, location));
        return own;
    }

    /// <summary><paramref name="expressions"/> with every call of a function with a lifecycle on this operator instance's own instance.</summary>
    public BoundExpr? Rebind(BoundExpr? e) => DeepStack.Ensure(e) switch
    {
        null => null,
        UserCall u when u.Target is not null && HasLifecycle(u.Target.GetType()) =>
            u with { Target = InstanceFor(u.Target, u.Name, u.Location), Args = u.Args.Select(a => Rebind(a)!).ToList() },
        UserCall u => u with { Args = u.Args.Select(a => Rebind(a)!).ToList() },
        Binary b => b with { Left = Rebind(b.Left)!, Right = Rebind(b.Right)! },
        Unary u => u with { Operand = Rebind(u.Operand)! },
        Cast c => c with { Operand = Rebind(c.Operand)! },
        CaseWhen cw => cw with { Branches = cw.Branches.Select(b => (Rebind(b.When)!, Rebind(b.Then)!)).ToList(), Else = Rebind(cw.Else) },
        Call c => c with { Args = c.Args.Select(a => Rebind(a)!).ToList() },
        InList i => i with { Value = Rebind(i.Value)!, Items = i.Items.Select(x => Rebind(x)!).ToList() },
        Coalesce co => co with { Args = co.Args.Select(a => Rebind(a)!).ToList() },
        _ => e,
    };

    /// <summary>Opens every instance in order; one that throws fails the job naming the function (those opened before are closed).</summary>
    public void Open(OperatorContext context)
    {
        var functionContext = FunctionContexts.For(context, jobParameters);
        for (opened = 0; opened < functions.Count; opened++)
        {
            var (instance, name, location) = functions[opened];
            try
            {
                instance.Open(functionContext);
            }
            catch (Exception e)
            {
                CloseOpened(rethrow: false);
                throw new UserFunctionException($"function {name}{At(location)} failed to open: {e.GetType().Name}: {e.Message}", e);
            }
        }
    }

    /// <summary>Closes the instances opened (each once, all of them even when one throws; the first error fails the job).</summary>
    public void Close() => CloseOpened(rethrow: true);

    private void CloseOpened(bool rethrow)
    {
        Exception? first = null;
        for (int i = opened - 1; i >= 0; i--)
        {
            var (instance, name, location) = functions[i];
            try
            {
                instance.Close();
            }
            catch (Exception e)
            {
                first ??= new UserFunctionException($"function {name}{At(location)} failed to close: {e.GetType().Name}: {e.Message}", e);
            }
        }
        opened = 0;
        if (rethrow && first is not null) throw first;
    }

    private static string At(string? location) => location is null ? "" : $" ({location})";
}
