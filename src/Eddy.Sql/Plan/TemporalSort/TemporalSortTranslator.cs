using Eddy.Runtime;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.TemporalSort;

/// <summary>A temporal sort: every row to one key, a <see cref="TemporalSortFunction{TIn}"/> with the compiled secondary order.</summary>
internal static class TemporalSortTranslator
{
    public static object Translate(TemporalSortPlan plan, JobTranslator job)
    {
        var input = job.Translate(plan.Input);
        return TypedStep.Make<IStep>(typeof(Step<>), TypedStep.RowTypeOf(input)).Translate(input, plan);
    }

    private interface IStep
    {
        object Translate(object input, TemporalSortPlan plan);
    }

    private sealed class Step<TIn> : IStep
    {
        public object Translate(object input, TemporalSortPlan plan)
        {
            var rowtime = RankTranslator.EpochMilliseconds<TIn>(plan.Order[0].Column);
            var secondary = plan.Order.Count > 1 ? RankTranslator.Comparison<TIn>(plan.Order.Skip(1).ToList()) : null;
            return ((DataStream<TIn>)input).KeyBy(_ => default(ValueTuple)).Process(() => new TemporalSortFunction<TIn>(rowtime, secondary), "TemporalSort");
        }
    }
}
