using System.Diagnostics;
using Eddy.Connectors.Postgres;
using Eddy.Runtime;
using Eddy.Sql;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;

namespace Eddy.Bench;

/// <summary>
/// The change rate of <c>postgres-cdc</c>: a slot is created, then as many rows as the run has events are inserted
/// (transactions of 10,000 rows) while nothing reads it; then the reader starts at the slot's position
/// (<c>committed-offset</c>) and reads until it has every change. The harness's figure includes the inserts; the line
/// each run prints ("stream: ...") times the reading alone: from the job's start until its source has emitted every
/// change (events/s, and this process's CPU per change: the server's decoding runs in PostgreSQL's processes).
/// <c>pg-cdc-bare</c> reads the same stream with bare Npgsql (every value read as its CLR type), the library's ceiling.
/// </summary>
public static class PostgresCdcWorkloads
{
    private const string Table = "eddy_bench_cdc";
    private const string Slot = "eddy_bench_cdc_slot";
    private const string Publication = "eddy_bench_cdc_pub";

    public static long EddyJob(BenchEvent[] events)
    {
        string conn = Prepare(events.Length);
        var b = new NpgsqlConnectionStringBuilder(conn);
        var session = new SqlSession(BenchConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var job = session.Execute($"""
            CREATE TABLE src (id BIGINT, k INT, v BIGINT, s STRING, PRIMARY KEY (id) NOT ENFORCED) WITH (
                'connector' = 'postgres-cdc', 'hostname' = '{b.Host}', 'port' = '{b.Port}', 'username' = '{b.Username}',
                'password' = '{b.Password}', 'database-name' = '{b.Database}', 'schema-name' = 'public', 'table-name' = '{Table}',
                'slot.name' = '{Slot}', 'debezium.publication.name' = '{Publication}', 'scan.startup.mode' = 'committed-offset');
            CREATE TABLE sink (id BIGINT, k INT, v BIGINT, s STRING) WITH ('connector' = 'blackhole');
            INSERT INTO sink SELECT * FROM src;
            """).Single();
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        var execution = job.Environment.Start(job.Name);
        long read;
        while ((read = execution.Metrics.Where(m => m.TaskName.Contains("src", StringComparison.Ordinal)).Sum(m => Volatile.Read(ref m.RecordsOut))) < events.Length)
        {
            if (execution.Completion.IsCompleted)
                throw new InvalidOperationException($"the job ended after {read} changes: {execution.Completion.Result.Failure}");
            Thread.Sleep(1);
        }
        Report("pg-cdc", events.Length, start, process, cpu);
        execution.Cancel();
        execution.Completion.Wait();
        DropSlot(conn);
        return read;
    }

    public static long Bare(BenchEvent[] events)
    {
        string conn = Prepare(events.Length);
        using var process = Process.GetCurrentProcess();
        var cpu = process.TotalProcessorTime;
        long start = Stopwatch.GetTimestamp();
        long read = ReadBare(conn, events.Length).GetAwaiter().GetResult();
        Report("pg-cdc-bare", events.Length, start, process, cpu);
        DropSlot(conn);
        return read;
    }

    private static async Task<long> ReadBare(string conn, long expected)
    {
        await using var replication = new LogicalReplicationConnection(conn);
        await replication.Open();
        using var stop = new CancellationTokenSource();
        long read = 0;
        var row = new object?[4];
        try
        {
            await foreach (var message in replication.StartReplication(new PgOutputReplicationSlot(Slot),
                new PgOutputReplicationOptions(Publication, PgOutputProtocolVersion.V1, binary: true), stop.Token))
            {
                if (message is not InsertMessage insert) continue;
                int i = 0;
                await foreach (var value in insert.NewRow)
                {
                    row[i] = i switch
                    {
                        0 => await value.Get<long>(),
                        1 => await value.Get<int>(),
                        2 => await value.Get<long>(),
                        _ => await value.Get<string>(),
                    };
                    i++;
                }
                if (++read == expected) stop.Cancel();
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }
        return read;
    }

    private static void Report(string name, long changes, long start, Process process, TimeSpan cpuBefore)
    {
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuBefore).TotalSeconds;
        Console.WriteLine($"  {name} stream: {changes:N0} changes in {seconds:F2} s = {changes / seconds:N0} changes/s, {cpu / changes * 1e6:F2} µs CPU per change (this process)");
    }

    /// <summary>A fresh table, slot and publication, then <paramref name="rows"/> inserts waiting in the slot.</summary>
    private static string Prepare(int rows)
    {
        string conn = PostgresWorkloads.Connection();
        DropSlot(conn);
        using var c = new NpgsqlConnection(conn);
        c.Open();
        Execute(c, $"""
            DROP PUBLICATION IF EXISTS {Publication};
            DROP TABLE IF EXISTS {Table};
            CREATE TABLE {Table} (id bigint PRIMARY KEY, k int, v bigint, s text);
            ALTER TABLE {Table} REPLICA IDENTITY FULL;
            CREATE PUBLICATION {Publication} FOR TABLE {Table} WITH (publish = 'insert, update, delete');
            """);
        // Its own transaction: a slot is not created in one that has written.
        Execute(c, $"SELECT pg_create_logical_replication_slot('{Slot}', 'pgoutput')");
        for (int from = 1; from <= rows; from += 10_000)
            Execute(c, $"INSERT INTO {Table} SELECT g, g % 1000, g * 7, md5(g::text) FROM generate_series({from}, {Math.Min(rows, from + 9_999)}) AS g");
        return conn;
    }

    private static void DropSlot(string conn)
    {
        using var c = new NpgsqlConnection(conn);
        c.Open();
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                Execute(c, $"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '{Slot}'");
                return;
            }
            catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.ObjectInUse && attempt < 100)
            {
                Thread.Sleep(100);
            }
        }
    }

    private static void Execute(NpgsqlConnection c, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 0 };
        cmd.ExecuteNonQuery();
    }
}
