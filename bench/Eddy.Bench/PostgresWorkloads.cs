using System.Diagnostics;
using Eddy.Connectors.Postgres;
using Eddy.Runtime;
using Npgsql;
using NpgsqlTypes;

namespace Eddy.Bench;

/// <summary>
/// PostgreSQL sink throughput against a real server: EDDY_BENCH_PG (or EDDY_TEST_PG) as an Npgsql connection string,
/// else a throwaway server from scripts/pg-test-server.sh. Each event becomes a row (ts timestamp, key int, payload
/// int, label text); the table is emptied before each run, outside the timing.
/// </summary>
public static class PostgresWorkloads
{
    private const string Table = "eddy_bench_events";
    private static string? connection;

    private static readonly Schema RowSchema = Schema.Of(
        ("ts", DataType.Timestamp3), ("key", DataType.Int), ("payload", DataType.Int), ("label", DataType.String));

    /// <summary>Eddy's append sink (binary COPY per 1000-row buffer, the connector's default) in a one-task job.</summary>
    public static long EddyAppend(BenchEvent[] events) => EddyAppend(events, 1000);

    /// <summary>As <see cref="EddyAppend(BenchEvent[])"/> with 100,000-row COPY buffers.</summary>
    public static long EddyAppendLargeBuffers(BenchEvent[] events) => EddyAppend(events, 100_000);

    private static long EddyAppend(BenchEvent[] events, int maxRows)
    {
        string conn = Prepare(primaryKey: false);
        var sink = PostgresSink.Open(conn, Table, RowSchema, [], new PostgresSinkSettings(MaxRows: maxRows, FlushInterval: TimeSpan.Zero));
        var env = StreamEnvironment.Create();
        Harness.Events(env, events)
            .Map(e => Row.Of(Time(e), e.Key, e.Payload, Label(e.Key)))
            .SinkTo(sink);
        env.Execute("pg-append");
        return Count(conn);
    }

    /// <summary>The same rows written by bare Npgsql: one binary COPY of all rows, no Eddy job around it.</summary>
    public static long BareCopy(BenchEvent[] events) => BareCopy(events, events.Length);

    /// <summary>Bare Npgsql in COPYs of 1000 rows: what the connector's default buffer costs without Eddy.</summary>
    public static long BareCopy1000(BenchEvent[] events) => BareCopy(events, 1000);

    private static long BareCopy(BenchEvent[] events, int rowsPerCopy)
    {
        string conn = Prepare(primaryKey: false);
        using (var c = new NpgsqlConnection(conn))
        {
            c.Open();
            for (int start = 0; start < events.Length; start += rowsPerCopy)
            {
                using var w = c.BeginBinaryImport($"COPY {Table} (ts, key, payload, label) FROM STDIN (FORMAT BINARY)");
                foreach (var e in events.AsSpan(start, Math.Min(rowsPerCopy, events.Length - start)))
                {
                    w.StartRow();
                    w.Write(Time(e), NpgsqlDbType.Timestamp);
                    w.Write(e.Key, NpgsqlDbType.Integer);
                    w.Write(e.Payload, NpgsqlDbType.Integer);
                    w.Write(Label(e.Key), NpgsqlDbType.Text);
                }
                w.Complete();
            }
        }
        return Count(conn);
    }

    /// <summary>Eddy's upsert sink: every event an upsert of its key's row (the last one per key survives).</summary>
    public static long EddyUpsert(BenchEvent[] events)
    {
        string conn = Prepare(primaryKey: true);
        var sink = PostgresSink.Open(conn, Table, RowSchema, ["key"], new PostgresSinkSettings(MaxRows: 1000, FlushInterval: TimeSpan.Zero));
        var env = StreamEnvironment.Create();
        Harness.Events(env, events)
            .Map(e => Row.Of(Time(e), e.Key, e.Payload, Label(e.Key)))
            .SinkTo(sink);
        env.Execute("pg-upsert");
        return events.Length;
    }

    private static DateTime Time(BenchEvent e) => new(DateTime.UnixEpoch.Ticks + e.Timestamp * TimeSpan.TicksPerMillisecond);

    private static string Label(int key) => key % 2 == 0 ? "even" : "odd";

    private static string Prepare(bool primaryKey)
    {
        string conn = Connection();
        using var c = new NpgsqlConnection(conn);
        c.Open();
        using var cmd = new NpgsqlCommand(
            $"DROP TABLE IF EXISTS {Table}; CREATE UNLOGGED TABLE {Table} (ts timestamp(3), key int{(primaryKey ? " PRIMARY KEY" : "")}, payload int, label text)", c);
        cmd.ExecuteNonQuery();
        return conn;
    }

    private static long Count(string conn)
    {
        using var c = new NpgsqlConnection(conn);
        c.Open();
        using var cmd = new NpgsqlCommand($"SELECT count(*) FROM {Table}", c);
        return (long)cmd.ExecuteScalar()!;
    }

    private static string Connection()
    {
        if (connection is not null) return connection;
        connection = Environment.GetEnvironmentVariable("EDDY_BENCH_PG") ?? Environment.GetEnvironmentVariable("EDDY_TEST_PG");
        if (!string.IsNullOrEmpty(connection)) return connection;
        string script = Path.Combine(RepoRoot(), "scripts", "pg-test-server.sh");
        connection = Script(script, "start");
        string started = connection;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Script(script, "stop", started);
        return connection;
    }

    private static string Script(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("bash") { RedirectStandardOutput = true };
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new InvalidOperationException($"{script} {string.Join(' ', args)} failed");
        return output.Trim();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Eddy.slnx"))) return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (Eddy.slnx)");
    }
}
