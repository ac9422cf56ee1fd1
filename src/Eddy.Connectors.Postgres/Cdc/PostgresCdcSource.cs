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
/// (pgoutput) from the snapshot's point on. One subtask reads (a replication slot has one reader); the others are idle.
/// </summary>
internal sealed class PostgresCdcSource(PostgresCdcOptions options, IReadOnlyList<CdcField> fields, int[] keyFields, string tableName) : Source<Row>
{
    public override bool IsBounded => false;

    public override SourceReader<Row> CreateReader(SourceReaderContext context) =>
        context.SubtaskIndex == 0 ? new PostgresCdcReader(options, fields, keyFields, tableName, context) : new IdleReader();

    /// <summary>Subtasks other than the first: no split, idle from the start.</summary>
    private sealed class IdleReader : SourceReader<Row>
    {
        public override int SplitCount => 0;

        public override SourceStatus Read(SourceOutput<Row> output) => SourceStatus.NothingAvailable;
    }
}

/// <summary>
/// Reads the snapshot through a transaction that imports the slot's exported snapshot, then the slot's stream.
/// Its checkpoint state is the end LSN of the last transaction it emitted whole and how many changes of the next one
/// it emitted already; the slot's confirmed LSN moves to a checkpoint's position only when that checkpoint completes,
/// so the server keeps everything a restore may need to read again. No barrier leaves during the snapshot, which
/// cannot be resumed (as Flink CDC holds checkpoints during its non-incremental snapshot).
/// </summary>
internal sealed class PostgresCdcReader : SourceReader<Row>
{
    private const byte StateVersion = 1;

    private readonly PostgresCdcOptions options;
    private readonly CdcField[] fields;
    private readonly int[] keyFields;
    private readonly string tableName;
    private readonly LogicalReplicationConnection replication;
    private readonly PgOutputReplicationSlot slot;
    private readonly SortedDictionary<long, ulong> positions = [];
    private NpgsqlConnection? snapshotConnection;
    private NpgsqlDataReader? snapshotRows;
    private CdcChangePump? pump;

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
        pump = new CdcChangePump(replication, slot, options, fields, keyFields, position);
    }

    public override bool ReadyForBarrier => snapshotRows is null;

    public override SourceStatus Read(SourceOutput<Row> output)
    {
        if (snapshotRows is not null) return ReadSnapshot(output);
        var p = pump!;
        while (!output.IsFull && p.TryRead(out var change))
        {
            if (change.Row is null)
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
            output.Add(change.Row, EventTime.None, 0, change.Row.Kind);
        }
        if (output.Count > 0) return SourceStatus.MoreAvailable;
        p.WaitForChanges(TimeSpan.FromMilliseconds(20));
        return SourceStatus.NothingAvailable;
    }

    private SourceStatus ReadSnapshot(SourceOutput<Row> output)
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
            var values = new object?[fields.Length];
            int column = 0;
            for (int f = 0; f < fields.Length; f++)
            {
                var field = fields[f];
                values[f] = field.Source switch
                {
                    CdcFieldSource.Column => rows.IsDBNull(column) ? null : CdcValues.Read(rows, column, field.Kind),
                    // Flink CDC: a row read from the snapshot has op_ts 0.
                    CdcFieldSource.OpTs => DateTimeOffset.UnixEpoch,
                    _ => CdcValues.Metadata(field.Source, options),
                };
                if (field.Source == CdcFieldSource.Column) column++;
            }
            output.Add(new Row(RowKind.Insert, values), EventTime.None, 0, RowKind.Insert);
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
internal sealed class CdcChangePump : IDisposable
{
    /// <summary>A change (<see cref="Row"/> with its kind), or the end of a transaction (<see cref="Row"/> null).</summary>
    internal readonly record struct Change(Row? Row, ulong EndLsn);

    private readonly Channel<Change> changes = Channel.CreateBounded<Change>(
        new BoundedChannelOptions(8192) { SingleReader = true, SingleWriter = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly CancellationTokenSource stop = new();
    private readonly Task run;
    private readonly PostgresCdcOptions options;
    private readonly CdcField[] fields;
    private readonly int[] keyFields;
    private Exception? failure;
    private volatile bool started;

    /// <summary>Whether the server accepted START_REPLICATION (status updates may be sent).</summary>
    public bool Started => started;

    public CdcChangePump(LogicalReplicationConnection replication, PgOutputReplicationSlot slot, PostgresCdcOptions options, CdcField[] fields, int[] keyFields, ulong startLsn)
    {
        this.options = options;
        this.fields = fields;
        this.keyFields = keyFields;
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
                    await writer.WriteAsync(new Change(new Row(RowKind.Insert, await Read(insert.NewRow, map, opTs, null, ct).ConfigureAwait(false)), 0), ct).ConfigureAwait(false);
                    break;
                case FullUpdateMessage update when !skipTransaction && update.Relation.RelationId == ours:
                {
                    var before = await Read(update.OldRow, map, opTs, null, ct).ConfigureAwait(false);
                    var after = await Read(update.NewRow, map, opTs, before, ct).ConfigureAwait(false);
                    // As Debezium (and so Flink CDC) reads it, an update of the primary key is a delete of the old key
                    // and an insert of the new one: -U/+U are updates of one key.
                    bool sameKey = SameKey(before, after);
                    await writer.WriteAsync(new Change(new Row(sameKey ? RowKind.UpdateBefore : RowKind.Delete, before), 0), ct).ConfigureAwait(false);
                    await writer.WriteAsync(new Change(new Row(sameKey ? RowKind.UpdateAfter : RowKind.Insert, after), 0), ct).ConfigureAwait(false);
                    break;
                }
                case FullDeleteMessage delete when !skipTransaction && delete.Relation.RelationId == ours:
                    await writer.WriteAsync(new Change(new Row(RowKind.Delete, await Read(delete.OldRow, map, opTs, null, ct).ConfigureAwait(false)), 0), ct).ConfigureAwait(false);
                    break;
                case UpdateMessage partial when !skipTransaction && partial.Relation.RelationId == ours:
                    throw WithoutOldRow();
                case DeleteMessage partial when !skipTransaction && partial.Relation.RelationId == ours:
                    throw WithoutOldRow();
                case TruncateMessage truncate when !skipTransaction && truncate.Relations.Any(r => r.RelationId == ours):
                    throw new InvalidOperationException(
                        $"table {options.QualifiedTable} was truncated (at {truncate.WalStart}): a TRUNCATE has no changelog form (publish only insert, update, delete, or restart the job fresh)");
                case CommitMessage commit when !skipTransaction:
                    await writer.WriteAsync(new Change(null, (ulong)commit.TransactionEndLsn), ct).ConfigureAwait(false);
                    break;
            }
        }
    }

    private bool SameKey(object?[] before, object?[] after)
    {
        foreach (int k in keyFields)
        {
            var (a, b) = (before[k], after[k]);
            if (a is byte[] x && b is byte[] y ? !x.AsSpan().SequenceEqual(y) : !Equals(a, b)) return false;
        }
        return true;
    }

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

    private async ValueTask<object?[]> Read(ReplicationTuple tuple, int[] map, DateTimeOffset opTs, object?[]? before, CancellationToken ct)
    {
        var values = new object?[fields.Length];
        for (int f = 0; f < fields.Length; f++)
        {
            var source = fields[f].Source;
            if (source == CdcFieldSource.OpTs) values[f] = opTs;
            else if (source != CdcFieldSource.Column) values[f] = CdcValues.Metadata(source, options);
        }
        int column = 0;
        await foreach (var value in tuple.WithCancellation(ct).ConfigureAwait(false))
        {
            int f = column < map.Length ? map[column] : -1;
            column++;
            if (f < 0) continue;
            if (value.IsDBNull) values[f] = null;
            else if (value.IsUnchangedToastedValue)
            {
                // An unchanged TOASTed value is not sent again; with REPLICA IDENTITY FULL the old row holds it.
                values[f] = before is not null ? before[f]
                    : throw new InvalidOperationException($"table {options.QualifiedTable}: an unchanged TOASTed value of column '{fields[f].PgColumn}' without the old row");
            }
            else values[f] = await CdcValues.Read(value, fields[f].Kind, ct).ConfigureAwait(false);
        }
        return values;
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
    public static object Read(NpgsqlDataReader r, int i, CdcValueKind kind) => kind switch
    {
        CdcValueKind.Int16 => r.GetInt16(i),
        CdcValueKind.Int32 => r.GetInt32(i),
        CdcValueKind.Int64 => r.GetInt64(i),
        CdcValueKind.Float32 => r.GetFloat(i),
        CdcValueKind.Float64 => r.GetDouble(i),
        CdcValueKind.Decimal => r.GetDecimal(i),
        CdcValueKind.Boolean => r.GetBoolean(i),
        CdcValueKind.Date => r.GetFieldValue<DateOnly>(i),
        CdcValueKind.Time => r.GetFieldValue<TimeOnly>(i),
        CdcValueKind.Timestamp => r.GetDateTime(i),
        CdcValueKind.TimestampTz => new DateTimeOffset(DateTime.SpecifyKind(r.GetFieldValue<DateTime>(i), DateTimeKind.Utc)),
        CdcValueKind.Text => r.GetString(i),
        CdcValueKind.Bytes => r.GetFieldValue<byte[]>(i),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static async ValueTask<object> Read(ReplicationValue v, CdcValueKind kind, CancellationToken ct) => kind switch
    {
        CdcValueKind.Int16 => await v.Get<short>(ct).ConfigureAwait(false),
        CdcValueKind.Int32 => await v.Get<int>(ct).ConfigureAwait(false),
        CdcValueKind.Int64 => await v.Get<long>(ct).ConfigureAwait(false),
        CdcValueKind.Float32 => await v.Get<float>(ct).ConfigureAwait(false),
        CdcValueKind.Float64 => await v.Get<double>(ct).ConfigureAwait(false),
        CdcValueKind.Decimal => await v.Get<decimal>(ct).ConfigureAwait(false),
        CdcValueKind.Boolean => await v.Get<bool>(ct).ConfigureAwait(false),
        CdcValueKind.Date => await v.Get<DateOnly>(ct).ConfigureAwait(false),
        CdcValueKind.Time => await v.Get<TimeOnly>(ct).ConfigureAwait(false),
        CdcValueKind.Timestamp => await v.Get<DateTime>(ct).ConfigureAwait(false),
        CdcValueKind.TimestampTz => new DateTimeOffset(DateTime.SpecifyKind(await v.Get<DateTime>(ct).ConfigureAwait(false), DateTimeKind.Utc)),
        CdcValueKind.Text => await v.Get<string>(ct).ConfigureAwait(false),
        CdcValueKind.Bytes => await v.Get<byte[]>(ct).ConfigureAwait(false),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    public static object Metadata(CdcFieldSource source, PostgresCdcOptions options) => source switch
    {
        CdcFieldSource.DatabaseName => options.Connection.Database!,
        CdcFieldSource.SchemaName => options.Schema,
        CdcFieldSource.TableName => options.Table,
        _ => throw new ArgumentOutOfRangeException(nameof(source)),
    };
}
