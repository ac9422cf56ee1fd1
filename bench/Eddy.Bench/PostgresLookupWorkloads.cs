using Eddy.Connectors.Postgres;
using Eddy.Sql;
using Npgsql;

namespace Eddy.Bench;

/// <summary>
/// Lookup joins against PostgreSQL (issue 5): every event is enriched from a 10,000-row table by its key
/// (<c>events JOIN customers FOR SYSTEM_TIME AS OF e.proc_time ON e.k = c.id</c>), planned from SQL, into the
/// counting sink. The table is created once per process (outside the timing of later runs); the PostgreSQL server is
/// EDDY_BENCH_PG / EDDY_TEST_PG or a throwaway one, on the same machine (its CPU is not in the CPU ns column).
/// </summary>
public static class PostgresLookupWorkloads
{
    private const string Table = "eddy_bench_customers";
    private static int rowsCreated = -1;

    /// <summary>With a partial cache big enough for every key: after the first batches nearly every key is a hit.</summary>
    public static long PartialCache(BenchEvent[] events) => Join(events, ", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.max-rows' = '100000'");

    /// <summary>Without a cache: one statement per input batch for the batch's distinct keys.</summary>
    public static long NoCache(BenchEvent[] events) => Join(events, "");

    private static long Join(BenchEvent[] events, string cache)
    {
        string conn = Prepare(events);
        var b = new NpgsqlConnectionStringBuilder(conn);
        SqlWorkloads.UseEvents(events);
        var session = new SqlSession(BenchConnectors.Registry, TextWriter.Null, Console.Error);
        var jobs = session.Execute($"""
            CREATE TABLE events (ts BIGINT NOT NULL, k INT NOT NULL, payload INT NOT NULL, proc_time AS PROCTIME())
              WITH ('connector' = 'bench-events');
            CREATE TABLE customers (id INT, name STRING, country STRING, score INT)
              WITH ('connector' = 'jdbc', 'url' = 'jdbc:postgresql://{b.Host}:{b.Port}/{b.Database}?user={b.Username}', 'table-name' = '{Table}'{cache});
            CREATE TABLE counted (k INT, name STRING, country STRING, payload INT) WITH ('connector' = 'bench-count');
            INSERT INTO counted
            SELECT e.k, c.name, c.country, e.payload
            FROM events AS e JOIN customers FOR SYSTEM_TIME AS OF e.proc_time AS c ON e.k = c.id;
            """);
        return SqlWorkloads.ExecuteCounted(jobs[0]);
    }

    /// <summary>
    /// Flink's JDBC lookup without a cache, by hand: one prepared <c>SELECT ... WHERE id = $1</c> per event on one
    /// connection, rows read into objects; no Eddy job around it.
    /// </summary>
    public static long BarePerKey(BenchEvent[] events)
    {
        string conn = Prepare(events);
        using var c = new NpgsqlConnection(conn);
        c.Open();
        using var cmd = new NpgsqlCommand($"SELECT id, name, country, score FROM {Table} WHERE id = $1", c);
        var key = new NpgsqlParameter<int>();
        cmd.Parameters.Add(key);
        key.TypedValue = 0;
        cmd.Prepare();
        long found = 0;
        foreach (var e in events)
        {
            key.TypedValue = e.Key;
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var row = new object?[4];
                for (int i = 0; i < 4; i++) row[i] = r.IsDBNull(i) ? null : r.GetValue(i);
                found++;
            }
        }
        return found;
    }

    /// <summary>Creates the lookup table with one row per key of the events (once per key count).</summary>
    private static string Prepare(BenchEvent[] events)
    {
        string conn = PostgresWorkloads.Connection();
        int keys = events.Length == 0 ? 0 : events.Max(e => e.Key) + 1;
        if (keys <= rowsCreated) return conn;
        using var c = new NpgsqlConnection(conn);
        c.Open();
        using var cmd = new NpgsqlCommand($"""
            DROP TABLE IF EXISTS {Table};
            CREATE TABLE {Table} (id integer PRIMARY KEY, name text, country text, score integer);
            INSERT INTO {Table} SELECT i, 'customer ' || i, 'C' || (i % 50), i % 1000 FROM generate_series(0, {keys - 1}) AS i;
            ANALYZE {Table};
            """, c);
        cmd.ExecuteNonQuery();
        rowsCreated = keys;
        return conn;
    }
}
