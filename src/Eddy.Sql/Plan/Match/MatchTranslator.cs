using System.Linq.Expressions;
using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.Match;

/// <summary>
/// MATCH_RECOGNIZE on the runtime: the input keyed by the partition columns (one key for all rows without PARTITION
/// BY, as Flink runs it at parallelism 1) into a <see cref="MatchFunction{TIn, TKey, TOut}"/> with compiled DEFINE
/// conditions and measures (<see cref="MatchCodegen"/>).
/// </summary>
internal static class MatchTranslator
{
    public static object Translate(MatchPlan plan, JobTranslator job)
    {
        var input = job.Translate(plan.Input);
        var inputType = TypedStep.RowTypeOf(input);
        var keyType = KeyCodegen.KeyType(plan.PartitionKeys);
        var rowType = RowTypes.For(plan.Schema);
        return TypedStep.Make<IStep>(typeof(Step<,,>), inputType, keyType, rowType).Translate(input, plan);
    }

    private interface IStep
    {
        object Translate(object input, MatchPlan plan);
    }

    private sealed class Step<TIn, TKey, TOut> : IStep where TKey : notnull
    {
        public object Translate(object input, MatchPlan plan)
        {
            var keySelector = KeyCodegen.KeySelector<TIn, TKey>(plan.PartitionKeys);
            var defines = plan.Defines.Select(d => d is null ? null : MatchCodegen.Condition<TIn>(d)).ToArray();
            var measures = MatchCodegen.Measures<TIn, TOut>(plan.MeasureNavs, plan.Outputs, plan.Schema);
            var secondary = plan.SecondaryOrder.Count == 0 ? null : RankTranslator.Comparison<TIn>(plan.SecondaryOrder);
            var elements = plan.Elements.ToArray();
            var names = plan.Variables.ToArray();
            return ((DataStream<TIn>)input).KeyBy(keySelector).Process(
                () => new MatchFunction<TIn, TKey, TOut>(elements, defines, measures, secondary, !plan.ProcessingTime, plan.Skip, plan.SkipTo,
                    plan.WithinMs, names),
                "Match");
        }
    }
}

/// <summary>
/// Compiles navigations into the code that fills a navigation row from a <see cref="MatchView{TIn}"/>: for FIRST/LAST
/// the row navigated to (NULL when there is none) through the navigation's value expression, for aggregates the
/// accumulator of <see cref="AggregateCompiler"/> run over the variable's rows. Conditions and measures are then
/// ordinary compiled expressions over that row.
/// </summary>
internal static class MatchCodegen
{
    public static Func<MatchView<TIn>, bool> Condition<TIn>(MatchCondition condition)
    {
        var view = LinqExpr.Parameter(typeof(MatchView<TIn>), "view");
        var (navType, fill) = NavRow<TIn>(condition.Navs, view);
        var nav = LinqExpr.Variable(navType, "nav");
        var value = ExpressionCompiler.Compile(condition.Condition, nav);
        LinqExpr test = value.Type == typeof(bool) ? value : LinqExpr.Equal(value, LinqExpr.Constant(true, typeof(bool?)));
        var body = LinqExpr.Block([nav], LinqExpr.Assign(nav, fill), test);
        return LinqExpr.Lambda<Func<MatchView<TIn>, bool>>(body, view).Compile();
    }

    public static Func<MatchView<TIn>, long, TOut> Measures<TIn, TOut>(IReadOnlyList<MatchNav> navs, IReadOnlyList<BoundExpr> outputs, Schema schema)
    {
        var view = LinqExpr.Parameter(typeof(MatchView<TIn>), "view");
        var (navType, fill) = NavRow<TIn>(navs, view);
        var fillLambda = LinqExpr.Lambda(typeof(Func<,>).MakeGenericType(typeof(MatchView<TIn>), navType), fill, view).Compile();
        var make = typeof(MatchCodegen).GetMethod(nameof(MakeMeasures), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(typeof(TIn), navType, typeof(TOut));
        return (Func<MatchView<TIn>, long, TOut>)make.Invoke(null, [fillLambda, outputs, schema])!;
    }

    private static Func<MatchView<TIn>, long, TOut> MakeMeasures<TIn, TNav, TOut>(Func<MatchView<TIn>, TNav> fill, IReadOnlyList<BoundExpr> outputs, Schema schema)
    {
        var project = ExpressionCompiler.CompileRowFunction<TNav, TOut>(outputs, null, schema);
        return (view, now) =>
        {
            var nav = fill(view);
            project(ref nav, out var row, now);
            return row;
        };
    }

    private static (Type NavType, LinqExpr Fill) NavRow<TIn>(IReadOnlyList<MatchNav> navs, ParameterExpression view)
    {
        var navSchema = new Schema(navs.Select((n, i) => new Column($"$nav{i}", n.Type)).ToArray());
        var navType = RowTypes.For(navSchema);
        var nav = LinqExpr.Variable(navType, "nav");
        var body = new List<LinqExpr> { LinqExpr.Assign(nav, LinqExpr.Default(navType)) };
        var find = typeof(MatchView<TIn>).GetMethod(nameof(MatchView<TIn>.Find))!;
        var row = typeof(MatchView<TIn>).GetMethod(nameof(MatchView<TIn>.Row))!;
        var locals = new List<ParameterExpression> { nav };
        for (int i = 0; i < navs.Count; i++)
        {
            var n = navs[i];
            var field = LinqExpr.Field(nav, RowTypes.FieldOf(navType, i));
            if (n.Kind == MatchNavKind.Aggregate)
            {
                var compiler = new AggregateCompiler([n.Aggregate!]);
                var accType = compiler.AccumulatorType;
                var compileAdd = typeof(MatchCodegen).GetMethod(nameof(AddFunction), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
                    .MakeGenericMethod(typeof(TIn), accType);
                var add = compileAdd.Invoke(null, [compiler])!;
                var aggregate = typeof(MatchView<TIn>).GetMethod(nameof(MatchView<TIn>.Aggregate))!.MakeGenericMethod(accType);
                var acc = LinqExpr.Variable(accType, $"acc{i}");
                locals.Add(acc);
                body.Add(LinqExpr.Assign(acc, LinqExpr.Call(view, aggregate, LinqExpr.Constant(n.Variable), LinqExpr.Constant(add))));
                var result = compiler.Result(0, acc);
                body.Add(LinqExpr.Assign(field, result.Type == field.Type ? result : LinqExpr.Convert(result, field.Type)));
                continue;
            }
            if (n.Kind == MatchNavKind.EmitTime)
            {
                var millis = LinqExpr.Field(view, typeof(MatchView<TIn>).GetField(nameof(MatchView<TIn>.EmitTime))!);
                var time = LinqExpr.Call(typeof(EventTime).GetMethod(nameof(EventTime.ToDateTime))!, millis);
                body.Add(LinqExpr.Assign(field, time.Type == field.Type ? time : LinqExpr.Convert(time, field.Type)));
                continue;
            }
            var position = LinqExpr.Variable(typeof(int), $"at{i}");
            locals.Add(position);
            body.Add(LinqExpr.Assign(position, LinqExpr.Call(view, find, LinqExpr.Constant(n.Variable), LinqExpr.Constant(n.Kind == MatchNavKind.First),
                LinqExpr.Constant(n.Offset))));
            var navigated = LinqExpr.Variable(typeof(TIn), $"row{i}");
            locals.Add(navigated);
            var value = ExpressionCompiler.CompileField(n.Value!, navigated, field.Type, $"$nav{i}");
            body.Add(LinqExpr.IfThen(LinqExpr.NotEqual(position, LinqExpr.Constant(-1)),
                LinqExpr.Block(LinqExpr.Assign(navigated, LinqExpr.Call(view, row, position)), LinqExpr.Assign(field, value))));
        }
        body.Add(nav);
        return (navType, LinqExpr.Block(locals, body));
    }

    private static Func<TIn, TAcc, TAcc> AddFunction<TIn, TAcc>(AggregateCompiler compiler)
    {
        var compiled = compiler.Compile<TIn, TAcc>();
        return compiled.Add;
    }
}
