using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Runtime.Distributed;

namespace Eddy.Sql.Plan.Scan;

/// <summary>
/// A connector's source seen as a source of row structs: each batch (of generic rows, or of the connector's own
/// structs) is converted in the reader by one compiled loop (<see cref="ConvertBatch{TIn,TOut}"/>), so that split
/// ids (per-partition watermarks) and source timestamps pass through and event time can be computed from computed
/// columns at the source, in the same loop (as can a filter and projection right above the scan).
/// </summary>
public sealed class ConvertingSource<TIn, T>(Source<TIn> inner, Compiled<ConvertBatch<TIn, T>> convert) : Source<T>, IPartitionedSource
{
    public override bool IsBounded => inner.IsBounded;

    public int PartitionCount() => inner is IPartitionedSource p ? p.PartitionCount()
        : throw new InvalidOperationException("the source has no partitions");

    public string Describe() => inner is IPartitionedSource p ? p.Describe() : "";

    public IReadOnlyList<string> Topics() => inner is IPartitionedSource p ? p.Topics() : [];

    public override SourceReader<T> CreateReader(SourceReaderContext context) =>
        new Reader(inner.CreateReader(context), convert.Value, context.Clock);

    private sealed class Reader(SourceReader<TIn> reader, ConvertBatch<TIn, T> convert, TimeProvider clock) : SourceReader<T>
    {
        private readonly SourceOutput<TIn> buffer = new();
        private int[] selected = new int[Batch<TIn>.DefaultCapacity];

        public override int SplitCount => reader.SplitCount;

        public override string? SplitName(int split) => reader.SplitName(split);

        public override SourceStatus Read(SourceOutput<T> output)
        {
            // Read no more than the output has room for, so that the whole buffer converts in one go.
            int room = output.Room;
            if (room == 0) return SourceStatus.MoreAvailable;
            buffer.Limit = room;
            var status = reader.Read(buffer);
            int n = buffer.Count;
            if (n > 0)
            {
                if (selected.Length < n) selected = new int[n];
                int start = output.Reserve(n, buffer.SplitsSoFar, out var values, out var timestamps);
                // Source positions (a Kafka reader's partition and offset) stay with their records.
                if (buffer.HasPositions) output.CopyPositions(start, buffer.PositionsSoFar);
                var batch = buffer.TakeBatch();
                long now = clock.GetUtcNow().ToUnixTimeMilliseconds();
                int kept = convert(batch.Values, batch.Timestamps, n, values, timestamps, start, now, selected);
                if (kept < n) output.Compact(start, kept, selected);
                // A changelog source's kinds (-U/+U/-D) stay with their records.
                if (batch.HasKinds) output.CopyKinds(batch, start, kept, kept < n ? selected : null);
                BatchPool<TIn>.Return(batch);
            }
            output.Bytes += buffer.Bytes;
            buffer.Bytes = 0;
            return status;
        }

        // The conversion holds nothing between reads: a checkpoint is the wrapped reader's (offsets, positions).
        public override void SnapshotState(long checkpointId, BinaryWriter state) => reader.SnapshotState(checkpointId, state);

        public override void NotifyCheckpointComplete(long checkpointId) => reader.NotifyCheckpointComplete(checkpointId);

        public override bool ReadyForBarrier => reader.ReadyForBarrier;

        public override void Dispose()
        {
            reader.Dispose();
            base.Dispose();
        }
    }
}
