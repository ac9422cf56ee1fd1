using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.WindowJoin;

/// <summary>
/// A window join: key selectors, window-end readers, the residual over the joined row and the output row compiled over
/// the row structs for the runtime's <see cref="WindowJoinOperator{TKey, TLeft, TRight, TOut}"/>.
/// </summary>
internal static class WindowJoinTranslator
{
    public static object Translate(WindowJoinPlan plan, JobTranslator job)
    {
        var types = new[]
        {
            RowTypes.For(plan.Left.Schema), RowTypes.For(plan.Right.Schema), KeyCodegen.KeyType(plan.LeftKeys),
            RowTypes.For(plan.JoinedSchema), RowTypes.For(plan.Schema),
        };
        return TypedStep.Make<IStep>(typeof(Step<,,,,>), types).Translate(job.Translate(plan.Left), job.Translate(plan.Right), plan);
    }

    private interface IStep
    {
        object Translate(object left, object right, WindowJoinPlan plan);
    }

    private sealed class Step<TLeft, TRight, TKey, TJoined, TOut> : IStep where TKey : notnull
    {
        public object Translate(object left, object right, WindowJoinPlan plan)
        {
            var leftKey = KeyCodegen.KeySelector<TLeft, TKey>(plan.LeftKeys);
            var rightKey = KeyCodegen.KeySelector<TRight, TKey>(plan.RightKeys);
            bool semiOrAnti = plan.JoinType is WindowJoinType.Semi or WindowJoinType.Anti;
            var combine = JoinTranslator.Combiner<TLeft, TRight, TOut>(plan.Left.Schema.Count, semiOrAnti ? 0 : plan.Right.Schema.Count);
            var residual = Residual(plan, leftKey);
            return ((DataStream<TLeft>)left).WindowJoin((DataStream<TRight>)right, leftKey, rightKey,
                WindowEnd<TLeft>(plan.LeftWindowEnd), WindowEnd<TRight>(plan.RightWindowEnd), plan.JoinType, residual, combine);
        }

        /// <summary>NULL keys never match (Flink's filterNullKeys), then the rest of the ON clause over the joined row.</summary>
        private static Func<TLeft, TRight, bool>? Residual(WindowJoinPlan plan, Func<TLeft, TKey> leftKey)
        {
            var keyHasNull = JoinTranslator.KeyHasNull<TKey>(plan.LeftKeys, plan.RightKeys);
            if (plan.Residual is null) return keyHasNull is null ? null : (l, _) => !keyHasNull(leftKey(l));
            var joined = JoinTranslator.Combiner<TLeft, TRight, TJoined>(plan.Left.Schema.Count, plan.Right.Schema.Count);
            var condition = ExpressionCompiler.CompileScalar<TJoined, bool?>(plan.Residual, "ON");
            return keyHasNull is null
                ? (l, r) => condition(joined(l, true, r, true)) == true
                : (l, r) => !keyHasNull(leftKey(l)) && condition(joined(l, true, r, true)) == true;
        }
    }

    /// <summary>The epoch ms of a window_end column (a TIMESTAMP(3) wall-clock value; never NULL, the window TVF or aggregation sets it).</summary>
    private static Func<TRow, long> WindowEnd<TRow>(int column)
    {
        var row = LinqExpr.Parameter(typeof(TRow), "row");
        LinqExpr field = LinqExpr.Field(row, RowTypes.FieldOf(typeof(TRow), column));
        if (field.Type == typeof(DateTime?)) field = LinqExpr.Property(field, nameof(Nullable<DateTime>.Value));
        if (field.Type != typeof(DateTime)) throw new NotSupportedException($"a window_end of type {field.Type.Name}");
        return LinqExpr.Lambda<Func<TRow, long>>(LinqExpr.Call(((Func<DateTime, long>)Millis).Method, field), row).Compile();
    }

    private static long Millis(DateTime wallClock) => (wallClock.Ticks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;
}
