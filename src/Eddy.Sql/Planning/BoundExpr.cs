using System.Reflection;

namespace Eddy.Sql.Planning;

/// <summary>
/// A name-resolved, typed scalar expression over the columns of one input row: what the binder makes of the syntax
/// tree and what the code generator compiles. Operands of binary operators already have their common type.
/// </summary>
public abstract record BoundExpr(DataType Type)
{
    // Equality and hashing recurse through the operands: each level checks the stack (see DeepStack).
    public virtual bool Equals(BoundExpr? other) =>
        other is not null && DeepStack.Ensure(EqualityContract) == other.EqualityContract && Equals(Type, other.Type);

    public override int GetHashCode() => HashCode.Combine(DeepStack.Ensure(EqualityContract), Type);

    // Sealed: derived records would otherwise print their members record-style (unbounded recursion, unreadable plans).
    public sealed override string ToString() => Explain.Expr(this);
}

/// <summary>Column <see cref="Index"/> of the input row.</summary>
public sealed record InputRef(int Index, string Name, DataType Type) : BoundExpr(Type);

public sealed record Literal(object? Value, DataType Type) : BoundExpr(Type);

public enum BinaryOp
{
    Add, Subtract, Multiply, Divide, Modulo,
    Equal, NotEqual, Less, LessOrEqual, Greater, GreaterOrEqual,
    And, Or,
}

public sealed record Binary(BinaryOp Op, BoundExpr Left, BoundExpr Right, DataType Type) : BoundExpr(Type);

public enum UnaryOp
{
    Not,
    Negate,
    IsNull,
    IsNotNull,
    IsTrue,
    IsNotTrue,
    IsFalse,
    IsNotFalse,
}

public sealed record Unary(UnaryOp Op, BoundExpr Operand, DataType Type) : BoundExpr(Type);

public sealed record Cast(BoundExpr Operand, DataType Type, bool Try) : BoundExpr(Type);

public sealed record CaseWhen(IReadOnlyList<(BoundExpr When, BoundExpr Then)> Branches, BoundExpr? Else, DataType Type) : BoundExpr(Type);

/// <summary>A call of a static .NET method (built-in or user function) with Flink's null semantics inside it.</summary>
public sealed record Call(string Name, MethodInfo Method, IReadOnlyList<BoundExpr> Args, DataType Type) : BoundExpr(Type);

/// <summary><c>value [NOT] IN (literals...)</c>, evaluated against a set.</summary>
public sealed record InList(BoundExpr Value, IReadOnlyList<BoundExpr> Items, bool Negated, DataType Type) : BoundExpr(Type);

/// <summary><c>COALESCE(a, b, ...)</c>: the first argument that is not NULL.</summary>
public sealed record Coalesce(IReadOnlyList<BoundExpr> Args, DataType Type) : BoundExpr(Type);

/// <summary>Processing time now (<c>PROCTIME()</c>, <c>CURRENT_TIMESTAMP</c>), read once per batch of records.</summary>
public sealed record CurrentTime(DataType Type) : BoundExpr(Type)
{
    /// <summary>Written as <c>PROCTIME()</c>: a select list that computes it gives its relation a processing-time attribute.</summary>
    public bool IsProctime { get; init; }
}

/// <summary>
/// <c>CURRENT_WATERMARK(rowtime)</c>: the watermark of the Calc operator evaluating it (NULL before the first one), typed
/// as the rowtime with precision 3.
/// </summary>
public sealed record CurrentWatermark(DataType Type) : BoundExpr(Type);

internal static class Explain
{
    public static string Expr(BoundExpr e) => DeepStack.Ensure(e) switch
    {
        InputRef c => c.Name,
        Literal { Value: null } => "NULL",
        Literal { Value: string s } => $"'{s.Replace("'", "''", StringComparison.Ordinal)}'",
        Literal l => Convert.ToString(l.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "NULL",
        Binary b => $"({Expr(b.Left)} {Symbol(b.Op)} {Expr(b.Right)})",
        Unary u => u.Op switch
        {
            UnaryOp.Not => $"NOT {Expr(u.Operand)}",
            UnaryOp.Negate => $"-{Expr(u.Operand)}",
            _ => $"{Expr(u.Operand)} {u.Op switch { UnaryOp.IsNull => "IS NULL", UnaryOp.IsNotNull => "IS NOT NULL", UnaryOp.IsTrue => "IS TRUE", UnaryOp.IsNotTrue => "IS NOT TRUE", UnaryOp.IsFalse => "IS FALSE", _ => "IS NOT FALSE" }}",
        },
        Cast c => $"{(c.Try ? "TRY_CAST" : "CAST")}({Expr(c.Operand)} AS {c.Type})",
        CaseWhen cw => "CASE " + string.Join(" ", cw.Branches.Select(b => $"WHEN {Expr(b.When)} THEN {Expr(b.Then)}"))
            + (cw.Else is null ? "" : $" ELSE {Expr(cw.Else)}") + " END",
        Call c => $"{c.Name}({string.Join(", ", c.Args.Select(Expr))})",
        InList i => $"{Expr(i.Value)} {(i.Negated ? "NOT IN" : "IN")} ({string.Join(", ", i.Items.Select(Expr))})",
        Coalesce c => $"COALESCE({string.Join(", ", c.Args.Select(Expr))})",
        CurrentTime => "PROCTIME()",
        CurrentWatermark => "CURRENT_WATERMARK()",
        AsyncCall a => $"{a.Name}({string.Join(", ", a.Arguments.Select(Expr))})",
        UserCall u => $"{u.Name}({string.Join(", ", u.Args.Select(Expr))})",
        IntervalExpr i => i.Months != 0 ? $"INTERVAL '{i.Months}' MONTH" + (i.Millis != 0 ? $" + INTERVAL '{i.Millis}' MILLISECOND" : "") : $"INTERVAL '{i.Millis}' MILLISECOND",
        _ => e.GetType().Name,
    };

    private static string Symbol(BinaryOp op) => op switch
    {
        BinaryOp.Add => "+", BinaryOp.Subtract => "-", BinaryOp.Multiply => "*", BinaryOp.Divide => "/", BinaryOp.Modulo => "%",
        BinaryOp.Equal => "=", BinaryOp.NotEqual => "<>", BinaryOp.Less => "<", BinaryOp.LessOrEqual => "<=",
        BinaryOp.Greater => ">", BinaryOp.GreaterOrEqual => ">=", BinaryOp.And => "AND", _ => "OR",
    };
}
