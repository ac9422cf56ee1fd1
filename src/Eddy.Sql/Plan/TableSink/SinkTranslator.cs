using Eddy.Runtime;
using Eddy.Sql.Connectors;
using Eddy.Sql.Plan.UpsertMaterialize;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;

namespace Eddy.Sql.Plan.TableSink;

/// <summary>
/// Rows into a table's connector: the connector's own sink of row structs when it has one, otherwise its sink of
/// generic rows behind a <see cref="RowConvertingSink{T}"/>; <c>sink.parallelism</c> and the primary key decide the
/// exchange in front of it.
/// </summary>
internal static class SinkTranslator
{
    public static object Translate(SinkPlan sink, JobTranslator job) => Write(job.Translate(sink.Input), sink, job);

    /// <summary>Writes an already translated stream into <paramref name="sink"/>'s table.</summary>
    public static object Write(object input, SinkPlan sink, JobTranslator job)
    {
        int? sinkParallelism = null;
        if (sink.Table.Options.TryGetValue("sink.parallelism", out var p))
        {
            if (!int.TryParse(p, out int parallelism) || parallelism < 1)
                throw new ConnectorOptionException(sink.Table.Name, "sink.parallelism", $"expected a positive whole number, got '{p}'");
            sinkParallelism = parallelism;
        }
        var rowType = TypedStep.RowTypeOf(input);
        if (sink.Materializer is { } materializer)
        {
            // Keyed by the primary key already: the sink reads the materializer's output forward.
            input = UpsertMaterializeTranslator.Materialize(input, sink, materializer, sinkParallelism);
            return TypedStep.Make<IWriteStep>(typeof(WriteStep<>), rowType).Write(input, sink, sinkParallelism, job);
        }
        // As Flink does for a sink with its own parallelism and a primary key: the input is hashed by the key, so each
        // key's changes reach one subtask, in order (a rebalance would let two subtasks apply them out of order).
        if (sinkParallelism is not null && sink.Table.PrimaryKey.Count > 0)
        {
            var keys = sink.Table.PrimaryKey.Select(name =>
            {
                int i = sink.Table.SinkSchema.RequireIndex(name);
                var column = sink.Input.Schema[i];
                return (BoundExpr)new InputRef(i, column.Name, column.Type);
            }).ToList();
            input = TypedStep.Make<IKeyStep>(typeof(KeyStep<,>), rowType, KeyCodegen.KeyType(keys)).KeyBy(input, keys);
        }
        return TypedStep.Make<IWriteStep>(typeof(WriteStep<>), rowType).Write(input, sink, sinkParallelism, job);
    }

    /// <summary>Rows of <paramref name="schema"/> into a sink of generic rows (queries run from the CLI or tests).</summary>
    public static object ToRowSink(object input, Schema schema, Sink<Row> sink, string name) =>
        TypedStep.Make<IWriteStep>(typeof(WriteStep<>), TypedStep.RowTypeOf(input)).ToRowSink(input, schema, sink, name);

    private interface IKeyStep
    {
        object KeyBy(object input, IReadOnlyList<BoundExpr> keys);
    }

    private sealed class KeyStep<TRow, TKey> : IKeyStep where TKey : notnull
    {
        public object KeyBy(object input, IReadOnlyList<BoundExpr> keys) => ((DataStream<TRow>)input).KeyBy(KeyCodegen.KeySelector<TRow, TKey>(keys));
    }

    private interface IWriteStep
    {
        object Write(object input, SinkPlan sink, int? parallelism, JobTranslator job);

        object ToRowSink(object input, Schema schema, Sink<Row> sink, string name);
    }

    private sealed class WriteStep<TRow> : IWriteStep
    {
        public object Write(object input, SinkPlan sink, int? parallelism, JobTranslator job)
        {
            var rows = (DataStream<TRow>)input;
            var connector = job.Registry.Find(sink.Table);
            var name = $"Sink: {sink.Table.Name}";
            var stream = connector is ITypedTableConnector typed && typed.CreateTypedSink<TRow>(sink.Table, sink.Table.SinkSchema, job.Connectors) is { } direct
                ? rows.SinkTo(direct, name)
                : ToRows(rows, sink.Table.SinkSchema, connector.CreateSink(sink.Table, sink.Table.SinkSchema, job.Connectors), name);
            if (parallelism is { } n) stream.SetParallelism(n);
            return stream;
        }

        public object ToRowSink(object input, Schema schema, Sink<Row> sink, string name) => ToRows((DataStream<TRow>)input, schema, sink, name);

        private static DataStream<NoOutput> ToRows(DataStream<TRow> input, Schema schema, Sink<Row> sink, string name)
        {
            var toRow = RowTypes.ToRow<TRow>(schema);
            return input.SinkTo(new RowConvertingSink<TRow>(sink, toRow), name);
        }
    }
}
