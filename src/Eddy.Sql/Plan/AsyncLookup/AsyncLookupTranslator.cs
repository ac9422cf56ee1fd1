using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Planning;
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
        var arguments = plan.Calls.Select(c => ArgumentsReader<TIn>(c.ArgumentColumns)).ToArray();
        var specs = plan.Calls.Select(c => c.Call).ToArray();
        var combine = Combiner<TIn, TOut>(plan.Input.Schema.Count, plan.Calls.Count);
        var options = plan.Calls[0].Call.Function.Options;
        int rowColumns = plan.RowColumns;
        return input.Transform("AsyncLookup", () => new AsyncWaitOperator<TIn, TOut>(
            () => new RowAsyncLookup<TIn, TOut>(arguments, specs, specs.Select(c => c.Function.Factory()).ToArray(), combine, rowColumns),
            options));
    }

    /// <summary><c>row => new object[] { row.cA, row.cB, ... }</c>: a call's arguments, boxed (the async path allocates per call anyway).</summary>
    private static Func<TIn, object?[]> ArgumentsReader<TIn>(int[] columns)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var values = columns.Select(c => (LinqExpr)LinqExpr.Convert(LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), c)), typeof(object)));
        return LinqExpr.Lambda<Func<TIn, object?[]>>(LinqExpr.NewArrayInit(typeof(object), values), row).Compile();
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

    /// <summary>
    /// The async calls of one row, started together; the row goes on with their results. A user's function that fails
    /// (after its retries) or times out fails the job with its name, where the SQL calls it and the row.
    /// </summary>
    private sealed class RowAsyncLookup<TIn, TOut>(
        Func<TIn, object?[]>[] arguments, AsyncCall[] calls, IAsyncCallFunction[] functions, Func<TIn, object?[], TOut> combine, int rowColumns)
        : IValueAsyncFunction<TIn, TOut>, IAsyncFunctionLifecycle
    {
        // One call's result for the combiner when it arrives at once (on the task thread, read before the next call).
        private readonly object?[] single = new object?[1];

        public void Open(OperatorContext context)
        {
            for (int i = 0; i < functions.Length; i++)
            {
                try
                {
                    functions[i].Open(context);
                }
                catch (Exception e)
                {
                    for (int j = i - 1; j >= 0; j--) CloseQuietly(functions[j]);
                    throw new UserFunctionException($"function {calls[i].Name}{At(calls[i])} failed to open: {Reason(e).GetType().Name}: {Reason(e).Message}", Reason(e));
                }
            }
        }

        public void Close()
        {
            Exception? first = null;
            foreach (var f in functions)
            {
                try
                {
                    f.Close();
                }
                catch (Exception e)
                {
                    first ??= e;
                }
            }
            if (first is not null) throw first;
        }

        private static void CloseQuietly(IAsyncCallFunction f)
        {
            try
            {
                f.Close();
            }
            catch (Exception)
            {
                // The open failure is the error to report.
            }
        }

        private static string At(AsyncCall call) => call.Location is null ? "" : $" ({call.Location})";

        private static Exception Reason(Exception e) => e is System.Reflection.TargetInvocationException { InnerException: { } inner } ? inner : e;

        public ValueTask<TOut> InvokeValueAsync(TIn input, CancellationToken cancellation)
        {
            if (functions.Length != 1) return new ValueTask<TOut>(InvokeAsync(input, cancellation));
            ValueTask<object?> call;
            try
            {
                call = functions[0].InvokeValueAsync(arguments[0](input), cancellation);
            }
            catch (Exception e) when (calls[0].Location is not null)
            {
                return ValueTask.FromException<TOut>(Fail(0, e, input));
            }
            if (!call.IsCompletedSuccessfully) return new ValueTask<TOut>(Finish(call, input, cancellation));
            single[0] = call.Result;
            var output = combine(input, single);
            single[0] = null;
            return new ValueTask<TOut>(output);
        }

        private async Task<TOut> Finish(ValueTask<object?> call, TIn input, CancellationToken cancellation)
        {
            object? value;
            try
            {
                value = await call.ConfigureAwait(false);
            }
            catch (Exception e) when (calls[0].Location is not null && !(e is OperationCanceledException && cancellation.IsCancellationRequested))
            {
                throw Fail(0, e, input);
            }
            return combine(input, [value]);
        }

        public async Task<TOut> InvokeAsync(TIn input, CancellationToken cancellation)
        {
            var results = new object?[functions.Length];
            if (functions.Length == 1)
            {
                results[0] = await Call(0, input, cancellation).ConfigureAwait(false);
                return combine(input, results);
            }
            var started = new Task<object?>[functions.Length];
            for (int i = 0; i < started.Length; i++) started[i] = Call(i, input, cancellation);
            for (int i = 0; i < started.Length; i++) results[i] = await started[i].ConfigureAwait(false);
            return combine(input, results);
        }

        private async Task<object?> Call(int i, TIn input, CancellationToken cancellation)
        {
            try
            {
                return await functions[i].InvokeAsync(arguments[i](input), cancellation).ConfigureAwait(false);
            }
            catch (Exception e) when (calls[i].Location is not null && !(e is OperationCanceledException && cancellation.IsCancellationRequested))
            {
                throw Fail(i, e, input);
            }
        }

        private Exception Fail(int i, Exception e, TIn input) => UserFunctionFailure.Wrap(e, calls[i].Name, calls[i].Location, input, rowColumns);

        public TOut Timeout(TIn input)
        {
            var results = new object?[functions.Length];
            for (int i = 0; i < functions.Length; i++)
            {
                try
                {
                    results[i] = functions[i].Timeout(arguments[i](input));
                }
                catch (Exception e) when (calls[i].Location is not null)
                {
                    throw Fail(i, e, input);
                }
            }
            return combine(input, results);
        }
    }
}
