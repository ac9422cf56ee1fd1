using System.Text;
using System.Text.RegularExpressions;
using Eddy.Runtime;
using Npgsql;

namespace Eddy.Connectors.Postgres;

/// <summary>Flink's <c>sink.delivery-guarantee</c>.</summary>
public enum PgDeliveryGuarantee
{
    /// <summary>Rows are written as buffers fill; checkpoints do not wait for them.</summary>
    None,

    /// <summary>Everything buffered is written at each checkpoint barrier; a replay after a failure may repeat rows.</summary>
    AtLeastOnce,

    /// <summary>The rows of a checkpoint become visible in one transaction when it completes, recorded in the progress table.</summary>
    ExactlyOnce,
}

/// <summary>
/// How a sink buffers and retries (Flink's <c>sink.buffer-flush.*</c>, <c>sink.max-retries</c>,
/// <c>sink.delivery-guarantee</c>; a null guarantee means exactly-once when the job checkpoints, else at-least-once).
/// </summary>
public sealed record PostgresSinkSettings(int MaxRows = 1000, TimeSpan? FlushInterval = null, int MaxRetries = 3, PgDeliveryGuarantee? Guarantee = null);

/// <summary>
/// Writes rows into a PostgreSQL table: by binary COPY when the table has no primary key (append), as set-based
/// upserts and deletes by key when it has one. Build it with <see cref="Open"/>, which checks the table first.
/// </summary>
public sealed class PostgresSink : Sink<Row>
{
    /// <summary>The table that records, per job, sink and subtask, the last checkpoint whose rows were committed.</summary>
    public const string ProgressTable = "eddy_sink_progress";

    /// <summary>An append COPY commits once it holds this many bytes (it is kept in memory until then, for a retry).</summary>
    internal const int CommitBytes = 16 << 20;

    /// <summary>Rows go to the server in chunks of about this size (or of max-rows rows, whichever comes first).</summary>
    internal const int ChunkBytes = 64 << 10;

    /// <summary>A chunk's array: room for the row that crosses <see cref="ChunkBytes"/> without growing.</summary>
    private const int ChunkCapacity = ChunkBytes + (16 << 10);

    private readonly string connectionString;
    private readonly PgTarget target;
    private readonly PostgresSinkSettings settings;

    private PostgresSink(string connectionString, PgTarget target, PostgresSinkSettings settings)
    {
        this.connectionString = connectionString;
        this.target = target;
        this.settings = settings;
    }

    /// <summary>Verifies the table against the DDL (creating it when asked and absent) and returns the sink.</summary>
    public static PostgresSink Open(string connectionString, string tableName, Schema schema, IReadOnlyList<string> primaryKey,
        PostgresSinkSettings settings, bool createTable = false)
    {
        var table = PgTableName.Parse(tableName);
        // Row values in the server's error details are what shows a failing row; they carry no secrets.
        connectionString = new NpgsqlConnectionStringBuilder(connectionString) { IncludeErrorDetail = true }.ConnectionString;
        using var conn = new NpgsqlConnection(connectionString);
        conn.Open();
        var target = PgTableCheck.Verify(conn, table, schema, primaryKey, createTable);
        return new PostgresSink(connectionString, target, settings);
    }

    public bool IsUpsert => target.KeyPositions.Count > 0;

    public override SinkWriter<Row> CreateWriter(SinkWriterContext context)
    {
        var guarantee = settings.Guarantee ?? (context.CheckpointingEnabled ? PgDeliveryGuarantee.ExactlyOnce : PgDeliveryGuarantee.AtLeastOnce);
        // Without checkpoints there is no epoch to commit at: exactly-once degrades to writing at flushes.
        if (guarantee == PgDeliveryGuarantee.ExactlyOnce && !context.CheckpointingEnabled) guarantee = PgDeliveryGuarantee.AtLeastOnce;
        PostgresWriter writer = IsUpsert
            ? new UpsertWriter(connectionString, target, settings, guarantee, context)
            : new AppendWriter(connectionString, target, settings, guarantee, context);
        try
        {
            writer.Start();
        }
        catch
        {
            writer.Dispose();
            throw;
        }
        return writer;
    }

    /// <summary>What one checkpoint's rows are, encoded: appended rows, or upserted rows and deleted keys.</summary>
    private sealed class Staged(CopyBuffer rows, CopyBuffer? deletes) : IDisposable
    {
        public CopyBuffer Rows { get; } = rows;

        public CopyBuffer? Deletes { get; } = deletes;

        public void Dispose()
        {
            Rows.Dispose();
            Deletes?.Dispose();
        }
    }

    /// <summary>The connection, retries, timed flushes and the exactly-once protocol both writers share.</summary>
    private abstract class PostgresWriter : SinkWriter<Row>
    {
        private readonly string connectionString;
        private readonly SinkWriterContext context;
        private readonly string sinkId;
        private readonly SortedDictionary<long, Staged> staged = [];
        private Timer? timer;
        private Exception? timerFailure;
        private bool disposed;

        protected PostgresWriter(string connectionString, PgTarget target, PostgresSinkSettings settings, PgDeliveryGuarantee guarantee,
            SinkWriterContext context)
        {
            this.connectionString = connectionString;
            this.context = context;
            Target = target;
            Settings = settings;
            Guarantee = guarantee;
            sinkId = context.OperatorId.Length > 0 ? context.OperatorId : target.Table.ToString();
            // Under eddy worker the progress row belongs to the partition, not to the subtask: (job/stage-i, sink, partition).
            progressJob = context.PartitionTask is { } task ? $"{context.JobName}/stage-{task.Stage}" : context.JobName;
            slot = context.PartitionTask?.Partition ?? context.SubtaskIndex;
        }

        /// <summary>The progress table's job column: the job's name, with <c>/stage-i</c> under eddy worker.</summary>
        private readonly string progressJob;

        /// <summary>The progress table's subtask column: this writer's subtask, or under eddy worker its partition.</summary>
        private readonly int slot;

        protected PgTarget Target { get; }

        protected PostgresSinkSettings Settings { get; }

        protected PgDeliveryGuarantee Guarantee { get; }

        protected bool ExactlyOnce => Guarantee == PgDeliveryGuarantee.ExactlyOnce;

        public sealed override bool CommitsAtCheckpoints => ExactlyOnce;

        protected NpgsqlConnection? Connection { get; private set; }

        /// <summary>Guards buffers and the connection: the flush timer runs on a pool thread.</summary>
        protected object Gate { get; } = new();

        /// <summary>Encodes and buffers one change; may write (not in exactly-once mode).</summary>
        protected abstract void Add(Row row, RowKind kind);

        /// <summary>Makes everything buffered durable and visible (at-least-once and none).</summary>
        protected abstract void WriteBuffered();

        /// <summary>Hands over what was buffered since the last checkpoint, encoded (exactly-once).</summary>
        protected abstract Staged TakeEpoch();

        /// <summary>Writes one checkpoint's rows inside <paramref name="tx"/>.</summary>
        protected abstract void Apply(NpgsqlConnection conn, NpgsqlTransaction tx, Staged data);

        /// <summary>Forgets per-connection state (an open COPY, temporary tables) when the connection is dropped.</summary>
        protected virtual void OnConnectionLost() { }

        public void Start()
        {
            if (ExactlyOnce)
            {
                Retry(EnsureProgressTable);
                if (context.Restored is { } restored) FinishRestored(restored);
                else Retry(conn => ResetProgress(conn));
            }
            else if (Settings.FlushInterval is { } every && every > TimeSpan.Zero)
            {
                timer = new Timer(_ => TimedFlush(), null, every, every);
            }
        }

        public sealed override void Write(Batch<Row> batch)
        {
            lock (Gate)
            {
                ThrowTimerFailure();
                for (int i = 0; i < batch.Count; i++) Add(batch.Values[i], batch.KindAt(i));
            }
        }

        public sealed override void Flush()
        {
            lock (Gate)
            {
                ThrowTimerFailure();
                // Exactly-once: the end of input staged the rest in the final snapshot, and the checkpoint holding it
                // committed it (SinkWriter.CommitsAtCheckpoints) before this call: nothing is left to write.
                if (!ExactlyOnce) WriteBuffered();
            }
        }

        public override void SnapshotState(long checkpointId, BinaryWriter state)
        {
            lock (Gate)
            {
                ThrowTimerFailure();
                if (Guarantee == PgDeliveryGuarantee.AtLeastOnce) WriteBuffered();
                if (!ExactlyOnce) return;
                staged[checkpointId] = TakeEpoch();
                // Every epoch not yet committed goes into the state: a completion notification may have been missed.
                state.Write(1); // format version
                state.Write(slot);
                state.Write(Target.Columns.Count);
                state.Write(staged.Count);
                foreach (var (epoch, data) in staged)
                {
                    state.Write(epoch);
                    WriteBytes(state, data.Rows.Written);
                    WriteBytes(state, data.Deletes is null ? [] : data.Deletes.Written);
                }
            }
        }

        public override void NotifyCheckpointComplete(long checkpointId)
        {
            if (!ExactlyOnce) return;
            lock (Gate)
            {
                foreach (var epoch in staged.Keys.TakeWhile(e => e <= checkpointId).ToList())
                {
                    var data = staged[epoch];
                    CommitEpoch(slot, epoch, data);
                    staged.Remove(epoch);
                    data.Dispose();
                }
            }
        }

        public override void Dispose()
        {
            timer?.Dispose();
            lock (Gate)
            {
                if (disposed) return;
                disposed = true;
                Connection?.Dispose();
                Connection = null;
                foreach (var data in staged.Values) data.Dispose();
                staged.Clear();
                DisposeBuffers();
            }
            base.Dispose();
        }

        protected abstract void DisposeBuffers();

        private static void WriteBytes(BinaryWriter state, ReadOnlySpan<byte> bytes)
        {
            state.Write(bytes.Length);
            state.Write(bytes);
        }

        /// <summary>
        /// Commits the epochs recorded in the restored states of this subtask's old self and of old subtasks that no
        /// longer exist (old subtask j goes to new subtask j mod parallelism) unless the progress table has them.
        /// </summary>
        private void FinishRestored(RestoredState restored)
        {
            for (int j = 0; j < restored.SubtaskStates.Count; j++)
            {
                if (j % context.Parallelism != context.SubtaskIndex || restored.SubtaskStates[j].Length == 0) continue;
                using var reader = new BinaryReader(new MemoryStream(restored.SubtaskStates[j]));
                int version = reader.ReadInt32();
                if (version != 1) throw new InvalidDataException($"{Target.Table}: sink state of old subtask {j} has format {version}, expected 1");
                int oldSubtask = reader.ReadInt32();
                int columns = reader.ReadInt32();
                if (columns != Target.Columns.Count)
                    throw new InvalidDataException($"{Target.Table}: the restored state has rows of {columns} columns, the sink {Target.Columns.Count}");
                int count = reader.ReadInt32();
                for (int k = 0; k < count; k++)
                {
                    long epoch = reader.ReadInt64();
                    using var data = new Staged(ReadRows(reader, columns), IsUpsertWriter ? ReadRows(reader, Target.KeyPositions.Count) : SkipEmpty(reader));
                    if (epoch <= restored.CheckpointId) CommitEpoch(oldSubtask, epoch, data);
                }
            }
        }

        private bool IsUpsertWriter => Target.KeyPositions.Count > 0;

        private static CopyBuffer ReadRows(BinaryReader reader, int fields)
        {
            int length = reader.ReadInt32();
            var buffer = new CopyBuffer(Math.Max(length, 16));
            buffer.AppendRows(reader.ReadBytes(length), fields);
            return buffer;
        }

        private static CopyBuffer? SkipEmpty(BinaryReader reader)
        {
            int length = reader.ReadInt32();
            if (length != 0) throw new InvalidDataException("an append sink's state has deleted keys");
            return null;
        }

        /// <summary>
        /// One transaction: claim the epoch in the progress table (which fails to claim an epoch at or below the last
        /// one recorded, so a repeated commit writes nothing) and write its rows.
        /// </summary>
        private void CommitEpoch(int subtask, long epoch, Staged data)
        {
            Retry(conn =>
            {
                using var tx = conn.BeginTransaction();
                using (var cmd = new NpgsqlCommand(
                    $"INSERT INTO {ProgressTable} (job, sink, subtask, epoch) VALUES ($1, $2, $3, $4) ON CONFLICT (job, sink, subtask) " +
                    $"DO UPDATE SET epoch = EXCLUDED.epoch, committed_at = now() WHERE {ProgressTable}.epoch < EXCLUDED.epoch", conn, tx))
                {
                    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = progressJob });
                    cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sinkId });
                    cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = subtask });
                    cmd.Parameters.Add(new NpgsqlParameter<long> { TypedValue = epoch });
                    if (cmd.ExecuteNonQuery() == 0) return; // committed before (a restore repeating a completed epoch)
                }
                Apply(conn, tx, data);
                FaultInjection.Reached(FaultInjection.SinkCommit);
                tx.Commit();
            });
        }

        private static void EnsureProgressTable(NpgsqlConnection conn)
        {
            using var cmd = new NpgsqlCommand(
                $"CREATE TABLE IF NOT EXISTS {ProgressTable} (job text NOT NULL, sink text NOT NULL, subtask int NOT NULL, epoch bigint NOT NULL, " +
                "committed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (job, sink, subtask))", conn);
            try
            {
                cmd.ExecuteNonQuery();
            }
            catch (PostgresException e) when (e.SqlState is PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable)
            {
                // Another subtask created it at the same moment.
            }
        }

        /// <summary>
        /// A fresh start numbers checkpoints from 1 again: the progress of an earlier run of the same job must not make
        /// its epochs look committed. Each subtask clears the rows it would own after a restore, so no two race.
        /// </summary>
        private void ResetProgress(NpgsqlConnection conn)
        {
            if (context.PartitionTask is not null)
            {
                // A partition task that starts without a checkpoint owns exactly its partition's row.
                using var one = new NpgsqlCommand($"DELETE FROM {ProgressTable} WHERE job = $1 AND sink = $2 AND subtask = $3", conn);
                one.Parameters.Add(new NpgsqlParameter<string> { TypedValue = progressJob });
                one.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sinkId });
                one.Parameters.Add(new NpgsqlParameter<int> { TypedValue = slot });
                one.ExecuteNonQuery();
                return;
            }
            using var cmd = new NpgsqlCommand(
                $"DELETE FROM {ProgressTable} WHERE job = $1 AND sink = $2 AND subtask % $3 = $4", conn);
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = context.JobName });
            cmd.Parameters.Add(new NpgsqlParameter<string> { TypedValue = sinkId });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = context.Parallelism });
            cmd.Parameters.Add(new NpgsqlParameter<int> { TypedValue = context.SubtaskIndex });
            cmd.ExecuteNonQuery();
        }

        private void TimedFlush()
        {
            if (!Monitor.TryEnter(Gate)) return;
            try
            {
                // A tick already queued when the writer was disposed must not open a connection for released buffers.
                if (disposed) return;
                if (timerFailure is null && Connection is not null || HasBuffered) WriteBuffered();
            }
            catch (Exception e)
            {
                timerFailure = e;
            }
            finally
            {
                Monitor.Exit(Gate);
            }
        }

        protected abstract bool HasBuffered { get; }

        private void ThrowTimerFailure()
        {
            if (timerFailure is not null)
                throw new InvalidOperationException($"writing to {Target.Table} failed: {timerFailure.Message}", timerFailure);
        }

        /// <summary>
        /// Runs <paramref name="write"/> on the connection, reconnecting and running it again after a transient error
        /// or a dropped connection (with back-off, up to sink.max-retries). A write is one transaction or one COPY
        /// resent whole, so a retry repeats nothing that was committed. Other errors are rethrown with the failing row.
        /// </summary>
        protected void Retry(Action<NpgsqlConnection> write)
        {
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    if (Connection is null)
                    {
                        var conn = new NpgsqlConnection(connectionString);
                        conn.Open();
                        Connection = conn;
                    }
                    write(Connection);
                    return;
                }
                catch (Exception e) when (IsRetriable(e))
                {
                    Connection?.Dispose();
                    Connection = null;
                    OnConnectionLost();
                    if (attempt >= Settings.MaxRetries)
                        throw new InvalidOperationException($"writing to {Target.Table} failed after {attempt + 1} attempts: {e.Message}", e);
                    Thread.Sleep(TimeSpan.FromMilliseconds(Math.Min(100 * (1 << attempt), 5000)));
                }
                catch (PostgresException e)
                {
                    // The connection may be mid-COPY or in a failed transaction: start over on the next write.
                    Connection?.Dispose();
                    Connection = null;
                    OnConnectionLost();
                    // The server's detail names the failing row for constraint errors ("Failing row contains ...",
                    // "Key (k)=(v) already exists"); a COPY error names its line, which is decoded from the chunk.
                    string row = FailingRow(e);
                    string detail = e.Detail is { Length: > 0 } d ? $" ({d})" : "";
                    throw new InvalidOperationException($"writing to {Target.Table} failed: {e.MessageText}{row}{(row.Length == 0 ? detail : "")}", e);
                }
            }
        }

        private bool IsRetriable(Exception e) => PostgresConnectors.IsTransient(e, Connection);

        /// <summary>The row a COPY failed on (the server names it by line), shown with its values; empty if unknown.</summary>
        protected abstract string FailingRow(PostgresException e);

        protected string DescribeRow(CopyBuffer buffer, int row, IReadOnlyList<PgBoundColumn> columns)
        {
            var (start, end) = buffer.RowRange(row);
            var bytes = buffer.Written[start..end];
            var sb = new StringBuilder("[");
            int at = 2;
            for (int c = 0; c < columns.Count; c++)
            {
                if (c > 0) sb.Append(", ");
                int len = System.Buffers.Binary.BinaryPrimitives.ReadInt32BigEndian(bytes[at..]);
                at += 4;
                sb.Append(columns[c].PgName).Append('=');
                if (len < 0) sb.Append("null");
                else
                {
                    sb.Append(columns[c].Writer.Describe(bytes.Slice(at, len)));
                    at += len;
                }
            }
            return sb.Append(']').ToString();
        }

        protected static int? CopyLine(PostgresException e)
        {
            var m = Regex.Match(e.Where ?? "", @"COPY [^,]+, line (\d+)");
            return m.Success ? int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
        }

        protected static void EncodeRow(CopyBuffer buffer, IReadOnlyList<PgBoundColumn> columns, Row row, PgTableName table)
        {
            if (row.Arity != columns.Count)
                throw new InvalidOperationException($"{table}: a row of {row.Arity} fields for {columns.Count} columns");
            buffer.StartRow(columns.Count);
            for (int c = 0; c < columns.Count; c++)
            {
                var v = row[c];
                if (v is null) buffer.WriteNull();
                else Encode(buffer, columns[c], v, row);
            }
        }

        protected static void Encode(CopyBuffer buffer, PgBoundColumn column, object value, Row row)
        {
            try
            {
                column.Writer.Encode(buffer, value);
            }
            catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException)
            {
                throw new InvalidOperationException($"column {column.PgName} ({column.Writer.SqlType}) cannot take {value} ({value.GetType().Name}) of row {row}: {e.Message}", e);
            }
        }
    }

    /// <summary>
    /// Appends by binary COPY. Rows are encoded into chunks that go to the server as they fill, into one COPY kept
    /// open across chunks; the COPY commits at the flush interval, at a checkpoint (at-least-once), at the end of input
    /// or when it holds <see cref="CommitBytes"/>. The chunks of the open COPY are kept until it commits, to be resent
    /// on a new connection after a dropped one. In exactly-once mode nothing is sent before the checkpoint completes.
    /// </summary>
    private sealed class AppendWriter : PostgresWriter
    {
        private readonly string copySql;
        private readonly List<CopyBuffer> sent = [];
        // Chunks are reused once their COPY commits: up to CommitBytes of them are held at once, more than the
        // shared array pool keeps, and allocating them anew would cost as much as encoding.
        private readonly Stack<CopyBuffer> free = [];
        private CopyBuffer pending = new(ChunkCapacity);
        private NpgsqlRawCopyStream? copy;
        private long sentBytes;

        public AppendWriter(string connectionString, PgTarget target, PostgresSinkSettings settings, PgDeliveryGuarantee guarantee, SinkWriterContext context)
            : base(connectionString, target, settings, guarantee, context) =>
            copySql = $"COPY {target.Table.Quoted} ({string.Join(", ", target.Columns.Select(c => c.Quoted))}) FROM STDIN (FORMAT BINARY)";

        protected override bool HasBuffered => pending.Rows > 0 || sent.Count > 0;

        protected override void Add(Row row, RowKind kind)
        {
            // A table without a primary key cannot apply retractions; the planner only routes insert-only streams here.
            if (kind != RowKind.Insert)
                throw new InvalidOperationException(
                    $"{Target.Table} has no PRIMARY KEY in the DDL, so it takes inserts only, but received {kind.ShortString()}{row}");
            EncodeRow(pending, Target.Columns, row, Target.Table);
            if (!ExactlyOnce && (pending.Rows >= Settings.MaxRows || pending.Length >= ChunkBytes))
            {
                SendPending();
                if (sentBytes >= CommitBytes) WriteBuffered();
            }
        }

        private void SendPending()
        {
            var chunk = pending;
            Retry(conn =>
            {
                OpenCopy(conn);
                copy!.Write(chunk.Written);
            });
            sent.Add(chunk);
            sentBytes += chunk.Length;
            pending = free.Count > 0 ? free.Pop() : new CopyBuffer(ChunkCapacity);
        }

        /// <summary>Opens the COPY if none is open, resending the chunks of the COPY a dropped connection lost.</summary>
        private void OpenCopy(NpgsqlConnection conn)
        {
            if (copy is not null) return;
            copy = conn.BeginRawBinaryCopy(copySql);
            copy.Write(CopyBuffer.Header);
            foreach (var chunk in sent) copy.Write(chunk.Written);
        }

        protected override void WriteBuffered()
        {
            if (pending.Rows > 0) SendPending();
            if (sent.Count == 0) return;
            Retry(conn =>
            {
                OpenCopy(conn);
                var open = copy!;
                copy = null;
                open.Write(CopyBuffer.Trailer);
                open.Dispose();
            });
            foreach (var chunk in sent) Release(chunk);
            sent.Clear();
            sentBytes = 0;
        }

        private void Release(CopyBuffer chunk)
        {
            if (chunk.Capacity > ChunkCapacity * 2)
            {
                chunk.Dispose(); // grown for one huge row
                return;
            }
            chunk.Clear();
            free.Push(chunk);
        }

        protected override void OnConnectionLost() => copy = null;

        protected override Staged TakeEpoch()
        {
            var rows = pending;
            pending = new CopyBuffer(ChunkCapacity);
            return new Staged(rows, null);
        }

        protected override void Apply(NpgsqlConnection conn, NpgsqlTransaction tx, Staged data)
        {
            if (data.Rows.Rows == 0) return;
            using var stream = conn.BeginRawBinaryCopy(copySql);
            stream.Write(CopyBuffer.Header);
            stream.Write(data.Rows.Written);
            stream.Write(CopyBuffer.Trailer);
        }

        protected override string FailingRow(PostgresException e)
        {
            if (CopyLine(e) is not { } line) return "";
            int index = line - 1;
            foreach (var chunk in sent)
            {
                if (index < chunk.Rows) return $" (row {DescribeRow(chunk, index, Target.Columns)})";
                index -= chunk.Rows;
            }
            return index < pending.Rows ? $" (row {DescribeRow(pending, index, Target.Columns)})" : "";
        }

        protected override void DisposeBuffers()
        {
            try
            {
                copy?.Cancel();
            }
            catch (Exception e) when (e is NpgsqlException or IOException or InvalidOperationException)
            {
                // The rows of a COPY that never committed are dropped with the writer.
            }
            copy = null;
            foreach (var chunk in sent) chunk.Dispose();
            sent.Clear();
            foreach (var chunk in free) chunk.Dispose();
            free.Clear();
            pending.Dispose();
        }
    }

    /// <summary>
    /// Applies a changelog by key: the last change per key is kept (a delete as null); a write encodes the upserted
    /// rows and deleted keys, COPYs them into two temporary tables and merges them with one INSERT ... ON CONFLICT and
    /// one DELETE ... USING in a transaction.
    /// </summary>
    private sealed class UpsertWriter : PostgresWriter
    {
        // The last change per key wins: null marks a delete. Keys and rows hold converted values.
        private readonly Dictionary<Key, object?[]?> changes = [];
        private readonly IReadOnlyList<PgBoundColumn> keyColumns;
        private readonly string rowsCopy;
        private readonly string keysCopy;
        private readonly string createTemp;
        private readonly string delete;
        private readonly string upsert;
        private bool tempTablesReady;
        private Staged? writing;

        public UpsertWriter(string connectionString, PgTarget target, PostgresSinkSettings settings, PgDeliveryGuarantee guarantee, SinkWriterContext context)
            : base(connectionString, target, settings, guarantee, context)
        {
            var cols = target.Columns;
            keyColumns = target.KeyPositions.Select(p => cols[p]).ToList();
            string all = string.Join(", ", cols.Select(c => c.Quoted));
            string keys = string.Join(", ", keyColumns.Select(c => c.Quoted));
            rowsCopy = $"COPY pg_temp.eddy_upsert_rows ({all}) FROM STDIN (FORMAT BINARY)";
            keysCopy = $"COPY pg_temp.eddy_upsert_keys ({keys}) FROM STDIN (FORMAT BINARY)";
            createTemp =
                $"CREATE TEMP TABLE IF NOT EXISTS eddy_upsert_rows ON COMMIT DELETE ROWS AS SELECT {all} FROM {target.Table.Quoted} WITH NO DATA; " +
                $"CREATE TEMP TABLE IF NOT EXISTS eddy_upsert_keys ON COMMIT DELETE ROWS AS SELECT {keys} FROM {target.Table.Quoted} WITH NO DATA";
            var rest = cols.Where((_, i) => !target.KeyPositions.Contains(i)).ToList();
            var sb = new StringBuilder();
            sb.Append("DELETE FROM ").Append(target.Table.Quoted).Append(" t USING pg_temp.eddy_upsert_keys d WHERE ")
                .AppendJoin(" AND ", keyColumns.Select(c => $"t.{c.Quoted} = d.{c.Quoted}"));
            delete = sb.ToString();
            sb.Clear();
            sb.Append("INSERT INTO ").Append(target.Table.Quoted).Append(" (").Append(all).Append(") SELECT ").Append(all)
                .Append(" FROM pg_temp.eddy_upsert_rows ON CONFLICT (").Append(keys).Append(") DO ");
            if (rest.Count == 0) sb.Append("NOTHING");
            else sb.Append("UPDATE SET ").AppendJoin(", ", rest.Select(c => $"{c.Quoted} = EXCLUDED.{c.Quoted}"));
            upsert = sb.ToString();
        }

        protected override bool HasBuffered => changes.Count > 0;

        protected override void Add(Row row, RowKind kind)
        {
            // -U deletes its key, as +U/+I write theirs (Flink's JDBC sink buffer: UPDATE_BEFORE and DELETE delete by
            // key): the last change per key wins, so a -U whose +U has the same key (an aggregate's) nets an update,
            // and a -U whose row moves to another key (a join of an updating input, rows dropped by a filter after
            // an aggregation) removes the old row, which ignoring it would leave behind.
            var columns = Target.Columns;
            if (row.Arity != columns.Count)
                throw new InvalidOperationException($"{Target.Table}: a row of {row.Arity} fields for {columns.Count} columns");
            var values = new object?[columns.Count];
            for (int c = 0; c < values.Length; c++)
            {
                var v = row[c];
                values[c] = v is null ? null : columns[c].Writer.Convert(v);
            }
            var positions = Target.KeyPositions;
            var keyValues = new object?[positions.Count];
            for (int k = 0; k < keyValues.Length; k++) keyValues[k] = values[positions[k]];
            var key = new Key(keyValues);
            changes[key] = kind is RowKind.Delete or RowKind.UpdateBefore ? null : values;
            if (!ExactlyOnce && changes.Count >= Settings.MaxRows) WriteBuffered();
        }

        protected override Staged TakeEpoch()
        {
            var rows = new CopyBuffer(ChunkBytes);
            var deletes = new CopyBuffer(4096);
            foreach (var (key, values) in changes)
            {
                if (values is null)
                {
                    deletes.StartRow(keyColumns.Count);
                    for (int k = 0; k < keyColumns.Count; k++) EncodeValue(deletes, keyColumns[k], key.Values[k]);
                }
                else
                {
                    rows.StartRow(values.Length);
                    for (int c = 0; c < values.Length; c++) EncodeValue(rows, Target.Columns[c], values[c]);
                }
            }
            changes.Clear();
            return new Staged(rows, deletes);
        }

        private static void EncodeValue(CopyBuffer buffer, PgBoundColumn column, object? value)
        {
            if (value is null) buffer.WriteNull();
            else column.Writer.Encode(buffer, value);
        }

        protected override void WriteBuffered()
        {
            if (changes.Count == 0) return;
            using var data = TakeEpoch();
            writing = data;
            try
            {
                Retry(conn =>
                {
                    using var tx = conn.BeginTransaction();
                    Apply(conn, tx, data);
                    tx.Commit();
                });
            }
            finally
            {
                writing = null;
            }
        }

        protected override void Apply(NpgsqlConnection conn, NpgsqlTransaction tx, Staged data)
        {
            writing = data;
            if (!tempTablesReady)
            {
                using var create = new NpgsqlCommand(createTemp, conn, tx);
                create.ExecuteNonQuery();
                tempTablesReady = true;
            }
            // Each statement runs only when it has rows: an upsert-only changelog (a window result) pays for no DELETE.
            // A key is in at most one of the two tables, so their order does not matter.
            if (data.Deletes is { Rows: > 0 })
            {
                Copy(conn, keysCopy, data.Deletes);
                Execute(conn, tx, delete);
            }
            if (data.Rows.Rows > 0)
            {
                Copy(conn, rowsCopy, data.Rows);
                Execute(conn, tx, upsert);
            }
        }

        private static void Execute(NpgsqlConnection conn, NpgsqlTransaction tx, string sql)
        {
            using var cmd = new NpgsqlCommand(sql, conn, tx);
            // Prepared once per connection (Npgsql finds the statement by its text afterwards): no parse and plan per buffer.
            cmd.Prepare();
            cmd.ExecuteNonQuery();
        }

        private static void Copy(NpgsqlConnection conn, string sql, CopyBuffer data)
        {
            using var stream = conn.BeginRawBinaryCopy(sql);
            stream.Write(CopyBuffer.Header);
            stream.Write(data.Written);
            stream.Write(CopyBuffer.Trailer);
        }

        protected override void OnConnectionLost() => tempTablesReady = false;

        protected override string FailingRow(PostgresException e)
        {
            if (writing is null) return "";
            if (CopyLine(e) is { } line && line - 1 < writing.Rows.Rows) return $" (row {DescribeRow(writing.Rows, line - 1, Target.Columns)})";
            return "";
        }

        protected override void DisposeBuffers() => changes.Clear();
    }

    /// <summary>A primary key's converted values, compared by value.</summary>
    private readonly struct Key(object?[] values) : IEquatable<Key>
    {
        public object?[] Values { get; } = values;

        public bool Equals(Key other)
        {
            for (int i = 0; i < Values.Length; i++)
            {
                // bytea keys arrive as byte[], which compares by reference.
                bool same = Values[i] is byte[] a && other.Values[i] is byte[] b ? a.AsSpan().SequenceEqual(b) : Equals(Values[i], other.Values[i]);
                if (!same) return false;
            }
            return true;
        }

        public override bool Equals(object? obj) => obj is Key k && Equals(k);

        public override int GetHashCode()
        {
            var h = new HashCode();
            foreach (var v in Values)
            {
                if (v is byte[] bytes) h.AddBytes(bytes);
                else h.Add(v);
            }
            return h.ToHashCode();
        }
    }
}
