using System.Linq.Expressions;
using System.Reflection;
using Eddy.Sql.Planning;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Codegen;

/// <summary>Evaluates a projection (and optional filter) of one input row into an output row; false: filtered out.</summary>
public delegate bool RowFunction<TIn, TOut>(ref TIn input, out TOut output, long now);

/// <summary>Filter and projection of <paramref name="count"/> input rows into <paramref name="output"/>, compacted; returns the rows kept.</summary>
public delegate int BatchFunction<TIn, TOut>(TIn[] input, int count, TOut[] output, int[] selected, long now, long watermark);

/// <summary>
/// Converts <paramref name="count"/> input rows (with their source timestamps) into <paramref name="output"/> from
/// <paramref name="start"/> on, with their event times; may drop rows (a fused filter): returns how many it wrote,
/// and the input index of each in <paramref name="selected"/>.
/// </summary>
public delegate int ConvertBatch<TIn, TOut>(TIn[] input, long[] inTimestamps, int count, TOut[] output, long[] timestamps, int start, long now, int[] selected);

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
            var test = IsTrue(CompileRaw(filter, ctx));
            body.Add(LinqExpr.IfThen(LinqExpr.Not(test), LinqExpr.Return(returnLabel, LinqExpr.Constant(false))));
        }
        for (int i = 0; i < projections.Count; i++)
        {
            var field = RowTypes.FieldOf(typeof(TOut), i);
            body.Add(LinqExpr.Assign(LinqExpr.Field(output, field), ToField(CompileRaw(projections[i], ctx), field.FieldType, outputSchema[i].Name)));
        }
        body.Add(LinqExpr.Label(returnLabel, LinqExpr.Constant(true)));
        return LinqExpr.Lambda<RowFunction<TIn, TOut>>(LinqExpr.Block(body), input, output, now).Compile();
    }

    /// <summary>
    /// Compiles <c>SELECT projections FROM input WHERE filter</c> over a whole batch: one loop whose body is the
    /// filter and the projections inlined, reading <c>input[i]</c> and writing the kept rows compacted to
    /// <c>output[kept]</c>, with <c>selected[kept] = i</c> (so the caller can carry timestamps and row kinds).
    /// One delegate call per batch instead of one per record. Returns the number of rows kept.
    /// </summary>
    public static Compiled<BatchFunction<TIn, TOut>> CompileBatchFunction<TIn, TOut>(
        IReadOnlyList<BoundExpr> projections, BoundExpr? filter, Schema outputSchema)
    {
        var input = LinqExpr.Parameter(typeof(TIn[]), "input");
        var count = LinqExpr.Parameter(typeof(int), "count");
        var output = LinqExpr.Parameter(typeof(TOut[]), "output");
        var selected = LinqExpr.Parameter(typeof(int[]), "selected");
        var now = LinqExpr.Parameter(typeof(long), "now");
        var watermark = LinqExpr.Parameter(typeof(long), "watermark");
        var i = LinqExpr.Variable(typeof(int), "i");
        var kept = LinqExpr.Variable(typeof(int), "kept");
        // Array element accesses compile to ldelema when a field is read or written: no struct copies.
        var row = LinqExpr.ArrayAccess(input, i);
        var target = LinqExpr.ArrayAccess(output, kept);
        var ctx = new Context(row, now) { Watermark = watermark };
        var next = LinqExpr.Label("next");
        var done = LinqExpr.Label("done");
        var body = new List<LinqExpr>();
        if (filter is not null) body.Add(LinqExpr.IfThen(LinqExpr.Not(IsTrue(CompileRaw(filter, ctx))), LinqExpr.Continue(next)));
        // Every field of the output struct is a projection, so the slot needs no clearing first.
        for (int c = 0; c < projections.Count; c++)
        {
            var field = RowTypes.FieldOf(typeof(TOut), c);
            body.Add(LinqExpr.Assign(LinqExpr.Field(target, field), ToField(CompileRaw(projections[c], ctx), field.FieldType, outputSchema[c].Name)));
        }
        body.Add(LinqExpr.Assign(LinqExpr.ArrayAccess(selected, kept), i));
        body.Add(LinqExpr.PreIncrementAssign(kept));
        var loop = RowLoop([], i, kept, count, body, next, done);
        return new(LinqExpr.Lambda<BatchFunction<TIn, TOut>>(LinqExpr.Block([i, kept], loop), input, count, output, selected, now, watermark));
    }

    /// <summary>
    /// Compiles a scan's per-batch conversion: for each <c>input[i]</c> (first turned by <paramref name="decode"/>
    /// into the struct the projections read, for generic rows), the scan's projections (computed columns), the event
    /// time from column <paramref name="rowtime"/> (a NULL rowtime fails naming <paramref name="rowtimeName"/>;
    /// without one the source timestamp is kept), then, when <paramref name="calc"/> is given, the filter and
    /// projections of the query right above the scan, on the scan row held in a local. Kept rows are written
    /// compacted from <c>output[start]</c>, their event times to <c>timestamps</c>, their input index to
    /// <c>selected</c>. The conversion, computed columns, event time and a following Calc cost one inlined loop body
    /// per record and no intermediate batch. <paramref name="readers"/>: see <c>needed</c> below.
    /// </summary>
    /// <summary>
    /// <c>for (i = 0, kept = 0; i &lt; count; i++) { body; next: }</c>, returning kept: the skeleton of every generated
    /// per-batch function (a filtered-out row jumps to <paramref name="next"/>).
    /// </summary>
    private static BlockExpression RowLoop(IEnumerable<ParameterExpression> variables, ParameterExpression i, ParameterExpression kept,
        LinqExpr count, List<LinqExpr> body, LabelTarget next, LabelTarget done) =>
        LinqExpr.Block(variables,
            LinqExpr.Assign(i, LinqExpr.Constant(0)),
            LinqExpr.Assign(kept, LinqExpr.Constant(0)),
            LinqExpr.Loop(
                LinqExpr.Block(
                    LinqExpr.IfThen(LinqExpr.GreaterThanOrEqual(i, count), LinqExpr.Break(done)),
                    LinqExpr.Block(body),
                    LinqExpr.Label(next),
                    LinqExpr.PreIncrementAssign(i)),
                done),
            kept);

    public static Compiled<ConvertBatch<TIn, TOut>> CompileConvertBatch<TIn, TDecoded, TScan, TOut>(
        IReadOnlyList<BoundExpr>? projections, Schema scanSchema, Func<TIn, TDecoded>? decode, int? rowtime, string rowtimeName,
        Func<LinqExpr, string, LinqExpr> toEventTime,
        (IReadOnlyList<BoundExpr> Projections, BoundExpr? Filter, Schema Schema)? calc = null, IReadOnlyList<BoundExpr>? readers = null,
        BoundExpr? rowtimeOverInput = null)
    {
        var input = LinqExpr.Parameter(typeof(TIn[]), "input");
        var inTimestamps = LinqExpr.Parameter(typeof(long[]), "inTimestamps");
        var count = LinqExpr.Parameter(typeof(int), "count");
        var output = LinqExpr.Parameter(typeof(TOut[]), "output");
        var timestamps = LinqExpr.Parameter(typeof(long[]), "timestamps");
        var start = LinqExpr.Parameter(typeof(int), "start");
        var now = LinqExpr.Parameter(typeof(long), "now");
        var selected = LinqExpr.Parameter(typeof(int[]), "selected");
        var i = LinqExpr.Variable(typeof(int), "i");
        var kept = LinqExpr.Variable(typeof(int), "kept");
        var o = LinqExpr.Variable(typeof(int), "o");
        var variables = new List<ParameterExpression> { i, kept, o };
        LinqExpr row = LinqExpr.ArrayAccess(input, i);
        var body = new List<LinqExpr> { LinqExpr.Assign(o, LinqExpr.Add(start, kept)) };
        if (decode is not null)
        {
            var decoded = LinqExpr.Variable(typeof(TDecoded), "decoded");
            variables.Add(decoded);
            body.Add(LinqExpr.Assign(decoded, LinqExpr.Invoke(LinqExpr.Constant(decode), row)));
            row = decoded;
        }
        // The scan row: straight into the output slot, or (with a Calc above) into a local the Calc reads.
        LinqExpr scanRow;
        if (calc is null)
        {
            scanRow = LinqExpr.ArrayAccess(output, o);
        }
        else
        {
            var local = LinqExpr.Variable(typeof(TScan), "scanRow");
            variables.Add(local);
            scanRow = local;
        }
        // TO_TIMESTAMP_LTZ(epoch_ms, 3) of a NOT NULL column as rowtime: the event time is the column itself.
        var rowCtx = new Context(row, now);
        // With a Calc and readers, the readers read the Calc's output: the Calc computes only what they read.
        bool[]? calcNeeded = calc is { } cr && readers is not null ? ReferencedColumns(cr.Projections.Count, readers, null) : null;
        // (rowtimeOverInput: the rowtime's expression over the input row, when the scan row does not hold it.)
        var rowtimeExpr = rowtimeOverInput ?? (rowtime is { } rti && projections is not null ? projections[rti] : null);
        LinqExpr? directTime = rowtimeExpr is Call { Method.Name: nameof(Functions.SqlFunctions.ToTimestampLtz), Args: [var epoch, Literal { Value: 3 }] }
            && TryPlain(epoch, rowCtx) is { } plainEpoch && plainEpoch.Type == typeof(long) ? plainEpoch : null;
        if (directTime is null && rowtimeOverInput is not null) directTime = toEventTime(CompileRaw(rowtimeOverInput, rowCtx), rowtimeName);
        if (projections is null)
        {
            body.Add(LinqExpr.Assign(scanRow, row));
        }
        else
        {
            // With a Calc fused above, the scan row is a local: only the columns the Calc reads (and the rowtime, unless
            // read directly above) are computed.
            // Without a Calc, <paramref name="readers"/> (when given) are all the expressions the scan's only consumer
            // reads: the other columns stay at their default.
            bool[]? needed = calc is { } cq ? ReferencedColumns(projections.Count, cq.Projections.Where((_, c) => calcNeeded?[c] ?? true).ToList(), cq.Filter)
                : readers is not null ? ReferencedColumns(projections.Count, readers, null) : null;
            if (needed is not null && rowtime is { } rtn && directTime is null) needed[rtn] = true;
            for (int c = 0; c < projections.Count; c++)
            {
                if (needed is not null && !needed[c]) continue;
                var field = RowTypes.FieldOf(typeof(TScan), c);
                body.Add(LinqExpr.Assign(LinqExpr.Field(scanRow, field), ToField(CompileRaw(projections[c], rowCtx), field.FieldType, scanSchema[c].Name)));
            }
        }
        // Event time before the filter: a NULL rowtime fails even on a row the query drops, as without the fusion.
        var ts = LinqExpr.Variable(typeof(long), "ts");
        variables.Add(ts);
        body.Add(LinqExpr.Assign(ts, directTime ?? (rowtime is { } rt
            ? toEventTime(LinqExpr.Field(scanRow, RowTypes.FieldOf(typeof(TScan), rt)), rowtimeName)
            : LinqExpr.ArrayIndex(inTimestamps, i))));
        var next = LinqExpr.Label("next");
        if (calc is { } q)
        {
            var ctx = new Context(scanRow, now);
            if (q.Filter is not null) body.Add(LinqExpr.IfThen(LinqExpr.Not(IsTrue(CompileRaw(q.Filter, ctx))), LinqExpr.Continue(next)));
            var target = LinqExpr.ArrayAccess(output, o);
            for (int c = 0; c < q.Projections.Count; c++)
            {
                if (calcNeeded is not null && !calcNeeded[c]) continue;
                var field = RowTypes.FieldOf(typeof(TOut), c);
                body.Add(LinqExpr.Assign(LinqExpr.Field(target, field), ToField(CompileRaw(q.Projections[c], ctx), field.FieldType, q.Schema[c].Name)));
            }
        }
        body.Add(LinqExpr.Assign(LinqExpr.ArrayAccess(timestamps, o), ts));
        body.Add(LinqExpr.Assign(LinqExpr.ArrayAccess(selected, kept), i));
        body.Add(LinqExpr.PreIncrementAssign(kept));
        var loop = RowLoop(variables, i, kept, count, body, next, LinqExpr.Label("done"));
        return new(LinqExpr.Lambda<ConvertBatch<TIn, TOut>>(loop, input, inTimestamps, count, output, timestamps, start, now, selected));
    }

    /// <summary>Which input columns the expressions read; all of them when some expression kind is not known here.</summary>
    public static bool[] ReferencedColumns(int columns, IReadOnlyList<BoundExpr> expressions, BoundExpr? filter)
    {
        var used = new bool[columns];
        bool known = true;
        void Visit(BoundExpr e)
        {
            DeepStack.Ensure();
            switch (e)
            {
                case InputRef r: used[r.Index] = true; break;
                case Literal or CurrentTime or CurrentWatermark or IntervalExpr: break;
                case Binary b: Visit(b.Left); Visit(b.Right); break;
                case Unary u: Visit(u.Operand); break;
                case Cast c: Visit(c.Operand); break;
                case CaseWhen cw:
                    foreach (var (w, t) in cw.Branches) { Visit(w); Visit(t); }
                    if (cw.Else is not null) Visit(cw.Else);
                    break;
                case Call c: foreach (var a in c.Args) Visit(a); break;
                case UserCall c: foreach (var a in c.Args) Visit(a); break;
                case InList l: Visit(l.Value); foreach (var a in l.Items) Visit(a); break;
                case Coalesce co: foreach (var a in co.Args) Visit(a); break;
                default: known = false; break;
            }
        }
        foreach (var e in expressions) Visit(e);
        if (filter is not null) Visit(filter);
        if (!known) Array.Fill(used, true);
        return used;
    }

    /// <summary>Compiles one expression as a function of a row (keys, timestamps, aggregate arguments).</summary>
    public static Func<TIn, TResult> CompileScalar<TIn, TResult>(BoundExpr expr, string name)
    {
        var input = LinqExpr.Parameter(typeof(TIn), "input");
        var now = LinqExpr.Constant(0L);
        var ctx = new Context(input, now);
        return LinqExpr.Lambda<Func<TIn, TResult>>(ToField(Compile(expr, ctx), typeof(TResult), name), input).Compile();
    }

    /// <summary>
    /// What compiled code reads besides the row: processing time, and the operator's current watermark where the code
    /// runs in an operator that passes it (a Calc); null elsewhere, where CURRENT_WATERMARK is refused by the binder.
    /// </summary>
    private sealed record Context(LinqExpr Row, LinqExpr Now)
    {
        public LinqExpr? Watermark { get; init; }
    }

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

    /// <summary>
    /// Compiles <paramref name="e"/> as a plain CLR value (<c>int</c>, <c>bool</c>) when it can never be NULL, else in
    /// its nullable representation: callers that convert to a field or key type anyway skip the
    /// <see cref="Nullable{T}"/> round trip.
    /// </summary>
    public static LinqExpr CompileRaw(BoundExpr e, LinqExpr row)
    {
        var ctx = new Context(row, LinqExpr.Constant(0L));
        return TryPlain(e, ctx) ?? Compile(e, ctx);
    }

    /// <summary>Compiles <paramref name="e"/> over <paramref name="row"/> as a value of a field of type <paramref name="fieldType"/> (failing on NULL into NOT NULL).</summary>
    public static LinqExpr CompileField(BoundExpr e, LinqExpr row, Type fieldType, string column) =>
        ToField(CompileRaw(e, row), fieldType, column);

    private static LinqExpr CompileRaw(BoundExpr e, Context ctx) => TryPlain(e, ctx) ?? Compile(e, ctx);

    /// <summary>Value types whose operators LINQ compiles to IL instructions (or a known static operator).</summary>
    private static bool IsPlainScalar(Type t) =>
        t.IsPrimitive || t == typeof(decimal) || t == typeof(DateTime) || t == typeof(DateTimeOffset) || t == typeof(TimeSpan);

    /// <summary>
    /// The NOT NULL fast path: a subtree over NOT NULL columns and non-NULL literals compiles to plain CLR values
    /// (comparisons give <c>bool</c>, AND/OR short-circuit on <c>bool</c>), so that no <see cref="Nullable{T}"/> is
    /// built or tested per record. Null when any part may be NULL or is not covered; the nullable path then keeps
    /// SQL's three-valued semantics exactly.
    /// </summary>
    private static LinqExpr? TryPlain(BoundExpr e, Context ctx)
    {
        DeepStack.Ensure();
        switch (e)
        {
            case InputRef c:
            {
                var field = LinqExpr.Field(ctx.Row, RowTypes.FieldOf(ctx.Row.Type, c.Index));
                var clr = e.Type.ClrType;
                if (!field.Type.IsValueType || Nullable.GetUnderlyingType(field.Type) is not null || !IsPlainScalar(clr)) return null;
                return field.Type == clr ? field : LinqExpr.Convert(field, clr);
            }
            case Literal l:
            {
                var clr = e.Type.ClrType;
                if (l.Value is null || !IsPlainScalar(clr)) return null;
                return LinqExpr.Constant(ConvertLiteral(l.Value, clr), clr);
            }
            case Binary b:
            {
                if (!IsPlainScalar(e.Type.ClrType)) return null;
                if (TryPlain(b.Left, ctx) is not { } l || TryPlain(b.Right, ctx) is not { } r) return null;
                switch (b.Op)
                {
                    case BinaryOp.And or BinaryOp.Or:
                        if (l.Type != typeof(bool) || r.Type != typeof(bool)) return null;
                        return b.Op == BinaryOp.And ? LinqExpr.AndAlso(l, r) : LinqExpr.OrElse(l, r);
                    case BinaryOp.Add or BinaryOp.Subtract or BinaryOp.Multiply or BinaryOp.Divide or BinaryOp.Modulo:
                    {
                        // Only numeric arithmetic: date/interval arithmetic keeps its nullable path (its operators differ).
                        var t = e.Type.ClrType;
                        if (!e.Type.IsNumeric || !b.Left.Type.IsNumeric || !b.Right.Type.IsNumeric) return null;
                        l = l.Type == t ? l : LinqExpr.Convert(l, t);
                        r = r.Type == t ? r : LinqExpr.Convert(r, t);
                        return b.Op switch
                        {
                            BinaryOp.Add => LinqExpr.Add(l, r),
                            BinaryOp.Subtract => LinqExpr.Subtract(l, r),
                            BinaryOp.Multiply => LinqExpr.Multiply(l, r),
                            BinaryOp.Divide => LinqExpr.Divide(l, r),
                            _ => LinqExpr.Modulo(l, r),
                        };
                    }
                    case BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessOrEqual or BinaryOp.Greater or BinaryOp.GreaterOrEqual:
                    {
                        // Same operand conversion as the nullable path: the right side takes the left side's type.
                        if (l.Type != r.Type)
                        {
                            if (!(b.Left.Type.IsNumeric && b.Right.Type.IsNumeric)) return null;
                            r = LinqExpr.Convert(r, l.Type);
                        }
                        if (l.Type == typeof(bool) && b.Op is not (BinaryOp.Equal or BinaryOp.NotEqual)) return null;
                        return b.Op switch
                        {
                            BinaryOp.Equal => LinqExpr.Equal(l, r),
                            BinaryOp.NotEqual => LinqExpr.NotEqual(l, r),
                            BinaryOp.Less => LinqExpr.LessThan(l, r),
                            BinaryOp.LessOrEqual => LinqExpr.LessThanOrEqual(l, r),
                            BinaryOp.Greater => LinqExpr.GreaterThan(l, r),
                            _ => LinqExpr.GreaterThanOrEqual(l, r),
                        };
                    }
                    default:
                        return null;
                }
            }
            case Unary u:
            {
                switch (u.Op)
                {
                    case UnaryOp.Not when TryPlain(u.Operand, ctx) is { } v && v.Type == typeof(bool):
                        return LinqExpr.Not(v);
                    case UnaryOp.Negate when u.Operand.Type.IsNumeric && TryPlain(u.Operand, ctx) is { } v:
                        return v.Type == e.Type.ClrType ? LinqExpr.Negate(v) : null;
                    case UnaryOp.IsNull or UnaryOp.IsNotNull when TryPlain(u.Operand, ctx) is not null:
                        return LinqExpr.Constant(u.Op == UnaryOp.IsNotNull);
                    default:
                        return null;
                }
            }
            case Call call when call.Method.DeclaringType == typeof(Functions.SqlFunctions):
            {
                // A NOT NULL variant of the function, when one exists and every argument is plain.
                var parameters = call.Method.GetParameters();
                if (parameters.Length != call.Args.Count) return null;
                var plainTypes = parameters.Select(p => Nullable.GetUnderlyingType(p.ParameterType) ?? p.ParameterType).ToArray();
                var method = typeof(Functions.PlainFunctions).GetMethod(call.Method.Name, plainTypes);
                if (method is null || !IsPlainScalar(method.ReturnType)) return null;
                var args = new LinqExpr[plainTypes.Length];
                for (int i = 0; i < args.Length; i++)
                {
                    if (TryPlain(call.Args[i], ctx) is not { } a) return null;
                    if (a.Type != plainTypes[i] && !(a.Type.IsPrimitive && plainTypes[i].IsPrimitive)) return null;
                    args[i] = a.Type == plainTypes[i] ? a : LinqExpr.Convert(a, plainTypes[i]);
                }
                LinqExpr result = LinqExpr.Call(method, args);
                return result.Type == e.Type.ClrType ? result : null;
            }
            case Cast c when !c.Try && c.Operand.Type.IsNumeric && c.Type.IsNumeric && IsPlainScalar(c.Type.ClrType):
            {
                if (TryPlain(c.Operand, ctx) is not { } v) return null;
                return v.Type == c.Type.ClrType ? v : LinqExpr.Convert(v, c.Type.ClrType);
            }
            default:
                return null;
        }
    }

    private static LinqExpr Compile(BoundExpr e, Context ctx)
    {
        DeepStack.Ensure();
        var type = ValueType(e.Type);
        if (TryPlain(e, ctx) is { } plain) return plain.Type == type ? plain : LinqExpr.Convert(plain, type);
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
                if (!user.Method.IsStatic && !UserFunctionInstances.MayCompile(user.Target))
                {
                    string message = $"function {user.Name} has a lifecycle (it overrides Open or Close), which Eddy runs where the function is "
                        + "called in a query's projections or WHERE condition, or as a table function; not here: compute it in a subquery's SELECT and use the column";
                    throw user.Span is { } span ? new LocatedPlanningException(span, message) : new NotSupportedException(message);
                }
                var parameters = user.Method.GetParameters();
                var args = parameters.Select((p, i) => Coerce(Compile(user.Args[i], ctx), p.ParameterType)).ToArray();
                if (user.Location is null)
                {
                    LinqExpr direct = user.Method.IsStatic
                        ? LinqExpr.Call(user.Method, args)
                        : LinqExpr.Call(LinqExpr.Constant(user.Target, user.Method.DeclaringType!), user.Method, args);
                    return Coerce(direct, type);
                }
                // A user's function: the arguments are evaluated first (their own errors are not the function's), then
                // the call runs in a try whose handler names the function, where the SQL calls it and the input row.
                var temps = args.Select((a, i) => LinqExpr.Variable(a.Type, $"arg{i}")).ToArray();
                var result = LinqExpr.Variable(user.Method.ReturnType, "result");
                LinqExpr invoke = user.Method.IsStatic
                    ? LinqExpr.Call(user.Method, temps)
                    : LinqExpr.Call(LinqExpr.Constant(user.Target, user.Method.DeclaringType!), user.Method, temps);
                var error = LinqExpr.Parameter(typeof(Exception), "error");
                var fail = LinqExpr.Call(typeof(UserFunctionFailure).GetMethod(nameof(UserFunctionFailure.Wrap), [typeof(Exception), typeof(string), typeof(string), typeof(object)])!,
                    error, LinqExpr.Constant(user.Name), LinqExpr.Constant(user.Location, typeof(string)), LinqExpr.Convert(ctx.Row, typeof(object)));
                var body = new List<LinqExpr>();
                for (int i = 0; i < args.Length; i++) body.Add(LinqExpr.Assign(temps[i], args[i]));
                body.Add(LinqExpr.TryCatch(
                    LinqExpr.Block(typeof(void), LinqExpr.Assign(result, invoke)),
                    LinqExpr.Catch(error, LinqExpr.Throw(fail, typeof(void)))));
                body.Add(result);
                return Coerce(LinqExpr.Block([.. temps, result], body), type);
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
                // Three-valued, as SQL: no match in a list holding a NULL is UNKNOWN (4 NOT IN (1, 2, NULL) is NULL).
                LinqExpr result = LinqExpr.Convert(test, typeof(bool?));
                if (inList.Items.Any(i => i is Literal { Value: null }))
                    result = LinqExpr.Condition(contains, result, LinqExpr.Constant(null, typeof(bool?)));
                return LinqExpr.Condition(IsNullTest(value), LinqExpr.Constant(null, typeof(bool?)), result);
            }
            case Coalesce co:
            {
                LinqExpr result = Coerce(Compile(co.Args[^1], ctx), type);
                for (int i = co.Args.Count - 2; i >= 0; i--) result = LinqExpr.Coalesce(Coerce(Compile(co.Args[i], ctx), type), result);
                return result;
            }
            case CurrentWatermark cw:
            {
                if (ctx.Watermark is null) throw new NotSupportedException("CURRENT_WATERMARK is evaluated only in a Calc");
                var method = typeof(SqlOps).GetMethod(cw.Type.Kind == TypeKind.TimestampLtz ? nameof(SqlOps.WatermarkLtz) : nameof(SqlOps.WatermarkTimestamp))!;
                return Coerce(LinqExpr.Call(method, ctx.Watermark), type);
            }
            case CurrentTime ct:
            {
                var ltz = LinqExpr.Call(typeof(DateTimeOffset).GetMethod(nameof(DateTimeOffset.FromUnixTimeMilliseconds))!, ctx.Now);
                LinqExpr value = ct.Type.Kind == TypeKind.TimestampLtz
                    ? ltz
                    : LinqExpr.Call(typeof(SqlCasts).GetMethod(nameof(SqlCasts.LtzToTimestamp))!, LinqExpr.Convert(ltz, typeof(DateTimeOffset?)));
                return Coerce(value, type);
            }
            case AsyncCall async:
            {
                // The rules take async calls out of projections and filters into an async operator; any other place
                // (a join condition, an OVER or MATCH_RECOGNIZE expression, a table function's argument) is refused.
                string message = $"async function {async.Name} runs in the projections and WHERE conditions of a query (an async operator "
                    + "before the projection, as Flink's AsyncCalc); Eddy does not run it here: compute it in a subquery's SELECT and use the column";
                throw async.Span is { } span ? new LocatedPlanningException(span, message) : new NotSupportedException(message);
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
                TypeKind.BigInt =>
                    LinqExpr.Convert(LinqExpr.Call(Cast(nameof(SqlCasts.StringToLong)), value, tryArg, LinqExpr.Constant(to.ToString())), target),
                TypeKind.TinyInt or TypeKind.SmallInt or TypeKind.Int =>
                    LinqExpr.Convert(LinqExpr.Call(Cast(nameof(SqlCasts.StringToInteger)), value, tryArg, LinqExpr.Constant(to.ToString()),
                        LinqExpr.Constant(to.Kind switch { TypeKind.TinyInt => (long)sbyte.MinValue, TypeKind.SmallInt => short.MinValue, _ => int.MinValue }),
                        LinqExpr.Constant(to.Kind switch { TypeKind.TinyInt => (long)sbyte.MaxValue, TypeKind.SmallInt => short.MaxValue, _ => int.MaxValue })), target),
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
