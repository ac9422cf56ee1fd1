using System.Linq.Expressions;
using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Plan.Calc;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;
using Eddy.Windows;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.Aggregate;

/// <summary>
/// Group aggregation on the runtime: a window aggregation becomes the runtime's keyed window operator with a compiled
/// aggregate (or its counting struct for a lone COUNT(*)); a non-windowed one a keyed process function
/// (<see cref="GroupAggregateFunction{TIn, TKey, TAcc, TOut}"/>) emitting the changelog.
/// </summary>
internal static class AggregateTranslator
{
    /// <param name="then">a projection without filter right above a window aggregation, applied by its result builder.</param>
    public static object Translate(AggregatePlan plan, CalcPlan? then, JobTranslator job)
    {
        // A non-windowed aggregation over a changelog retracts (the binder refuses window aggregation over one).
        bool retracting = plan.Window is null && plan.Input.IsUpdating;
        // With user functions that have a lifecycle, this compiler's code (which checks the plan) calls throwaway
        // instances; every operator instance compiles its own.
        var planningInstances = HasLifecycle(plan) ? new UserFunctionInstances(job.Connectors.JobOptions) : null;
        var compiler = then is null ? null : new AggregateCompiler(plan.Aggregates, retracting, planningInstances);
        var input = job.Translate(plan.Input);
        var inputType = TypedStep.RowTypeOf(input);
        var keyType = KeyCodegen.KeyType(plan.Keys);
        compiler ??= new AggregateCompiler(plan.Aggregates, retracting, planningInstances);
        var rowType = RowTypes.For(then?.Schema ?? plan.Schema);
        if (plan.Window is null)
            return TypedStep.Make<IStep>(typeof(GroupStep<,,,>), inputType, keyType, compiler.AccumulatorType, rowType).Translate(input, plan, compiler, null, job);
        // A windowed lone COUNT(*) counts into a plain long (see TranslateWindowAggregate).
        var accType = compiler.IsCountStarOnly ? typeof(long) : compiler.AccumulatorType;
        return TypedStep.Make<IStep>(typeof(WindowStep<,,,>), inputType, keyType, accType, rowType).Translate(input, plan, compiler, then, job);
    }

    private interface IStep
    {
        object Translate(object input, AggregatePlan plan, AggregateCompiler compiler, CalcPlan? then, JobTranslator job);
    }

    private sealed class WindowStep<TIn, TKey, TAcc, TOut> : IStep where TKey : notnull
    {
        public object Translate(object input, AggregatePlan plan, AggregateCompiler compiler, CalcPlan? then, JobTranslator job) =>
            TranslateWindowAggregate<TIn, TKey, TAcc, TOut>((DataStream<TIn>)input, plan, compiler, then, job);
    }

    private sealed class GroupStep<TIn, TKey, TAcc, TOut> : IStep where TKey : notnull
    {
        public object Translate(object input, AggregatePlan plan, AggregateCompiler compiler, CalcPlan? then, JobTranslator job) =>
            TranslateGroupAggregate<TIn, TKey, TAcc, TOut>((DataStream<TIn>)input, plan, compiler, job.Connectors.JobOptions);
    }

    /// <summary>
    /// Builds the output row of an aggregation: keys, window columns (when windowed), aggregate results. With
    /// <paramref name="then"/> (a projection without filter right above the aggregation) the builder also applies its
    /// projections, so that <typeparamref name="TOut"/> is the projection's row: one function per result instead of a
    /// result row, a batch and another pass.
    /// </summary>
    private static LambdaExpression ResultBuilder<TKey, TAcc, TOut>(AggregatePlan plan, AggregateCompiler compiler, bool windowed, CalcPlan? then = null)
    {
        var key = LinqExpr.Parameter(typeof(TKey), "key");
        var window = LinqExpr.Parameter(typeof(TimeWindow), "window");
        var acc = LinqExpr.Parameter(typeof(TAcc), "acc");
        var rowType = then is null ? typeof(TOut) : RowTypes.For(plan.Schema);
        var result = LinqExpr.Variable(rowType, "result");
        var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(rowType)) };
        int column = 0;
        // With a projection above, only the columns it reads are computed (the others stay default in the local row).
        var needed = then is null ? null : ExpressionCompiler.ReferencedColumns(plan.Schema.Count, then.Projections, null);
        void Set(LinqExpr value)
        {
            if (needed is not null && !needed[column])
            {
                column++;
                return;
            }
            var field = RowTypes.FieldOf(rowType, column++);
            body.Add(LinqExpr.Assign(LinqExpr.Field(result, field), value.Type == field.FieldType ? value : LinqExpr.Convert(value, field.FieldType)));
        }
        if (KeyCodegen.IsPlainKey(plan.Keys)) Set(key);
        else for (int k = 0; k < plan.Keys.Count; k++) Set(LinqExpr.Field(key, $"Item{k + 1}"));
        if (windowed)
        {
            DateTimeFromMs(LinqExpr.Property(window, nameof(TimeWindow.Start)));
            DateTimeFromMs(LinqExpr.Property(window, nameof(TimeWindow.End)));
            DateTimeFromMs(LinqExpr.Property(window, nameof(TimeWindow.MaxTimestamp)));
            void DateTimeFromMs(LinqExpr ms) => Set(LinqExpr.Call(((Func<long, DateTime>)WallClock).Method, ms));
        }
        for (int a = 0; a < plan.Aggregates.Count; a++) Set(compiler.Result(a, acc));
        var variables = new List<ParameterExpression> { result };
        if (then is null)
        {
            body.Add(result);
        }
        else
        {
            var projected = LinqExpr.Variable(typeof(TOut), "projected");
            variables.Add(projected);
            body.Add(LinqExpr.Assign(projected, LinqExpr.Default(typeof(TOut))));
            for (int c = 0; c < then.Projections.Count; c++)
            {
                var field = RowTypes.FieldOf(typeof(TOut), c);
                body.Add(LinqExpr.Assign(LinqExpr.Field(projected, field),
                    ExpressionCompiler.CompileField(then.Projections[c], result, field.FieldType, then.Schema[c].Name)));
            }
            body.Add(projected);
        }
        var block = LinqExpr.Block(variables, body);
        return windowed
            ? LinqExpr.Lambda<Func<TKey, TimeWindow, TAcc, TOut>>(block, key, window, acc)
            : LinqExpr.Lambda<Func<TKey, TAcc, TOut>>(block, key, acc);
    }

    // Straight from ticks: this runs three times per window result.
    private static DateTime WallClock(long ms) => new(DateTime.UnixEpoch.Ticks + ms * TimeSpan.TicksPerMillisecond, DateTimeKind.Unspecified);

    private static DataStream<TOut> TranslateWindowAggregate<TIn, TKey, TAcc, TOut>(DataStream<TIn> input, AggregatePlan plan, AggregateCompiler compiler, CalcPlan? then, JobTranslator job)
        where TKey : notnull
    {
        var keySelector = KeyCodegen.KeySelector<TIn, TKey>(plan.Keys);
        var build = (Func<TKey, TimeWindow, TAcc, TOut>)ResultBuilder<TKey, TAcc, TOut>(plan, compiler, windowed: true, then).Compile();
        var w = plan.Window!;
        var size = TimeSpan.FromMilliseconds(w.Size);
        var offset = TimeSpan.FromMilliseconds(w.Offset);
        WindowAssigner<TimeWindow> assigner = w.ProcessingTime ? w.Kind switch
        {
            WindowKind.Tumble => TumblingProcessingTimeWindows.Of(size, offset),
            WindowKind.Hop => SlidingProcessingTimeWindows.Of(size, TimeSpan.FromMilliseconds(w.Slide), offset),
            _ => throw new NotSupportedException($"{w.Kind} windows on processing time"),
        } : w.Kind switch
        {
            WindowKind.Tumble => TumblingEventTimeWindows.Of(size, offset),
            WindowKind.Hop => SlidingEventTimeWindows.Of(size, TimeSpan.FromMilliseconds(w.Slide), offset),
            WindowKind.Cumulate => CumulativeEventTimeWindows.Of(size, TimeSpan.FromMilliseconds(w.Slide), offset),
            _ => EventTimeSessionWindows.WithGap(TimeSpan.FromMilliseconds(w.Gap)),
        };
        var windowed = input.KeyBy(keySelector).Window(assigner);
        // Flink SQL fires a processing-time window still open when a bounded input ends.
        if (w.ProcessingTime) windowed.FireAtEndOfInput();
        if (!w.ProcessingTime && plan.AllowedLatenessMs > 0) windowed.AllowedLateness(TimeSpan.FromMilliseconds(plan.AllowedLatenessMs));
        OutputTag<TIn>? lateTag = null;
        if (!w.ProcessingTime && plan.LateData is { } late)
        {
            lateTag = new OutputTag<TIn>($"late-data:{late.Table.Name}");
            windowed.SideOutputLateData(lateTag);
        }
        string name = $"WindowAggregate({w})";
        DataStream<TOut> result;
        if (typeof(TAcc) == typeof(long))
        {
            // COUNT(*) alone: the runtime's counting struct, inlined by the operator as in a typed job's Count().
            var count = (Func<TKey, TimeWindow, long, TOut>)(object)build;
            result = windowed.Aggregate<CountAggregate<TIn>, long, long, TOut>(default, count, name);
        }
        else if (!HasLifecycle(plan))
        {
            result = windowed.Aggregate<CompiledAggregate<TIn, TAcc>, TAcc, TAcc, TOut>(compiler.Compile<TIn, TAcc>(), build, name);
        }
        else
        {
            // User aggregate functions with a lifecycle: each operator instance compiles its code for instances of its
            // own, which its window operator opens and closes (built once above, so that an error shows at planning).
            var jobParameters = job.Connectors.JobOptions;
            result = windowed.Aggregate<CompiledAggregate<TIn, TAcc>, TAcc, TAcc, TOut>(() =>
            {
                var own = new AggregateCompiler(plan.Aggregates, retracting: false, new UserFunctionInstances(jobParameters));
                return (own.Compile<TIn, TAcc>(), (Func<TKey, TimeWindow, TAcc, TOut>)ResultBuilder<TKey, TAcc, TOut>(plan, own, windowed: true, then).Compile());
            }, name);
        }
        if (lateTag is not null) AddLateDataSink(result.GetSideOutput(lateTag), plan, job);
        return result;
    }

    /// <summary>The late rows of a window aggregation, projected onto its late-data table's columns, into that table.</summary>
    private static void AddLateDataSink<TIn>(DataStream<TIn> lateRows, AggregatePlan plan, JobTranslator job)
    {
        var late = plan.LateData!;
        var calc = new CalcPlan(plan.Input, late.Projections, null, late.Table.SinkSchema, null);
        var projected = CalcTranslator.Apply(lateRows, calc);
        SinkTranslator.Write(projected, new SinkPlan(late.Table, calc), job);
    }

    /// <summary>Whether a user aggregate function of the aggregation overrides Open or Close.</summary>
    private static bool HasLifecycle(AggregatePlan plan) =>
        plan.Aggregates.Any(a => a.User is { } u && UserFunctionInstances.HasLifecycle(u.Instance.GetType()));

    private static DataStream<TOut> TranslateGroupAggregate<TIn, TKey, TAcc, TOut>(DataStream<TIn> input, AggregatePlan plan, AggregateCompiler compiler,
        IReadOnlyDictionary<string, string> jobParameters)
        where TKey : notnull
    {
        var keySelector = KeyCodegen.KeySelector<TIn, TKey>(plan.Keys);
        var build = (Func<TKey, TAcc, TOut>)ResultBuilder<TKey, TAcc, TOut>(plan, compiler, windowed: false).Compile();
        bool updates = plan.Aggregates.Count > 0;
        long ttl = plan.StateTtlMs;
        if (compiler.Retracting)
        {
            var (accumulate, retract, rows) = compiler.CompileRetracting<TIn, TAcc>();
            return input.KeyBy(keySelector).Process(
                () => new RetractingGroupAggregateFunction<TIn, TKey, TAcc, TOut>(accumulate, retract, rows, build, updates, finalOnly: plan.FinalOnly, stateTtlMs: ttl),
                updates ? "GroupAggregate" : "Distinct");
        }
        var aggregate = compiler.Compile<TIn, TAcc>();
        if (HasLifecycle(plan))
        {
            // User aggregate functions with a lifecycle: code compiled per operator instance for its own instances,
            // which the function opens and closes with the operator.
            return input.KeyBy(keySelector).Process(() =>
            {
                var own = new AggregateCompiler(plan.Aggregates, retracting: false, new UserFunctionInstances(jobParameters));
                var ownBuild = (Func<TKey, TAcc, TOut>)ResultBuilder<TKey, TAcc, TOut>(plan, own, windowed: false).Compile();
                return new GroupAggregateFunction<TIn, TKey, TAcc, TOut>(own.Compile<TIn, TAcc>(), ownBuild, updates, finalOnly: plan.FinalOnly, stateTtlMs: ttl);
            }, updates ? "GroupAggregate" : "Distinct");
        }
        return input.KeyBy(keySelector).Process(() => new GroupAggregateFunction<TIn, TKey, TAcc, TOut>(aggregate, build, updates, finalOnly: plan.FinalOnly, stateTtlMs: ttl),
            updates ? "GroupAggregate" : "Distinct");
    }
}
