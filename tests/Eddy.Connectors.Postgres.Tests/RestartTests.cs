using Eddy.Runtime;
using Npgsql;

namespace Eddy.Connectors.Postgres.Tests;

/// <summary>A sink writing while its server restarts: the writes in flight are retried on a new connection.</summary>
public class RestartTests
{
    private const int Batches = 400;
    private const int RowsPerBatch = 250;

    private static List<object[]> Query(string conn, string sql)
    {
        // Unpooled: a pooled connection from before the restart is a dead one.
        using var c = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(conn) { Pooling = false }.ConnectionString);
        c.Open();
        using var cmd = new NpgsqlCommand(sql, c);
        using var r = cmd.ExecuteReader();
        var rows = new List<object[]>();
        while (r.Read())
        {
            var row = new object[r.FieldCount];
            r.GetValues(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// Writes <see cref="Batches"/> batches from a task thread, flushing after each, while this thread restarts the
    /// server once a quarter of them are written; returns how many batches were flushed before and after the restart.
    /// </summary>
    private static (int Before, int After) WriteThroughRestart(PgServer.Own server, PostgresSink sink, Func<int, int, (RowKind, Row)> record)
    {
        int flushed = 0;
        var writing = Task.Run(() =>
        {
            using var writer = sink.CreateWriter(new SinkWriterContext(0, 1, TimeProvider.System, new SubtaskMetrics("sink", 0)));
            var batch = new Batch<Row>();
            for (int b = 0; b < Batches; b++)
            {
                batch.Clear();
                for (int i = 0; i < RowsPerBatch; i++)
                {
                    var (kind, row) = record(b, i);
                    batch.Add(row, 0, kind);
                }
                writer.Write(batch);
                writer.Flush();
                Interlocked.Increment(ref flushed);
            }
        });
        SpinWait.SpinUntil(() => Volatile.Read(ref flushed) >= Batches / 4 || writing.IsCompleted);
        int before = Volatile.Read(ref flushed);
        server.Restart();
        int afterRestart = Volatile.Read(ref flushed);
        writing.GetAwaiter().GetResult();
        return (before, Batches - afterRestart);
    }

    [Fact]
    public void Upserts_across_a_server_restart_lose_nothing_and_double_nothing()
    {
        using var server = new PgServer.Own();
        using (var c = new NpgsqlConnection(server.ConnectionString))
        {
            c.Open();
            using var cmd = new NpgsqlCommand("CREATE TABLE counts (k int PRIMARY KEY, n bigint, writes bigint)", c);
            cmd.ExecuteNonQuery();
        }
        var sink = PostgresSink.Open(server.ConnectionString, "counts", Schema.Of(("k", DataType.Int.NotNull()), ("n", DataType.BigInt), ("writes", DataType.BigInt)),
            ["k"], new PostgresSinkSettings(MaxRows: 100, FlushInterval: TimeSpan.Zero, MaxRetries: 10));
        // Key i of batch b gets the running number of its writes: the stored row must be the key's last write.
        const int keys = 1000;
        var (before, after) = WriteThroughRestart(server, sink, (b, i) =>
        {
            long seq = (long)b * RowsPerBatch + i;
            return (RowKind.UpdateAfter, Row.Of((int)(seq % keys), seq, seq / keys + 1));
        });
        Assert.True(before > 0 && after > 0, $"the restart came at the edge of the run ({before} batches before, {after} after)");
        var rows = Query(server.ConnectionString, "SELECT k, n, writes FROM counts ORDER BY k");
        long total = (long)Batches * RowsPerBatch;
        Assert.Equal(keys, rows.Count);
        for (int k = 0; k < keys; k++)
        {
            long last = total - keys + k;
            Assert.Equal([k, last, last / keys + 1], rows[k]);
        }
    }

    [Fact]
    public void Appends_across_a_server_restart_lose_nothing_and_double_nothing()
    {
        using var server = new PgServer.Own();
        using (var c = new NpgsqlConnection(server.ConnectionString))
        {
            c.Open();
            using var cmd = new NpgsqlCommand("CREATE TABLE events (id bigint, label text)", c);
            cmd.ExecuteNonQuery();
        }
        var sink = PostgresSink.Open(server.ConnectionString, "events", Schema.Of(("id", DataType.BigInt), ("label", DataType.String)), [],
            new PostgresSinkSettings(MaxRows: 100, FlushInterval: TimeSpan.Zero, MaxRetries: 10));
        var (before, after) = WriteThroughRestart(server, sink, (b, i) => (RowKind.Insert, Row.Of((long)b * RowsPerBatch + i, $"event {b}/{i}")));
        Assert.True(before > 0 && after > 0, $"the restart came at the edge of the run ({before} batches before, {after} after)");
        var counts = Query(server.ConnectionString, "SELECT count(*), count(DISTINCT id), min(id), max(id) FROM events")[0];
        long total = (long)Batches * RowsPerBatch;
        Assert.Equal([total, total, 0L, total - 1], counts);
    }
}
