using System.Text;
using Eddy.Runtime;

namespace Eddy.Connectors.Kafka;

/// <summary>
/// What the two readers that wrap a Kafka reader and keep rows of their own (<see cref="ChangelogReader"/>,
/// <see cref="UpsertNormalizingReader"/>) share: opening the Kafka reader on the offsets part of the restored state,
/// reading it into a buffer, and the state layout (the Kafka reader's offsets length-prefixed, a version byte, then
/// the wrapper's own part with the messages it needs, which it decodes again on restore).
/// </summary>
internal static class NormalizingKafkaReader
{
    /// <summary>Opens the Kafka reader on the offsets of <paramref name="context"/>'s restored state and wraps it; the Kafka reader is closed if the wrapper fails.</summary>
    public static SourceReader<Row> Create<T>(KafkaSource<T> source, SourceReaderContext context, Func<KafkaSourceReader<T>, RestoredState?, SourceReader<Row>> wrap)
    {
        var restored = context.Restored;
        var offsetsOnly = restored is null ? null : restored with { SubtaskStates = [.. restored.SubtaskStates.Select(OffsetState)] };
        var reader = (KafkaSourceReader<T>)source.CreateReader(context with { Restored = offsetsOnly });
        try
        {
            return wrap(reader, restored);
        }
        catch
        {
            reader.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Reads the Kafka reader once into <paramref name="buffer"/> (its bytes counted in <paramref name="output"/>) and
    /// takes what it gave, with each record's split in <paramref name="splits"/>: null when nothing came. The caller
    /// returns the batch to <see cref="BatchPool{T}"/>.
    /// </summary>
    public static Batch<T>? ReadBatch<T>(KafkaSourceReader<T> reader, SourceOutput<T> buffer, List<int> splits, SourceOutput<Row> output, out SourceStatus status)
    {
        status = reader.Read(buffer);
        output.Bytes += buffer.Bytes;
        buffer.Bytes = 0;
        return buffer.Count > 0 ? buffer.DrainBatch(splits) : null;
    }

    /// <summary>Writes the Kafka reader's state (offsets) length-prefixed, then the version of the wrapper's part.</summary>
    public static void WriteOffsets<T>(KafkaSourceReader<T> reader, long checkpointId, BinaryWriter state, byte stateVersion)
    {
        var offsets = new MemoryStream();
        using (var writer = new BinaryWriter(offsets, Encoding.UTF8, leaveOpen: true)) reader.SnapshotState(checkpointId, writer);
        state.Write((int)offsets.Length);
        state.Write(offsets.GetBuffer(), 0, (int)offsets.Length);
        state.Write(stateVersion);
    }

    /// <summary>The Kafka reader's part of a subtask's state.</summary>
    internal static byte[] OffsetState(byte[] state)
    {
        if (state.Length == 0) return state;
        int length = BitConverter.ToInt32(state, 0);
        return state.AsSpan(4, length).ToArray();
    }

    /// <summary>A reader on the wrapper's part of a subtask's state (past the offsets and the checked version); null for an empty state.</summary>
    public static BinaryReader? OpenOwnState(byte[] bytes, byte stateVersion, string what, long checkpointId)
    {
        if (bytes.Length == 0) return null;
        var reader = new BinaryReader(new MemoryStream(bytes), Encoding.UTF8);
        reader.BaseStream.Position = 4 + reader.ReadInt32();
        byte version = reader.ReadByte();
        if (version != stateVersion)
        {
            reader.Dispose();
            throw new InvalidDataException($"{what} state version {version} is not known (expected {stateVersion}); checkpoint {checkpointId}");
        }
        return reader;
    }

    /// <summary>A message as the state keeps it (key and value each may be absent: -1 for its length).</summary>
    public static void WriteMessage(BinaryWriter w, byte[]? key, byte[]? value, string topic, int partition, long offset, long timestamp)
    {
        w.Write(key?.Length ?? -1);
        if (key is not null) w.Write(key);
        w.Write(value?.Length ?? -1);
        if (value is not null) w.Write(value);
        w.Write(topic);
        w.Write(partition);
        w.Write(offset);
        w.Write(timestamp);
    }

    public static KafkaMessage ReadMessage(BinaryReader reader)
    {
        int keyLength = reader.ReadInt32();
        var key = keyLength < 0 ? null : reader.ReadBytes(keyLength);
        int valueLength = reader.ReadInt32();
        var value = valueLength < 0 ? null : reader.ReadBytes(valueLength);
        return new KafkaMessage(key, value, reader.ReadString(), reader.ReadInt32(), reader.ReadInt64(), reader.ReadInt64());
    }
}
