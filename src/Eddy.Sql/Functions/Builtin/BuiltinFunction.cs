using System.Globalization;
using System.Reflection;
using Binder = Eddy.Sql.Planning.Binder;
using Eddy.Sql.Parsing;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>The groups of Flink's function list (docs/data/sql_functions.yml), in its order.</summary>
public enum FunctionGroup
{
    Comparison, Logical, Arithmetic, String, Temporal, Conditional, Conversion, Collection, Json, ValueConstruction,
    ValueAccess, Grouping, Hash, Aggregate, Catalog,
    /// <summary>Time attributes and windows (documented by Flink with windowing, not in its function list).</summary>
    Window,
}

/// <summary>Binds one call of a built-in function: checks the arguments, infers the result type, chooses the code.</summary>
public delegate BoundExpr BuiltinBinder(BuiltinCall call);

/// <summary>
/// One built-in scalar function of the registry: its SQL name, its group and how a call binds. The binder looks the name up
/// here before its own special cases (CAST, CASE, EXTRACT, ... which have their own syntax).
/// </summary>
public sealed record BuiltinFunction(string Name, FunctionGroup Group, BuiltinBinder Bind);

/// <summary>A call being bound: the syntax (for located errors), the bound arguments and the checks every function shares.</summary>
public sealed class BuiltinCall(FunctionCall syntax, IReadOnlyList<BoundExpr> args, Func<SqlNode, string, Exception> error)
{
    public FunctionCall Syntax { get; } = syntax;
    public IReadOnlyList<BoundExpr> Args { get; } = args;
    public string Name => Syntax.UpperName;

    /// <summary>The session's current database (CURRENT_DATABASE() is fixed when the statement is planned).</summary>
    public string CurrentDatabase { get; init; } = "default_database";

    /// <summary>The session's default parallelism (<c>parallelism.default</c>).</summary>
    public int Parallelism { get; init; } = 1;

    /// <summary>The input column of the rowtime attribute CURRENT_WATERMARK may read where the call is (null: none).</summary>
    internal int? WatermarkRowtime { get; init; }

    /// <summary>The binder of the call, for the forms that share its rules (comparison, arithmetic, ROUND).</summary>
    internal Binder Binder { get; init; } = null!;

    /// <summary>Binds another expression in the call's scope (MOD is bound as the % operator).</summary>
    internal Func<Expr, BoundExpr> BindOther { get; init; } = null!;

    /// <summary>
    /// A call of the <see cref="Functions.SqlFunctions"/> method <paramref name="method"/> whose parameters take
    /// <paramref name="args"/>, typed <paramref name="type"/> as given.
    /// </summary>
    public BoundExpr Fn(string method, DataType type, params BoundExpr[] args) =>
        new Planning.Call(Name, typeof(Functions.SqlFunctions).GetMethods().First(m => m.Name == method && m.GetParameters().Length >= args.Length
            && m.GetParameters().Skip(args.Length).All(p => p.HasDefaultValue || p.IsDefined(typeof(ParamArrayAttribute)))
            && Binder.ParametersFit(m, args)), args, type);

    /// <summary>A value as a character string: itself when it is one, else CAST to STRING.</summary>
    public static BoundExpr AsString(BoundExpr e) => TypeRules.IsString(e.Type) ? e : new Cast(e, DataType.String, false);
    public int Count => Args.Count;

    public Exception Fail(string message) => error(Syntax, message);

    public Exception FailAt(int argument, string message) => error(Syntax.Arguments[argument], message);

    public void Arity(int min, int max)
    {
        if (Args.Count >= min && Args.Count <= max) return;
        string takes = min == max ? min.ToString(CultureInfo.InvariantCulture)
            : max == int.MaxValue ? $"at least {min}" : $"{min} to {max}";
        throw Fail($"{Name} takes {takes} argument(s), got {Args.Count}");
    }

    public DataType TypeOf(int i) => Args[i].Type;

    public bool IsNull(int i) => Args[i].Type.Kind == TypeKind.Null;

    /// <summary>A character string argument (CHAR/VARCHAR/STRING, or an untyped NULL), as Flink's string functions take.</summary>
    public BoundExpr String(int i)
    {
        var a = Args[i];
        if (TypeRules.IsString(a.Type)) return a;
        if (a.Type.Kind == TypeKind.Null) return new Literal(null, DataType.String);
        throw FailAt(i, $"{Name} expects a character string as argument {i + 1}, got {a.Type}");
    }

    /// <summary>An exact integer argument (TINYINT to BIGINT) widened to <paramref name="type"/>.</summary>
    public BoundExpr Integer(int i, DataType? type = null)
    {
        var a = Args[i];
        var target = type ?? DataType.Int;
        if (a.Type.Kind == TypeKind.Null) return new Literal(null, target);
        if (a.Type.Kind is TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt)
            return Binder.CastIfNeeded(a, target);
        throw FailAt(i, $"{Name} expects an integer as argument {i + 1}, got {a.Type}");
    }

    /// <summary>A numeric argument as DOUBLE (the functions Flink computes in double precision).</summary>
    public BoundExpr Double(int i)
    {
        var a = Args[i];
        if (a.Type.Kind == TypeKind.Null) return new Literal(null, DataType.Double);
        if (a.Type.IsNumeric) return Binder.CastIfNeeded(a, DataType.Double);
        throw FailAt(i, $"{Name} expects a numeric argument {i + 1}, got {a.Type}");
    }

    public BoundExpr Boolean(int i)
    {
        var a = Args[i];
        if (a.Type.Kind == TypeKind.Null) return new Literal(null, DataType.Boolean);
        if (a.Type.Kind == TypeKind.Boolean) return a;
        throw FailAt(i, $"{Name} expects a BOOLEAN as argument {i + 1}, got {a.Type}");
    }

    public BoundExpr Array(int i)
    {
        var a = Args[i];
        if (a.Type.Kind == TypeKind.Array) return a;
        throw FailAt(i, $"{Name} expects an ARRAY as argument {i + 1}, got {a.Type}");
    }

    public BoundExpr Map(int i)
    {
        var a = Args[i];
        if (a.Type.Kind == TypeKind.Map) return a;
        throw FailAt(i, $"{Name} expects a MAP as argument {i + 1}, got {a.Type}");
    }

    /// <summary>The argument's value when it is a literal (a NULL literal gives null).</summary>
    public object? LiteralValue(int i) => Args[i] switch
    {
        Literal l => l.Value,
        Unary { Op: UnaryOp.Negate, Operand: Literal { Value: int n } } => -n,
        _ => throw FailAt(i, $"{Name} needs a literal as argument {i + 1}"),
    };

    /// <summary>A call of <paramref name="method"/> on <paramref name="args"/>, typed <paramref name="type"/> (nullable).</summary>
    public BoundExpr Call(MethodInfo method, DataType type, params BoundExpr[] args) =>
        new Planning.Call(Name, method, args, type with { Nullable = true });
}
