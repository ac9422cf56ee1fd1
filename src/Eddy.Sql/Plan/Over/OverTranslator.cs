using Eddy.Runtime;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.Over;

/// <summary>
/// OVER aggregation on the runtime: the input keyed by the partition keys (one key for all rows without PARTITION BY,
/// as Flink does) into an <see cref="OverAggregateFunction{TIn, TKey, TAcc, TOut}"/> with compiled add, retract and
/// result code.
/// </summary>
internal static class OverTranslator
{
    public static object Translate(OverPlan plan, JobTranslator job)
    {
        var input = job.Translate(plan.Input);
        var inputType = TypedStep.RowTypeOf(input);
        var keyType = KeyCodegen.KeyType(plan.Window.PartitionKeys);
        var compiler = new OverAggregateCompiler(plan.Aggregates, retracts: plan.Window.Preceding is not null);
        var rowType = RowTypes.For(plan.Schema);
        return TypedStep.Make<IStep>(typeof(Step<,,,>), inputType, keyType, compiler.AccumulatorType, rowType).Translate(input, plan, compiler);
    }

    private interface IStep
    {
        object Translate(object input, OverPlan plan, OverAggregateCompiler compiler);
    }

    private sealed class Step<TIn, TKey, TAcc, TOut> : IStep where TKey : notnull
    {
        public object Translate(object input, OverPlan plan, OverAggregateCompiler compiler)
        {
            var w = plan.Window;
            var keySelector = KeyCodegen.KeySelector<TIn, TKey>(w.PartitionKeys);
            var add = compiler.CompileUpdate<TIn, TAcc>(retract: false);
            var retract = w.Preceding is null ? null : compiler.CompileUpdate<TIn, TAcc>(retract: true);
            var result = compiler.CompileResult<TIn, TAcc, TOut>(plan.Input.Schema.Count);
            long ttl = plan.StateTtlMs;
            return ((DataStream<TIn>)input).KeyBy(keySelector).Process(
                () => new OverAggregateFunction<TIn, TKey, TAcc, TOut>(add, retract, result, !w.ProcessingTime, w.Rows, w.Preceding, ttl),
                "OverAggregate");
        }
    }
}
