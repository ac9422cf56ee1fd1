using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.TemporalJoin;

/// <summary>
/// An event-time temporal join: both sides' key selectors and time columns, the combined row and the residual
/// compiled over the row structs for the runtime's <see cref="TemporalJoinOperator{TKey, TLeft, TRight, TOut}"/>.
/// </summary>
internal static class TemporalJoinTranslator
{
    public static object Translate(TemporalJoinPlan plan, JobTranslator job)
    {
        var types = new[] { RowTypes.For(plan.Left.Schema), RowTypes.For(plan.Right.Schema), KeyCodegen.KeyType(plan.LeftKeys), RowTypes.For(plan.Schema) };
        return TypedStep.Make<IStep>(typeof(Step<,,,>), types).Translate(job.Translate(plan.Left), job.Translate(plan.Right), plan);
    }

    private interface IStep
    {
        object Translate(object left, object right, TemporalJoinPlan plan);
    }

    private sealed class Step<TLeft, TRight, TKey, TOut> : IStep where TKey : notnull
    {
        public object Translate(object left, object right, TemporalJoinPlan plan)
        {
            var leftKey = KeyCodegen.KeySelector<TLeft, TKey>(plan.LeftKeys);
            var rightKey = KeyCodegen.KeySelector<TRight, TKey>(plan.RightKeys);
            var combine = JoinTranslator.Combiner<TLeft, TRight, TOut>(plan.Left.Schema.Count, plan.Right.Schema.Count);
            var keyHasNull = JoinTranslator.KeyHasNull<TKey>(plan.LeftKeys, plan.RightKeys);
            Func<TOut, bool?>? condition = plan.Residual is null ? null : ExpressionCompiler.CompileScalar<TOut, bool?>(plan.Residual, "ON");
            // NULL keys never match (a NULL primary key has no versions to find).
            Func<TLeft, TRight, bool>? residual = (keyHasNull, condition) switch
            {
                (null, null) => null,
                ({ } hasNull, null) => (l, _) => !hasNull(leftKey(l)),
                (null, { } cond) => (l, r) => cond(combine(l, true, r, true)) == true,
                ({ } hasNull, { } cond) => (l, r) => !hasNull(leftKey(l)) && cond(combine(l, true, r, true)) == true,
            };
            var leftTime = JoinTranslator.RowtimeOf<TLeft>(plan.LeftTime, plan.Left.Schema[plan.LeftTime].Name);
            var rightTime = JoinTranslator.RowtimeOf<TRight>(plan.RightTime, plan.Right.Schema[plan.RightTime].Name);
            return ((DataStream<TLeft>)left).TemporalJoin((DataStream<TRight>)right, leftKey, rightKey, leftTime, rightTime, plan.LeftOuter,
                residual, combine, name: "TemporalJoin");
        }
    }
}
