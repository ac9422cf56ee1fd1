using Eddy.Runtime;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.WindowTableFunction;

/// <summary>A window TVF: the row copy plus window columns compiled over the row structs, in a <see cref="WindowTableFunctionOperator{TIn, TOut}"/>.</summary>
internal static class WindowTableFunctionTranslator
{
    public static object Translate(WindowTableFunctionPlan plan, JobTranslator job)
    {
        var input = job.Translate(plan.Input);
        return TypedStep.Make<IStep>(typeof(Step<,>), TypedStep.RowTypeOf(input), RowTypes.For(plan.Schema)).Translate(input, plan);
    }

    private interface IStep
    {
        object Translate(object input, WindowTableFunctionPlan plan);
    }

    private sealed class Step<TIn, TOut> : IStep
    {
        public object Translate(object input, WindowTableFunctionPlan plan)
        {
            var build = Builder<TIn, TOut>(plan.Input.Schema.Count);
            return ((DataStream<TIn>)input).Transform("WindowTableFunction", () => new WindowTableFunctionOperator<TIn, TOut>(plan.Window, build),
                relaysSourcePositions: true);
        }
    }

    /// <summary><c>(row, start, end) => new TOut { row's columns..., window_start, window_end, window_time = end - 1 }</c>.</summary>
    private static Func<TIn, long, long, TOut> Builder<TIn, TOut>(int inputColumns)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var start = LinqExpr.Parameter(typeof(long), "start");
        var end = LinqExpr.Parameter(typeof(long), "end");
        var result = LinqExpr.Variable(typeof(TOut), "result");
        var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(typeof(TOut))) };
        void Set(int column, LinqExpr value)
        {
            var field = RowTypes.FieldOf(typeof(TOut), column);
            body.Add(LinqExpr.Assign(LinqExpr.Field(result, field), value.Type == field.FieldType ? value : LinqExpr.Convert(value, field.FieldType)));
        }
        for (int i = 0; i < inputColumns; i++) Set(i, LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), i)));
        var wallClock = ((Func<long, DateTime>)WallClock).Method;
        Set(inputColumns, LinqExpr.Call(wallClock, start));
        Set(inputColumns + 1, LinqExpr.Call(wallClock, end));
        Set(inputColumns + 2, LinqExpr.Call(wallClock, LinqExpr.Subtract(end, LinqExpr.Constant(1L))));
        body.Add(result);
        return LinqExpr.Lambda<Func<TIn, long, long, TOut>>(LinqExpr.Block([result], body), row, start, end).Compile();
    }

    /// <summary>Window bounds are TIMESTAMP(3) wall-clock values, as the window aggregation's.</summary>
    private static DateTime WallClock(long ms) => new(DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond, DateTimeKind.Unspecified);
}
