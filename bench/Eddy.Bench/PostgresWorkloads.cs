using System.Diagnostics;
using Eddy.Connectors.Postgres;
using Eddy.Runtime;
using Npgsql;
using NpgsqlTypes;

namespace Eddy.Bench;

/// <summary>
/// PostgreSQL sink throughput against a real server: EDDY_BENCH_PG (or EDDY_TEST_PG) as an Npgsql connection string,
/// else a throwaway server from scripts/pg-test-server.sh. Each event becomes a row shaped like the lab's
/// processed_events (ip, event_timestamp timestamp(3), referrer, host, url, geodata); the strings come from tables
/// built before the timing, shared by Eddy and the bare baselines, so neither side pays for making strings. The table
/// is recreated before each run, outside the timing.
/// </summary>
public static class PostgresWorkloads
{
    private const string Table = "eddy_bench_events";
    private const string Columns = "ip, event_timestamp, referrer, host, url, geodata";
    private const int Strings = 10_000;
    private static string? connection;

    private static readonly Schema RowSchema = Schema.Of(
        ("ip", DataType.String), ("event_timestamp", DataType.Timestamp3), ("referrer", DataType.String),
        ("host", DataType.String), ("url", DataType.String), ("geodata", DataType.String));

    private static readonly string[] Ips = Table_(i => $"10.{i / 65536 % 256}.{i / 256 % 256}.{i % 256}");
    private static readonly string[] Referrers = Table_(i => i % 3 == 0 ? "" : $"https://www.example{i % 7}.com/search?q={i}");
    private static readonly string[] Hosts = Table_(i => $"www.host{i % 5}.techcreator.io");
    private static readonly string[] Urls = Table_(i => $"/articles/{i}/a-fairly-typical-path-{i % 97}");
    private static readonly string[] Geodata = Table_(i => $"{{\"country\": \"C{i % 50}\", \"state\": \"S{i % 300}\", \"city\": \"City {i}\"}}");

    private static string[] Table_(Func<int, string> make) => Enumerable.Range(0, Strings).Select(make).ToArray();

    private static Row ToRow(BenchEvent e)
    {
        int k = e.Key % Strings, p = (int)((uint)e.Payload % Strings);
        return Row.Of(Ips[k], Time(e), Referrers[p], Hosts[p], Urls[p], Geodata[k]);
    }

    /// <summary>Eddy's append sink (binary COPY, 1000-row buffers: the connector's default) in a one-task job.</summary>
    public static long EddyAppend(BenchEvent[] events) => EddyAppend(events, 1000);

    /// <summary>As <see cref="EddyAppend(BenchEvent[])"/> with 100,000-row buffers.</summary>
    public static long EddyAppendLargeBuffers(BenchEvent[] events) => EddyAppend(events, 100_000);

    private static long EddyAppend(BenchEvent[] events, int maxRows)
    {
        string conn = Prepare(primaryKey: false);
        var sink = PostgresSink.Open(conn, Table, RowSchema, [], new PostgresSinkSettings(MaxRows: maxRows, FlushInterval: TimeSpan.Zero));
        var env = StreamEnvironment.Create();
        Harness.Events(env, events).Map(ToRow).SinkTo(sink);
        env.Execute("pg-append");
        return Count(conn);
    }

    /// <summary>The same rows written by bare Npgsql: one binary COPY of all rows, no Eddy job around it.</summary>
    public static long BareCopy(BenchEvent[] events) => BareCopy(events, events.Length);

    /// <summary>Bare Npgsql in COPYs of 1000 rows: what a COPY per default buffer costs without Eddy.</summary>
    public static long BareCopy1000(BenchEvent[] events) => BareCopy(events, 1000);

    private static long BareCopy(BenchEvent[] events, int rowsPerCopy)
    {
        string conn = Prepare(primaryKey: false);
        using (var c = new NpgsqlConnection(conn))
        {
            c.Open();
            for (int start = 0; start < events.Length; start += rowsPerCopy)
            {
                using var w = c.BeginBinaryImport($"COPY {Table} ({Columns}) FROM STDIN (FORMAT BINARY)");
                foreach (var e in events.AsSpan(start, Math.Min(rowsPerCopy, events.Length - start)))
                {
                    int k = e.Key % Strings, p = (int)((uint)e.Payload % Strings);
                    w.StartRow();
                    w.Write(Ips[k], NpgsqlDbType.Text);
                    w.Write(Time(e), NpgsqlDbType.Timestamp);
                    w.Write(Referrers[p], NpgsqlDbType.Text);
                    w.Write(Hosts[p], NpgsqlDbType.Text);
                    w.Write(Urls[p], NpgsqlDbType.Text);
                    w.Write(Geodata[k], NpgsqlDbType.Text);
                }
                w.Complete();
            }
        }
        return Count(conn);
    }

    /// <summary>Eddy's upsert sink keyed by ip: every event an upsert of its key's row (the last one per key survives).</summary>
    public static long EddyUpsert(BenchEvent[] events)
    {
        string conn = Prepare(primaryKey: true);
        var sink = PostgresSink.Open(conn, Table, RowSchema, ["ip"], new PostgresSinkSettings(MaxRows: 1000, FlushInterval: TimeSpan.Zero));
        var env = StreamEnvironment.Create();
        Harness.Events(env, events).Map(ToRow).SinkTo(sink);
        env.Execute("pg-upsert");
        return events.Length;
    }

    /// <summary>
    /// Bare Npgsql upserts by unnest, 1000 events per statement: the events of a batch collapsed to the last per key
    /// (ON CONFLICT cannot touch one row twice in a statement), six arrays, one INSERT ... SELECT FROM unnest.
    /// </summary>
    public static long BareUnnestUpsert(BenchEvent[] events)
    {
        string conn = Prepare(primaryKey: true);
        using var c = new NpgsqlConnection(conn);
        c.Open();
        using var cmd = new NpgsqlCommand(
            $"INSERT INTO {Table} ({Columns}) SELECT * FROM unnest($1::text[], $2::timestamp[], $3::text[], $4::text[], $5::text[], $6::text[]) " +
            "ON CONFLICT (ip) DO UPDATE SET event_timestamp = EXCLUDED.event_timestamp, referrer = EXCLUDED.referrer, host = EXCLUDED.host, " +
            "url = EXCLUDED.url, geodata = EXCLUDED.geodata", c);
        var last = new Dictionary<int, int>();
        for (int start = 0; start < events.Length; start += 1000)
        {
            last.Clear();
            int end = Math.Min(start + 1000, events.Length);
            for (int i = start; i < end; i++) last[events[i].Key % Strings] = i;
            var ip = new string[last.Count];
            var ts = new DateTime[last.Count];
            var referrer = new string[last.Count];
            var host = new string[last.Count];
            var url = new string[last.Count];
            var geo = new string[last.Count];
            int n = 0;
            foreach (var (k, i) in last)
            {
                var e = events[i];
                int p = (int)((uint)e.Payload % Strings);
                ip[n] = Ips[k]; ts[n] = Time(e); referrer[n] = Referrers[p]; host[n] = Hosts[p]; url[n] = Urls[p]; geo[n] = Geodata[k];
                n++;
            }
            cmd.Parameters.Clear();
            cmd.Parameters.Add(new NpgsqlParameter { Value = ip, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = ts, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Timestamp });
            cmd.Parameters.Add(new NpgsqlParameter { Value = referrer, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = host, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = url, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.Parameters.Add(new NpgsqlParameter { Value = geo, NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text });
            cmd.ExecuteNonQuery();
        }
        return events.Length;
    }

    /// <summary>
    /// Flink's JDBC sink pattern: a batch of 1000 single-row <c>INSERT ... ON CONFLICT DO UPDATE</c> statements sent
    /// together (PgJDBC's executeBatch pipelines them the same way; here one NpgsqlBatch per 1000 events, autocommit).
    /// </summary>
    public static long StatementBatchUpsert(BenchEvent[] events)
    {
        string conn = Prepare(primaryKey: true);
        using var c = new NpgsqlConnection(conn);
        c.Open();
        const string sql = $"INSERT INTO {Table} ({Columns}) VALUES ($1, $2, $3, $4, $5, $6) " +
            "ON CONFLICT (ip) DO UPDATE SET event_timestamp = EXCLUDED.event_timestamp, referrer = EXCLUDED.referrer, host = EXCLUDED.host, " +
            "url = EXCLUDED.url, geodata = EXCLUDED.geodata";
        for (int start = 0; start < events.Length; start += 1000)
        {
            using var batch = new NpgsqlBatch(c);
            foreach (var e in events.AsSpan(start, Math.Min(1000, events.Length - start)))
            {
                int k = e.Key % Strings, p = (int)((uint)e.Payload % Strings);
                var stmt = new NpgsqlBatchCommand(sql);
                stmt.Parameters.Add(new NpgsqlParameter<string>{ TypedValue = Ips[k] });
                stmt.Parameters.Add(new NpgsqlParameter<DateTime> { TypedValue = Time(e), NpgsqlDbType = NpgsqlDbType.Timestamp });
                stmt.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Referrers[p] });
                stmt.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Hosts[p] });
                stmt.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Urls[p] });
                stmt.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Geodata[k] });
                batch.BatchCommands.Add(stmt);
            }
            batch.ExecuteNonQuery();
        }
        return events.Length;
    }

    private static DateTime Time(BenchEvent e) => new(DateTime.UnixEpoch.Ticks + e.Timestamp * TimeSpan.TicksPerMillisecond);

    private static string Prepare(bool primaryKey)
    {
        string conn = Connection();
        using var c = new NpgsqlConnection(conn);
        c.Open();
        using var cmd = new NpgsqlCommand(
            $"DROP TABLE IF EXISTS {Table}; CREATE UNLOGGED TABLE {Table} (ip text{(primaryKey ? " PRIMARY KEY" : "")}, event_timestamp timestamp(3), referrer text, host text, url text, geodata text)", c);
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

    internal static string Connection()
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
