using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Calc;

/// <summary>A projection and filter: one compiled batch function in a <see cref="CalcOperator{TIn, TOut}"/>.</summary>
internal static class CalcTranslator
{
    public static object Translate(CalcPlan calc, JobTranslator job) => Apply(job.Translate(calc.Input), calc, job.Connectors.JobOptions);

    /// <summary>The Calc over an already translated input (e.g. the late rows of a window aggregation).</summary>
    public static object Apply(object input, CalcPlan calc, IReadOnlyDictionary<string, string>? jobParameters = null) =>
        TypedStep.Make<IStep>(typeof(Step<,>), TypedStep.RowTypeOf(input), RowTypes.For(calc.Schema)).Apply(input, calc, jobParameters ?? new Dictionary<string, string>());

    private interface IStep
    {
        object Apply(object input, CalcPlan calc, IReadOnlyDictionary<string, string> jobParameters);
    }

    private sealed class Step<TIn, TOut> : IStep
    {
        public object Apply(object input, CalcPlan calc, IReadOnlyDictionary<string, string> jobParameters)
        {
            if (UserFunctionInstances.LifecycleCalls([.. calc.Projections, calc.Filter]).Count == 0)
            {
                var function = ExpressionCompiler.CompileBatchFunction<TIn, TOut>(calc.Projections, calc.Filter, calc.Schema);
                return ((DataStream<TIn>)input).Transform("Calc", () => new CalcOperator<TIn, TOut>(function), relaysSourcePositions: true);
            }
            // Functions with a lifecycle: each operator instance calls instances of its own, which it opens and closes
            // (its code is compiled for them). Built once here first, so that an error shows at planning.
            Compile(new UserFunctionInstances(jobParameters));
            return ((DataStream<TIn>)input).Transform("Calc", () =>
            {
                var own = new UserFunctionInstances(jobParameters);
                return new CalcOperator<TIn, TOut>(Compile(own), functions: own);
            }, relaysSourcePositions: true);

            Compiled<BatchFunction<TIn, TOut>> Compile(UserFunctionInstances instances) =>
                ExpressionCompiler.CompileBatchFunction<TIn, TOut>(calc.Projections.Select(p => instances.Rebind(p)!).ToList(), instances.Rebind(calc.Filter), calc.Schema);
        }
    }
}
