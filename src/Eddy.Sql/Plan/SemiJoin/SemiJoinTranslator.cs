using Eddy.Joins;
using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Plan.Join;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.SemiJoin;

/// <summary>
/// A semi/anti join: both sides' key selectors and the residual condition (over the left and right columns side by
/// side, in a row struct of its own) compiled for the runtime's <see cref="SemiAntiJoinOperator{TKey, TLeft, TRight}"/>.
/// </summary>
internal static class SemiJoinTranslator
{
    public static object Translate(SemiJoinPlan plan, JobTranslator job)
    {
        var types = new[] { RowTypes.For(plan.Left.Schema), RowTypes.For(plan.Right.Schema), KeyCodegen.KeyType(plan.LeftKeys), RowTypes.For(plan.ConditionRow) };
        return TypedStep.Make<IStep>(typeof(Step<,,,>), types).Translate(job.Translate(plan.Left), job.Translate(plan.Right), plan);
    }

    private interface IStep
    {
        object Translate(object left, object right, SemiJoinPlan plan);
    }

    private sealed class Step<TLeft, TRight, TKey, TPair> : IStep where TKey : notnull where TLeft : notnull where TRight : notnull
    {
        public object Translate(object left, object right, SemiJoinPlan plan)
        {
            var leftKey = KeyCodegen.KeySelector<TLeft, TKey>(plan.LeftKeys);
            var rightKey = KeyCodegen.KeySelector<TRight, TKey>(plan.RightKeys);
            // NULL keys never match (a NULL IN probe or correlation value finds nothing), then the rest of the condition.
            var keyHasNull = plan.NullSafeKeys ? null : JoinTranslator.KeyHasNull<TKey>(plan.LeftKeys, plan.RightKeys);
            Func<TLeft, TRight, bool>? residual = null;
            if (plan.Residual is not null)
            {
                var pair = JoinTranslator.Combiner<TLeft, TRight, TPair>(plan.Left.Schema.Count, plan.Right.Schema.Count);
                var condition = ExpressionCompiler.CompileScalar<TPair, bool?>(plan.Residual, "subquery condition");
                residual = keyHasNull is null
                    ? (l, r) => condition(pair(l, true, r, true)) == true
                    : (l, r) => !keyHasNull(leftKey(l)) && condition(pair(l, true, r, true)) == true;
            }
            else if (keyHasNull is not null) residual = (l, _) => !keyHasNull(leftKey(l));
            return ((DataStream<TLeft>)left).SemiAntiJoin((DataStream<TRight>)right, leftKey, rightKey, plan.Anti, residual,
                TimeSpan.FromMilliseconds(plan.StateTtlMs), plan.Anti ? "AntiJoin" : "SemiJoin");
        }
    }
}
