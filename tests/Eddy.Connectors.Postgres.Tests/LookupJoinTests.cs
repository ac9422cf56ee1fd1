using Eddy.Runtime;
using Eddy.Sql;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan.LookupJoin;
using Eddy.Testing;

namespace Eddy.Connectors.Postgres.Tests;

/// <summary>Lookup joins (FOR SYSTEM_TIME AS OF) against PostgreSQL tables, end to end and at the operator.</summary>
public sealed class LookupJoinTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("eddy-lookup-").FullName;
    private readonly string customers = PgServer.UniqueName("customers");

    public LookupJoinTests()
    {
        PgServer.Execute($"""
            CREATE TABLE {customers} (id bigint NOT NULL, region text NOT NULL, name text, country text, score integer, note text NOT NULL DEFAULT '');
            CREATE INDEX ON {customers} (id, region);
            INSERT INTO {customers} (id, region, name, country, score) VALUES
              (1, 'eu', 'Ann', 'DE', 10), (1, 'us', 'Ann US', 'US', 11), (2, 'eu', 'Bob', 'FR', 20),
              (3, 'us', 'Cid', 'US', 30), (3, 'us', 'Cid twin', 'US', 31), (4, 'eu', NULL, NULL, NULL);
            """);
    }

    public void Dispose()
    {
        Directory.Delete(folder, recursive: true);
        PgServer.Execute($"DROP TABLE IF EXISTS {customers}");
    }

    private static string JdbcUrl()
    {
        var b = new Npgsql.NpgsqlConnectionStringBuilder(PgServer.ConnectionString);
        return $"jdbc:postgresql://{b.Host}:{b.Port}/{b.Database}?user={b.Username}";
    }

    /// <summary>Orders as JSON lines: (order_id, customer_id, region, amount); null fields are left out.</summary>
    private string Orders(params (int Id, long? Customer, string? Region, double Amount)[] orders)
    {
        string path = Path.Combine(folder, $"orders-{Guid.NewGuid():N}.json");
        File.WriteAllLines(path, orders.Select(o =>
            "{\"order_id\": " + o.Id
            + (o.Customer is { } c ? $", \"customer_id\": {c}" : "")
            + (o.Region is { } r ? $", \"region\": \"{r}\"" : "")
            + $", \"amount\": {o.Amount.ToString(System.Globalization.CultureInfo.InvariantCulture)}}}"));
        return path;
    }

    private string Ddl(string ordersPath, string cacheOptions = "") => $"""
        SET 'parallelism.default' = '1';
        CREATE TABLE orders (order_id INT, customer_id BIGINT, region STRING, amount DOUBLE, proc_time AS PROCTIME())
          WITH ('connector' = 'filesystem', 'path' = '{ordersPath}', 'format' = 'json');
        CREATE TABLE customers (id BIGINT, region STRING, name STRING, country STRING, score INT)
          WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{customers}'{cacheOptions});
        CREATE TABLE out (line STRING) WITH ('connector' = 'print');
        """;

    private static List<string> Run(string sql) => Run(sql, out _);

    /// <summary>Runs the script's jobs; <paramref name="counters"/> are the last job's counters after it ended.</summary>
    private static List<string> Run(string sql, out Dictionary<string, long> counters)
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        counters = [];
        foreach (var job in session.Execute(sql))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
            counters = job.Environment.Counters.Read().ToDictionary(c => c.Name, c => c.Value);
        }
        return output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToList();
    }

    private static SqlParseException Fails(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        return Assert.Throws<SqlParseException>(() => session.Execute(sql, "job.sql").ToList());
    }

    private (int, long?, string?, double)[] SomeOrders() =>
    [
        (1, 1, "eu", 5), (2, 1, "us", 50), (3, 3, "us", 7), (4, 9, "eu", 1), (5, null, "eu", 2), (6, 1, null, 3), (7, 4, "eu", 4), (8, 2, "eu", 80),
    ];

    [Fact]
    public void Inner_join_on_a_composite_key_matches_every_row_of_the_key_and_drops_missing_and_null_keys()
    {
        var lines = Run(Ddl(Orders(SomeOrders())) + """
            INSERT INTO out
            SELECT CONCAT_WS('|', CAST(o.order_id AS STRING), c.name, c.country, CAST(c.score AS STRING), CAST(o.amount AS STRING))
            FROM orders AS o JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id AND c.region = o.region;
            """);
        Assert.Equal(["+I[1|Ann|DE|10|5.0]", "+I[2|Ann US|US|11|50.0]", "+I[3|Cid|US|30|7.0]", "+I[3|Cid twin|US|31|7.0]", "+I[7|4.0]", "+I[8|Bob|FR|20|80.0]"],
            lines);
    }

    [Fact]
    public void Left_join_keeps_every_order_in_input_order_with_nulls_for_missing_and_null_keys()
    {
        var lines = Run(Ddl(Orders(SomeOrders()), ", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.max-rows' = '2'") + """
            INSERT INTO out
            SELECT CONCAT_WS('|', CAST(o.order_id AS STRING), COALESCE(c.name, '-'), COALESCE(CAST(c.id AS STRING), 'null'))
            FROM orders AS o LEFT JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id AND o.region = c.region;
            """);
        Assert.Equal(["+I[1|Ann|1]", "+I[2|Ann US|1]", "+I[3|Cid|3]", "+I[3|Cid twin|3]", "+I[4|-|null]", "+I[5|-|null]", "+I[6|-|null]",
            "+I[7|-|4]", "+I[8|Bob|2]"], lines);
    }

    [Fact]
    public void Constant_equalities_are_keys_and_other_conditions_filter_the_matches_of_a_left_join()
    {
        // c.country = 'US' is part of the key; o.amount > 6 and c.score > 30 are conditions on each joined row.
        var lines = Run(Ddl(Orders(SomeOrders()), ", 'lookup.cache.max-rows' = '100', 'lookup.cache.ttl' = '1 min'") + """
            INSERT INTO out
            SELECT CONCAT_WS('|', CAST(o.order_id AS STRING), COALESCE(c.name, '-'))
            FROM orders AS o LEFT JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c
              ON o.customer_id = c.id AND c.country = 'US' AND o.amount > 6 AND (c.score > 30 OR c.score = 11);
            """);
        Assert.Equal(["+I[1|-]", "+I[2|Ann US]", "+I[3|Cid twin]", "+I[4|-]", "+I[5|-]", "+I[6|-]", "+I[7|-]", "+I[8|-]"], lines);
    }

    [Fact]
    public void Enrichment_job_into_a_postgres_sink_equals_the_same_join_done_by_postgres()
    {
        var random = new Random(42);
        var orders = Enumerable.Range(1, 3000).Select(i => (i, random.Next(6) == 0 ? (long?)null : random.Next(1, 8), random.Next(3) == 0 ? (string?)"us" : "eu",
            Math.Round(random.NextDouble() * 100, 2))).ToArray();
        string enriched = PgServer.UniqueName("enriched");
        string ordersTable = PgServer.UniqueName("orders");
        Run(Ddl(Orders(orders), ", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.expire-after-write' = '1 h'") + $"""
            CREATE TABLE enriched (order_id INT, customer STRING, country STRING, amount DOUBLE)
              WITH ('connector' = 'postgres', 'url' = '{PgServer.ConnectionString}', 'table-name' = '{enriched}', 'sink.create-table' = 'true');
            INSERT INTO enriched
            SELECT o.order_id, c.name, c.country, o.amount
            FROM orders AS o LEFT JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id AND o.region = c.region
            WHERE o.amount >= 1;
            """, out var counters);
        // Every order with a customer id is looked up once, from the cache or not; 7 × 2 keys (one row each) at most are fetched.
        Assert.Equal(orders.Count(o => o.Item2 is not null), counters["lookup_cache_hits_total"] + counters["lookup_cache_misses_total"]);
        Assert.InRange(counters["lookup_loaded_rows_total"], 1, 14);
        Assert.InRange(counters["lookup_queries_total"], 1, 14);
        // The oracle: the same rows joined by PostgreSQL itself.
        PgServer.Execute($"CREATE TABLE {ordersTable} (order_id int, customer_id bigint, region text, amount float8)");
        using (var conn = PgServer.Open())
        using (var copy = conn.BeginBinaryImport($"COPY {ordersTable} FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var (id, customer, region, amount) in orders)
            {
                copy.StartRow();
                copy.Write(id);
                if (customer is { } c) copy.Write(c);
                else copy.WriteNull();
                copy.Write(region);
                copy.Write(amount);
            }
            copy.Complete();
        }
        const string columns = "order_id, coalesce(customer, '~'), coalesce(country, '~'), amount";
        var expected = PgServer.Query($"""
            SELECT o.order_id, coalesce(c.name, '~'), coalesce(c.country, '~'), o.amount
            FROM {ordersTable} o LEFT JOIN {customers} c ON o.customer_id = c.id AND o.region = c.region
            WHERE o.amount >= 1 ORDER BY 1, 2, 3
            """);
        var actual = PgServer.Query($"SELECT {columns} FROM {enriched} ORDER BY 1, 2, 3");
        Assert.True(expected.Count > 2000);
        Assert.Equal(expected, actual);
        PgServer.Execute($"DROP TABLE {ordersTable}; DROP TABLE {enriched}");
    }

    [Fact]
    public void A_window_on_the_probe_rowtime_runs_after_the_lookup_join()
    {
        string path = Path.Combine(folder, "timed.json");
        File.WriteAllLines(path, [
            """{"customer_id": 1, "ts": "2024-01-01 10:00:01"}""", """{"customer_id": 2, "ts": "2024-01-01 10:00:20"}""",
            """{"customer_id": 1, "ts": "2024-01-01 10:01:05"}""", """{"customer_id": 9, "ts": "2024-01-01 10:01:06"}""",
        ]);
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE TABLE clicks (customer_id BIGINT, ts TIMESTAMP(3), proc_time AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND)
              WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
            CREATE TABLE customers (id BIGINT, region STRING, name STRING, country STRING, score INT)
              WITH ('connector' = 'postgres', 'url' = '{PgServer.ConnectionString}', 'table-name' = '{customers}');
            CREATE TABLE out (line STRING) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT CONCAT_WS('|', CAST(window_start AS STRING), country, CAST(COUNT(*) AS STRING))
            FROM TABLE(TUMBLE(TABLE (
                SELECT k.ts, c.country FROM clicks AS k JOIN customers FOR SYSTEM_TIME AS OF k.proc_time AS c ON k.customer_id = c.id AND c.region = 'eu'
              ), DESCRIPTOR(ts), INTERVAL '1' MINUTE))
            GROUP BY window_start, window_end, country;
            """);
        Assert.Equal(["+I[2024-01-01 10:00:00.000|DE|1]", "+I[2024-01-01 10:00:00.000|FR|1]", "+I[2024-01-01 10:01:00.000|DE|1]"], lines.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Errors_name_the_place_and_the_fix()
    {
        string ddl = Ddl(Orders(SomeOrders())) + "\n";
        var noEquality = Fails(ddl + "SELECT * FROM orders AS o JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.amount > c.score;");
        Assert.Contains("needs an equality between a column of 'customers'", noEquality.Message);
        Assert.Equal((7, 84), (noEquality.Line, noEquality.Column));

        var noAsOf = Fails(ddl + "SELECT * FROM orders AS o JOIN customers AS c ON o.customer_id = c.id;");
        Assert.Contains("JOIN customers FOR SYSTEM_TIME AS OF <probe alias>.<PROCTIME() column> AS c ON ...", noAsOf.Message);
        Assert.Equal((7, 32), (noAsOf.Line, noAsOf.Column));

        var notTime = Fails(ddl + "SELECT * FROM orders AS o JOIN customers FOR SYSTEM_TIME AS OF o.amount AS c ON o.customer_id = c.id;");
        Assert.Contains("'o.amount' is not a processing-time attribute", notTime.Message);
        Assert.Equal((7, 64), (notTime.Line, notTime.Column));

        var notLookup = Fails(ddl + "CREATE TABLE gen (id BIGINT) WITH ('connector' = 'datagen');\n"
            + "SELECT * FROM orders AS o JOIN gen FOR SYSTEM_TIME AS OF o.proc_time ON o.customer_id = gen.id;");
        Assert.Contains("cannot be a lookup table", notLookup.Message);
        Assert.Contains("jdbc, postgres", notLookup.Message);
        Assert.Equal((8, 32), (notLookup.Line, notLookup.Column));
    }

    [Fact]
    public void Event_time_as_of_is_refused_as_a_temporal_join()
    {
        string path = Path.Combine(folder, "e.json");
        File.WriteAllText(path, "");
        var e = Fails($"""
            CREATE TABLE clicks (customer_id BIGINT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts)
              WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
            CREATE TABLE customers (id BIGINT) WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{customers}');
            SELECT * FROM clicks AS k JOIN customers FOR SYSTEM_TIME AS OF k.ts AS c ON k.customer_id = c.id;
            """);
        Assert.Contains("'k.ts' is an event-time attribute", e.Message);
        Assert.Contains("PROCTIME()", e.Message);
        Assert.Equal((4, 64), (e.Line, e.Column));
    }

    [Fact]
    public void Bad_cache_options_and_missing_columns_name_the_option_or_the_column()
    {
        string ddl = Ddl(Orders(SomeOrders()), ", 'lookup.cache.max-rows' = '10'");
        var e = Assert.Throws<SqlParseException>(() => Run(ddl + "INSERT INTO out SELECT c.name FROM orders AS o JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id;"));
        Assert.Contains("table 'customers', option 'lookup.cache.ttl': required", e.Message);
        e = Assert.Throws<SqlParseException>(() => Run(Ddl(Orders(SomeOrders()), ", 'lookup.cache' = 'PARTIAL'")
            + "INSERT INTO out SELECT c.name FROM orders AS o JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id;"));
        Assert.Contains("PARTIAL needs at least one of", e.Message);
        e = Assert.Throws<SqlParseException>(() => Run(Ddl(Orders(SomeOrders())).Replace("score INT", "score INT, vip BOOLEAN", StringComparison.Ordinal)
            + "INSERT INTO out SELECT c.name FROM orders AS o JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c ON o.customer_id = c.id;"));
        Assert.Contains("has no column 'vip'", e.Message);
    }

    // ---- the operator, with the job's clock in hand -----------------------------------------------------------------

    private LookupSource Source(string cacheOptions)
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute($"CREATE TABLE customers (id BIGINT, region STRING, name STRING) WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{customers}'{cacheOptions})").ToList();
        Assert.True(session.Catalog.TryGetTable("customers", out var table));
        var connector = (ILookupTableConnector)TestConnectors.Registry.Find(table);
        return connector.CreateLookup(table, table.PhysicalSchema, [0, 1], new ConnectorContext(TextWriter.Null, TextWriter.Null));
    }

    /// <summary>(customer id, region) → "id:name" per match, or "id:-" for none (LEFT).</summary>
    private static OperatorHarness<(long, string), string> Harness(LookupSource source, LookupCounters counters) =>
        new(new LookupJoinOperator<(long, string), (long, string), object?[], string>(
            new LookupJoinFunctions<(long, string), (long, string), object?[], string>(
                row => row, null, key => [key.Item1, key.Item2], values => values,
                (row, looked) => $"{row.Item1}:{looked[2] ?? "null"}", row => $"{row.Item1}:-", null),
            source, counters));

    private List<string> Probe(OperatorHarness<(long, string), string> harness, params (long, string)[] rows)
    {
        harness.Output.Clear();
        harness.Elements(rows.Select(r => (r, 0L)));
        return harness.Output.Values;
    }

    [Fact]
    public void Without_a_cache_an_update_in_postgres_is_seen_by_the_next_batch()
    {
        var counters = new LookupCounters();
        var harness = Harness(Source(""), counters);
        Assert.Equal(["2:Bob", "1:Ann", "2:Bob"], Probe(harness, (2, "eu"), (1, "eu"), (2, "eu")));
        PgServer.Execute($"UPDATE {customers} SET name = 'Robert' WHERE id = 2");
        Assert.Equal(["2:Robert"], Probe(harness, (2, "eu")));
        Assert.Equal((0L, 4L, 3L, 2L), (counters.Hits, counters.Misses, counters.LoadedRows, counters.Queries));
        harness.EndInput();
    }

    [Fact]
    public void With_a_partial_cache_an_update_is_seen_once_the_entry_expires_and_missing_keys_are_cached()
    {
        var counters = new LookupCounters();
        var harness = Harness(Source(", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.expire-after-write' = '10 s'"), counters);
        Assert.Equal(["2:Bob", "7:-"], Probe(harness, (2, "eu"), (7, "eu")));
        PgServer.Execute($"UPDATE {customers} SET name = 'Robert' WHERE id = 2; INSERT INTO {customers} (id, region, name) VALUES (7, 'eu', 'New')");
        harness.AdvanceProcessingTime(TimeSpan.FromSeconds(9));
        Assert.Equal(["2:Bob", "7:-"], Probe(harness, (2, "eu"), (7, "eu")));
        Assert.Equal((2L, 2L, 1L), (counters.Hits, counters.Misses, counters.Queries));
        harness.AdvanceProcessingTime(TimeSpan.FromSeconds(1));
        Assert.Equal(["2:Robert", "7:New"], Probe(harness, (2, "eu"), (7, "eu")));
        Assert.Equal((2L, 4L, 2L), (counters.Hits, counters.Misses, counters.Queries));
        harness.EndInput();
    }

    [Fact]
    public void Missing_keys_are_fetched_again_when_cache_missing_key_is_off_and_max_rows_evicts_the_least_recently_used()
    {
        var counters = new LookupCounters();
        var harness = Harness(Source(", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.max-rows' = '2', 'lookup.partial-cache.cache-missing-key' = 'false'"), counters);
        Probe(harness, (7, "eu"));
        Probe(harness, (7, "eu"));
        Assert.Equal((0L, 2L), (counters.Hits, counters.Misses));
        Probe(harness, (1, "eu"), (2, "eu"));        // cache: 1, 2
        Probe(harness, (1, "eu"));                   // 1 is now the most recently used
        Probe(harness, (3, "us"));                   // evicts 2
        Assert.Equal((1L, 5L), (counters.Hits, counters.Misses));
        Probe(harness, (1, "eu"), (3, "us"));
        Assert.Equal((3L, 5L), (counters.Hits, counters.Misses));
        Probe(harness, (2, "eu"));
        Assert.Equal((3L, 6L), (counters.Hits, counters.Misses));
        harness.EndInput();
    }

    [Fact]
    public void A_batch_fetches_all_its_misses_in_one_statement()
    {
        var counters = new LookupCounters();
        var harness = Harness(Source(""), counters);
        var keys = Enumerable.Range(0, 500).Select(i => ((long)(i % 5), i % 2 == 0 ? "eu" : "us")).ToArray();
        var output = Probe(harness, keys);
        Assert.Equal(keys.Sum(k => k switch { (1, _) => 1, (2, "eu") => 1, (3, "us") => 2, (4, "eu") => 1, _ => 0 } is var n && n == 0 ? 1 : n), output.Count);
        Assert.Equal((1L, 500L, 6L), (counters.Queries, counters.Misses, counters.LoadedRows));
        harness.EndInput();
    }

    [Fact]
    public void The_lookup_table_check_refuses_missing_tables_and_incompatible_types()
    {
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute($"CREATE TABLE a (id INT, name INT) WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = '{customers}');"
            + $"CREATE TABLE b (id INT) WITH ('connector' = 'jdbc', 'url' = '{JdbcUrl()}', 'table-name' = 'no_such_table_here')").ToList();
        var context = new ConnectorContext(TextWriter.Null, TextWriter.Null);
        Assert.True(session.Catalog.TryGetTable("a", out var a));
        var e = Assert.Throws<ConnectorOptionException>(() => ((ILookupTableConnector)TestConnectors.Registry.Find(a)).CreateLookup(a, a.PhysicalSchema, [0], context));
        Assert.Contains("column 'name' is text but the DDL declares INT", e.Message);
        Assert.True(session.Catalog.TryGetTable("b", out var b));
        e = Assert.Throws<ConnectorOptionException>(() => ((ILookupTableConnector)TestConnectors.Registry.Find(b)).CreateLookup(b, b.PhysicalSchema, [0], context));
        Assert.Contains("does not exist", e.Message);
    }

    [Fact]
    public void A_lookup_after_a_server_restart_reconnects_and_retries()
    {
        using var server = new PgServer.Own();
        using (var c = new Npgsql.NpgsqlConnection(server.ConnectionString))
        {
            c.Open();
            using var cmd = new Npgsql.NpgsqlCommand("CREATE TABLE kv (k integer PRIMARY KEY, v text); INSERT INTO kv VALUES (1, 'one'), (2, 'two')", c);
            cmd.ExecuteNonQuery();
        }
        var session = new SqlSession(TestConnectors.Registry, TextWriter.Null, TextWriter.Null);
        session.Execute($"CREATE TABLE kv (k INT, v STRING) WITH ('connector' = 'postgres', 'url' = '{server.ConnectionString}', 'table-name' = 'kv', 'lookup.max-retries' = '5')").ToList();
        Assert.True(session.Catalog.TryGetTable("kv", out var table));
        var source = ((ILookupTableConnector)TestConnectors.Registry.Find(table)).CreateLookup(table, table.PhysicalSchema, [0], new ConnectorContext(TextWriter.Null, TextWriter.Null));
        using var fetcher = source.CreateFetcher();
        List<string> Fetch(params int[] keys)
        {
            var found = new List<string>();
            fetcher.Fetch(keys.Select(k => new object?[] { k }).ToList(), (i, row) => found.Add($"{keys[i]}={row[1]}"));
            return found.Order(StringComparer.Ordinal).ToList();
        }
        Assert.Equal(["1=one", "2=two"], Fetch(1, 2, 3));
        server.Restart();
        Assert.Equal(["2=two"], Fetch(2, 5));
    }

    [Fact]
    public void Explain_shows_the_lookup_key_and_the_remaining_condition()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null);
        session.Execute(Ddl(Orders(SomeOrders())) + "\nEXPLAIN SELECT o.order_id, c.name FROM orders AS o LEFT JOIN customers FOR SYSTEM_TIME AS OF o.proc_time AS c "
            + "ON c.id = o.customer_id AND c.country = 'US' AND o.amount > c.score;").ToList();
        Assert.Contains("LookupJoin(table=[customers], connector=[jdbc], joinType=[LEFT], lookup=[id=customer_id, country='US'], where=[(amount > CAST(score AS DOUBLE))]",
            output.ToString());
    }

    [Fact]
    public void Keys_and_columns_of_every_scalar_type_round_trip()
    {
        string typed = PgServer.UniqueName("typed");
        PgServer.Execute($"""
            CREATE TABLE {typed} (d date, ts timestamp(3), s varchar(10), n numeric(10, 2), b boolean, small integer, big bigint, f float8,
                                  ltz timestamptz, bytes bytea, t time);
            INSERT INTO {typed} VALUES ('2024-03-01', '2024-03-01 10:00:00.250', 'x', 12.50, true, 7, 9000000000, 1.5,
                                        '2024-03-01 10:00:00+00', '\x0102', '10:30:00');
            """);
        string path = Path.Combine(folder, "typed.json");
        File.WriteAllLines(path, [
            """{"d": "2024-03-01", "ts": "2024-03-01 10:00:00.250", "s": "x", "n": 12.5, "b": true}""",
            """{"d": "2024-03-02", "ts": "2024-03-01 10:00:00.250", "s": "x", "n": 12.5, "b": true}""",
        ]);
        var lines = Run($"""
            SET 'parallelism.default' = '1';
            CREATE TABLE probe (d DATE, ts TIMESTAMP(3), s STRING, n DECIMAL(10, 2), b BOOLEAN, pt AS PROCTIME())
              WITH ('connector' = 'filesystem', 'path' = '{path}', 'format' = 'json');
            CREATE TABLE typed (d DATE, ts TIMESTAMP(3), s STRING, n DECIMAL(10, 2), b BOOLEAN, small SMALLINT, big BIGINT, f DOUBLE,
                                ltz TIMESTAMP_LTZ(3), bytes BYTES, t TIME)
              WITH ('connector' = 'postgres', 'url' = '{PgServer.ConnectionString}', 'table-name' = '{typed}');
            CREATE TABLE out (line STRING) WITH ('connector' = 'print');
            INSERT INTO out
            SELECT CONCAT_WS('|', CAST(p.d AS STRING), COALESCE(CAST(t.small AS STRING), '-'), CAST(t.big AS STRING), CAST(t.f AS STRING),
                             CAST(t.ltz AS STRING), CAST(t.t AS STRING), CAST(CHAR_LENGTH(t.s) AS STRING))
            FROM probe AS p LEFT JOIN typed FOR SYSTEM_TIME AS OF p.pt AS t
              ON t.d = p.d AND t.ts = p.ts AND t.s = p.s AND t.n = p.n AND t.b = p.b;
            """);
        Assert.Equal(["+I[2024-03-01|7|9000000000|1.5|2024-03-01 10:00:00.000|10:30:00|1]", "+I[2024-03-02|-]"], lines);
        PgServer.Execute($"DROP TABLE {typed}");
    }

    [Fact]
    public void Expire_after_access_keeps_an_entry_that_is_read_and_drops_one_that_is_not()
    {
        var counters = new LookupCounters();
        var harness = Harness(Source(", 'lookup.cache' = 'PARTIAL', 'lookup.partial-cache.expire-after-access' = '8 s'"), counters);
        Probe(harness, (1, "eu"), (2, "eu"));
        for (int i = 0; i < 3; i++)
        {
            harness.AdvanceProcessingTime(TimeSpan.FromSeconds(5));
            Probe(harness, (1, "eu"));
        }
        Assert.Equal((3L, 2L), (counters.Hits, counters.Misses));
        Probe(harness, (2, "eu"));
        Assert.Equal((3L, 3L), (counters.Hits, counters.Misses));
        harness.EndInput();
    }
}
