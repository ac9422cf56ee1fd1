using System.Text;
using Eddy.Runtime;
using Eddy.Runtime.Distributed;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;

namespace Eddy.Connectors.Kafka;

/// <summary>One message of an upsert topic: its primary key (decoded from the message key), the row (null: a tombstone) and where it came from.</summary>
internal sealed record UpsertRecord(Row Key, byte[] KeyBytes, byte[]? ValueBytes, Row? Row, string Topic, int Partition, long Offset, long Timestamp);

/// <summary>
/// Decodes an upsert-kafka message: the primary key from the key (<c>key.format</c> json, raw or avro), the row from the value
/// with the table's record decoder. A message without a key cannot be placed and is a bad record.
/// </summary>
internal sealed class UpsertDecoding
{
    private readonly SqlRecordDecoder values;
    private readonly Func<byte[], Row>? keyRows;
    private readonly bool rawBytesKey;

    public UpsertDecoding(TableDef table, SqlRecordDecoder values)
    {
        this.values = values;
        var keyColumns = table.PrimaryKey.Select(k => table.Columns.First(c => c.Name == k)).Select(c => new Column(c.Name, c.Type)).ToArray();
        string keyFormat = table.Options["key.format"];
        if (keyFormat == "json") { var json = new JsonRowDecoder(new Schema(keyColumns), KafkaTableConnector.Flag(table, "key.json.fail-on-missing-field")); keyRows = bytes => json.Decode(bytes); }
        else if (keyFormat == "avro") keyRows = AvroKey.Decoder(table, new Schema(keyColumns)).DecodeRow;
        else if (keyColumns.Length == 1 && keyColumns[0].Type.Kind is TypeKind.String or TypeKind.Binary) rawBytesKey = keyColumns[0].Type.Kind == TypeKind.Binary;
        else throw new ConnectorOptionException(table.Name, "key.format", "'raw' reads the key into exactly one STRING or BYTES primary key column");
    }

    public bool Decode(in KafkaMessage m, out UpsertRecord record)
    {
        if (m.Key is null) throw new FormatException("the record has no key; upsert-kafka finds the row to change by its key");
        Row key;
        if (keyRows is not null)
        {
            try
            {
                key = keyRows(m.Key);
            }
            catch (FormatException e)
            {
                throw new FormatException($"key: {e.Message}", e);
            }
        }
        // Keys compare by value: BYTES as their hex text (a byte array compares by reference).
        else key = Row.Of(rawBytesKey ? Convert.ToHexString(m.Key) : Encoding.UTF8.GetString(m.Key));
        Row? row = null;
        if (m.Value is not null && !values.Decode(m, out row))
        {
            record = null!;
            return false;
        }
        record = new UpsertRecord(key, m.Key, m.Value, row, m.Topic, m.Partition, m.Offset, m.Timestamp);
        return true;
    }
}

/// <summary>
/// <c>'connector' = 'upsert-kafka'</c> as a source: the topic as a changelog, normalized as Flink's ChangelogNormalize
/// does. The reader keeps the last row per primary key: a value for a new key is +I, for a known key -U (old row) and
/// +U (new row) — nothing when the row is unchanged —, a tombstone -D with the old row, a tombstone for an unknown key
/// nothing. The per-key rows are checkpointed with the offsets (as the messages' bytes, decoded again on restore) and
/// travel with their partitions when the parallelism changes. A key is expected to stay in one partition (Kafka's
/// default partitioning by key, as every upsert-kafka writer does).
/// </summary>
internal sealed class UpsertKafkaSource(KafkaSourceOptions options, UpsertDecoding decoding) : Source<Row>, IPartitionedSource
{
    private readonly KafkaSource<UpsertRecord> messages = new(options, decoding.Decode);

    public override bool IsBounded => messages.IsBounded;

    public int PartitionCount() => messages.PartitionCount();

    public string Describe() => messages.Describe();

    public IReadOnlyList<string> Topics() => messages.Topics();

    public override SourceReader<Row> CreateReader(SourceReaderContext context) =>
        NormalizingKafkaReader.Create(messages, context, (reader, restored) => new UpsertNormalizingReader(reader, decoding, restored));
}

internal sealed class UpsertNormalizingReader : SourceReader<Row>
{
    private const byte StateVersion = 1;

    private readonly KafkaSourceReader<UpsertRecord> messages;
    private readonly UpsertDecoding decoding;
    private readonly Dictionary<Row, UpsertRecord> last = [];
    private readonly SourceOutput<UpsertRecord> buffer = new();
    private readonly List<int> bufferSplits = [];
    /// <summary>Read but not yet emitted: a message may give two changes, so a full output leaves some for the next call.</summary>
    private readonly Queue<(UpsertRecord Record, long Timestamp, int Split)> pending = new();
    private SourceStatus messagesStatus = SourceStatus.MoreAvailable;

    public UpsertNormalizingReader(KafkaSourceReader<UpsertRecord> messages, UpsertDecoding decoding, RestoredState? restored)
    {
        this.messages = messages;
        this.decoding = decoding;
        if (restored is not null) Restore(restored);
    }

    public override int SplitCount => messages.SplitCount;

    /// <summary>The number of keys with a row (for tests and metrics).</summary>
    internal int KeyCount => last.Count;

    /// <summary>Messages read but not yet emitted (for tests).</summary>
    internal int PendingCount => pending.Count;

    public override SourceStatus Read(SourceOutput<Row> output)
    {
        if (pending.Count == 0)
        {
            if (NormalizingKafkaReader.ReadBatch(messages, buffer, bufferSplits, output, out messagesStatus) is { } batch)
            {
                for (int i = 0; i < batch.Count; i++) pending.Enqueue((batch.Values[i], batch.Timestamps[i], bufferSplits[i]));
                BatchPool<UpsertRecord>.Return(batch);
            }
        }
        while (pending.Count > 0 && output.Room >= 2)
        {
            var (record, timestamp, split) = pending.Dequeue();
            Apply(record, timestamp, split, output);
        }
        return pending.Count > 0 ? SourceStatus.MoreAvailable : messagesStatus;
    }

    /// <summary>
    /// Each change carries the position of its message and its place among the message's (up to two) changes, so that a
    /// repartition topic after this source tells a replayed change from a new one.
    /// </summary>
    private void Apply(UpsertRecord record, long timestamp, int split, SourceOutput<Row> output)
    {
        long first = SourcePositions.PackChange(record.Partition, record.Offset, 0);
        if (record.Row is null)
        {
            if (last.Remove(record.Key, out var deleted)) output.AddPositioned(deleted.Row!.WithKind(RowKind.Delete), timestamp, split, first, RowKind.Delete);
            return;
        }
        if (last.TryGetValue(record.Key, out var previous))
        {
            last[record.Key] = record;
            if (previous.Row!.Equals(record.Row)) return;
            output.AddPositioned(previous.Row.WithKind(RowKind.UpdateBefore), timestamp, split, first, RowKind.UpdateBefore);
            output.AddPositioned(record.Row.WithKind(RowKind.UpdateAfter), timestamp, split, SourcePositions.PackChange(record.Partition, record.Offset, 1), RowKind.UpdateAfter);
            return;
        }
        last[record.Key] = record;
        output.AddPositioned(record.Row.WithKind(RowKind.Insert), timestamp, split, first, RowKind.Insert);
    }

    /// <summary>
    /// The Kafka reader's state (offsets) first, length-prefixed, then the last message of every key and the messages
    /// read but not yet emitted (their offsets are already past them in the Kafka reader's state).
    /// </summary>
    public override void SnapshotState(long checkpointId, BinaryWriter state)
    {
        NormalizingKafkaReader.WriteOffsets(messages, checkpointId, state, StateVersion);
        state.Write(last.Count);
        foreach (var record in last.Values) Write(state, record);
        state.Write(pending.Count);
        foreach (var (record, _, _) in pending) Write(state, record);
    }

    public override void NotifyCheckpointComplete(long checkpointId) => messages.NotifyCheckpointComplete(checkpointId);

    private static void Write(BinaryWriter w, UpsertRecord r) =>
        NormalizingKafkaReader.WriteMessage(w, r.KeyBytes, r.ValueBytes, r.Topic, r.Partition, r.Offset, r.Timestamp);

    /// <summary>Takes the rows and pending messages of the partitions this reader now owns, from every old subtask's state.</summary>
    private void Restore(RestoredState restored)
    {
        foreach (var bytes in restored.SubtaskStates)
        {
            using var reader = NormalizingKafkaReader.OpenOwnState(bytes, StateVersion, "upsert-kafka", restored.CheckpointId);
            if (reader is null) continue;
            int rows = reader.ReadInt32();
            for (int i = 0; i < rows; i++)
            {
                var m = NormalizingKafkaReader.ReadMessage(reader);
                if (messages.SplitOf(m.Topic, m.Partition) >= 0 && Decode(m, restored) is { } record) last[record.Key] = record;
            }
            int waiting = reader.ReadInt32();
            for (int i = 0; i < waiting; i++)
            {
                var m = NormalizingKafkaReader.ReadMessage(reader);
                int split = messages.SplitOf(m.Topic, m.Partition);
                if (split >= 0 && Decode(m, restored) is { } record) pending.Enqueue((record, m.Timestamp, split));
            }
        }
    }

    private UpsertRecord? Decode(in KafkaMessage m, RestoredState restored)
    {
        try
        {
            return decoding.Decode(m, out var record) ? record : null;
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"upsert-kafka state of checkpoint {restored.CheckpointId}: the row of topic '{m.Topic}' partition {m.Partition} offset {m.Offset} no longer decodes: {e.Message}", e);
        }
    }

    public override void Dispose()
    {
        messages.Dispose();
        base.Dispose();
    }
}
