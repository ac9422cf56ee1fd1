using Eddy.Sql;

namespace Eddy.Connectors.Postgres.Tests;

public class SqlTests
{
    private static void Run(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
    }

    private static string JdbcUrl()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(PgServer.ConnectionString);
        return $"jdbc:postgresql://{b.Host}:{b.Port}/{b.Database}?user={b.Username}&ApplicationName=eddy-test";
    }

    [Fact]
    public void Jdbc_append_job_writes_processed_events()
    {
        string table = PgServer.UniqueName("processed_events");
        PgServer.Execute($"CREATE TABLE {table} (ip varchar, event_timestamp timestamp(3), host varchar, url varchar)");
        Run($"""
            CREATE TABLE processed_events (
                ip VARCHAR, event_timestamp TIMESTAMP(3), host VARCHAR, url VARCHAR
            ) WITH (
                'connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{table}', 'driver' = 'org.postgresql.Driver',
                'username' = 'postgres', 'password' = '', 'sink.buffer-flush.max-rows' = '2', 'sink.buffer-flush.interval' = '1s'
            );
            INSERT INTO processed_events
            SELECT ip, TO_TIMESTAMP(t, 'yyyy-MM-dd''T''HH:mm:ss.SSS''Z'''), host, url
            FROM (VALUES ('1.1.1.1', '2024-01-01T10:00:01.000Z', 'a.com', '/x'),
                         ('2.2.2.2', '2024-01-01T10:00:02.500Z', 'b.com', '/y'),
                         ('3.3.3.3', '2024-01-01T10:01:00.000Z', 'a.com', '/z')) AS e(ip, t, host, url);
            """);
        var rows = PgServer.Query($"SELECT ip, event_timestamp, host, url FROM {table} ORDER BY ip");
        Assert.Equal([
            ["1.1.1.1", new DateTime(2024, 1, 1, 10, 0, 1), "a.com", "/x"],
            ["2.2.2.2", new DateTime(2024, 1, 1, 10, 0, 2, 500), "b.com", "/y"],
            ["3.3.3.3", new DateTime(2024, 1, 1, 10, 1, 0), "a.com", "/z"],
        ], rows);
    }

    [Fact]
    public void Postgres_upsert_job_keeps_one_row_per_key_with_the_final_count()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(PgServer.ConnectionString);
        string table = PgServer.UniqueName("hits_per_host");
        Run($"""
            CREATE TABLE hits (
                host STRING, num_hits BIGINT, total INT, PRIMARY KEY (host) NOT ENFORCED
            ) WITH (
                'connector' = 'postgres', 'hostname' = '{b.Host}', 'port' = '{b.Port}', 'database' = '{b.Database}',
                'username' = '{b.Username}', 'table-name' = '{table}', 'sink.create-table' = 'true', 'sink.buffer-flush.max-rows' = '1'
            );
            INSERT INTO hits SELECT host, COUNT(*), SUM(v)
            FROM (VALUES ('a', 1), ('b', 2), ('a', 3), ('c', 4), ('a', 5), ('b', 6)) AS t(host, v) GROUP BY host;
            """);
        Assert.Equal([["a", 3L, 9], ["b", 2L, 8], ["c", 1L, 4]], PgServer.Query($"SELECT host, num_hits, total FROM {table} ORDER BY host"));
    }

    [Fact]
    public void A_late_row_within_the_allowed_lateness_updates_its_window_row_and_later_ones_go_to_the_late_table()
    {
        string hits = PgServer.UniqueName("hits_late"), late = PgServer.UniqueName("late_events");
        string events = Path.Combine(Path.GetTempPath(), $"{hits}.jsonl");
        // 10-second windows, watermark = max - 1 s, lateness 10 s: 00:00:03 arrives after [0, 10) fired (counted,
        // the row updated); 00:00:04 arrives after [0, 10)'s lateness ended (25 s): not counted, in the late table.
        // Eddy does not derive the upsert keys of a late-firing window aggregation (it refuses to guess Flink's
        // SinkUpsertMaterializer under AUTO): NONE writes the window's changes as they are.
        File.WriteAllLines(events, new[] { "00:00:01", "00:00:05", "00:00:12", "00:00:03", "00:00:25", "00:00:04" }
            .Select(t => $$"""{"host":"a","event_time":"2024-01-01 {{t}}"}"""));
        try
        {
            Run($"""
                SET 'table.exec.emit.allow-lateness' = '10 s';
                SET 'table.exec.sink.upsert-materialize' = 'NONE';
                SET 'table.exec.late-data.table' = 'late_events';
                CREATE TABLE events (
                    host STRING, event_time STRING,
                    ts AS TO_TIMESTAMP(event_time, 'yyyy-MM-dd HH:mm:ss'),
                    WATERMARK FOR ts AS ts - INTERVAL '1' SECOND
                ) WITH ('connector' = 'one-row-per-read', 'path' = '{events}');
                CREATE TABLE hits (window_start TIMESTAMP(3), host STRING, num_hits BIGINT, PRIMARY KEY (window_start, host) NOT ENFORCED)
                WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{hits}', 'sink.create-table' = 'true',
                      'sink.buffer-flush.max-rows' = '1');
                CREATE TABLE late_events (host STRING, ts TIMESTAMP(3))
                WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{late}', 'sink.create-table' = 'true');
                INSERT INTO hits
                SELECT window_start, host, COUNT(*) FROM TABLE(TUMBLE(TABLE events, DESCRIPTOR(ts), INTERVAL '10' SECOND))
                GROUP BY window_start, window_end, host;
                """);
        }
        finally
        {
            File.Delete(events);
        }
        Assert.Equal([
            [new DateTime(2024, 1, 1, 0, 0, 0), "a", 3L],
            [new DateTime(2024, 1, 1, 0, 0, 10), "a", 1L],
            [new DateTime(2024, 1, 1, 0, 0, 20), "a", 1L],
        ], PgServer.Query($"SELECT window_start, host, num_hits FROM {hits} ORDER BY window_start"));
        Assert.Equal([["a", new DateTime(2024, 1, 1, 0, 0, 4)]], PgServer.Query($"SELECT host, ts FROM {late}"));
    }

    [Fact]
    public void Postgres_connector_takes_an_npgsql_connection_string()
    {
        string table = PgServer.UniqueName("by_conn_string");
        Run($"""
            CREATE TABLE t (k STRING) WITH ('connector' = 'postgres', 'url' = '{PgServer.ConnectionString}', 'table-name' = '{table}', 'sink.create-table' = 'true');
            INSERT INTO t VALUES ('one'), ('two');
            """);
        Assert.Equal([["one"], ["two"]], PgServer.Query($"SELECT k FROM {table} ORDER BY k"));
    }

    [Theory]
    [InlineData("'url' = 'jdbc:postgresql://127.0.0.1/postgres', 'table-name' = 't', 'sink.buffer-flush.maxrows' = '5'", "'sink.buffer-flush.maxrows'")]
    [InlineData("'url' = 'jdbc:postgresql://127.0.0.1/postgres', 'table-name' = 't', 'driver' = 'com.mysql.cj.jdbc.Driver'", "org.postgresql.Driver")]
    [InlineData("'url' = 'jdbc:postgresql://127.0.0.1/postgres?foo=1', 'table-name' = 't'", "'foo'")]
    [InlineData("'url' = '\"jdbc:postgresql://127.0.0.1/postgres\"', 'table-name' = 't'", "quotes")]
    [InlineData("'url' = 'jdbc:postgresql://127.0.0.1/postgres'", "'table-name'")]
    public void Bad_jdbc_options_are_errors_naming_them(string options, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => Run($"""
            CREATE TABLE t (k STRING) WITH ('connector' = 'jdbc', {options});
            INSERT INTO t VALUES ('x');
            """));
        Assert.Contains("table 't', option '", e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Theory]
    [InlineData("'url' = 'jdbc:postgresql://127.0.0.1/postgres', 'table-name' = 't'", "option 'url'", "'connector' = 'jdbc'")]
    [InlineData("'url' = 'Host=127.0.0.1', 'hostname' = 'h', 'table-name' = 't'", "option 'hostname'", "conflicts with 'url'")]
    [InlineData("'hostname' = '127.0.0.1', 'port' = 'x', 'table-name' = 't'", "option 'port'", "port number")]
    [InlineData("'hostname' = '127.0.0.1', 'table-name' = 't', 'sink.buffer-flush.interval' = 'soon'", "option 'sink.buffer-flush.interval'", "duration")]
    [InlineData("'table-name' = 't'", "option 'hostname'", "required")]
    [InlineData("'hostname' = '127.0.0.1', 'table-name' = 't', 'sink.delivery-guarantee' = 'twice'", "option 'sink.delivery-guarantee'", "expected one of exactly-once, at-least-once, none, got 'twice'")]
    public void Bad_postgres_options_are_errors_naming_them(string options, string option, string expected)
    {
        var e = Assert.ThrowsAny<Exception>(() => Run($"""
            CREATE TABLE t (k STRING) WITH ('connector' = 'postgres', {options});
            INSERT INTO t VALUES ('x');
            """));
        Assert.Contains(option, e.Message);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public async Task Upsert_sink_at_parallelism_3_gets_each_keys_changes_in_order()
    {
        // Every change of a key must reach the subtask that owns it, in order: with 200 keys each updated 30 times in
        // 1-row buffers, a key whose changes were spread over subtasks would end at a stale count in some run.
        string table = PgServer.UniqueName("keyed_p3");
        var values = string.Join(", ", Enumerable.Range(0, 6000).Select(i => $"('k{i % 200}', {i})"));
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        var job = Assert.Single(session.Execute($"""
            CREATE TABLE t (k STRING, n BIGINT, last_v INT, PRIMARY KEY (k) NOT ENFORCED)
            WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{table}', 'sink.create-table' = 'true',
                  'sink.parallelism' = '3', 'sink.buffer-flush.max-rows' = '1');
            INSERT INTO t SELECT k, COUNT(*), MAX(v) FROM (VALUES {values}) AS e(k, v) GROUP BY k;
            """));
        var sinkNode = job.Environment.Graph.Nodes.Single(n => n.Name.StartsWith("Sink", StringComparison.Ordinal));
        Assert.Equal(3, sinkNode.Parallelism);
        Assert.Equal(Eddy.Runtime.Partitioning.Hash, Assert.Single(sinkNode.Inputs).Partitioning);
        var result = await job.Environment.ExecuteAsync(job.Name);
        if (result.Failure is not null) throw result.Failure;
        var rows = PgServer.Query($"SELECT k, n, last_v FROM {table} ORDER BY k");
        Assert.Equal(200, rows.Count);
        Assert.All(rows, r => Assert.Equal(30L, r[1]));
        Assert.All(rows, r => Assert.Equal(5800 + int.Parse(((string)r[0]!)[1..]), r[2]));
    }

    [Fact]
    public void Table_mismatch_fails_the_job_at_start()
    {
        string table = PgServer.UniqueName("mismatch");
        PgServer.Execute($"CREATE TABLE {table} (k text, n integer)");
        var e = Assert.ThrowsAny<Exception>(() => Run($"""
            CREATE TABLE t (k STRING, n BIGINT) WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{table}');
            INSERT INTO t SELECT k, CAST(n AS BIGINT) FROM (VALUES ('x', 1)) AS v(k, n);
            """));
        Assert.Contains("is integer but the DDL declares BIGINT", e.ToString());
        Assert.Empty(PgServer.Query($"SELECT * FROM {table}"));
    }
}
