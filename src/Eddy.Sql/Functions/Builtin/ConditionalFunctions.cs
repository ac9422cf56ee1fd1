using System.Reflection;
using Binder = Eddy.Sql.Planning.Binder;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>Flink's conditional functions that are plain calls (CASE, COALESCE, IF, NULLIF and IFNULL are bound by the binder).</summary>
public static class ConditionalFunctions
{
    private static MethodInfo M(Delegate d) => d.Method;

    internal static IEnumerable<BuiltinFunction> All() =>
    [
        new("IS_ALPHA", FunctionGroup.Conditional, c => { c.Arity(1, 1); return new Planning.Call("IS_ALPHA", M(IsAlpha), [c.String(0)], DataType.Boolean.NotNull()); }),
        new("IS_DECIMAL", FunctionGroup.Conditional, c => { c.Arity(1, 1); return new Planning.Call("IS_DECIMAL", M(IsDecimal), [c.String(0)], DataType.Boolean.NotNull()); }),
        new("IS_DIGIT", FunctionGroup.Conditional, c => { c.Arity(1, 1); return new Planning.Call("IS_DIGIT", M(IsDigit), [c.String(0)], DataType.Boolean.NotNull()); }),
        new("COALESCE", FunctionGroup.Conditional, c =>
        {
            if (c.Count == 0) throw c.Fail("COALESCE takes at least one argument");
            var type = c.Args.Select(a => a.Type).Aggregate((a, b) => TypeRules.Common(a, b) ?? throw c.Fail($"COALESCE mixes {a} and {b}"));
            return new Coalesce(c.Args.Select(a => Binder.CastIfNeeded(a, type)).ToList(), type with { Nullable = c.Args.All(a => a.Type.Nullable) });
        }),
        new("IFNULL", FunctionGroup.Conditional, c =>
        {
            c.Arity(2, 2);
            var type = TypeRules.Common(c.TypeOf(0), c.TypeOf(1)) ?? throw c.Fail($"IFNULL mixes {c.TypeOf(0)} and {c.TypeOf(1)}");
            return new Coalesce([Binder.CastIfNeeded(c.Args[0], type), Binder.CastIfNeeded(c.Args[1], type)], type);
        }),
        new("NULLIF", FunctionGroup.Conditional, c =>
        {
            c.Arity(2, 2);
            var eq = c.Binder.Compare(BinaryOp.Equal, c.Args[0], c.Args[1], c.Syntax);
            return new CaseWhen([(eq, new Literal(null, c.TypeOf(0)))], c.Args[0], c.TypeOf(0) with { Nullable = true });
        }),
        new("IF", FunctionGroup.Conditional, c =>
        {
            c.Arity(3, 3);
            var type = TypeRules.Common(c.TypeOf(1), c.TypeOf(2)) ?? throw c.Fail($"IF branches mix {c.TypeOf(1)} and {c.TypeOf(2)}");
            return new CaseWhen([(c.Binder.RequireBoolean(c.Args[0], c.Syntax.Arguments[0]), Binder.CastIfNeeded(c.Args[1], type))],
                Binder.CastIfNeeded(c.Args[2], type), type with { Nullable = true });
        }),
        new("GREATEST", FunctionGroup.Conditional, c => BindExtreme(c, greatest: true)),
        new("LEAST", FunctionGroup.Conditional, c => BindExtreme(c, greatest: false)),
    ];

    /// <summary>GREATEST/LEAST over the arguments' common type; NULL when any argument is NULL.</summary>
    private static BoundExpr BindExtreme(BuiltinCall c, bool greatest)
    {
        c.Arity(1, int.MaxValue);
        var type = c.Args.Select(a => a.Type).Aggregate((a, b) => TypeRules.Common(a, b) ?? throw c.Fail($"{c.Name} mixes {a} and {b}"));
        if (type.Kind == TypeKind.Null) throw c.Fail($"{c.Name} of untyped NULLs: CAST them to a type");
        if (type.Kind is TypeKind.Array or TypeKind.Map or TypeKind.Row or TypeKind.Boolean)
            throw c.Fail($"{c.Name} of {type} is not supported yet");
        var args = c.Args.Select(a => Binder.CastIfNeeded(a, type)).ToArray();
        return c.Call(greatest ? M(Greatest) : M(Least), type, args);
    }

    /// <summary>Flink's IS_ALPHA: false for NULL and for the empty string.</summary>
    public static bool IsAlpha(string? s) => !string.IsNullOrEmpty(s) && s.All(char.IsLetter);

    /// <summary>
    /// Flink's IS_DECIMAL of a string: false for NULL and the empty string, otherwise whether Java's Integer.parseInt,
    /// Long.parseLong or Double.parseDouble reads it.
    /// </summary>
    public static bool IsDecimal(string? s) => !string.IsNullOrEmpty(s) && (JavaNumbers.IsJavaLong(s) || JavaNumbers.IsJavaDouble(s));

    public static bool IsDigit(string? s) => !string.IsNullOrEmpty(s) && s.All(char.IsDigit);

    public static object? Greatest(params object?[] values) => Extreme(values, 1);

    public static object? Least(params object?[] values) => Extreme(values, -1);

    private static object? Extreme(object?[] values, int sign)
    {
        object? best = null;
        foreach (var v in values)
        {
            if (v is null) return null;
            int order = v is string a && best is string b ? string.CompareOrdinal(a, b) : best is null ? 1 : Comparer<object>.Default.Compare(v, best);
            if (best is null || order * sign > 0) best = v;
        }
        return best;
    }
}
