using System.Threading.Channels;
using Eddy.Runtime;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;
using NpgsqlTypes;

namespace Eddy.Connectors.Postgres.Cdc;

/// <summary>
/// A PostgreSQL table's changelog: a consistent snapshot (<c>initial</c>), then its logical replication stream
/// (pgoutput) from the snapshot's point on, as row structs <typeparamref name="T"/> of the table's decoded columns
/// (<see cref="RowTypes.For"/>). One subtask reads (a replication slot has one reader); the others are idle.
/// </summary>
internal sealed class PostgresCdcSource<T>(PostgresCdcOptions options, IReadOnlyList<CdcField> fields, int[] keyFields, string tableName) : Source<T>
    where T : struct
{
    public override bool IsBounded => false;

    public override SourceReader<T> CreateReader(SourceReaderContext context) =>
        context.SubtaskIndex == 0 ? new PostgresCdcReader<T>(options, fields, keyFields, tableName, context) : new IdleReader();

    /// <summary>Subtasks other than the first: no split, idle from the start.</summary>
    private sealed class IdleReader : SourceReader<T>
    {
        public override int SplitCount => 0;

        public override SourceStatus Read(SourceOutput<T> output) => SourceStatus.NothingAvailable;
    }
}

/// <summary>
/// Reads the snapshot through a transaction that imports the slot's exported snapshot, then the slot's stream.
/// Its checkpoint state is the end LSN of the last transaction it emitted whole and how many changes of the next one
/// it emitted already; the slot's confirmed LSN moves to a checkpoint's position only when that checkpoint completes,
/// so the server keeps everything a restore may need to read again. No barrier leaves during the snapshot, which
/// cannot be resumed (as Flink CDC holds checkpoints during its non-incremental snapshot).
/// </summary>
internal sealed class PostgresCdcReader<T> : SourceReader<T> where T : struct
{
    private const byte StateVersion = 1;

    private readonly PostgresCdcOptions options;
    private readonly CdcField[] fields;
    private readonly int[] keyFields;
    private readonly string tableName;
    private readonly CdcRowCodec<T> snapshotCodec;
    private readonly LogicalReplicationConnection replication;
    private readonly PgOutputReplicationSlot slot;
    private readonly SortedDictionary<long, ulong> positions = [];
    private NpgsqlConnection? snapshotConnection;
    private NpgsqlDataReader? snapshotRows;
    private CdcChangePump<T>? pump;

    /// <summary>The end LSN of the last transaction emitted whole (or the snapshot's point).</summary>
    private ulong position;

    /// <summary>Changes of the transaction after <see cref="position"/> emitted so far (a barrier may leave mid-transaction).</summary>
    private int emittedInTransaction;

    /// <summary>After a restore: changes of the first transaction that the restored checkpoint had emitted already.</summary>
    private int skip;

    public PostgresCdcReader(PostgresCdcOptions options, IReadOnlyList<CdcField> fields, int[] keyFields, string tableName, SourceReaderContext context)
    {
        this.options = options;
        this.fields = [.. fields];
        this.keyFields = keyFields;
        this.tableName = tableName;
        snapshotCodec = new CdcRowCodec<T>(this.fields, keyFields, options);
        slot = new PgOutputReplicationSlot(options.SlotName);
        replication = new LogicalReplicationConnection(options.Connection.ConnectionString);
        try
        {
            replication.Open().GetAwaiter().GetResult();
            Start(context);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void Start(SourceReaderContext context)
    {
        byte[]? state = context.Restored is { SubtaskStates.Count: > 0 } restored ? restored.SubtaskStates[0] : null;
        bool slotExists = SlotExists();
        if (state is { Length: > 0 })
        {
            using var r = new BinaryReader(new MemoryStream(state));
            byte version = r.ReadByte();
            if (version != StateVersion)
                throw new InvalidDataException($"postgres-cdc table {tableName}: checkpoint state version {version} is not {StateVersion}");
            position = r.ReadUInt64();
            skip = r.ReadInt32();
            if (!slotExists)
                throw new InvalidOperationException(
                    $"postgres-cdc table {tableName}: replication slot '{options.SlotName}' is gone, and with it the changes after the checkpoint's position {new NpgsqlLogSequenceNumber(position)}; start the job fresh (a new snapshot)");
            StartStreaming();
            return;
        }
        if (options.StartupMode == CdcStartupMode.Initial)
        {
            if (slotExists)
                throw new InvalidOperationException(
                    $"postgres-cdc table {tableName}: replication slot '{options.SlotName}' exists already, but a fresh start with 'scan.startup.mode' = 'initial' creates it, "
                    + $"so that its snapshot and the stream meet exactly: resume the job from its checkpoint, or drop the slot (SELECT pg_drop_replication_slot('{options.SlotName}'))");
            var created = replication.CreatePgOutputReplicationSlot(options.SlotName, temporarySlot: false, LogicalSlotSnapshotInitMode.Export)
                .GetAwaiter().GetResult();
            position = (ulong)created.ConsistentPoint;
            OpenSnapshot(created.SnapshotName ?? throw new InvalidOperationException("the server exported no snapshot with the new slot"));
            context.Report?.Invoke($"postgres-cdc table {tableName}: created replication slot '{options.SlotName}' at {created.ConsistentPoint}; reading the snapshot");
            return;
        }
        if (options.StartupMode == CdcStartupMode.CommittedOffset)
        {
            if (!slotExists)
                throw new InvalidOperationException(
                    $"postgres-cdc table {tableName}: 'scan.startup.mode' = 'committed-offset' reads on from replication slot '{options.SlotName}', which does not exist");
            // Position 0: the server starts at the slot's confirmed position.
            position = 0;
            StartStreaming();
            return;
        }
        if (!slotExists)
        {
            var created = replication.CreatePgOutputReplicationSlot(options.SlotName, temporarySlot: false, LogicalSlotSnapshotInitMode.NoExport)
                .GetAwaiter().GetResult();
            position = (ulong)created.ConsistentPoint;
        }
        else position = (ulong)replication.IdentifySystem().GetAwaiter().GetResult().XLogPos;
        StartStreaming();
    }

    private bool SlotExists()
    {
        using var conn = new NpgsqlConnection(options.Connection.ConnectionString);
        conn.Open();
        var kind = CdcTableCheck.QueryAll(conn, "SELECT plugin, database FROM pg_replication_slots WHERE slot_name = $1",
            r => (Plugin: r.IsDBNull(0) ? "" : r.GetString(0), Database: r.IsDBNull(1) ? "" : r.GetString(1)), options.SlotName);
        if (kind.Count == 0) return false;
        if (kind[0].Plugin != "pgoutput" || kind[0].Database != conn.Database)
            throw new InvalidOperationException(
                $"postgres-cdc table {tableName}: replication slot '{options.SlotName}' belongs to plug-in '{kind[0].Plugin}' in database '{kind[0].Database}', not to pgoutput in '{conn.Database}'");
        return true;
    }

    private void OpenSnapshot(string snapshotName)
    {
        snapshotConnection = new NpgsqlConnection(options.Connection.ConnectionString);
        snapshotConnection.Open();
        CdcTableCheck.Execute(snapshotConnection, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        CdcTableCheck.Execute(snapshotConnection, $"SET TRANSACTION SNAPSHOT '{snapshotName.Replace("'", "''", StringComparison.Ordinal)}'");
        var columns = fields.Where(f => f.Source == CdcFieldSource.Column).Select(f => PgTableName.Quote(f.PgColumn!)).ToList();
        string list = columns.Count == 0 ? "1" : string.Join(", ", columns);
        var cmd = new NpgsqlCommand($"SELECT {list} FROM {options.QualifiedTable}", snapshotConnection);
        snapshotRows = cmd.ExecuteReader();
    }

    private void StartStreaming()
    {
        pump = new CdcChangePump<T>(replication, slot, options, fields, keyFields, position);
    }

    public override bool ReadyForBarrier => snapshotRows is null;

    public override SourceStatus Read(SourceOutput<T> output)
    {
        if (snapshotRows is not null) return ReadSnapshot(output);
        var p = pump!;
        while (!output.IsFull && p.TryRead(out var change))
        {
            if (change.IsCommit)
            {
                position = change.EndLsn;
                emittedInTransaction = 0;
                continue;
            }
            emittedInTransaction++;
            if (skip > 0)
            {
                skip--;
                continue;
            }
            output.Add(change.Value, EventTime.None, 0, change.Kind);
        }
        if (output.Count > 0) return SourceStatus.MoreAvailable;
        p.WaitForChanges(TimeSpan.FromMilliseconds(20));
        return SourceStatus.NothingAvailable;
    }

    private SourceStatus ReadSnapshot(SourceOutput<T> output)
    {
        var rows = snapshotRows!;
        while (!output.IsFull)
        {
            if (!rows.Read())
            {
                rows.Dispose();
                snapshotRows = null;
                CdcTableCheck.Execute(snapshotConnection!, "COMMIT");
                snapshotConnection!.Dispose();
                snapshotConnection = null;
                StartStreaming();
                return SourceStatus.MoreAvailable;
            }
            output.Add(snapshotCodec.ReadSnapshotRow(rows), EventTime.None, 0, RowKind.Insert);
        }
        return SourceStatus.MoreAvailable;
    }

    public override void SnapshotState(long checkpointId, BinaryWriter state)
    {
        state.Write(StateVersion);
        state.Write(position);
        state.Write(emittedInTransaction);
        positions[checkpointId] = position;
    }

    /// <summary>The slot may now drop what precedes the completed checkpoint's position: a restore starts there or later.</summary>
    public override void NotifyCheckpointComplete(long checkpointId)
    {
        ulong? confirm = null;
        foreach (var (id, lsn) in positions.ToList())
        {
            if (id > checkpointId) break;
            confirm = lsn;
            positions.Remove(id);
        }
        if (confirm is not { } c || pump is null) return;
        replication.SetReplicationStatus(new NpgsqlLogSequenceNumber(c));
        // Before the stream has started (just after the snapshot) the status goes with the connection's first
        // periodic feedback instead.
        if (!pump.Started) return;
        try
        {
            replication.SendStatusUpdate().GetAwaiter().GetResult();
        }
        catch (InvalidOperationException)
        {
            // The stream ended meanwhile (the job is stopping, or the pump failed and the next read says why).
        }
    }

    public override void Dispose()
    {
        pump?.Dispose();
        snapshotRows?.Dispose();
        snapshotConnection?.Dispose();
        replication.DisposeAsync().AsTask().GetAwaiter().GetResult();
        base.Dispose();
    }
}

/// <summary>
/// Reads the replication stream on a pool thread into a bounded queue of changes (rows and transaction ends), so that
/// the task thread never waits on the socket and a full queue holds the server back.
/// </summary>
internal sealed class CdcChangePump<T> : IDisposable where T : struct
{
    /// <summary>A change (the row with its kind), or the end of a transaction (<see cref="IsCommit"/>, at <see cref="EndLsn"/>).</summary>
    internal readonly record struct Change(T Value, RowKind Kind, bool IsCommit, ulong EndLsn);

    private readonly Channel<Change> changes = Channel.CreateBounded<Change>(
        new BoundedChannelOptions(8192) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource stop = new();
    private readonly Task run;
    private readonly PostgresCdcOptions options;
    private readonly CdcField[] fields;
    private readonly CdcRowCodec<T> codec;
    private Exception? failure;
    private volatile bool started;

    /// <summary>Whether the server accepted START_REPLICATION (status updates may be sent).</summary>
    public bool Started => started;

    public CdcChangePump(LogicalReplicationConnection replication, PgOutputReplicationSlot slot, PostgresCdcOptions options, CdcField[] fields, int[] keyFields, ulong startLsn)
    {
        this.options = options;
        this.fields = fields;
        codec = new CdcRowCodec<T>(fields, keyFields, options);
        run = Task.Run(async () =>
        {
            try
            {
                for (int attempt = 1; ; attempt++)
                {
                    try
                    {
                        await Pump(replication, slot, startLsn, stop.Token).ConfigureAwait(false);
                        break;
                    }
                    catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && !started && attempt < 150)
                    {
                        // The previous run's walsender (a restart right after a stop) lets go of the slot within moments.
                        await Task.Delay(200, stop.Token).ConfigureAwait(false);
                    }
                }
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            catch (Exception e)
            {
                failure = e;
            }
            finally
            {
                changes.Writer.TryComplete();
            }
        });
    }

    public bool TryRead(out Change change)
    {
        if (changes.Reader.TryRead(out change)) return true;
        if (Volatile.Read(ref failure) is { } e)
            throw new InvalidOperationException($"postgres-cdc table {options.QualifiedTable}: the replication stream failed: {e.Message}", e);
        return false;
    }

    public void WaitForChanges(TimeSpan timeout)
    {
        try
        {
            changes.Reader.WaitToReadAsync(stop.Token).AsTask().Wait(timeout);
        }
        catch (AggregateException)
        {
            // The failure (if any) is raised by the next TryRead.
        }
    }

    private async Task Pump(LogicalReplicationConnection replication, PgOutputReplicationSlot slot, ulong startLsn, CancellationToken ct)
    {
        var replicationOptions = new PgOutputReplicationOptions(options.PublicationName, PgOutputProtocolVersion.V1, binary: true);
        uint? ours = null;
        int[] map = [];
        bool skipTransaction = false;
        DateTimeOffset opTs = DateTimeOffset.UnixEpoch;
        var writer = changes.Writer;
        await foreach (var message in replication.StartReplication(slot, replicationOptions, ct, new NpgsqlLogSequenceNumber(startLsn)).ConfigureAwait(false))
        {
            started = true;
            switch (message)
            {
                case BeginMessage begin:
                    // The server starts at the slot's confirmed position when it is later than ours: a transaction that
                    // committed before our position was emitted by the run that took the checkpoint.
                    skipTransaction = (ulong)begin.TransactionFinalLsn < startLsn;
                    // Flink CDC's op_ts: the commit time, in milliseconds.
                    opTs = DateTimeOffset.FromUnixTimeMilliseconds(new DateTimeOffset(DateTime.SpecifyKind(begin.TransactionCommitTimestamp, DateTimeKind.Utc)).ToUnixTimeMilliseconds());
                    break;
                case RelationMessage relation when relation.Namespace == options.Schema && relation.RelationName == options.Table:
                    if (relation.ReplicaIdentity != RelationMessage.ReplicaIdentitySetting.AllColumns)
                        throw new InvalidOperationException($"table {options.QualifiedTable} no longer has REPLICA IDENTITY FULL (ALTER TABLE {options.QualifiedTable} REPLICA IDENTITY FULL)");
                    ours = relation.RelationId;
                    map = Map(relation);
                    break;
                case InsertMessage insert when !skipTransaction && insert.Relation.RelationId == ours:
                    await Read(insert.NewRow, map, opTs, false, ct).ConfigureAwait(false);
                    await Write(writer, new Change(codec.Current, RowKind.Insert, false, 0), ct).ConfigureAwait(false);
                    break;
                case FullUpdateMessage update when !skipTransaction && update.Relation.RelationId == ours:
                {
                    await Read(update.OldRow, map, opTs, false, ct).ConfigureAwait(false);
                    codec.Before = codec.Current;
                    await Read(update.NewRow, map, opTs, true, ct).ConfigureAwait(false);
                    // As Debezium (and so Flink CDC) reads it, an update of the primary key is a delete of the old key
                    // and an insert of the new one: -U/+U are updates of one key.
                    bool sameKey = codec.SameKey(in codec.Before, in codec.Current);
                    await Write(writer, new Change(codec.Before, sameKey ? RowKind.UpdateBefore : RowKind.Delete, false, 0), ct).ConfigureAwait(false);
                    await Write(writer, new Change(codec.Current, sameKey ? RowKind.UpdateAfter : RowKind.Insert, false, 0), ct).ConfigureAwait(false);
                    break;
                }
                case FullDeleteMessage delete when !skipTransaction && delete.Relation.RelationId == ours:
                    await Read(delete.OldRow, map, opTs, false, ct).ConfigureAwait(false);
                    await Write(writer, new Change(codec.Current, RowKind.Delete, false, 0), ct).ConfigureAwait(false);
                    break;
                case UpdateMessage partial when !skipTransaction && partial.Relation.RelationId == ours:
                    throw WithoutOldRow();
                case DeleteMessage partial when !skipTransaction && partial.Relation.RelationId == ours:
                    throw WithoutOldRow();
                case TruncateMessage truncate when !skipTransaction && truncate.Relations.Any(r => r.RelationId == ours):
                    throw new InvalidOperationException(
                        $"table {options.QualifiedTable} was truncated (at {truncate.WalStart}): a TRUNCATE has no changelog form (publish only insert, update, delete, or restart the job fresh)");
                case CommitMessage commit when !skipTransaction:
                    await Write(writer, new Change(default, RowKind.Insert, true, (ulong)commit.TransactionEndLsn), ct).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>Queues a change; waits (the rare path) only when the queue is full.</summary>
    private static ValueTask Write(ChannelWriter<Change> writer, Change change, CancellationToken ct) =>
        writer.TryWrite(change) ? ValueTask.CompletedTask : writer.WriteAsync(change, ct);

    private InvalidOperationException WithoutOldRow() =>
        new($"table {options.QualifiedTable} sent an update or delete without the old row: its REPLICA IDENTITY is no longer FULL");

    /// <summary>For each column of the relation (in table order), the row field it fills, or -1.</summary>
    private int[] Map(RelationMessage relation)
    {
        var map = new int[relation.Columns.Count];
        for (int c = 0; c < map.Length; c++)
            map[c] = Array.FindIndex(fields, f => f.Source == CdcFieldSource.Column && f.PgColumn == relation.Columns[c].ColumnName);
        foreach (var f in fields.Where(f => f.Source == CdcFieldSource.Column))
            if (!relation.Columns.Any(c => c.ColumnName == f.PgColumn))
                throw new InvalidOperationException($"table {options.QualifiedTable} no longer has column '{f.PgColumn}'");
        return map;
    }

    /// <summary>Reads a tuple into the codec's current row (with <paramref name="hasBefore"/>, the old image is the codec's <c>Before</c>).</summary>
    private async ValueTask Read(ReplicationTuple tuple, int[] map, DateTimeOffset opTs, bool hasBefore, CancellationToken ct)
    {
        codec.Start(opTs);
        int column = 0;
        await foreach (var value in tuple.WithCancellation(ct).ConfigureAwait(false))
        {
            int f = column < map.Length ? map[column] : -1;
            column++;
            if (f < 0) continue;
            if (value.IsDBNull) codec.SetNull(f);
            else if (value.IsUnchangedToastedValue)
            {
                // An unchanged TOASTed value is not sent again; with REPLICA IDENTITY FULL the old row holds it.
                if (!hasBefore)
                    throw new InvalidOperationException($"table {options.QualifiedTable}: an unchanged TOASTed value of column '{fields[f].PgColumn}' without the old row");
                codec.CopyFromBefore(f);
            }
            else
            {
                var read = codec.Read(f, value, ct);
                if (!read.IsCompletedSuccessfully) await read.ConfigureAwait(false);
            }
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        try
        {
            run.Wait(TimeSpan.FromSeconds(10));
        }
        catch (AggregateException)
        {
        }
        stop.Dispose();
    }
}

/// <summary>PostgreSQL values as the row fields of their SQL types.</summary>
internal static class CdcValues
{
    /// <summary>A <c>timestamptz</c> as Npgsql reads it (a UTC <see cref="DateTime"/>) as TIMESTAMP_LTZ's value.</summary>
    public static DateTimeOffset FromUtc(DateTime utc) => new(DateTime.SpecifyKind(utc, DateTimeKind.Utc));

    public static string Metadata(CdcFieldSource source, PostgresCdcOptions options) => source switch
    {
        CdcFieldSource.DatabaseName => options.Connection.Database!,
        CdcFieldSource.SchemaName => options.Schema,
        CdcFieldSource.TableName => options.Table,
        _ => throw new ArgumentOutOfRangeException(nameof(source)),
    };
}
