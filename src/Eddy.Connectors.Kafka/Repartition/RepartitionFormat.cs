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
/// source partition has ended);</item>
/// <item>records with ordinals: <c>4</c> (byte), count (int32), then per record its source position, its ordinal
/// (int64: its number among the records made of one source record, as a HOP or CUMULATE window table function makes
/// several; <see cref="SourcePositions.OrdinalsOf"/>), event timestamp, row kind and value as in type 1. A writer
/// sends this type for batches whose records carry ordinals, type 1 for the others; a reader drops a record whose
/// (source offset, ordinal) is at or below the highest it applied for the source partition. Readers before this type
/// fail on it with a located "unknown message type 4".</item>
/// <item>status: <c>3</c> (byte), source partition (int32), status (byte: <see cref="Active"/> or <see cref="Idle"/>):
/// the source partition's watermark status as its upstream task decided it (Flink's WatermarkStatus, by the source's
/// idle timeout). A writer sends ACTIVE for each of its source partitions when it starts (its announcement), then
/// each change. Readers before this type fail on it with a located "unknown message type 3".</item>
/// </list>
/// The first byte is the message type; a new kind of message gets a new type, so that a reader always knows every
/// message an older writer sent.
/// Records travel many to a message (one per partition and written batch), so the broker sees batches and the writer
/// makes no object per record.
/// </summary>
internal static class RepartitionFormat
{
    public const byte Records = 1;
    public const byte Watermark = 2;
    public const byte Status = 3;
    public const byte OrdinalRecords = 4;

    public const byte Active = 0;
    public const byte Idle = 1;

    public const int WatermarkLength = 13;
    public const int StatusLength = 6;

    /// <summary>Records per message: a reader numbers the records of message at offset o as o × 1024 + i (their positions downstream).</summary>
    public const int MaxRecords = 1024;

    /// <summary>A message is sent once its buffer passes this size (well under a broker's usual 1 MB limit).</summary>
    public const int TargetBytes = 256 * 1024;
}
