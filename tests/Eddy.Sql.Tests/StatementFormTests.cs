using System.Globalization;
using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>
/// Issue 16's statement set: catalogs and databases, SHOW/DESCRIBE, CREATE TABLE LIKE / AS SELECT, table hints,
/// EXPLAIN details, INTERSECT/EXCEPT. Expected values come from Flink's documentation or from LINQ.
/// </summary>
public class StatementFormTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("eddy-stmts-").FullName;

    public void Dispose()
    {
        Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    private static (SqlSession Session, StringWriter Output) NewSession() => (new SqlSession(TestConnectors.Registry, new StringWriter(), TextWriter.Null, _ => null), new StringWriter());

    private static List<string> Run(SqlSession session, StringWriter output, string sql)
    {
        foreach (var job in session.Execute(sql, "test.sql"))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => System.Text.RegularExpressions.Regex.Replace(l.TrimEnd('\r'), @"^\d+> ", "")).ToList();
        output.GetStringBuilder().Clear();
        return lines;
    }

    private static List<string> Run(string sql)
    {
        var output = new StringWriter();
        return Run(new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null), output, sql);
    }

    private static SqlParseException Refused(string sql)
    {
        var session = new SqlSession(TestConnectors.Registry, new StringWriter(), TextWriter.Null, _ => null);
        return Assert.Throws<SqlParseException>(() => session.Execute(sql, "test.sql"));
    }

    private static SqlParseException RefusedAt(string sql, string marker, string reason)
    {
        var e = Refused(sql);
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
        int offset = sql.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(offset >= 0);
        int line = sql[..offset].Count(c => c == '\n') + 1;
        int column = offset - (sql.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1) + 1;
        if (offset > 0 && sql[offset - 1] == '\n') column = 1;
        Assert.Equal((line, column), (e.Line, e.Column));
        return e;
    }

    // ---- INTERSECT / EXCEPT against LINQ -----------------------------------------------------------------------

    private static List<(int?, string?)> RandomRows(Random random, int n) => Enumerable.Range(0, n)
        .Select(_ => (random.Next(5) == 0 ? (int?)null : random.Next(4), random.Next(4) == 0 ? null : ((char)('a' + random.Next(3))).ToString()))
        .ToList();

    private static string Values(List<(int?, string?)> rows) => string.Join(", ", rows.Select(r =>
        $"({(r.Item1 is { } i ? i.ToString(CultureInfo.InvariantCulture) : "CAST(NULL AS INT)")}, {(r.Item2 is { } s ? $"'{s}'" : "CAST(NULL AS STRING)")})"));

    private static string Printed((int?, string?) r) => $"+I[{(r.Item1?.ToString(CultureInfo.InvariantCulture) ?? "null")}, {r.Item2 ?? "null"}]";

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Intersect_and_except_in_batch_mode_give_the_set_operations_of_linq(int seed)
    {
        var random = new Random(seed);
        var left = RandomRows(random, 30);
        var right = RandomRows(random, 25);
        string Query(string op) => $"""
            SET 'execution.runtime-mode' = 'batch';
            SELECT * FROM (VALUES {Values(left)}) AS l(a, b) {op} SELECT * FROM (VALUES {Values(right)}) AS r(a, b);
            """;
        // LINQ's Intersect and Except are set operations (distinct results) whose default comparer treats nulls as equal, as SQL's do.
        Assert.Equal(left.Intersect(right).Select(Printed).Order(StringComparer.Ordinal), Run(Query("INTERSECT")).Order(StringComparer.Ordinal));
        Assert.Equal(left.Except(right).Select(Printed).Order(StringComparer.Ordinal), Run(Query("EXCEPT")).Order(StringComparer.Ordinal));
    }


    // ---- catalogs and databases ----------------------------------------------------------------------------------

    [Fact]
    public void Tables_live_in_databases_and_are_read_by_qualified_names()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        Run(session, output, """
            CREATE TABLE t (n INT) WITH ('connector' = 'blackhole');
            CREATE CATALOG mem WITH ('type' = 'generic_in_memory');
            CREATE DATABASE mem.sales;
            USE CATALOG mem;
            USE sales;
            CREATE TABLE out_t (n INT) WITH ('connector' = 'print');
            CREATE VIEW v AS SELECT 7 AS n;
            """);
        Assert.Equal("mem", session.Catalog.CurrentCatalog);
        Assert.Equal("sales", session.Catalog.CurrentDatabase);
        Assert.True(session.Catalog.TryGetTable(["default_catalog", "default_database", "t"], out _));
        Assert.False(session.Catalog.TryGetTable("t", out _));
        Assert.Equal(["+I[7]"], Run(session, output, "INSERT INTO mem.sales.out_t SELECT n FROM v"));
        Assert.Equal(["+I[7]"], Run(session, output, "INSERT INTO sales.out_t SELECT n FROM mem.sales.v"));
        Assert.Throws<SqlParseException>(() => session.Execute("SELECT * FROM t"));
        var e = Assert.Throws<SqlParseException>(() => session.Execute("DROP DATABASE sales"));
        Assert.Contains("current database", e.Reason, StringComparison.Ordinal);
        session.Execute("USE CATALOG default_catalog");
        e = Assert.Throws<SqlParseException>(() => session.Execute("DROP DATABASE mem.sales"));
        Assert.Contains("is not empty", e.Reason, StringComparison.Ordinal);
        session.Execute("DROP DATABASE mem.sales CASCADE; DROP CATALOG mem");
        Assert.Equal(["default_catalog"], session.Catalog.CatalogNames);
    }

    [Fact]
    public void Unknown_catalogs_and_databases_are_refused_where_named()
    {
        RefusedAt("USE CATALOG nope", "nope", "catalog 'nope' does not exist");
        RefusedAt("USE nope", "nope", "database 'nope' does not exist in catalog 'default_catalog'");
        RefusedAt("CREATE TABLE nope.t (n INT) WITH ('connector' = 'blackhole')", "nope.t", "database 'nope' does not exist");
        RefusedAt("CREATE CATALOG c WITH ('type' = 'jdbc')", "'type'", "catalog type 'jdbc' is not supported");
        RefusedAt("SHOW JOBS", "SHOW", "SHOW JOBS is not supported");
    }

    // ---- CREATE TABLE LIKE / AS SELECT --------------------------------------------------------------------------

    [Fact]
    public void Create_table_like_merges_as_flinks_documentation_example()
    {
        // Flink's documentation (CREATE TABLE, LIKE): Orders_with_watermark gets Orders' columns, its own watermark,
        // 'connector' from Orders and its own 'scan.startup.mode' (OVERWRITING OPTIONS is the default).
        var session = new SqlSession(TestConnectors.Registry, new StringWriter(), TextWriter.Null, _ => null);
        session.Execute("""
            CREATE TABLE Orders (`user` BIGINT, product STRING, order_time TIMESTAMP(3))
            WITH ('connector' = 'blackhole', 'scan.startup.mode' = 'earliest-offset');
            CREATE TABLE Orders_with_watermark (WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND)
            WITH ('scan.startup.mode' = 'latest-offset') LIKE Orders;
            """);
        Assert.True(session.Catalog.TryGetTable("Orders_with_watermark", out var t));
        Assert.Equal(["user", "product", "order_time"], t.Columns.Select(c => c.Name));
        Assert.Equal("order_time", t.Watermark!.Value.Column);
        Assert.Equal("blackhole", t.Options["connector"]);
        Assert.Equal("latest-offset", t.Options["scan.startup.mode"]);
        session.Execute("CREATE TABLE no_options (extra INT) WITH ('connector' = 'print') LIKE Orders (EXCLUDING OPTIONS, EXCLUDING WATERMARKS)");
        Assert.True(session.Catalog.TryGetTable("no_options", out var n));
        Assert.Equal(["user", "product", "order_time", "extra"], n.Columns.Select(c => c.Name));
        Assert.Equal(["connector"], n.Options.Keys);
        Assert.Null(n.Watermark);
        var e = Assert.Throws<SqlParseException>(() => session.Execute("CREATE TABLE bad WITH ('connector' = 'print') LIKE Orders (INCLUDING OPTIONS)"));
        Assert.Contains("option 'connector' is already set by the LIKE table", e.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Create_table_as_select_creates_the_table_and_inserts_the_query()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        var lines = Run(session, output, "CREATE TABLE copy WITH ('connector' = 'print') AS SELECT k, v * 2 AS w FROM (VALUES ('a', 1), ('b', 2)) AS t(k, v)");
        Assert.Equal(["+I[a, 2]", "+I[b, 4]"], lines.Order(StringComparer.Ordinal));
        Assert.True(session.Catalog.TryGetTable("copy", out var table));
        Assert.Equal(["k", "w"], table.Columns.Select(c => c.Name));
    }

    [Fact]
    public void Replace_table_as_select_needs_the_table()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        RefusedAt("REPLACE TABLE copy WITH ('connector' = 'print') AS SELECT 1 AS n", "copy", "the table 'copy' to be replaced does not exist");
        session.Execute("CREATE TABLE copy (old STRING) WITH ('connector' = 'blackhole')");
        var lines = Run(session, output, "REPLACE TABLE copy WITH ('connector' = 'print') AS SELECT 1 AS n");
        Assert.Equal(["+I[1]"], lines);
        Assert.True(session.Catalog.TryGetTable("copy", out var table));
        Assert.Equal(["n"], table.Columns.Select(c => c.Name));
        Assert.Equal("print", table.Connector);
        P.RoundTrip("REPLACE TABLE copy WITH ('connector' = 'print') AS\nSELECT 1 AS n");
    }

    [Fact]
    public void Partitioned_tables_outside_the_filesystem_sink_and_insert_overwrite_are_refused()
    {
        // Only the filesystem connector writes partitions; anywhere else PARTITIONED BY would be ignored.
        RefusedAt("CREATE TABLE p (a INT, d STRING) PARTITIONED BY (d) WITH ('connector' = 'blackhole')", "d) WITH", "PARTITIONED BY is not supported by connector 'blackhole'");
        RefusedAt("CREATE TABLE p (a INT, d STRING) PARTITIONED BY (e) WITH ('connector' = 'filesystem', 'path' = '/tmp/p', 'format' = 'csv')",
            "e) WITH", "PARTITIONED BY names an unknown column 'e'");
        RefusedAt("CREATE TABLE p (a INT, d AS CAST(a AS STRING)) PARTITIONED BY (d) WITH ('connector' = 'filesystem', 'path' = '/tmp/p', 'format' = 'csv')",
            "d) WITH", "partition column 'd' must be a physical column");
        RefusedAt("CREATE TABLE p (a INT, d STRING) PARTITIONED BY (d) WITH ('connector' = 'filesystem', 'path' = '/tmp/p', 'format' = 'json');\n"
            + "CREATE TABLE q (a INT, d STRING) WITH ('connector' = 'print');\nINSERT INTO q SELECT * FROM p", "INSERT INTO q", "reading a partitioned filesystem table is not supported");
        RefusedAt("CREATE TABLE p (a INT) WITH ('connector' = 'blackhole');\nINSERT OVERWRITE p SELECT 1", "INSERT OVERWRITE", "INSERT OVERWRITE is not supported");
    }

    [Fact]
    public void A_parquet_table_written_by_insert_reads_back_the_same_rows_and_partitions_go_to_hive_folders()
    {
        string flat = Path.Combine(dir, "flat"), parts = Path.Combine(dir, "parts");
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        Run(session, output, $"""
            CREATE TABLE flat (id INT, name STRING, amount DECIMAL(6, 2), ts TIMESTAMP(3)) WITH (
                'connector' = 'filesystem', 'path' = '{flat}', 'format' = 'parquet', 'parquet.block.size' = '64b');
            CREATE TABLE parts (id INT, name STRING, dt STRING) PARTITIONED BY (dt) WITH (
                'connector' = 'filesystem', 'path' = '{parts}', 'format' = 'parquet');
            CREATE TABLE shown (id INT, name STRING, amount DECIMAL(6, 2), ts TIMESTAMP(3)) WITH ('connector' = 'print');
            EXECUTE STATEMENT SET BEGIN
                INSERT INTO flat VALUES (1, 'a', 1.50, TIMESTAMP '2024-01-01 10:00:00.123'), (2, CAST(NULL AS STRING), -3.25, TIMESTAMP '2024-01-02 00:00:00'), (3, 'c', CAST(NULL AS DECIMAL(6, 2)), CAST(NULL AS TIMESTAMP(3)));
                INSERT INTO parts VALUES (1, 'a', '2024-01-01'), (2, 'b', '2024-01-02'), (3, 'c', '2024-01-01');
            END;
            """);
        Assert.Equal(["+I[1, a, 1.50, 2024-01-01 10:00:00.123]", "+I[2, null, -3.25, 2024-01-02 00:00:00.000]", "+I[3, c, null, null]"],
            Run(session, output, "INSERT INTO shown SELECT * FROM flat").Order(StringComparer.Ordinal));
        Assert.Equal(["dt=2024-01-01", "dt=2024-01-02"], Directory.GetDirectories(parts).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(parts, "dt=2024-01-01"), "part-*.parquet"));
    }

    // ---- hints --------------------------------------------------------------------------------------------------

    [Fact]
    public void Options_hint_overrides_a_tables_option_for_one_query()
    {
        File.WriteAllText(Path.Combine(dir, "a.csv"), "1\n");
        File.WriteAllText(Path.Combine(dir, "b.csv"), "2\n");
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        session.Execute($"CREATE TABLE f (n INT) WITH ('connector' = 'filesystem', 'path' = '{Path.Combine(dir, "a.csv")}', 'format' = 'csv')");
        Assert.Equal(["+I[1]"], Run(session, output, "SELECT * FROM f"));
        Assert.Equal(["+I[2]"], Run(session, output, $"SELECT * FROM f /*+ OPTIONS('path' = '{Path.Combine(dir, "b.csv")}') */"));
        Assert.Equal(["+I[1]"], Run(session, output, "SELECT * FROM f"));
    }

    [Fact]
    public void Unknown_hints_are_refused_where_written()
    {
        RefusedAt("CREATE TABLE b (n INT) WITH ('connector' = 'blackhole');\nSELECT * FROM b /*+ NOPE('k' = 'v') */", "NOPE", "unknown table hint 'NOPE'");
        RefusedAt("CREATE TABLE b (n INT) WITH ('connector' = 'blackhole');\nSELECT /*+ BROADCAST(b) */ * FROM b", "BROADCAST", "query hint 'BROADCAST' is not supported");
    }

    // ---- EXPLAIN ------------------------------------------------------------------------------------------------

    [Fact]
    public void Explain_changelog_mode_names_each_nodes_changelog()
    {
        var lines = Run("""
            CREATE TABLE s (k STRING, n BIGINT) WITH ('connector' = 'print');
            EXPLAIN CHANGELOG_MODE INSERT INTO s SELECT k, COUNT(*) FROM (VALUES ('a'), ('b')) AS t(k) GROUP BY k;
            """);
        // Flink's documentation shows a group aggregation over an append-only input as changelogMode=[I,UB,UA] and the sink as [NONE].
        Assert.Contains(lines, l => l.StartsWith("Sink(", StringComparison.Ordinal) && l.EndsWith("changelogMode=[NONE])", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Aggregate", StringComparison.Ordinal) && l.EndsWith("changelogMode=[I,UB,UA])", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Values", StringComparison.Ordinal) && l.EndsWith("changelogMode=[I])", StringComparison.Ordinal));
        RefusedAt("EXPLAIN ESTIMATED_COST SELECT 1", "EXPLAIN", "EXPLAIN ESTIMATED_COST is not supported");
    }

    [Fact]
    public void Explain_prints_aggregates_and_patterns_as_sql()
    {
        var lines = Run("""
            CREATE TABLE s (k STRING, n BIGINT, f STRING) WITH ('connector' = 'print');
            EXPLAIN INSERT INTO s SELECT k, COUNT(*), FIRST_VALUE(k) FROM (VALUES ('a'), ('b')) AS t(k) WHERE k LIKE 'a!_%' ESCAPE '!' GROUP BY k;
            """);
        Assert.Contains(lines, l => l.Contains("aggs=[COUNT(*), FIRST_VALUE(k)]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("LIKE(k, 'a!_%' ESCAPE '!')", StringComparison.Ordinal));
    }

    [Fact]
    public void Explain_statement_set_shows_every_sink()
    {
        var lines = Run("""
            CREATE TABLE s1 (n INT) WITH ('connector' = 'blackhole');
            CREATE TABLE s2 (n INT) WITH ('connector' = 'blackhole');
            EXPLAIN STATEMENT SET BEGIN
              INSERT INTO s1 SELECT 1;
              INSERT INTO s2 SELECT 2;
            END;
            """);
        Assert.Contains(lines, l => l.StartsWith("Sink(table=[s1]", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Sink(table=[s2]", StringComparison.Ordinal));
    }

    // ---- SHOW ---------------------------------------------------------------------------------------------------

    [Fact]
    public void Show_create_table_prints_a_statement_that_recreates_the_table()
    {
        var output = new StringWriter();
        var session = new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null);
        session.Execute("""
            CREATE TABLE o (id BIGINT NOT NULL, ts TIMESTAMP(3), p AS PROCTIME(), WATERMARK FOR ts AS ts - INTERVAL '1' SECOND,
              PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'blackhole');
            SHOW CREATE TABLE o;
            """);
        string ddl = output.ToString();
        Assert.StartsWith("CREATE TABLE `default_catalog`.`default_database`.`o` (", ddl, StringComparison.Ordinal);
        var again = new SqlSession(TestConnectors.Registry, new StringWriter(), TextWriter.Null, _ => null);
        again.Execute(ddl);
        Assert.True(again.Catalog.TryGetTable("o", out var t));
        Assert.True(session.Catalog.TryGetTable("o", out var original));
        Assert.Equal(original.Columns.Select(c => (c.Name, c.Type.ToString())), t.Columns.Select(c => (c.Name, c.Type.ToString())));
        Assert.Equal(original.PrimaryKey, t.PrimaryKey);
        Assert.Equal(original.Watermark!.Value.Column, t.Watermark!.Value.Column);
    }
}
