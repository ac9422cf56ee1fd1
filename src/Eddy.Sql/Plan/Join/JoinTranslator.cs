using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.Join;

/// <summary>
/// A regular or interval join: both sides' key selectors, the combined row and the residual condition compiled over the
/// row structs <c>L</c>, <c>R</c>, <c>O</c> for the runtime's <see cref="StreamingJoinOperator{TKey, TLeft, TRight, TOut}"/>
/// or <see cref="IntervalJoinOperator{TKey, TLeft, TRight, TOut}"/> (both sides hash-partitioned by the key).
/// </summary>
internal static class JoinTranslator
{
    public static object Translate(JoinPlan plan, JobTranslator job)
    {
        var types = new[] { RowTypes.For(plan.Left.Schema), RowTypes.For(plan.Right.Schema), KeyCodegen.KeyType(plan.LeftKeys), RowTypes.For(plan.Schema) };
        return TypedStep.Make<IStep>(typeof(Step<,,,>), types).Translate(job.Translate(plan.Left), job.Translate(plan.Right), plan);
    }

    private interface IStep
    {
        object Translate(object left, object right, JoinPlan plan);
    }

    private sealed class Step<TLeft, TRight, TKey, TOut> : IStep where TKey : notnull where TLeft : notnull where TRight : notnull
    {
        public object Translate(object left, object right, JoinPlan plan)
        {
            var leftKey = KeyCodegen.KeySelector<TLeft, TKey>(plan.LeftKeys);
            var rightKey = KeyCodegen.KeySelector<TRight, TKey>(plan.RightKeys);
            var combine = Combiner<TLeft, TRight, TOut>(plan.Left.Schema.Count, plan.Right.Schema.Count);
            var residual = Residual(plan, leftKey, combine);
            var l = (DataStream<TLeft>)left;
            var r = (DataStream<TRight>)right;
            if (plan.Interval is { } iv)
            {
                var joined = l.IntervalJoin(r, leftKey, rightKey, plan.JoinType, TimeSpan.FromMilliseconds(iv.LowerMs), TimeSpan.FromMilliseconds(iv.UpperMs),
                    residual, combine, eventTime: !iv.ProcessingTime, name: "IntervalJoin");
                if (plan.Rowtime is not { } rowtime) return joined;
                // A joined row carries the later of its two times; the rowtime column kept is one of them: re-stamp the rows.
                var identity = plan.Schema.Columns.Select((c, i) => (BoundExpr)new InputRef(i, c.Name, c.Type)).ToList();
                var function = ExpressionCompiler.CompileBatchFunction<TOut, TOut>(identity, null, plan.Schema);
                var time = RowtimeOf<TOut>(rowtime, plan.Schema[rowtime].Name);
                return joined.Transform("IntervalJoinRowtime", () => new Calc.CalcOperator<TOut, TOut>(function, time));
            }
            return l.Join(r, leftKey, rightKey, plan.JoinType, residual, combine,
                TimeSpan.FromMilliseconds(plan.LeftStateTtlMs), TimeSpan.FromMilliseconds(plan.RightStateTtlMs), name: "Join");
        }

        /// <summary>
        /// NULL keys never match (Flink's filterNullKeys), then the rest of the ON clause over the joined row. Null when
        /// neither is needed.
        /// </summary>
        private static Func<TLeft, TRight, bool>? Residual(JoinPlan plan, Func<TLeft, TKey> leftKey, JoinCombiner<TLeft, TRight, TOut> combine)
        {
            var keyHasNull = KeyHasNull<TKey>(plan.LeftKeys, plan.RightKeys);
            Func<TOut, bool?>? condition = plan.Residual is null ? null : ExpressionCompiler.CompileScalar<TOut, bool?>(plan.Residual, "ON");
            return (keyHasNull, condition) switch
            {
                (null, null) => null,
                ({ } hasNull, null) => (l, _) => !hasNull(leftKey(l)),
                (null, { } cond) => (l, r) => cond(combine(l, true, r, true)) == true,
                ({ } hasNull, { } cond) => (l, r) => !hasNull(leftKey(l)) && cond(combine(l, true, r, true)) == true,
            };
        }
    }

    /// <summary>The epoch ms of a rowtime column (never NULL on the side that is never padded).</summary>
    internal static Func<TRow, long> RowtimeOf<TRow>(int column, string name)
    {
        var row = LinqExpr.Parameter(typeof(TRow), "row");
        LinqExpr field = LinqExpr.Field(row, RowTypes.FieldOf(typeof(TRow), column));
        Delegate convert = field.Type switch
        {
            var t when t == typeof(DateTime) => (Func<DateTime, string, long>)ToEventTime,
            var t when t == typeof(DateTime?) => (Func<DateTime?, string, long>)ToEventTime,
            var t when t == typeof(DateTimeOffset) => (Func<DateTimeOffset, string, long>)ToEventTime,
            var t when t == typeof(DateTimeOffset?) => (Func<DateTimeOffset?, string, long>)ToEventTime,
            var t => throw new NotSupportedException($"a rowtime of type {t.Name}"),
        };
        return LinqExpr.Lambda<Func<TRow, long>>(LinqExpr.Call(convert.Method, field, LinqExpr.Constant(name)), row).Compile();
    }

    private static long ToEventTime(DateTime value, string column) => EventTime.FromDateTime(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    private static long ToEventTime(DateTimeOffset value, string column) => value.ToUnixTimeMilliseconds();

    private static long ToEventTime(DateTime? value, string column) =>
        value is { } v ? ToEventTime(v, column) : throw new InvalidDataException($"the rowtime column '{column}' of a join's row is NULL");

    private static long ToEventTime(DateTimeOffset? value, string column) =>
        value is { } v ? ToEventTime(v, column) : throw new InvalidDataException($"the rowtime column '{column}' of a join's row is NULL");

    /// <summary>Whether a key holds a NULL; null when no key field can be NULL.</summary>
    internal static Func<TKey, bool>? KeyHasNull<TKey>(IReadOnlyList<BoundExpr> leftKeys, IReadOnlyList<BoundExpr> rightKeys)
    {
        if (KeyCodegen.IsPlainKey(leftKeys)) return null;
        var key = LinqExpr.Parameter(typeof(TKey), "key");
        LinqExpr any = LinqExpr.Constant(false);
        for (int k = 0; k < leftKeys.Count; k++)
        {
            if (!leftKeys[k].Type.Nullable && !rightKeys[k].Type.Nullable) continue;
            var field = LinqExpr.Field(key, $"Item{k + 1}");
            if (field.Type.IsValueType && Nullable.GetUnderlyingType(field.Type) is null) continue;
            any = LinqExpr.OrElse(any, LinqExpr.Equal(field, LinqExpr.Constant(null, field.Type)));
        }
        return any is System.Linq.Expressions.ConstantExpression ? null : LinqExpr.Lambda<Func<TKey, bool>>(any, key).Compile();
    }

    /// <summary><c>(l, hasLeft, r, hasRight) => new TOut { left columns if hasLeft..., right columns if hasRight... }</c>.</summary>
    internal static JoinCombiner<TLeft, TRight, TOut> Combiner<TLeft, TRight, TOut>(int leftColumns, int rightColumns)
    {
        var left = LinqExpr.Parameter(typeof(TLeft), "left");
        var hasLeft = LinqExpr.Parameter(typeof(bool), "hasLeft");
        var right = LinqExpr.Parameter(typeof(TRight), "right");
        var hasRight = LinqExpr.Parameter(typeof(bool), "hasRight");
        var result = LinqExpr.Variable(typeof(TOut), "result");
        LinqExpr Copy(LinqExpr from, Type fromType, int count, int offset)
        {
            var assigns = new List<LinqExpr>();
            for (int i = 0; i < count; i++)
            {
                var target = RowTypes.FieldOf(typeof(TOut), offset + i);
                LinqExpr value = LinqExpr.Field(from, RowTypes.FieldOf(fromType, i));
                assigns.Add(LinqExpr.Assign(LinqExpr.Field(result, target), value.Type == target.FieldType ? value : LinqExpr.Convert(value, target.FieldType)));
            }
            return assigns.Count == 0 ? LinqExpr.Empty() : LinqExpr.Block(assigns);
        }
        var body = LinqExpr.Block([result],
            LinqExpr.Assign(result, LinqExpr.Default(typeof(TOut))),
            LinqExpr.IfThen(hasLeft, Copy(left, typeof(TLeft), leftColumns, 0)),
            LinqExpr.IfThen(hasRight, Copy(right, typeof(TRight), rightColumns, leftColumns)),
            result);
        return LinqExpr.Lambda<JoinCombiner<TLeft, TRight, TOut>>(body, left, hasLeft, right, hasRight).Compile();
    }
}
