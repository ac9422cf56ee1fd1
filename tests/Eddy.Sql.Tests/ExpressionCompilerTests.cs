using Eddy.Sql.Codegen;
using Eddy.Sql.Functions;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Tests;

public class ExpressionCompilerTests
{
    private static readonly Schema Input = Schema.Of(("host", DataType.String), ("hits", DataType.BigInt), ("ratio", DataType.Double),
        ("event_time", DataType.String));

    private static InputRef Col(int i) => new(i, Input[i].Name, Input[i].Type);

    private static Row Eval(IReadOnlyList<BoundExpr> projections, BoundExpr? filter, Schema output, Row input)
    {
        var method = typeof(ExpressionCompilerTests).GetMethod(nameof(EvalTyped), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(RowTypes.For(Input), RowTypes.For(output));
        return (Row)method.Invoke(null, [projections, filter, output, input])!;
    }

    private static Row EvalTyped<TIn, TOut>(IReadOnlyList<BoundExpr> projections, BoundExpr? filter, Schema output, Row input)
    {
        var f = ExpressionCompiler.CompileRowFunction<TIn, TOut>(projections, filter, output);
        var row = RowTypes.FromRow<TIn>(Input)(input);
        return f(ref row, out var result, 0) ? RowTypes.ToRow<TOut>(output)(result, RowKind.Insert) : null!;
    }

    [Fact]
    public void Projections_arithmetic_null_propagation_and_functions()
    {
        var output = Schema.Of(("h", DataType.String), ("double_hits", DataType.BigInt), ("ts", DataType.Timestamp3), ("upper", DataType.String));
        var toTs = typeof(SqlFunctions).GetMethod(nameof(SqlFunctions.ToTimestamp), [typeof(string), typeof(string)])!;
        var upper = typeof(SqlFunctions).GetMethod(nameof(SqlFunctions.Upper))!;
        BoundExpr[] projections =
        [
            Col(0),
            new Binary(BinaryOp.Multiply, Col(1), new Literal(2L, DataType.BigInt), DataType.BigInt),
            new Call("TO_TIMESTAMP", toTs, [Col(3), new Literal("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'", DataType.String)], DataType.Timestamp3),
            new Call("UPPER", upper, [Col(0)], DataType.String),
        ];
        var r = Eval(projections, null, output, Row.Of("zachwilson.tech", 21L, 0.5, "2024-01-01T10:00:00.250Z"));
        Assert.Equal(Row.Of("zachwilson.tech", 42L, new DateTime(2024, 1, 1, 10, 0, 0, 250), "ZACHWILSON.TECH"), r);
        var n = Eval(projections, null, output, Row.Of(null, null, null, "garbage"));
        Assert.Equal(Row.Of(null, null, null, null), n);
    }

    [Fact]
    public void Filters_use_three_valued_logic()
    {
        var output = Schema.Of(("h", DataType.String));
        // hits > 10 AND host <> 'x'  (NULL hits → NULL → filtered out; OR with TRUE → kept)
        var gt = new Binary(BinaryOp.Greater, Col(1), new Literal(10L, DataType.BigInt), DataType.Boolean);
        var ne = new Binary(BinaryOp.NotEqual, Col(0), new Literal("x", DataType.String), DataType.Boolean);
        var and = new Binary(BinaryOp.And, gt, ne, DataType.Boolean);
        Assert.NotNull(Eval([Col(0)], and, output, Row.Of("a", 11L, 0.0, "")));
        Assert.Null(Eval([Col(0)], and, output, Row.Of("x", 11L, 0.0, "")));
        Assert.Null(Eval([Col(0)], and, output, Row.Of("a", null, 0.0, "")));
        var or = new Binary(BinaryOp.Or, gt, new Unary(UnaryOp.IsNull, Col(1), DataType.Boolean), DataType.Boolean);
        Assert.NotNull(Eval([Col(0)], or, output, Row.Of("a", null, 0.0, "")));
        var notFalse = new Unary(UnaryOp.Not, new Binary(BinaryOp.Equal, Col(0), new Literal("a", DataType.String), DataType.Boolean), DataType.Boolean);
        Assert.Null(Eval([Col(0)], notFalse, output, Row.Of(null, 1L, 0.0, "")));
    }

    [Fact]
    public void Case_cast_in_and_coalesce()
    {
        var output = Schema.Of(("size", DataType.String), ("n", DataType.Int), ("in_set", DataType.Boolean), ("h", DataType.String));
        var big = new Binary(BinaryOp.GreaterOrEqual, Col(1), new Literal(100L, DataType.BigInt), DataType.Boolean);
        BoundExpr[] projections =
        [
            new CaseWhen([(big, new Literal("big", DataType.String))], new Literal("small", DataType.String), DataType.String),
            new Cast(Col(3), DataType.Int, Try: true),
            new InList(Col(0), [new Literal("a", DataType.String), new Literal("b", DataType.String)], false, DataType.Boolean),
            new Coalesce([Col(0), new Literal("unknown", DataType.String)], DataType.String),
        ];
        Assert.Equal(Row.Of("big", 12, true, "a"), Eval(projections, null, output, Row.Of("a", 150L, 0.0, "12")));
        Assert.Equal(Row.Of("small", null, null, "unknown"), Eval(projections, null, output, Row.Of(null, 5L, 0.0, "x12")));
        var strict = Schema.Of(("n", DataType.Int));
        var ex = Assert.Throws<System.Reflection.TargetInvocationException>(() =>
            Eval([new Cast(Col(3), DataType.Int, Try: false)], null, strict, Row.Of("a", 1L, 0.0, "x12")));
        Assert.Contains("cannot cast 'x12' to INT", ex.InnerException!.Message);
    }
}
