using Eddy.Runtime;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.AsyncLookup;

/// <summary>Remote calls of a row started together in the runtime's <see cref="AsyncWaitOperator{TIn, TOut}"/>.</summary>
internal static class AsyncLookupTranslator
{
    public static object Translate(AsyncLookupPlan plan, JobTranslator job) =>
        TypedStep.Make<IStep>(typeof(Step<,>), RowTypes.For(plan.Input.Schema), RowTypes.For(plan.Schema)).Translate(job.Translate(plan.Input), plan);

    private interface IStep
    {
        object Translate(object input, AsyncLookupPlan plan);
    }

    private sealed class Step<TIn, TOut> : IStep
    {
        public object Translate(object input, AsyncLookupPlan plan) => TranslateAsyncLookup<TIn, TOut>((DataStream<TIn>)input, plan);
    }

    private static DataStream<TOut> TranslateAsyncLookup<TIn, TOut>(DataStream<TIn> input, AsyncLookupPlan plan)
    {
        var arguments = plan.Calls.Select(c => RowTypes.FieldGetter<TIn, string>(c.ArgumentColumn)).ToArray();
        var factories = plan.Calls.Select(c => c.Call.Function.Factory).ToArray();
        var timeoutValues = plan.Calls.Select(c => c.Call.Function.TimeoutValue).ToArray();
        var combine = Combiner<TIn, TOut>(plan.Input.Schema.Count, plan.Calls.Count);
        var options = plan.Calls[0].Call.Function.Options;
        return input.Transform("AsyncLookup", () => new AsyncWaitOperator<TIn, TOut>(
            () => new RowAsyncLookup<TIn, TOut>(arguments, factories.Select(f => f()).ToArray(), combine, timeoutValues),
            options));
    }

    /// <summary><c>(row, results) => new TOut { c0 = row.c0, ..., cN = (T)results[0], ... }</c>.</summary>
    private static Func<TIn, object?[], TOut> Combiner<TIn, TOut>(int inputColumns, int results)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var values = LinqExpr.Parameter(typeof(object[]), "results");
        var output = LinqExpr.Variable(typeof(TOut), "output");
        var body = new List<LinqExpr> { LinqExpr.Assign(output, LinqExpr.Default(typeof(TOut))) };
        for (int i = 0; i < inputColumns; i++)
            body.Add(LinqExpr.Assign(LinqExpr.Field(output, RowTypes.FieldOf(typeof(TOut), i)), LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), i))));
        for (int j = 0; j < results; j++)
        {
            var field = RowTypes.FieldOf(typeof(TOut), inputColumns + j);
            body.Add(LinqExpr.Assign(LinqExpr.Field(output, field),
                LinqExpr.Convert(LinqExpr.ArrayIndex(values, LinqExpr.Constant(j)), field.FieldType)));
        }
        body.Add(output);
        return LinqExpr.Lambda<Func<TIn, object?[], TOut>>(LinqExpr.Block([output], body), row, values).Compile();
    }

    /// <summary>The remote calls of one row, started together; the row goes on with their results.</summary>
    private sealed class RowAsyncLookup<TIn, TOut>(
        Func<TIn, string>[] arguments, IAsyncFunction<string?, object?>[] functions, Func<TIn, object?[], TOut> combine, object?[] timeoutValues)
        : IAsyncFunction<TIn, TOut>
    {
        public async Task<TOut> InvokeAsync(TIn input, CancellationToken cancellation)
        {
            var results = new object?[functions.Length];
            if (functions.Length == 1)
            {
                results[0] = await functions[0].InvokeAsync(arguments[0](input), cancellation).ConfigureAwait(false);
                return combine(input, results);
            }
            var calls = new Task<object?>[functions.Length];
            for (int i = 0; i < calls.Length; i++) calls[i] = functions[i].InvokeAsync(arguments[i](input), cancellation);
            for (int i = 0; i < calls.Length; i++) results[i] = await calls[i].ConfigureAwait(false);
            return combine(input, results);
        }

        public TOut Timeout(TIn input) => combine(input, (object?[])timeoutValues.Clone());
    }
}
