using System.Linq.Expressions;
using System.Reflection;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Codegen;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.Correlate;

/// <summary>LATERAL TABLE: the table function called per row in a <see cref="CorrelateOperator{TIn, TElem, TOut}"/>.</summary>
internal static class CorrelateTranslator
{
    public static object Translate(CorrelatePlan plan, JobTranslator job)
    {
        if (plan.Async is not null)
        {
            var asyncElement = UserFunctions.TableElementType(UserAsyncFunction.ResultType(plan.Function.Method)!)!;
            return TypedStep.Make<IStep>(typeof(AsyncStep<,,>), RowTypes.For(plan.Input.Schema), asyncElement, RowTypes.For(plan.Schema))
                .Translate(job.Translate(plan.Input), plan, job.Connectors.JobOptions);
        }
        var element = UserFunctions.TableElementType(plan.Function.Method)!;
        var input = job.Translate(plan.Input);
        return TypedStep.Make<IStep>(typeof(Step<,,>), RowTypes.For(plan.Input.Schema), element, RowTypes.For(plan.Schema)).Translate(input, plan, job.Connectors.JobOptions);
    }

    private interface IStep
    {
        object Translate(object input, CorrelatePlan plan, IReadOnlyDictionary<string, string> jobParameters);
    }

    private sealed class Step<TIn, TElem, TOut> : IStep
    {
        public object Translate(object input, CorrelatePlan plan, IReadOnlyDictionary<string, string> jobParameters) =>
            TranslateCorrelate<TIn, TElem, TOut>((DataStream<TIn>)input, plan, jobParameters);
    }

    private sealed class AsyncStep<TIn, TElem, TOut> : IStep
    {
        public object Translate(object input, CorrelatePlan plan, IReadOnlyDictionary<string, string> jobParameters) =>
            TranslateAsyncCorrelate<TIn, TElem, TOut>((DataStream<TIn>)input, plan);
    }

    /// <summary>
    /// An async table function: each row's call in an ordered <see cref="AsyncWaitOperator{TIn, TOut}"/> whose result
    /// is the row's output rows, then those rows one by one (with the input row's kind and timestamp).
    /// </summary>
    private static DataStream<TOut> TranslateAsyncCorrelate<TIn, TElem, TOut>(DataStream<TIn> input, CorrelatePlan plan)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var f = plan.Function;
        var argumentTypes = UserAsyncFunction.ArgumentTypes(f.Method);
        var values = f.Args.Select((a, i) =>
        {
            var value = ExpressionCompiler.Compile(a, row);
            if (value.Type != argumentTypes[i]) value = LinqExpr.Convert(value, argumentTypes[i]);
            return (LinqExpr)LinqExpr.Convert(value, typeof(object));
        });
        var arguments = LinqExpr.Lambda<Func<TIn, object?[]>>(LinqExpr.NewArrayInit(typeof(object), values), row).Compile();
        var (build, empty) = RowBuilders<TIn, TElem, TOut>(plan);
        var spec = plan.Async!;
        string name = f.Name;
        string? location = f.Location;
        int rowColumns = plan.Input.Schema.Count;
        return input.Transform("AsyncCorrelate", () => new AsyncWaitOperator<TIn, TOut[]>(
                () => new AsyncTableCalls<TIn, TElem, TOut>(arguments, spec.Factory(), build, empty, name, location, rowColumns), spec.Options))
            .Transform("AsyncCorrelateRows", () => new FlattenOperator<TOut>());
    }

    /// <summary>The output row of an input row and one element, and (LEFT) of an input row without any.</summary>
    private static (Func<TIn, TElem, TOut> Build, Func<TIn, TOut>? Empty) RowBuilders<TIn, TElem, TOut>(CorrelatePlan plan)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var element = LinqExpr.Parameter(typeof(TElem), "element");
        var result = LinqExpr.Variable(typeof(TOut), "result");
        LambdaExpression Builder(bool withElement)
        {
            var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(typeof(TOut))) };
            int leftCount = plan.Input.Schema.Count;
            for (int i = 0; i < leftCount; i++)
                body.Add(LinqExpr.Assign(LinqExpr.Field(result, RowTypes.FieldOf(typeof(TOut), i)), LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), i))));
            if (withElement)
            {
                var columns = UserFunctions.TableColumns(typeof(TElem));
                for (int c = 0; c < columns.Count; c++)
                {
                    var field = RowTypes.FieldOf(typeof(TOut), leftCount + c);
                    LinqExpr value = columns[c].Member switch
                    {
                        FieldInfo fi => LinqExpr.Field(element, fi),
                        PropertyInfo pi => LinqExpr.Property(element, pi),
                        _ => element,
                    };
                    body.Add(LinqExpr.Assign(LinqExpr.Field(result, field), value.Type == field.FieldType ? value : LinqExpr.Convert(value, field.FieldType)));
                }
            }
            body.Add(result);
            var block = LinqExpr.Block([result], body);
            return withElement ? LinqExpr.Lambda<Func<TIn, TElem, TOut>>(block, row, element) : LinqExpr.Lambda<Func<TIn, TOut>>(block, row);
        }
        return ((Func<TIn, TElem, TOut>)Builder(true).Compile(), plan.LeftOuter ? (Func<TIn, TOut>)Builder(false).Compile() : null);
    }

    private static DataStream<TOut> TranslateCorrelate<TIn, TElem, TOut>(DataStream<TIn> input, CorrelatePlan plan, IReadOnlyDictionary<string, string> jobParameters)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var f = plan.Function;
        var parameters = f.Method.GetParameters();
        var args = parameters.Select((p, i) =>
        {
            var value = ExpressionCompiler.Compile(f.Args[i], row);
            return value.Type == p.ParameterType ? value : (LinqExpr)LinqExpr.Convert(value, p.ParameterType);
        }).ToArray();
        // A function with a lifecycle is called on the operator instance's own instance (a parameter of the call).
        bool lifecycle = f.Target is not null && UserFunctionInstances.HasLifecycle(f.Target.GetType());
        var target = LinqExpr.Parameter(typeof(object), "target");
        LinqExpr invoke = f.Method.IsStatic ? LinqExpr.Call(f.Method, args)
            : LinqExpr.Call(lifecycle ? LinqExpr.Convert(target, f.Method.DeclaringType!) : LinqExpr.Constant(f.Target, f.Method.DeclaringType!), f.Method, args);
        var enumerable = LinqExpr.Convert(invoke, typeof(IEnumerable<TElem>));

        var (build, empty) = RowBuilders<TIn, TElem, TOut>(plan);
        string name = f.Name;
        string? location = f.Location;
        Exception Failure(Exception e, TIn failing) => UserFunctionFailure.Wrap(e, name, location, failing);
        if (!lifecycle)
        {
            var call = LinqExpr.Lambda<Func<TIn, IEnumerable<TElem>?>>(enumerable, row).Compile();
            return input.Transform("Correlate", () => new CorrelateOperator<TIn, TElem, TOut>(call, build, empty, Failure));
        }
        var callOn = LinqExpr.Lambda<Func<object, TIn, IEnumerable<TElem>?>>(enumerable, target, row).Compile();
        return input.Transform("Correlate", () =>
        {
            var own = new UserFunctionInstances(jobParameters);
            object instance = own.InstanceFor(f.Target!, name, location);
            return new CorrelateOperator<TIn, TElem, TOut>(r => callOn(instance, r), build, empty, Failure, own);
        });
    }
}
