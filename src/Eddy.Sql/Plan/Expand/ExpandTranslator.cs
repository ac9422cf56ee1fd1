using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Expand;

/// <summary>An expansion: one compiled batch function per projection list in an <see cref="ExpandOperator{TIn, TOut}"/>.</summary>
internal static class ExpandTranslator
{
    public static object Translate(ExpandPlan expand, JobTranslator job)
    {
        var input = job.Translate(expand.Input);
        return TypedStep.Make<IStep>(typeof(Step<,>), TypedStep.RowTypeOf(input), RowTypes.For(expand.Schema)).Apply(input, expand);
    }

    private interface IStep
    {
        object Apply(object input, ExpandPlan expand);
    }

    private sealed class Step<TIn, TOut> : IStep
    {
        public object Apply(object input, ExpandPlan expand)
        {
            var functions = expand.Projections
                .Select(p => ExpressionCompiler.CompileBatchFunction<TIn, TOut>(p, null, expand.Schema))
                .ToArray();
            return ((DataStream<TIn>)input).Transform("Expand", () => new ExpandOperator<TIn, TOut>(functions));
        }
    }
}
