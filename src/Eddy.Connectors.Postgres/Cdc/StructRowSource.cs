using Eddy.Runtime;

namespace Eddy.Connectors.Postgres.Cdc;

/// <summary>
/// A struct source seen as generic rows (for callers that ask for <see cref="Row"/>s): each batch of the struct reader
/// is converted, with its kinds and splits; checkpoints and barriers are the struct reader's.
/// </summary>
internal sealed class StructRowSource<T>(Source<T> inner, Func<T, RowKind, Row> toRow) : Source<Row>
{
    public override bool IsBounded => inner.IsBounded;

    public override SourceReader<Row> CreateReader(SourceReaderContext context) => new Reader(inner.CreateReader(context), toRow);

    private sealed class Reader(SourceReader<T> reader, Func<T, RowKind, Row> toRow) : SourceReader<Row>
    {
        private readonly SourceOutput<T> buffer = new();
        private readonly List<int> splits = [];

        public override int SplitCount => reader.SplitCount;

        public override string? SplitName(int split) => reader.SplitName(split);

        public override bool ReadyForBarrier => reader.ReadyForBarrier;

        public override SourceStatus Read(SourceOutput<Row> output)
        {
            int room = output.Room;
            if (room <= 0) return SourceStatus.MoreAvailable;
            buffer.Limit = room;
            var status = reader.Read(buffer);
            var batch = buffer.DrainBatch(splits);
            for (int i = 0; i < batch.Count; i++)
            {
                var kind = batch.KindAt(i);
                output.Add(toRow(batch.Values[i], kind), batch.Timestamps[i], splits[i], kind);
            }
            BatchPool<T>.Return(batch);
            return status;
        }

        public override void SnapshotState(long checkpointId, BinaryWriter state) => reader.SnapshotState(checkpointId, state);

        public override void NotifyCheckpointComplete(long checkpointId) => reader.NotifyCheckpointComplete(checkpointId);

        public override void Dispose()
        {
            reader.Dispose();
            base.Dispose();
        }
    }
}
