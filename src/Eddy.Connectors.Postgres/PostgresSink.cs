using System.Text;
using Eddy.Runtime;
using Npgsql;

namespace Eddy.Connectors.Postgres;

/// <summary>How a sink buffers and retries (Flink's <c>sink.buffer-flush.*</c> and <c>sink.max-retries</c>).</summary>
public sealed record PostgresSinkSettings(int MaxRows = 1000, TimeSpan? FlushInterval = null, int MaxRetries = 3);

/// <summary>
/// Writes rows into a PostgreSQL table: by binary COPY when the table has no primary key (append), as set-based
/// upserts and deletes by key when it has one. Build it with <see cref="Open"/>, which checks the table first.
/// </summary>
public sealed class PostgresSink : Sink<Row>
{
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
        using var conn = new NpgsqlConnection(connectionString);
        conn.Open();
        var target = PgTableCheck.Verify(conn, table, schema, primaryKey, createTable);
        return new PostgresSink(connectionString, target, settings);
    }

    public bool IsUpsert => target.KeyPositions.Count > 0;

    public override SinkWriter<Row> CreateWriter(SinkWriterContext context) => IsUpsert
        ? new UpsertWriter(connectionString, target, settings)
        : new AppendWriter(connectionString, target, settings);

    /// <summary>The connection, retries and timed flushes both writers share.</summary>
    private abstract class WriterBase : SinkWriter<Row>
    {
        private readonly string connectionString;
        private readonly Timer? timer;
        private NpgsqlConnection? connection;
        private Exception? timerFailure;

        protected WriterBase(string connectionString, PgTarget target, PostgresSinkSettings settings)
        {
            this.connectionString = connectionString;
            Target = target;
            Settings = settings;
            if (settings.FlushInterval is { } every && every > TimeSpan.Zero)
                timer = new Timer(_ => TimedFlush(), null, every, every);
        }

        protected PgTarget Target { get; }

        protected PostgresSinkSettings Settings { get; }

        /// <summary>Guards the buffer and connection: the flush timer runs on a pool thread.</summary>
        protected object Gate { get; } = new();

        protected abstract int Buffered { get; }

        protected abstract void WriteBuffer(NpgsqlConnection conn);

        protected abstract void ClearBuffer();

        protected abstract void Add(Row row, RowKind kind);

        public sealed override void Write(Batch<Row> batch)
        {
            lock (Gate)
            {
                ThrowTimerFailure();
                for (int i = 0; i < batch.Count; i++)
                {
                    Add(batch.Values[i], batch.KindAt(i));
                    if (Buffered >= Settings.MaxRows) FlushBuffer();
                }
            }
        }

        public sealed override void Flush()
        {
            lock (Gate)
            {
                ThrowTimerFailure();
                FlushBuffer();
            }
        }

        public override void Dispose()
        {
            timer?.Dispose();
            lock (Gate) connection?.Dispose();
            base.Dispose();
        }

        private void TimedFlush()
        {
            if (!Monitor.TryEnter(Gate)) return;
            try
            {
                if (timerFailure is null) FlushBuffer();
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

        private void ThrowTimerFailure()
        {
            if (timerFailure is not null)
                throw new InvalidOperationException($"writing to {Target.Table} failed: {timerFailure.Message}", timerFailure);
        }

        private void FlushBuffer()
        {
            if (Buffered == 0) return;
            for (int attempt = 0; ; attempt++)
            {
                try
                {
                    if (connection is null)
                    {
                        connection = new NpgsqlConnection(connectionString);
                        connection.Open();
                    }
                    WriteBuffer(connection);
                    ClearBuffer();
                    return;
                }
                catch (Exception e) when (attempt < Settings.MaxRetries && IsRetriable(e))
                {
                    // A broken connection is not reused; every write is one statement or transaction, so a retry
                    // repeats nothing that was committed.
                    connection?.Dispose();
                    connection = null;
                    Thread.Sleep(TimeSpan.FromMilliseconds(100 * (1 << attempt)));
                }
            }
        }

        private bool IsRetriable(Exception e) =>
            e is NpgsqlException { IsTransient: true } || (e is NpgsqlException && connection is { FullState: System.Data.ConnectionState.Broken });
    }

    private sealed class AppendWriter : WriterBase
    {
        private readonly List<object?[]> rows = [];
        private readonly string copy;

        public AppendWriter(string connectionString, PgTarget target, PostgresSinkSettings settings)
            : base(connectionString, target, settings) =>
            copy = $"COPY {target.Table.Quoted} ({string.Join(", ", target.Columns.Select(c => c.Quoted))}) FROM STDIN (FORMAT BINARY)";

        protected override int Buffered => rows.Count;

        protected override void Add(Row row, RowKind kind)
        {
            // A table without a primary key cannot apply retractions; the planner only routes insert-only streams here.
            if (kind != RowKind.Insert)
                throw new InvalidOperationException(
                    $"{Target.Table} has no PRIMARY KEY in the DDL, so it takes inserts only, but received {kind.ShortString()}{row}");
            rows.Add(Convert(Target, row));
        }

        protected override void WriteBuffer(NpgsqlConnection conn)
        {
            var columns = Target.Columns;
            using var importer = conn.BeginBinaryImport(copy);
            foreach (var row in rows)
            {
                importer.StartRow();
                for (int c = 0; c < columns.Count; c++) columns[c].Writer.Write(importer, row[c]);
            }
            importer.Complete();
        }

        protected override void ClearBuffer() => rows.Clear();
    }

    private sealed class UpsertWriter : WriterBase
    {
        // The last change per key wins: null marks a delete. Keys and rows hold converted values.
        private readonly Dictionary<Key, object?[]?> changes = [];
        private readonly string upsert;
        private readonly string delete;

        public UpsertWriter(string connectionString, PgTarget target, PostgresSinkSettings settings)
            : base(connectionString, target, settings)
        {
            var cols = target.Columns;
            var keys = target.KeyPositions.Select(p => cols[p]).ToList();
            var sb = new StringBuilder();
            sb.Append("INSERT INTO ").Append(target.Table.Quoted).Append(" (").AppendJoin(", ", cols.Select(c => c.Quoted))
                .Append(") SELECT * FROM unnest(")
                .AppendJoin(", ", cols.Select((c, i) => $"${i + 1}::{c.Writer.SqlType}[]"))
                .Append(") ON CONFLICT (").AppendJoin(", ", keys.Select(c => c.Quoted)).Append(") DO ");
            var rest = cols.Where((_, i) => !target.KeyPositions.Contains(i)).ToList();
            if (rest.Count == 0) sb.Append("NOTHING");
            else sb.Append("UPDATE SET ").AppendJoin(", ", rest.Select(c => $"{c.Quoted} = EXCLUDED.{c.Quoted}"));
            upsert = sb.ToString();
            delete = $"DELETE FROM {target.Table.Quoted} WHERE ({string.Join(", ", keys.Select(c => c.Quoted))}) IN " +
                     $"(SELECT * FROM unnest({string.Join(", ", keys.Select((c, i) => $"${i + 1}::{c.Writer.SqlType}[]"))}))";
        }

        protected override int Buffered => changes.Count;

        protected override void Add(Row row, RowKind kind)
        {
            // -U is followed by its +U (or a -D), which replaces the stored row by key; applying it would only
            // delete a row the next change rewrites.
            if (kind == RowKind.UpdateBefore) return;
            var values = Convert(Target, row);
            var key = new Key(Target.KeyPositions.Select(p => values[p]).ToArray());
            changes[key] = kind == RowKind.Delete ? null : values;
        }

        protected override void WriteBuffer(NpgsqlConnection conn)
        {
            var upserts = new List<object?[]>();
            var deletes = new List<object?[]>();
            foreach (var (key, values) in changes)
            {
                if (values is null) deletes.Add(key.Values);
                else upserts.Add(values);
            }
            // Each key appears once in the buffer, so deletes and upserts touch different rows and may run in either
            // order; one transaction keeps a failed batch from being half applied.
            using var tx = conn.BeginTransaction();
            if (deletes.Count > 0)
            {
                using var cmd = new NpgsqlCommand(delete, conn, tx);
                for (int k = 0; k < Target.KeyPositions.Count; k++)
                    cmd.Parameters.Add(Target.Columns[Target.KeyPositions[k]].Writer.ArrayParameter(deletes, k));
                cmd.ExecuteNonQuery();
            }
            if (upserts.Count > 0)
            {
                using var cmd = new NpgsqlCommand(upsert, conn, tx);
                for (int c = 0; c < Target.Columns.Count; c++) cmd.Parameters.Add(Target.Columns[c].Writer.ArrayParameter(upserts, c));
                cmd.ExecuteNonQuery();
            }
            tx.Commit();
        }

        protected override void ClearBuffer() => changes.Clear();
    }

    private static object?[] Convert(PgTarget target, Row row)
    {
        var columns = target.Columns;
        if (row.Arity != columns.Count)
            throw new InvalidOperationException($"{target.Table}: a row of {row.Arity} fields for {columns.Count} columns");
        var values = new object?[columns.Count];
        for (int c = 0; c < values.Length; c++)
        {
            var v = row[c];
            values[c] = v is null ? null : columns[c].Writer.Convert(v);
        }
        return values;
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
