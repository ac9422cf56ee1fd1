using Eddy.Runtime;

namespace Eddy.Sql.Plan.TableSink;

/// <summary>Feeds a row-based connector sink from a stream of row structs, keeping each record's kind.</summary>
public sealed class RowConvertingSink<T>(Sink<Row> inner, Func<T, RowKind, Row> toRow) : Sink<T>
{
    public override SinkWriter<T> CreateWriter(SinkWriterContext context) => new Writer(inner.CreateWriter(context), toRow);

    // The conversion holds nothing: a checkpoint and its commit are the wrapped writer's (an exactly-once sink's
    // staged transaction), not a flush.
    private sealed class Writer(SinkWriter<Row> writer, Func<T, RowKind, Row> toRow) : ForwardingSinkWriter<T, Row>(writer)
    {
        public override void Write(Batch<T> batch)
        {
            var rows = BatchPool<Row>.Rent();
            for (int i = 0; i < batch.Count; i++)
            {
                var kind = batch.KindAt(i);
                rows.Add(toRow(batch.Values[i], kind), batch.Timestamps[i], kind);
            }
            Inner.Write(rows);
            BatchPool<Row>.Return(rows);
        }
    }
}
