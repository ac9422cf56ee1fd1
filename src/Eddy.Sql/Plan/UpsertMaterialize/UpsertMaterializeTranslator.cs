using Eddy.Runtime;
using Eddy.Sql.Plan.Rank;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.UpsertMaterialize;

/// <summary>
/// The input of a sink keyed by its primary key into a <see cref="SinkUpsertMaterializer{TRow, TKey}"/>, at the sink's
/// parallelism (Flink's CommonExecSink runs it there, keyed the same way). When the primary key implies the key of the
/// keyed operator before it (<see cref="SinkKeyAlignment"/>) the exchange says so, and a stage split under
/// <c>eddy worker</c> keeps the materializer in that operator's partition task; in one process it is the same hash
/// exchange either way.
/// </summary>
internal static class UpsertMaterializeTranslator
{
    public static object Materialize(object input, SinkPlan sink, UpsertMaterializer materializer, int? parallelism)
    {
        var keys = materializer.Key.Select(i => (BoundExpr)new InputRef(i, sink.Input.Schema[i].Name, sink.Input.Schema[i].Type)).ToList();
        return TypedStep.Make<IStep>(typeof(Step<,>), TypedStep.RowTypeOf(input), KeyCodegen.KeyType(keys)).Materialize(input, keys, sink, materializer, parallelism);
    }

    private interface IStep
    {
        object Materialize(object input, IReadOnlyList<BoundExpr> keys, SinkPlan sink, UpsertMaterializer materializer, int? parallelism);
    }

    private sealed class Step<TRow, TKey> : IStep where TKey : notnull
    {
        public object Materialize(object input, IReadOnlyList<BoundExpr> keys, SinkPlan sink, UpsertMaterializer materializer, int? parallelism)
        {
            var selector = KeyCodegen.KeySelector<TRow, TKey>(keys);
            var stream = (DataStream<TRow>)input;
            var keyed = SinkKeyAlignment.Of(sink.Input, materializer).Implied ? stream.KeyByWithinUpstreamKey(selector) : stream.KeyBy(selector);
            bool hasUpsertKey = materializer.InputUpsertKey is { Count: > 0 };
            var sameRow = RankTranslator.EqualOn<TRow>(hasUpsertKey ? materializer.InputUpsertKey! : Enumerable.Range(0, sink.Input.Schema.Count).ToList());
            long ttl = materializer.StateTtlMs;
            var materialized = keyed.Process(() => new SinkUpsertMaterializer<TRow, TKey>(sameRow, hasUpsertKey, ttl), "SinkMaterializer");
            if (parallelism is { } n) materialized.SetParallelism(n);
            return materialized;
        }
    }
}
