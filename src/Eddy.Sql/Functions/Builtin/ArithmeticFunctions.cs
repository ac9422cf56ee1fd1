using System.Globalization;
using System.Reflection;
using Binder = Eddy.Sql.Planning.Binder;
using Eddy.Sql.Codegen;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>Flink's arithmetic functions (the "arithmetic" group of its function list) and their run-time code.</summary>
public static class ArithmeticFunctions
{
    private static MethodInfo M(Delegate d) => d.Method;

    private static BuiltinFunction F(string name, BuiltinBinder bind) => new(name, FunctionGroup.Arithmetic, bind);

    /// <summary>A DOUBLE function of one numeric argument (Flink computes these with java.lang.Math).</summary>
    private static BuiltinFunction Unary(string name, Func<double?, double?> f) => F(name, c =>
    {
        c.Arity(1, 1);
        return c.Call(f.Method, DataType.Double, c.Double(0));
    });

    internal static IEnumerable<BuiltinFunction> All() =>
    [
        Unary("SQRT", Sqrt), Unary("LN", Ln), Unary("LOG10", Log10), Unary("LOG2", Log2), Unary("EXP", Exp),
        Unary("SIN", Sin), Unary("SINH", Sinh), Unary("COS", Cos), Unary("COSH", Cosh), Unary("TAN", Tan), Unary("TANH", Tanh),
        Unary("COT", Cot), Unary("ASIN", Asin), Unary("ACOS", Acos), Unary("ATAN", Atan), Unary("DEGREES", Degrees),
        Unary("RADIANS", Radians),
        F("POWER", c => { c.Arity(2, 2); return c.Call(M(Power), DataType.Double, c.Double(0), c.Double(1)); }),
        F("ATAN2", c => { c.Arity(2, 2); return c.Call(M(Atan2), DataType.Double, c.Double(0), c.Double(1)); }),
        F("LOG", c =>
        {
            c.Arity(1, 2);
            return c.Count == 1 ? c.Call(M(Ln), DataType.Double, c.Double(0)) : c.Call(M(Log), DataType.Double, c.Double(0), c.Double(1));
        }),
        F("PI", c => { c.Arity(0, 0); return new Literal(Math.PI, DataType.Double.NotNull()); }),
        F("E", c => { c.Arity(0, 0); return new Literal(Math.E, DataType.Double.NotNull()); }),
        F("RAND", c =>
        {
            c.Arity(0, 1);
            if (c.Count == 0) return new Planning.Call("RAND", M(Rand), [], DataType.Double.NotNull());
            return new UserCall("RAND", typeof(JavaRandom).GetMethod(nameof(JavaRandom.NextDouble))!, Seeded(c, 0), [], DataType.Double.NotNull());
        }),
        F("RAND_INTEGER", c =>
        {
            c.Arity(1, 2);
            if (c.Count == 1) return c.Call(M(RandInteger), DataType.Int, c.Integer(0));
            return new UserCall("RAND_INTEGER", typeof(JavaRandom).GetMethod(nameof(JavaRandom.NextInt))!, Seeded(c, 0), [c.Integer(1)], DataType.Int);
        }),
        F("UUID", c => { c.Arity(0, 0); return new Planning.Call("UUID", M(Uuid), [], DataType.String.NotNull()); }),
        F("BIN", c => { c.Arity(1, 1); return c.Call(M(Bin), DataType.String, c.Integer(0, DataType.BigInt)); }),
        F("HEX", c =>
        {
            c.Arity(1, 1);
            if (TypeRules.IsString(c.TypeOf(0))) return c.Call(M(HexString), DataType.String, c.String(0));
            return c.Call(M(Hex), DataType.String, c.Integer(0, DataType.BigInt));
        }),
        // MOD(a, b) is a % b.
        F("MOD", c =>
        {
            c.Arity(2, 2);
            return c.BindOther(new Parsing.BinaryExpr(Parsing.BinaryOperator.Modulo, c.Syntax.Arguments[0], c.Syntax.Arguments[1]) { Span = c.Syntax.Span });
        }),
        F("ROUND", c =>
        {
            c.Arity(1, 2);
            return c.Binder.BindRound(c.Syntax, c.Binder.RequireNumeric(c.Args[0], c.Syntax.Arguments[0]), c.Count == 2 ? c.Args[1] : null);
        }),
        F("UNHEX", c => { c.Arity(1, 1); return c.Call(M(Unhex), new DataType(TypeKind.Binary), c.String(0)); }),
        F("SIGN", BindSign),
        F("ABS", BindAbs),
        F("TRUNCATE", BindTruncate),
        F("CEIL", c => BindFloorCeil(c, ceiling: true)),
        F("CEILING", c => BindFloorCeil(c, ceiling: true)),
        F("FLOOR", c => BindFloorCeil(c, ceiling: false)),
    ];

    /// <summary>
    /// The generator of a seeded RAND / RAND_INTEGER. Flink creates one java.util.Random per operator instance when it
    /// opens, seeded with the literal; Eddy creates one per call site. The two give the same sequence when one instance
    /// evaluates the call, so a parallelism above 1 is refused (Flink's instances would each repeat the sequence).
    /// </summary>
    private static JavaRandom Seeded(BuiltinCall c, int i)
    {
        if (!IsInteger(c.TypeOf(i)) && !c.IsNull(i)) throw c.FailAt(i, $"{c.Name} expects an integer seed, got {c.TypeOf(i)}");
        object? seed = c.Args[i] is Literal or Unary { Op: UnaryOp.Negate, Operand: Literal } ? c.LiteralValue(i)
            : throw c.FailAt(i, $"{c.Name} takes a literal seed (Flink seeds its generator once, when the operator opens)");
        if (c.Parallelism > 1)
            throw c.Fail($"{c.Name} with a seed is supported at parallelism 1 only: Flink repeats the seeded sequence in each parallel instance");
        // A NULL seed gives an unseeded generator, as Flink's.
        return seed is null ? new JavaRandom(Random.Shared.NextInt64()) : new JavaRandom(Convert.ToInt64(seed, CultureInfo.InvariantCulture));
    }

    private static bool IsInteger(DataType t) => t.Kind is TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt;

    private static BoundExpr RequireNumeric(BuiltinCall c, int i) =>
        c.TypeOf(i).IsNumeric ? c.Args[i] : throw c.FailAt(i, $"{c.Name} expects a numeric argument, got {c.TypeOf(i)}");

    /// <summary>ABS keeps its argument's type; the most negative integer stays itself, as Java's Math.abs.</summary>
    private static BoundExpr BindAbs(BuiltinCall c)
    {
        c.Arity(1, 1);
        if (c.IsNull(0)) throw c.Fail("ABS of an untyped NULL: give it a type, e.g. ABS(CAST(NULL AS INT))");
        var x = RequireNumeric(c, 0);
        var t = x.Type;
        return t.Kind switch
        {
            TypeKind.TinyInt => c.Call(M(AbsTinyInt), t, x),
            TypeKind.SmallInt => c.Call(M(AbsSmallInt), t, x),
            TypeKind.Int => c.Call(M(AbsInt), t, x),
            TypeKind.BigInt => c.Call(M(AbsBigInt), t, x),
            TypeKind.Decimal => c.Call(M(AbsDecimal), t, x),
            TypeKind.Float => c.Call(M(AbsFloat), t, x),
            _ => c.Call(M(AbsDouble), t, x),
        };
    }

    /// <summary>SIGN keeps its argument's type (Calcite's ARG0), as Flink's.</summary>
    private static BoundExpr BindSign(BuiltinCall c)
    {
        c.Arity(1, 1);
        var x = RequireNumeric(c, 0);
        var t = x.Type;
        if (IsInteger(t))
            return Binder.CastIfNeeded(c.Call(M(SignLong), DataType.BigInt, Binder.CastIfNeeded(x, DataType.BigInt)), t with { Nullable = true });
        if (t.Kind == TypeKind.Decimal)
            return c.Call(typeof(SqlCasts).GetMethod(nameof(SqlCasts.ToDecimal))!, t,
                c.Call(M(SignDecimal), t, x), new Literal(t.Precision, DataType.Int), new Literal(t.Scale, DataType.Int));
        return Binder.CastIfNeeded(c.Call(M(Sign), DataType.Double, c.Double(0)), t with { Nullable = true });
    }

    /// <summary>FLOOR/CEIL of a number: integers and floating point keep their type, DECIMAL(p, s) becomes DECIMAL(p, 0) (Calcite's ARG0_OR_EXACT_NO_SCALE).</summary>
    private static BoundExpr BindFloorCeil(BuiltinCall c, bool ceiling)
    {
        c.Arity(1, 1);
        var x = RequireNumeric(c, 0);
        var t = x.Type;
        if (IsInteger(t)) return x;
        if (t.Kind == TypeKind.Decimal)
        {
            var result = DataType.Decimal(t.Precision, 0);
            var value = c.Call(ceiling ? M(CeilDecimal) : M(FloorDecimal), result, x);
            return c.Call(typeof(SqlCasts).GetMethod(nameof(SqlCasts.ToDecimal))!, result, value,
                new Literal(result.Precision, DataType.Int), new Literal(0, DataType.Int));
        }
        return Binder.CastIfNeeded(c.Call(ceiling ? M(Ceil) : M(Floor), DataType.Double, c.Double(0)), t with { Nullable = true });
    }

    /// <summary>TRUNCATE(x [, d]) keeps x's type; a DECIMAL takes Flink's round type, which needs d at planning.</summary>
    private static BoundExpr BindTruncate(BuiltinCall c)
    {
        c.Arity(1, 2);
        var x = RequireNumeric(c, 0);
        var t = x.Type;
        BoundExpr digits = c.Count == 2 ? c.Integer(1) : new Literal(0, DataType.Int);
        if (IsInteger(t))
            return Binder.CastIfNeeded(c.Call(M(TruncateLong), DataType.BigInt, Binder.CastIfNeeded(x, DataType.BigInt), digits), t with { Nullable = true });
        if (t.Kind == TypeKind.Decimal)
        {
            int p = t.Precision, s = t.Scale;
            var literal = c.Count == 2 ? c.LiteralValue(1) : 0;
            if (literal is null) return new Literal(null, t with { Nullable = true });
            int r = literal as int? ?? throw c.FailAt(1, "TRUNCATE of a DECIMAL needs a literal number of digits");
            var (rp, rs) = r >= s ? (p, s) : r < 0 ? (Math.Min(38, 1 + p - s), 0) : (1 + p - s + r, r);
            var result = DataType.Decimal(rp, rs);
            return c.Call(typeof(SqlCasts).GetMethod(nameof(SqlCasts.ToDecimal))!, result, c.Call(M(TruncateDecimal), result, x, digits),
                new Literal(rp, DataType.Int), new Literal(rs, DataType.Int));
        }
        return Binder.CastIfNeeded(c.Call(M(TruncateDouble), DataType.Double, c.Double(0), digits), t with { Nullable = true });
    }

    public static sbyte? AbsTinyInt(sbyte? x) => x is { } v ? unchecked((sbyte)(v < 0 ? -v : v)) : null;
    public static short? AbsSmallInt(short? x) => x is { } v ? unchecked((short)(v < 0 ? -v : v)) : null;
    public static int? AbsInt(int? x) => x is { } v ? unchecked(v < 0 ? -v : v) : null;
    public static long? AbsBigInt(long? x) => x is { } v ? unchecked(v < 0 ? -v : v) : null;
    public static decimal? AbsDecimal(decimal? x) => x is { } v ? Math.Abs(v) : null;
    public static float? AbsFloat(float? x) => x is { } v ? Math.Abs(v) : null;
    public static double? AbsDouble(double? x) => x is { } v ? Math.Abs(v) : null;
    public static double? Sqrt(double? x) => x is { } v ? Math.Sqrt(v) : null;
    public static double? Ln(double? x) => x is { } v ? Math.Log(v) : null;
    public static double? Log10(double? x) => x is { } v ? Math.Log10(v) : null;
    public static double? Log2(double? x) => x is { } v ? Math.Log(v) / Math.Log(2) : null;
    public static double? Log(double? b, double? x) => b is { } bv && x is { } xv ? Math.Log(xv) / Math.Log(bv) : null;
    public static double? Exp(double? x) => x is { } v ? Math.Exp(v) : null;
    public static double? Sin(double? x) => x is { } v ? Math.Sin(v) : null;
    public static double? Sinh(double? x) => x is { } v ? Math.Sinh(v) : null;
    public static double? Cos(double? x) => x is { } v ? Math.Cos(v) : null;
    public static double? Cosh(double? x) => x is { } v ? Math.Cosh(v) : null;
    public static double? Tan(double? x) => x is { } v ? Math.Tan(v) : null;
    public static double? Tanh(double? x) => x is { } v ? Math.Tanh(v) : null;
    public static double? Cot(double? x) => x is { } v ? 1.0 / Math.Tan(v) : null;
    public static double? Asin(double? x) => x is { } v ? Math.Asin(v) : null;
    public static double? Acos(double? x) => x is { } v ? Math.Acos(v) : null;
    public static double? Atan(double? x) => x is { } v ? Math.Atan(v) : null;
    public static double? Atan2(double? y, double? x) => y is { } a && x is { } b ? Math.Atan2(a, b) : null;
    public static double? Degrees(double? x) => x is { } v ? v * (180.0 / Math.PI) : null;
    public static double? Radians(double? x) => x is { } v ? v * (Math.PI / 180.0) : null;
    public static double? Power(double? x, double? y) => x is { } a && y is { } b ? Math.Pow(a, b) : null;
    public static double? Sign(double? x) => x is { } v ? (double.IsNaN(v) ? v : Math.Sign(v)) : null;
    public static long? SignLong(long? x) => x is { } v ? Math.Sign(v) : null;
    public static decimal? SignDecimal(decimal? x) => x is { } v ? Math.Sign(v) : null;
    public static double? Floor(double? x) => x is { } v ? Math.Floor(v) : null;
    public static double? Ceil(double? x) => x is { } v ? Math.Ceiling(v) : null;
    public static decimal? FloorDecimal(decimal? x) => x is { } v ? Math.Floor(v) : null;
    public static decimal? CeilDecimal(decimal? x) => x is { } v ? Math.Ceiling(v) : null;
    public static double Rand() => Random.Shared.NextDouble();
    public static int? RandInteger(int? bound) => bound is { } b ? Random.Shared.Next(b) : null;
    /// <summary>
    /// Flink's UNHEX: pairs of hexadecimal digits to bytes; with an odd length the first digit is dropped and the result
    /// starts with a zero byte; NULL when a character is not a hexadecimal digit.
    /// </summary>
    public static byte[]? Unhex(string? s)
    {
        if (s is null) return null;
        var bytes = new byte[(s.Length + 1) / 2];
        int j = bytes.Length - 1;
        for (int i = s.Length - 2; i >= 0; i -= 2, j--)
        {
            int high = HexDigit(s[i]), low = HexDigit(s[i + 1]);
            if (high < 0 || low < 0) return null;
            bytes[j] = (byte)(high << 4 | low);
        }
        if (s.Length % 2 == 1 && HexDigit(s[0]) < 0) return null;
        return bytes;
    }

    private static int HexDigit(char ch) => ch switch
    {
        >= '0' and <= '9' => ch - '0',
        >= 'a' and <= 'f' => ch - 'a' + 10,
        >= 'A' and <= 'F' => ch - 'A' + 10,
        _ => -1,
    };

    public static string Uuid() => Guid.NewGuid().ToString();
    public static string? Bin(long? x) => x is { } v ? Convert.ToString(v, 2) : null;
    public static string? Hex(long? x) => x is { } v ? v.ToString("X", CultureInfo.InvariantCulture) : null;
    public static string? HexString(string? s) => s is null ? null : Convert.ToHexString(System.Text.Encoding.UTF8.GetBytes(s));

    public static long? TruncateLong(long? x, int? digits)
    {
        if (x is not { } v || digits is not { } d) return null;
        if (d >= 0) return v;
        if (d <= -19) return 0;
        long unit = 1;
        for (int i = 0; i < -d; i++) unit *= 10;
        return v / unit * unit;
    }

    public static decimal? TruncateDecimal(decimal? x, int? digits)
    {
        if (x is not { } v || digits is not { } d) return null;
        if (d >= 0) return d > 28 ? v : Math.Round(v, d, MidpointRounding.ToZero);
        decimal unit = 1;
        for (int i = 0; i < -d && i < 28; i++) unit *= 10;
        return Math.Truncate(v / unit) * unit;
    }

    /// <summary>As Flink's struncate(double, int): through BigDecimal.valueOf (the shortest decimal of the double).</summary>
    public static double? TruncateDouble(double? x, int? digits)
    {
        if (x is not { } v || digits is not { } d) return null;
        if (double.IsNaN(v) || double.IsInfinity(v)) return v;
        if (!decimal.TryParse(v.ToString("R", CultureInfo.InvariantCulture), NumberStyles.Float, CultureInfo.InvariantCulture, out var m))
            throw new OverflowException($"TRUNCATE of {v} is outside the range Eddy computes exactly");
        return (double)TruncateDecimal(m, d)!.Value;
    }
}
