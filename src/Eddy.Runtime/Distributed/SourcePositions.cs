namespace Eddy.Runtime.Distributed;

/// <summary>
/// Where each record of a source batch came from (partition and offset), for a repartition writer chained right
/// after the source: it sends them along with the records, so that the reading side can drop a replay. The driver
/// publishes a batch's positions on its task thread for the duration of the call that hands the batch down; operators
/// between the source and the writer that keep track of which input record each output record came from relay them
/// (<see cref="Relay"/>). An operator that makes several records of one input record (a HOP or CUMULATE window table
/// function) numbers them: the <em>ordinal</em> of a record among those made of one source record, so that a position
/// and an ordinal together name one record, and a replay is recognised record by record even when a checkpoint falls
/// between two records of one source offset.
/// </summary>
public static class SourcePositions
{
    /// <summary>Offsets must stay below 2^47 (1.4 × 10^14), partitions below 2^16.</summary>
    public const int OffsetBits = 47;

    public const long MaxOffset = (1L << OffsetBits) - 1;

    public const int MaxPartition = (1 << 16) - 1;

    [ThreadStatic] private static object? currentBatch;
    [ThreadStatic] private static long[]? currentPositions;
    [ThreadStatic] private static long[]? currentOrdinals;

    /// <summary>A partition and an offset in one long (partition in the high bits, so positions of one partition order by offset).</summary>
    public static long Pack(int partition, long offset)
    {
        if ((uint)partition > MaxPartition) throw new ArgumentOutOfRangeException(nameof(partition), partition, $"source partitions above {MaxPartition} cannot be tracked through a repartition topic");
        if ((ulong)offset > MaxOffset) throw new ArgumentOutOfRangeException(nameof(offset), offset, $"offsets above {MaxOffset} cannot be tracked through a repartition topic");
        return ((long)partition << OffsetBits) | offset;
    }

    /// <summary>
    /// Changes one source record may give and still be told apart through a repartition topic (a changelog record: an
    /// update's -U and +U, a canal-json message's rows, each normalized into up to two changes): see <see cref="PackChange"/>.
    /// </summary>
    public const int ChangesPerRecord = 4096;

    /// <summary>A change whose position cannot be packed (<see cref="PackChange"/>): a repartition writer refuses it.</summary>
    public const long Unknown = -1;

    /// <summary>
    /// The position of change <paramref name="index"/> of the record at <paramref name="offset"/>: a changelog source
    /// gives several changes for one record, and a repartition reader drops what it already applied by position, so
    /// each change needs its own, increasing within the record and across records (offset × <see cref="ChangesPerRecord"/>
    /// + index). A replay from a checkpoint gives each change the same index again (the readers restore the rows they
    /// had not yet emitted with their indices). <see cref="Unknown"/> when the index or the offset (at most 2^35) does not
    /// fit: a job in one process never looks at positions, so only a repartition writer fails on it.
    /// </summary>
    public static long PackChange(int partition, long offset, int index) =>
        (uint)index < ChangesPerRecord && (ulong)offset <= MaxOffset / ChangesPerRecord && (uint)partition <= MaxPartition
            ? Pack(partition, offset * ChangesPerRecord + index)
            : Unknown;

    public static int PartitionOf(long position) => (int)(position >>> OffsetBits);

    public static long OffsetOf(long position) => position & MaxOffset;

    internal static void Publish(object batch, long[] positions)
    {
        currentBatch = batch;
        currentPositions = positions;
        currentOrdinals = null;
    }

    /// <summary>
    /// Publishes <paramref name="positions"/> (and <paramref name="ordinals"/>, null when each source record made at
    /// most one record of the batch) as those of <paramref name="batch"/>, made from the batch they belonged to, for
    /// the call that hands it down; returns what to <see cref="Restore"/> after it (the input batch may go on to other
    /// consumers).
    /// </summary>
    public static RelayedPositions Relay(object batch, long[] positions, long[]? ordinals = null)
    {
        var previous = new RelayedPositions(currentBatch, currentPositions, currentOrdinals);
        currentBatch = batch;
        currentPositions = positions;
        currentOrdinals = ordinals;
        return previous;
    }

    public static void Restore(RelayedPositions previous)
    {
        currentBatch = previous.Batch;
        currentPositions = previous.Positions;
        currentOrdinals = previous.Ordinals;
    }

    internal static void Clear()
    {
        currentBatch = null;
        currentPositions = null;
        currentOrdinals = null;
    }

    /// <summary>
    /// The positions of <paramref name="batch"/>'s records, or null when the batch is not a source's batch on its way
    /// down this thread (an operator between the source and the caller made it, or the source does not know them).
    /// </summary>
    public static long[]? Of<T>(Batch<T> batch) => ReferenceEquals(currentBatch, batch) ? currentPositions : null;

    /// <summary>
    /// The ordinals of <paramref name="batch"/>'s records (each record's number among the records made of its source
    /// record), or null when each source record made at most one of them (every ordinal 0) or the batch carries no
    /// positions.
    /// </summary>
    public static long[]? OrdinalsOf<T>(Batch<T> batch) => ReferenceEquals(currentBatch, batch) ? currentOrdinals : null;
}

/// <summary>What <see cref="SourcePositions.Relay"/> replaced, to put back once the relayed batch has been handed down.</summary>
public readonly record struct RelayedPositions(object? Batch, long[]? Positions, long[]? Ordinals);

/// <summary>
/// A source reader whose splits carry their own watermarks and watermark status (a repartition topic: the writers'
/// control records give each upstream source partition's watermark, and its IDLE / ACTIVE status as the upstream
/// task's idle timeout decided it). The driver combines the splits as a task combines its input channels (Flink's
/// StatusWatermarkValve), and applies no idle timeout of its own to them: a split is idle only when its upstream said so.
/// </summary>
public interface IInBandWatermarks
{
    /// <summary>Whether a split's watermark or status may have changed since the last call (and forgets it); true before the first call.</summary>
    bool TakeChanges();

    /// <summary>The watermark split <paramref name="split"/>'s control records gave so far (−∞ before the first).</summary>
    long SplitWatermark(int split);

    /// <summary>Whether split <paramref name="split"/> is idle: its upstream said IDLE and nothing of it came since.</summary>
    bool SplitIdle(int split);
}

/// <summary>A source that reads the partitions of its topic(s): the stage split asks it how many there are.</summary>
public interface IPartitionedSource
{
    /// <summary>The number of partitions of the source's topic (looked up at the broker on the first call).</summary>
    int PartitionCount();

    /// <summary>What the source reads, for plans and errors (the topic).</summary>
    string Describe();

    /// <summary>The topics the source names (none for a pattern).</summary>
    IReadOnlyList<string> Topics();
}
