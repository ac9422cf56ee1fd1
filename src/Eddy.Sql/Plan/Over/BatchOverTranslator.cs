using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.Over;

/// <summary>
/// Batch OVER on the runtime: the input keyed by the partition keys (one key without PARTITION BY) into a
/// <see cref="BatchOverFunction{TIn, TKey, TAcc, TOut}"/> with compiled order keys, function arguments, the frame
/// aggregates (the aggregate compiler's accumulator) and the output row.
/// </summary>
internal static class BatchOverTranslator
{
    public static object Translate(BatchOverPlan plan, JobTranslator job)
    {
        var input = job.Translate(plan.Input);
        var inputType = TypedStep.RowTypeOf(input);
        var keyType = KeyCodegen.KeyType(plan.PartitionKeys);
        var compiler = new AggregateCompiler(plan.Aggregates);
        var rowType = RowTypes.For(plan.Schema);
        return TypedStep.Make<IStep>(typeof(Step<,,,>), inputType, keyType, compiler.AccumulatorType, rowType).Translate(input, plan, compiler);
    }

    private interface IStep
    {
        object Translate(object input, BatchOverPlan plan, AggregateCompiler compiler);
    }

    private sealed class Step<TIn, TKey, TAcc, TOut> : IStep where TKey : notnull
    {
        public object Translate(object input, BatchOverPlan plan, AggregateCompiler compiler)
        {
            var keySelector = KeyCodegen.KeySelector<TIn, TKey>(plan.PartitionKeys);
            var row = LinqExpr.Parameter(typeof(TIn), "row");
            Func<TIn, object?> Getter(Planning.BoundExpr e) =>
                LinqExpr.Lambda<Func<TIn, object?>>(LinqExpr.Convert(ExpressionCompiler.Compile(e, row), typeof(object)), row).Compile();
            var order = plan.Order.Select(o => new BatchOverKey<TIn>(Getter(o.Expression), o.Descending, o.NullsFirst)).ToArray();
            var values = plan.Functions.Select(f => f.Value is null ? null : Getter(f.Value)).ToArray();
            var defaults = plan.Functions.Select(f => f.Default is null ? null : Getter(f.Default)).ToArray();
            var add = compiler.Compile<TIn, TAcc>();
            var acc = LinqExpr.Parameter(typeof(TAcc), "acc");
            var results = plan.Aggregates.Select((_, k) =>
                LinqExpr.Lambda<Func<TAcc, object?>>(LinqExpr.Convert(compiler.Result(k, acc), typeof(object)), acc).Compile()).ToArray();
            var output = CompileOutput(plan.Input.Schema.Count, plan.Functions.Count);
            var functions = plan.Functions.ToArray();
            var frame = plan.Frame;
            return ((DataStream<TIn>)input).KeyBy(keySelector).Process(
                () => new BatchOverFunction<TIn, TKey, TAcc, TOut>(order, functions, values, defaults, add, results, frame, output),
                "BatchOverAggregate");
        }

        /// <summary>The output row: the input row's columns, then the functions' values (boxed, one array per row).</summary>
        private static Func<TIn, object?[], TOut> CompileOutput(int inputColumns, int functions)
        {
            var row = LinqExpr.Parameter(typeof(TIn), "row");
            var values = LinqExpr.Parameter(typeof(object?[]), "values");
            var result = LinqExpr.Variable(typeof(TOut), "result");
            var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(typeof(TOut))) };
            for (int c = 0; c < inputColumns; c++)
            {
                var to = RowTypes.FieldOf(typeof(TOut), c);
                var from = LinqExpr.Field(row, RowTypes.FieldOf(typeof(TIn), c));
                body.Add(LinqExpr.Assign(LinqExpr.Field(result, to), from.Type == to.FieldType ? from : LinqExpr.Convert(from, to.FieldType)));
            }
            for (int k = 0; k < functions; k++)
            {
                var to = RowTypes.FieldOf(typeof(TOut), inputColumns + k);
                body.Add(LinqExpr.Assign(LinqExpr.Field(result, to), LinqExpr.Convert(LinqExpr.ArrayIndex(values, LinqExpr.Constant(k)), to.FieldType)));
            }
            body.Add(result);
            return LinqExpr.Lambda<Func<TIn, object?[], TOut>>(LinqExpr.Block([result], body), row, values).Compile();
        }
    }
}
