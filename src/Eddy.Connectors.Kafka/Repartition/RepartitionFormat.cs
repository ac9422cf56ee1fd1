using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka.Repartition;

/// <summary>
/// The messages of a repartition topic. A message holds either records or one watermark, little-endian:
/// <list type="bullet">
/// <item>records: <c>1</c> (byte), count (int32, at most <see cref="MaxRecords"/>), then per record its source
/// position (int64: source partition and offset, <see cref="SourcePositions.Pack"/>), event timestamp (int64), row kind
/// (byte) and the value in the checkpoint format (<see cref="StateSerializers"/>);</item>
/// <item>watermark: <c>2</c> (byte), source partition (int32), watermark (int64; <see cref="EventTime.MaxWatermark"/>: that
/// source partition has ended).</item>
/// </list>
/// Records travel many to a message (one per partition and written batch), so the broker sees batches and the writer
/// makes no object per record.
/// </summary>
internal static class RepartitionFormat
{
    public const byte Records = 1;
    public const byte Watermark = 2;

    /// <summary>Records per message: a reader numbers the records of message at offset o as o × 1024 + i (their positions downstream).</summary>
    public const int MaxRecords = 1024;

    /// <summary>A message is sent once its buffer passes this size (well under a broker's usual 1 MB limit).</summary>
    public const int TargetBytes = 256 * 1024;
}
