using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Calc;

/// <summary>A projection and filter: one compiled batch function in a <see cref="CalcOperator{TIn, TOut}"/>.</summary>
internal static class CalcTranslator
{
    public static object Translate(CalcPlan calc, JobTranslator job) => Apply(job.Translate(calc.Input), calc);

    /// <summary>The Calc over an already translated input (e.g. the late rows of a window aggregation).</summary>
    public static object Apply(object input, CalcPlan calc) =>
        TypedStep.Make<IStep>(typeof(Step<,>), TypedStep.RowTypeOf(input), RowTypes.For(calc.Schema)).Apply(input, calc);

    private interface IStep
    {
        object Apply(object input, CalcPlan calc);
    }

    private sealed class Step<TIn, TOut> : IStep
    {
        public object Apply(object input, CalcPlan calc)
        {
            var function = ExpressionCompiler.CompileBatchFunction<TIn, TOut>(calc.Projections, calc.Filter, calc.Schema);
            return ((DataStream<TIn>)input).Transform("Calc", () => new CalcOperator<TIn, TOut>(function));
        }
    }
}
