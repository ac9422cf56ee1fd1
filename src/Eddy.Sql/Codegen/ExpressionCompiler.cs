using System.Linq.Expressions;
using System.Reflection;
using Eddy.Sql.Planning;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Codegen;

/// <summary>Evaluates a projection (and optional filter) of one input row into an output row; false: filtered out.</summary>
public delegate bool RowFunction<TIn, TOut>(ref TIn input, out TOut output, long now);

/// <summary>
/// Compiles bound expressions into .NET delegates through LINQ expression trees: one delegate per query operator,
/// reading and writing row-struct fields directly. Inside, every SQL value is its CLR type made nullable
/// (<c>long?</c>, <c>string</c>, <c>DateTime?</c>), so that NULL propagates as SQL says.
/// </summary>
public static class ExpressionCompiler
{
    public static Type ValueType(DataType type)
    {
        var clr = type.ClrType;
        return clr.IsValueType ? typeof(Nullable<>).MakeGenericType(clr) : clr;
    }

    /// <summary>Compiles <c>SELECT projections FROM input WHERE filter</c> for row types <typeparamref name="TIn"/>/<typeparamref name="TOut"/>.</summary>
    public static RowFunction<TIn, TOut> CompileRowFunction<TIn, TOut>(
        IReadOnlyList<BoundExpr> projections, BoundExpr? filter, Schema outputSchema)
    {
        var input = LinqExpr.Parameter(typeof(TIn).MakeByRefType(), "input");
        var output = LinqExpr.Parameter(typeof(TOut).MakeByRefType(), "output");
        var now = LinqExpr.Parameter(typeof(long), "now");
        var ctx = new Context(input, now);
        var body = new List<LinqExpr> { LinqExpr.Assign(output, LinqExpr.Default(typeof(TOut))) };
        var returnLabel = LinqExpr.Label(typeof(bool));
        if (filter is not null)
        {
            var test = IsTrue(Compile(filter, ctx));
            body.Add(LinqExpr.IfThen(LinqExpr.Not(test), LinqExpr.Return(returnLabel, LinqExpr.Constant(false))));
        }
        for (int i = 0; i < projections.Count; i++)
        {
            var field = RowTypes.FieldOf(typeof(TOut), i);
            body.Add(LinqExpr.Assign(LinqExpr.Field(output, field), ToField(Compile(projections[i], ctx), field.FieldType, outputSchema[i].Name)));
        }
        body.Add(LinqExpr.Label(returnLabel, LinqExpr.Constant(true)));
        return LinqExpr.Lambda<RowFunction<TIn, TOut>>(LinqExpr.Block(body), input, output, now).Compile();
    }

    /// <summary>Compiles one expression as a function of a row (keys, timestamps, aggregate arguments).</summary>
    public static Func<TIn, TResult> CompileScalar<TIn, TResult>(BoundExpr expr, string name)
    {
        var input = LinqExpr.Parameter(typeof(TIn), "input");
        var now = LinqExpr.Constant(0L);
        var ctx = new Context(input, now);
        return LinqExpr.Lambda<Func<TIn, TResult>>(ToField(Compile(expr, ctx), typeof(TResult), name), input).Compile();
    }

    private sealed record Context(LinqExpr Row, LinqExpr Now);

    /// <summary>Converts a value in its nullable representation to a field's type (failing on NULL into NOT NULL).</summary>
    private static LinqExpr ToField(LinqExpr value, Type fieldType, string column)
    {
        if (value.Type == fieldType) return value;
        if (Nullable.GetUnderlyingType(value.Type) is { } under && under == fieldType)
        {
            var notNull = typeof(SqlOps).GetMethod(nameof(SqlOps.NotNull))!.MakeGenericMethod(fieldType);
            return LinqExpr.Call(notNull, value, LinqExpr.Constant(column));
        }
        return LinqExpr.Convert(value, fieldType);
    }

    private static LinqExpr IsTrue(LinqExpr boolValue) =>
        boolValue.Type == typeof(bool) ? boolValue : LinqExpr.Equal(boolValue, LinqExpr.Constant(true, typeof(bool?)));

    public static LinqExpr Compile(BoundExpr e, LinqExpr row) => Compile(e, new Context(row, LinqExpr.Constant(0L)));

    private static LinqExpr Compile(BoundExpr e, Context ctx)
    {
        var type = ValueType(e.Type);
        switch (e)
        {
            case InputRef c:
            {
                var field = LinqExpr.Field(ctx.Row, RowTypes.FieldOf(ctx.Row.Type, c.Index));
                return field.Type == type ? field : LinqExpr.Convert(field, type);
            }
            case Literal l:
                return LinqExpr.Constant(l.Value is null ? null : ConvertLiteral(l.Value, e.Type.ClrType), type);
            case Binary b:
                return CompileBinary(b, ctx, type);
            case Unary u:
                return CompileUnary(u, ctx);
            case Cast c:
                return CompileCast(Compile(c.Operand, ctx), c.Operand.Type, c.Type, c.Try);
            case CaseWhen cw:
            {
                LinqExpr result = cw.Else is null ? LinqExpr.Constant(null, type) : Coerce(Compile(cw.Else, ctx), type);
                for (int i = cw.Branches.Count - 1; i >= 0; i--)
                {
                    var (when, then) = cw.Branches[i];
                    result = LinqExpr.Condition(IsTrue(Compile(when, ctx)), Coerce(Compile(then, ctx), type), result);
                }
                return result;
            }
            case Call call:
            {
                var parameters = call.Method.GetParameters();
                var args = new LinqExpr[parameters.Length];
                for (int i = 0; i < parameters.Length; i++)
                {
                    var pt = parameters[i].ParameterType;
                    if (pt.IsArray && parameters[i].IsDefined(typeof(ParamArrayAttribute)))
                    {
                        var rest = call.Args.Skip(i).Select(a => Coerce(Compile(a, ctx), pt.GetElementType()!));
                        args[i] = LinqExpr.NewArrayInit(pt.GetElementType()!, rest);
                        break;
                    }
                    args[i] = i < call.Args.Count
                        ? Coerce(Compile(call.Args[i], ctx), pt)
                        : LinqExpr.Constant(parameters[i].DefaultValue, pt);
                }
                return Coerce(LinqExpr.Call(call.Method, args), type);
            }
            case UserCall user:
            {
                var parameters = user.Method.GetParameters();
                var args = parameters.Select((p, i) => Coerce(Compile(user.Args[i], ctx), p.ParameterType)).ToArray();
                LinqExpr invoke = user.Method.IsStatic
                    ? LinqExpr.Call(user.Method, args)
                    : LinqExpr.Call(LinqExpr.Constant(user.Target, user.Method.DeclaringType!), user.Method, args);
                return Coerce(invoke, type);
            }
            case InList inList:
            {
                var value = Compile(inList.Value, ctx);
                var set = Activator.CreateInstance(typeof(HashSet<>).MakeGenericType(value.Type))!;
                var add = set.GetType().GetMethod("Add")!;
                foreach (var item in inList.Items.OfType<Literal>())
                    if (item.Value is not null) add.Invoke(set, [ConvertLiteral(item.Value, inList.Value.Type.ClrType)]);
                var contains = LinqExpr.Call(LinqExpr.Constant(set), set.GetType().GetMethod("Contains")!, value);
                LinqExpr test = inList.Negated ? LinqExpr.Not(contains) : contains;
                return LinqExpr.Condition(IsNullTest(value), LinqExpr.Constant(null, typeof(bool?)), LinqExpr.Convert(test, typeof(bool?)));
            }
            case Coalesce co:
            {
                LinqExpr result = Coerce(Compile(co.Args[^1], ctx), type);
                for (int i = co.Args.Count - 2; i >= 0; i--) result = LinqExpr.Coalesce(Coerce(Compile(co.Args[i], ctx), type), result);
                return result;
            }
            case CurrentTime ct:
            {
                var ltz = LinqExpr.Call(typeof(DateTimeOffset).GetMethod(nameof(DateTimeOffset.FromUnixTimeMilliseconds))!, ctx.Now);
                LinqExpr value = ct.Type.Kind == TypeKind.TimestampLtz
                    ? ltz
                    : LinqExpr.Call(typeof(SqlCasts).GetMethod(nameof(SqlCasts.LtzToTimestamp))!, LinqExpr.Convert(ltz, typeof(DateTimeOffset?)));
                return Coerce(value, type);
            }
            default:
                throw new NotSupportedException($"cannot compile {e.GetType().Name}");
        }
    }

    private static object ConvertLiteral(object value, Type clr)
    {
        if (value.GetType() == clr || clr == typeof(object) || clr.IsInstanceOfType(value)) return value;
        return Convert.ChangeType(value, clr, System.Globalization.CultureInfo.InvariantCulture);
    }

    private static LinqExpr Coerce(LinqExpr value, Type target)
    {
        if (value.Type == target) return value;
        if (!target.IsValueType || Nullable.GetUnderlyingType(target) is not null || value.Type.IsValueType)
            return LinqExpr.Convert(value, target);
        return LinqExpr.Convert(value, target);
    }

    private static LinqExpr IsNullTest(LinqExpr value) =>
        value.Type.IsValueType && Nullable.GetUnderlyingType(value.Type) is null
            ? LinqExpr.Constant(false)
            : LinqExpr.Equal(value, LinqExpr.Constant(null, value.Type));

    private static LinqExpr CompileBinary(Binary b, Context ctx, Type type)
    {
        var l = Compile(b.Left, ctx);
        var r = Compile(b.Right, ctx);
        switch (b.Op)
        {
            case BinaryOp.And:
                return LinqExpr.AndAlso(Coerce(l, typeof(bool?)), Coerce(r, typeof(bool?)));
            case BinaryOp.Or:
                return LinqExpr.OrElse(Coerce(l, typeof(bool?)), Coerce(r, typeof(bool?)));
        }
        if (b.Op is BinaryOp.Add or BinaryOp.Subtract or BinaryOp.Multiply or BinaryOp.Divide or BinaryOp.Modulo)
        {
            l = Coerce(l, type);
            r = Coerce(r, type);
            return b.Op switch
            {
                BinaryOp.Add => LinqExpr.Add(l, r),
                BinaryOp.Subtract => LinqExpr.Subtract(l, r),
                BinaryOp.Multiply => LinqExpr.Multiply(l, r),
                BinaryOp.Divide => LinqExpr.Divide(l, r),
                _ => LinqExpr.Modulo(l, r),
            };
        }
        // Comparisons: strings ordinal, everything else lifted to bool? (NULL when either side is NULL).
        if (l.Type == typeof(string) || r.Type == typeof(string))
        {
            if (b.Op is BinaryOp.Equal or BinaryOp.NotEqual)
            {
                LinqExpr eq = LinqExpr.Call(typeof(SqlOps).GetMethod(nameof(SqlOps.StringEquals))!, Coerce(l, typeof(string)), Coerce(r, typeof(string)));
                return b.Op == BinaryOp.Equal ? eq : LinqExpr.Not(eq);
            }
            l = LinqExpr.Call(typeof(SqlOps).GetMethod(nameof(SqlOps.CompareStrings))!, Coerce(l, typeof(string)), Coerce(r, typeof(string)));
            r = LinqExpr.Constant(0, typeof(int?));
        }
        else if (l.Type != r.Type)
        {
            r = Coerce(r, l.Type);
        }
        return b.Op switch
        {
            BinaryOp.Equal => LinqExpr.Equal(l, r, true, null),
            BinaryOp.NotEqual => LinqExpr.NotEqual(l, r, true, null),
            BinaryOp.Less => LinqExpr.LessThan(l, r, true, null),
            BinaryOp.LessOrEqual => LinqExpr.LessThanOrEqual(l, r, true, null),
            BinaryOp.Greater => LinqExpr.GreaterThan(l, r, true, null),
            _ => LinqExpr.GreaterThanOrEqual(l, r, true, null),
        };
    }

    private static LinqExpr CompileUnary(Unary u, Context ctx)
    {
        var v = Compile(u.Operand, ctx);
        return u.Op switch
        {
            UnaryOp.Not => LinqExpr.Not(Coerce(v, typeof(bool?))),
            UnaryOp.Negate => LinqExpr.Negate(v),
            UnaryOp.IsNull => LinqExpr.Convert(IsNullTest(v), typeof(bool?)),
            UnaryOp.IsNotNull => LinqExpr.Convert(LinqExpr.Not(IsNullTest(v)), typeof(bool?)),
            UnaryOp.IsTrue => LinqExpr.Convert(LinqExpr.Equal(Coerce(v, typeof(bool?)), LinqExpr.Constant(true, typeof(bool?))), typeof(bool?)),
            UnaryOp.IsNotTrue => LinqExpr.Convert(LinqExpr.NotEqual(Coerce(v, typeof(bool?)), LinqExpr.Constant(true, typeof(bool?))), typeof(bool?)),
            UnaryOp.IsFalse => LinqExpr.Convert(LinqExpr.Equal(Coerce(v, typeof(bool?)), LinqExpr.Constant(false, typeof(bool?))), typeof(bool?)),
            _ => LinqExpr.Convert(LinqExpr.NotEqual(Coerce(v, typeof(bool?)), LinqExpr.Constant(false, typeof(bool?))), typeof(bool?)),
        };
    }

    private static LinqExpr CompileCast(LinqExpr value, DataType from, DataType to, bool tryCast)
    {
        var target = ValueType(to);
        if (value.Type == target) return value;
        var tryArg = LinqExpr.Constant(tryCast);
        MethodInfo Cast(string name) => typeof(SqlCasts).GetMethod(name)!;
        if (from.Kind is TypeKind.String or TypeKind.Char)
        {
            return to.Kind switch
            {
                TypeKind.String or TypeKind.Char => value,
                TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int or TypeKind.BigInt =>
                    LinqExpr.Convert(LinqExpr.Call(Cast(nameof(SqlCasts.StringToLong)), value, tryArg, LinqExpr.Constant(to.ToString())), target),
                TypeKind.Float or TypeKind.Double =>
                    LinqExpr.Convert(LinqExpr.Call(Cast(nameof(SqlCasts.StringToDouble)), value, tryArg, LinqExpr.Constant(to.ToString())), target),
                TypeKind.Decimal => LinqExpr.Call(Cast(nameof(SqlCasts.StringToDecimal)), value, tryArg),
                TypeKind.Boolean => LinqExpr.Call(Cast(nameof(SqlCasts.StringToBoolean)), value, tryArg),
                TypeKind.Timestamp => LinqExpr.Call(Cast(nameof(SqlCasts.StringToTimestamp)), value, tryArg),
                TypeKind.TimestampLtz => LinqExpr.Call(Cast(nameof(SqlCasts.TimestampToLtz)),
                    LinqExpr.Call(Cast(nameof(SqlCasts.StringToTimestamp)), value, tryArg)),
                TypeKind.Date => LinqExpr.Call(Cast(nameof(SqlCasts.StringToDate)), value, tryArg),
                TypeKind.Time => LinqExpr.Call(Cast(nameof(SqlCasts.StringToTime)), value, tryArg),
                _ => throw new NotSupportedException($"CAST from {from} to {to}"),
            };
        }
        if (to.Kind is TypeKind.String or TypeKind.Char)
        {
            return LinqExpr.Call(typeof(SqlOps).GetMethod(nameof(SqlOps.ToSqlString))!, LinqExpr.Convert(value, typeof(object)));
        }
        return (from.Kind, to.Kind) switch
        {
            (TypeKind.TimestampLtz, TypeKind.Timestamp) => LinqExpr.Call(Cast(nameof(SqlCasts.LtzToTimestamp)), value),
            (TypeKind.Timestamp, TypeKind.TimestampLtz) => LinqExpr.Call(Cast(nameof(SqlCasts.TimestampToLtz)), value),
            (TypeKind.Timestamp, TypeKind.Date) => LinqExpr.Call(Cast(nameof(SqlCasts.TimestampToDate)), value),
            (TypeKind.Date, TypeKind.Timestamp) => LinqExpr.Call(Cast(nameof(SqlCasts.DateToTimestamp)), value),
            _ when from.IsNumeric && to.IsNumeric => LinqExpr.Convert(value, target),
            (TypeKind.Boolean, _) when to.IsNumeric => LinqExpr.Condition(
                LinqExpr.Equal(value, LinqExpr.Constant(null, value.Type)), LinqExpr.Constant(null, target),
                LinqExpr.Condition(LinqExpr.Convert(value, typeof(bool)), LinqExpr.Convert(LinqExpr.Constant(1), target), LinqExpr.Convert(LinqExpr.Constant(0), target))),
            _ => throw new NotSupportedException($"CAST from {from} to {to} is not supported"),
        };
    }
}
