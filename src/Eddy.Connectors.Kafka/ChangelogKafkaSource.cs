using Eddy.Runtime;
using Eddy.Runtime.Distributed;

namespace Eddy.Connectors.Kafka;

/// <summary>One record of a changelog topic, decoded: its rows (each with its kind) and the record, kept for checkpoints.</summary>
internal sealed record ChangelogRecord(Row[] Rows, KafkaMessage Message);

/// <summary>
/// A kafka table whose value format is a changelog (<c>debezium-json</c>): each record gives zero or more rows with
/// their kinds (an update gives -U and +U). With <c>table.exec.source.cdc-events-duplicate</c> the rows are
/// normalized by the table's primary key as Flink's ChangelogNormalize does (see <see cref="ChangelogReader"/>).
/// </summary>
internal sealed class ChangelogKafkaSource(KafkaSourceOptions options, SqlRecordDecoder decoder, int[]? primaryKey) : Source<Row>, IPartitionedSource
{
    private readonly KafkaSource<ChangelogRecord> records = new(options, (in KafkaMessage m, out ChangelogRecord record) => Decode(decoder, m, out record));

    public override bool IsBounded => records.IsBounded;

    public int PartitionCount() => records.PartitionCount();

    public string Describe() => records.Describe();

    public IReadOnlyList<string> Topics() => records.Topics();

    internal static bool Decode(SqlRecordDecoder decoder, in KafkaMessage m, out ChangelogRecord record)
    {
        var rows = new List<Row>(2);
        decoder.DecodeAll(m, rows);
        record = new ChangelogRecord([.. rows], m);
        return rows.Count > 0;
    }

    public override SourceReader<Row> CreateReader(SourceReaderContext context) =>
        NormalizingKafkaReader.Create(records, context, (reader, restored) => new ChangelogReader(reader, decoder, primaryKey, restored));
}

/// <summary>
/// Emits the rows of each record in order. Without a key it passes the changelog on as the format gives it (Flink's
/// default). With one (<c>table.exec.source.cdc-events-duplicate</c>) it keeps the last row per key, as Flink's
/// ChangelogNormalize: +I/+U of a new key → +I; of a known key → -U of the kept row and +U, nothing when the row is
/// unchanged; -U/-D of a known key → -D of the kept row (it is gone, whatever follows); of an unknown key → nothing.
/// So a duplicated event changes nothing. Flink keys this by the primary key across the stream; Eddy keys it per
/// source subtask, so a key must stay in one partition (Debezium keys its records by the primary key).
/// </summary>
internal sealed class ChangelogReader : SourceReader<Row>
{
    private const byte StateVersion = 1;

    private readonly KafkaSourceReader<ChangelogRecord> records;
    private readonly SqlRecordDecoder decoder;
    private readonly int[]? primaryKey;
    private readonly Dictionary<Row, Kept> last = [];
    private readonly SourceOutput<ChangelogRecord> buffer = new();
    private readonly List<int> bufferSplits = [];
    /// <summary>Rows read but not yet emitted (a record may give several rows, and a normalized row two).</summary>
    private readonly Queue<(ChangelogRecord Record, int Index, long Timestamp, int Split)> pending = new();
    private SourceStatus recordsStatus = SourceStatus.MoreAvailable;

    /// <summary>The row kept for a key and where it came from (its record and its position there), for the checkpoint.</summary>
    private readonly record struct Kept(Row Row, ChangelogRecord Record, int Index);

    public ChangelogReader(KafkaSourceReader<ChangelogRecord> records, SqlRecordDecoder decoder, int[]? primaryKey, RestoredState? restored)
    {
        this.records = records;
        this.decoder = decoder;
        this.primaryKey = primaryKey;
        if (restored is not null) Restore(restored);
    }

    public override int SplitCount => records.SplitCount;

    /// <summary>The number of keys with a row (normalized tables; for tests).</summary>
    internal int KeyCount => last.Count;

    /// <summary>Rows read but not yet emitted (for tests).</summary>
    internal int PendingCount => pending.Count;

    public override SourceStatus Read(SourceOutput<Row> output)
    {
        if (pending.Count == 0)
        {
            if (NormalizingKafkaReader.ReadBatch(records, buffer, bufferSplits, output, out recordsStatus) is { } batch)
            {
                for (int i = 0; i < batch.Count; i++)
                {
                    var record = batch.Values[i];
                    for (int r = 0; r < record.Rows.Length; r++) pending.Enqueue((record, r, batch.Timestamps[i], bufferSplits[i]));
                }
                BatchPool<ChangelogRecord>.Return(batch);
            }
        }
        while (pending.Count > 0 && output.Room >= 2)
        {
            var (record, index, timestamp, split) = pending.Dequeue();
            var row = record.Rows[index];
            if (primaryKey is null) output.AddPositioned(row, timestamp, split, Position(record, index, 0), row.Kind);
            else Normalize(record, index, row, timestamp, split, output);
        }
        return pending.Count > 0 ? SourceStatus.MoreAvailable : recordsStatus;
    }

    /// <summary>
    /// The position of change <paramref name="change"/> (0 or 1: a normalized row gives up to two) of row
    /// <paramref name="index"/> of the record: a repartition topic after this source tells each change apart by it.
    /// </summary>
    private static long Position(ChangelogRecord record, int index, int change) =>
        SourcePositions.PackChange(record.Message.Partition, record.Message.Offset, 2 * index + change);

    private void Normalize(ChangelogRecord record, int index, Row row, long timestamp, int split, SourceOutput<Row> output)
    {
        var key = KeyOf(row);
        if (row.Kind is RowKind.Insert or RowKind.UpdateAfter)
        {
            if (last.TryGetValue(key, out var previous))
            {
                last[key] = new Kept(row, record, index);
                if (SameValues(previous.Row, row)) return;
                output.AddPositioned(previous.Row.WithKind(RowKind.UpdateBefore), timestamp, split, Position(record, index, 0), RowKind.UpdateBefore);
                output.AddPositioned(row.WithKind(RowKind.UpdateAfter), timestamp, split, Position(record, index, 1), RowKind.UpdateAfter);
                return;
            }
            last[key] = new Kept(row, record, index);
            output.AddPositioned(row.WithKind(RowKind.Insert), timestamp, split, Position(record, index, 0), RowKind.Insert);
            return;
        }
        if (last.Remove(key, out var removed)) output.AddPositioned(removed.Row.WithKind(RowKind.Delete), timestamp, split, Position(record, index, 0), RowKind.Delete);
    }

    private Row KeyOf(Row row)
    {
        var fields = new object?[primaryKey!.Length];
        for (int i = 0; i < fields.Length; i++)
        {
            var v = row[primaryKey[i]];
            // Keys compare by value: BYTES by their hex text (an array compares by reference).
            fields[i] = v is byte[] b ? Convert.ToHexString(b) : v;
        }
        return Row.Of(fields);
    }

    private static bool SameValues(Row a, Row b) => a.WithKind(RowKind.Insert).Equals(b.WithKind(RowKind.Insert));

    /// <summary>
    /// The Kafka reader's state (offsets) first, length-prefixed; then the records with rows not yet emitted (their
    /// offsets are already past them) with how many of their rows were emitted; then, normalized, each key's row as
    /// its record and position.
    /// </summary>
    public override void SnapshotState(long checkpointId, BinaryWriter state)
    {
        NormalizingKafkaReader.WriteOffsets(records, checkpointId, state, StateVersion);
        var waiting = new List<(ChangelogRecord Record, int FirstIndex)>();
        foreach (var (record, index, _, _) in pending)
        {
            if (waiting.Count == 0 || !ReferenceEquals(waiting[^1].Record, record)) waiting.Add((record, index));
        }
        state.Write(waiting.Count);
        foreach (var (record, firstIndex) in waiting)
        {
            Write(state, record.Message);
            state.Write(firstIndex);
        }
        state.Write(last.Count);
        foreach (var kept in last.Values)
        {
            Write(state, kept.Record.Message);
            state.Write(kept.Index);
        }
    }

    public override void NotifyCheckpointComplete(long checkpointId) => records.NotifyCheckpointComplete(checkpointId);

    private static void Write(BinaryWriter w, in KafkaMessage m) =>
        NormalizingKafkaReader.WriteMessage(w, m.Key, m.Value, m.Topic, m.Partition, m.Offset, m.Timestamp);

    /// <summary>Takes the waiting rows and kept rows of the partitions this reader now owns, from every old subtask's state.</summary>
    private void Restore(RestoredState restored)
    {
        foreach (var bytes in restored.SubtaskStates)
        {
            using var reader = NormalizingKafkaReader.OpenOwnState(bytes, StateVersion, "kafka changelog", restored.CheckpointId);
            if (reader is null) continue;
            int waiting = reader.ReadInt32();
            for (int i = 0; i < waiting; i++)
            {
                var m = NormalizingKafkaReader.ReadMessage(reader);
                int firstIndex = reader.ReadInt32();
                int split = records.SplitOf(m.Topic, m.Partition);
                if (split < 0) continue;
                var record = Decode(m, restored);
                for (int r = firstIndex; r < record.Rows.Length; r++) pending.Enqueue((record, r, m.Timestamp, split));
            }
            int kept = reader.ReadInt32();
            for (int i = 0; i < kept; i++)
            {
                var m = NormalizingKafkaReader.ReadMessage(reader);
                int index = reader.ReadInt32();
                if (records.SplitOf(m.Topic, m.Partition) < 0 || primaryKey is null) continue;
                var record = Decode(m, restored);
                var row = record.Rows[index];
                last[KeyOf(row)] = new Kept(row, record, index);
            }
        }
    }

    private ChangelogRecord Decode(in KafkaMessage m, RestoredState restored)
    {
        try
        {
            ChangelogKafkaSource.Decode(decoder, m, out var record);
            return record;
        }
        catch (FormatException e)
        {
            throw new InvalidDataException($"kafka changelog state of checkpoint {restored.CheckpointId}: the record of topic '{m.Topic}' partition {m.Partition} offset {m.Offset} no longer decodes: {e.Message}", e);
        }
    }

    public override void Dispose()
    {
        records.Dispose();
        base.Dispose();
    }
}
