using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

/// <summary>A second scalar function, for ALTER FUNCTION.</summary>
public sealed class WhisperFunction
{
    public string? Eval(string? s) => s?.ToLowerInvariant();
}

/// <summary>
/// ALTER TABLE / VIEW / DATABASE / FUNCTION, modules, SHOW with LIKE, and the statements Eddy refuses where written.
/// Expected tables come from Flink's documentation ("ALTER Statements", "SHOW Statements").
/// </summary>
public class AlterStatementTests
{
    private static (SqlSession Session, StringWriter Output) NewSession()
    {
        var output = new StringWriter();
        return (new SqlSession(TestConnectors.Registry, output, TextWriter.Null, _ => null), output);
    }

    private static void RunJobs(SqlSession session, string sql)
    {
        foreach (var job in session.Execute(sql, "test.sql"))
        {
            var result = job.Environment.ExecuteAsync(job.Name).GetAwaiter().GetResult();
            if (result.Failure is not null) throw result.Failure;
        }
    }

    private static string Take(StringWriter output)
    {
        string text = output.ToString().Replace("\r", "", StringComparison.Ordinal);
        output.GetStringBuilder().Clear();
        return text;
    }

    /// <summary>The rows of a printed tableau, cells trimmed.</summary>
    private static List<string[]> Rows(string tableau) => tableau.Split('\n')
        .Where(l => l.StartsWith('|'))
        .Skip(1)
        .Select(l => l.Trim('|').Split('|').Select(c => c.Trim()).ToArray())
        .ToList();

    private static List<string[]> Describe(SqlSession session, StringWriter output, string table)
    {
        session.Execute($"DESCRIBE {table}");
        return Rows(Take(output));
    }

    private static SqlParseException RefusedAt(SqlSession session, string sql, string marker, string reason)
    {
        var e = Assert.Throws<SqlParseException>(() => session.Execute(sql, "test.sql"));
        Assert.Contains(reason, e.Reason, StringComparison.Ordinal);
        int offset = sql.IndexOf(marker, StringComparison.Ordinal);
        Assert.True(offset >= 0);
        int line = sql[..offset].Count(c => c == '\n') + 1;
        int column = offset - (sql.LastIndexOf('\n', Math.Max(0, offset - 1)) + 1) + 1;
        if (offset > 0 && sql[offset - 1] == '\n') column = 1;
        Assert.Equal((line, column), (e.Line, e.Column));
        return e;
    }

    private static SqlParseException RefusedAt(string sql, string marker, string reason) => RefusedAt(NewSession().Session, sql, marker, reason);

    [Fact]
    public void Alter_table_follows_the_sequence_of_flinks_documentation()
    {
        // Flink's "ALTER Statements" page, SQL CLI tab: each DESCRIBE below is the documented one.
        var (session, output) = NewSession();
        session.Execute("CREATE TABLE Orders (`user` BIGINT, product STRING, amount INT) WITH ('connector' = 'blackhole')");
        session.Execute("ALTER TABLE Orders ADD `order` INT COMMENT 'order identifier' FIRST");
        Assert.Equal(new[]
        {
            new[] { "order", "INT", "TRUE", "", "", "", "order identifier" },
            ["user", "BIGINT", "TRUE", "", "", "", ""],
            ["product", "STRING", "TRUE", "", "", "", ""],
            ["amount", "INT", "TRUE", "", "", "", ""],
        }, Describe(session, output, "Orders"));

        session.Execute("ALTER TABLE Orders ADD (ts TIMESTAMP(3), category STRING AFTER product, PRIMARY KEY(`order`) NOT ENFORCED, WATERMARK FOR ts AS ts - INTERVAL '1' HOUR)");
        Assert.Equal(new[]
        {
            new[] { "order", "INT", "FALSE", "PRI(order)", "", "", "order identifier" },
            ["user", "BIGINT", "TRUE", "", "", "", ""],
            ["product", "STRING", "TRUE", "", "", "", ""],
            ["category", "STRING", "TRUE", "", "", "", ""],
            ["amount", "INT", "TRUE", "", "", "", ""],
            ["ts", "TIMESTAMP(3) *ROWTIME*", "TRUE", "", "", "`ts` - INTERVAL '1' HOUR", ""],
        }, Describe(session, output, "Orders"));

        session.Execute("ALTER TABLE Orders MODIFY (amount DOUBLE NOT NULL, category STRING COMMENT 'category identifier' AFTER `order`, WATERMARK FOR ts AS ts)");
        Assert.Equal(new[]
        {
            new[] { "order", "INT", "FALSE", "PRI(order)", "", "", "order identifier" },
            ["category", "STRING", "TRUE", "", "", "", "category identifier"],
            ["user", "BIGINT", "TRUE", "", "", "", ""],
            ["product", "STRING", "TRUE", "", "", "", ""],
            ["amount", "DOUBLE", "FALSE", "", "", "", ""],
            ["ts", "TIMESTAMP(3) *ROWTIME*", "TRUE", "", "", "`ts`", ""],
        }, Describe(session, output, "Orders"));

        session.Execute("ALTER TABLE Orders DROP WATERMARK");
        Assert.Equal(["ts", "TIMESTAMP(3)", "TRUE", "", "", "", ""], Describe(session, output, "Orders")[^1]);

        session.Execute("ALTER TABLE Orders DROP (amount, ts, category)");
        Assert.Equal(new[]
        {
            new[] { "order", "INT", "FALSE", "PRI(order)", "", "", "order identifier" },
            ["user", "BIGINT", "TRUE", "", "", "", ""],
            ["product", "STRING", "TRUE", "", "", "", ""],
        }, Describe(session, output, "Orders"));

        session.Execute("ALTER TABLE Orders RENAME `order` TO `order_id`");
        Assert.Equal(["order_id", "INT", "FALSE", "PRI(order_id)", "", "", "order identifier"], Describe(session, output, "Orders")[0]);

        session.Execute("SHOW TABLES");
        Assert.Equal([["Orders"]], Rows(Take(output)));
        session.Execute("ALTER TABLE Orders RENAME TO NewOrders");
        session.Execute("SHOW TABLES");
        Assert.Equal([["NewOrders"]], Rows(Take(output)));
    }

    [Fact]
    public void Alter_table_set_and_reset_change_the_options_a_scan_uses()
    {
        var (session, output) = NewSession();
        session.Execute("CREATE TABLE gen (n INT) WITH ('connector' = 'datagen', 'number-of-rows' = '2', 'fields.n.kind' = 'sequence', 'fields.n.start' = '1', 'fields.n.end' = '100')");
        static int RowsOf(SqlSession s, StringWriter o)
        {
            RunJobs(s, "SELECT n FROM gen");
            return Take(o).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
        }
        Assert.Equal(2, RowsOf(session, output));
        session.Execute("ALTER TABLE gen SET ('number-of-rows' = '5', 'fields.n.end' = '3')");
        // A sequence from 1 to 3 ends the source after 3 rows, before 'number-of-rows' (Flink's datagen).
        Assert.Equal(3, RowsOf(session, output));
        session.Execute("ALTER TABLE gen RESET ('fields.n.end')");
        Assert.True(session.Catalog.TryGetTable("gen", out var table));
        Assert.False(table.Options.ContainsKey("fields.n.end"));
        Assert.Equal("5", table.Options["number-of-rows"]);
        session.Execute("SHOW CREATE TABLE gen");
        Assert.Contains("'number-of-rows' = '5'", Take(output), StringComparison.Ordinal);
        RefusedAt(session, "ALTER TABLE gen RESET ('connector')", "'connector'", "ALTER TABLE RESET does not support changing 'connector'");
        RefusedAt(session, "ALTER TABLE gen SET ('connector' = 'nope')", "ALTER", "the altered table 'gen' is not valid");
        Assert.True(session.Catalog.TryGetTable("gen", out table));
        Assert.Equal("datagen", table.Connector);
    }

    [Fact]
    public void Alter_table_refuses_what_flink_refuses_where_written()
    {
        var (session, _) = NewSession();
        session.Execute("""
            CREATE TABLE t (id INT, ts TIMESTAMP(3), v STRING, WATERMARK FOR ts AS ts, PRIMARY KEY (id) NOT ENFORCED) WITH ('connector' = 'blackhole');
            CREATE TABLE other (x INT) WITH ('connector' = 'blackhole');
            """);
        RefusedAt(session, "ALTER TABLE t ADD v INT", "v INT", "table 't' already has a column 'v'");
        RefusedAt(session, "ALTER TABLE t MODIFY nope INT", "nope", "MODIFY names a column 'nope' which does not exist in table 't'");
        RefusedAt(session, "ALTER TABLE t ADD PRIMARY KEY (v) NOT ENFORCED", "PRIMARY", "table 't' already has a primary key");
        RefusedAt(session, "ALTER TABLE t ADD WATERMARK FOR ts AS ts", "WATERMARK", "table 't' already has a watermark");
        RefusedAt(session, "ALTER TABLE t DROP id", "id", "column 'id' is in the primary key");
        RefusedAt(session, "ALTER TABLE t DROP ts", "ts", "column 'ts' is the watermark's rowtime column");
        RefusedAt(session, "ALTER TABLE t RENAME v TO id", "id", "table 't' already has a column 'id'");
        RefusedAt(session, "ALTER TABLE t RENAME TO other", "other", "a table or view 'other' already exists");
        RefusedAt(session, "ALTER TABLE nope RENAME TO x", "nope", "unknown table 'nope'");
        RefusedAt(session, "ALTER TABLE t ADD c AS nope + 1", "ALTER", "unknown column");
        session.Execute("ALTER TABLE IF EXISTS nope RENAME TO x; ALTER TABLE t DROP PRIMARY KEY; ALTER TABLE t DROP WATERMARK");
        RefusedAt(session, "ALTER TABLE t DROP PRIMARY KEY", "DROP", "table 't' has no primary key");
        RefusedAt(session, "ALTER TABLE t MODIFY WATERMARK FOR ts AS ts", "WATERMARK", "table 't' has no watermark to modify");
        Assert.True(session.Catalog.TryGetTable("t", out var table));
        Assert.Equal(["id", "ts", "v"], table.Columns.Select(c => c.Name));
        Assert.Empty(table.PrimaryKey);
        Assert.Null(table.Watermark);
    }

    [Fact]
    public void Show_create_view_lists_the_columns()
    {
        // Flink's "SHOW Statements": CREATE VIEW `default_catalog`.`default_db`.`my_view`(`field1`, `field2`, ...) as ...
        var (session, output) = NewSession();
        session.Execute("CREATE TABLE my_table (field1 INT, field2 STRING) WITH ('connector' = 'blackhole'); CREATE VIEW my_view AS SELECT * FROM my_table");
        session.Execute("SHOW CREATE VIEW my_view");
        string text = Take(output);
        Assert.StartsWith("CREATE VIEW `default_catalog`.`default_database`.`my_view`(`field1`, `field2`) as\n", text, StringComparison.Ordinal);
        var again = NewSession().Session;
        again.Execute("CREATE TABLE my_table (field1 INT, field2 STRING) WITH ('connector' = 'blackhole')");
        again.Execute(text);
        Assert.True(again.Catalog.TryGetView("my_view", out _));
    }

    [Fact]
    public void Alter_view_renames_and_replaces_the_query()
    {
        var (session, output) = NewSession();
        session.Execute("CREATE VIEW v AS SELECT 1 AS n; ALTER VIEW v RENAME TO w");
        Assert.False(session.Catalog.TryGetView("v", out _));
        session.Execute("ALTER VIEW w AS SELECT 'x' AS s, 2 AS n");
        RunJobs(session, "SELECT s, n FROM w");
        Assert.Equal("+I[x, 2]", System.Text.RegularExpressions.Regex.Replace(Take(output).Trim(), @"^\d+> ", ""));
        RefusedAt(session, "ALTER VIEW nope RENAME TO z", "nope", "unknown view 'nope'");
        RefusedAt(session, "ALTER VIEW w AS SELECT nope", "nope", "nope");
    }

    [Fact]
    public void Alter_database_sets_properties_and_alter_function_changes_the_class()
    {
        var (session, output) = NewSession();
        session.Execute("CREATE DATABASE db WITH ('owner' = 'a'); ALTER DATABASE db SET ('owner' = 'b', 'team' = 'c')");
        Assert.Equal(new Dictionary<string, string> { ["owner"] = "b", ["team"] = "c" }, session.Catalog.DatabaseProperties("default_catalog", "db"));
        RefusedAt(session, "ALTER DATABASE nope SET ('k' = 'v')", "nope", "database 'nope' does not exist");

        session.Execute($"CREATE FUNCTION f AS '{typeof(ShoutFunction).FullName}'; ALTER FUNCTION f AS '{typeof(WhisperFunction).FullName}'");
        RunJobs(session, "SELECT f('AbC')");
        Assert.Equal("+I[abc]", System.Text.RegularExpressions.Regex.Replace(Take(output).Trim(), @"^\d+> ", ""));
        RefusedAt(session, "ALTER FUNCTION g AS 'X.Y'", "g", "function 'g' does not exist");
        RefusedAt(session, $"CREATE FUNCTION f AS '{typeof(ShoutFunction).FullName}'", "f AS", "function 'f' already exists");
        session.Execute($"CREATE FUNCTION IF NOT EXISTS f AS '{typeof(ShoutFunction).FullName}'; DROP FUNCTION f; DROP FUNCTION IF EXISTS f");
        RefusedAt(session, "DROP FUNCTION f", "f", "function 'f' does not exist");
        session.Execute("ALTER FUNCTION IF EXISTS g AS 'X.Y'");
    }

    [Fact]
    public void Show_modules_answer_as_flinks_documentation_and_other_modules_are_refused()
    {
        var (session, output) = NewSession();
        session.Execute("SHOW MODULES");
        Assert.Equal("""
            +-------------+
            | module name |
            +-------------+
            |        core |
            +-------------+
            1 row in set

            """, Take(output));
        session.Execute("SHOW FULL MODULES");
        Assert.Equal("""
            +-------------+------+
            | module name | used |
            +-------------+------+
            |        core | true |
            +-------------+------+
            1 row in set

            """, Take(output));
        session.Execute("USE MODULES core");
        RefusedAt(session, "LOAD MODULE hive WITH ('hive-version' = '3.1.3')", "hive", "module 'hive' is not available in Eddy");
        RefusedAt(session, "LOAD MODULE core", "core", "a module with name 'core' already exists");
        RefusedAt(session, "UNLOAD MODULE core", "core", "UNLOAD MODULE core is not supported by Eddy");
        RefusedAt(session, "USE MODULES hive", "hive", "module 'hive' is not loaded");
    }

    [Fact]
    public void Set_without_a_key_lists_the_options_as_a_key_value_table()
    {
        var (session, output) = NewSession();
        session.Execute("SET 'pipeline.name' = 'x'; SET 'parallelism.default' = '2'; SET");
        Assert.Equal([["parallelism.default", "2"], ["pipeline.name", "x"]], Rows(Take(output)));
        session.Execute("RESET 'pipeline.name'; SET");
        Assert.Equal([["parallelism.default", "2"]], Rows(Take(output)));
    }

    [Fact]
    public void Show_with_like_filters_as_flinks_examples()
    {
        // Flink's "SHOW Statements": db1 holds person and dim; orders has user, product, amount, ts, ptime.
        var (session, output) = NewSession();
        session.Execute("""
            CREATE DATABASE db1;
            CREATE TABLE db1.person (n INT) WITH ('connector' = 'blackhole');
            CREATE TABLE db1.dim (n INT) WITH ('connector' = 'blackhole');
            CREATE TABLE orders (`user` BIGINT NOT NULL, product VARCHAR(32), amount INT, ts TIMESTAMP(3), ptime AS PROCTIME(),
              WATERMARK FOR ts AS ts - INTERVAL '1' SECOND, PRIMARY KEY (`user`) NOT ENFORCED) WITH ('connector' = 'blackhole');
            """);
        session.Execute("SHOW TABLES FROM db1 LIKE '%n'");
        Assert.Equal([["person"]], Rows(Take(output)));
        session.Execute("SHOW TABLES IN db1 NOT LIKE '%n'");
        Assert.Equal([["dim"]], Rows(Take(output)));
        session.Execute("SHOW COLUMNS FROM orders LIKE '%r'");
        Assert.Equal(["user"], Rows(Take(output)).Select(r => r[0]));
        session.Execute("SHOW COLUMNS IN orders NOT LIKE '%_r'");
        Assert.Equal(["product", "amount", "ts", "ptime"], Rows(Take(output)).Select(r => r[0]));

        session.Execute($"CREATE FUNCTION shout AS '{typeof(ShoutFunction).FullName}'");
        session.Execute("SHOW USER FUNCTIONS");
        Assert.Equal([["shout"]], Rows(Take(output)));
        session.Execute("SHOW FUNCTIONS ILIKE 'SHA2%'");
        var sha = Rows(Take(output)).Select(r => r[0]).ToList();
        Assert.NotEmpty(sha);
        Assert.All(sha, n => Assert.StartsWith("sha2", n, StringComparison.OrdinalIgnoreCase));
        session.Execute("SHOW FUNCTIONS LIKE 'SHA2%'");
        Assert.Equal(sha.Where(n => n.StartsWith("SHA2", StringComparison.Ordinal)), Rows(Take(output)).Select(r => r[0]));
        RefusedAt(session, "SHOW FUNCTIONS FROM db1", "db1", "SHOW FUNCTIONS FROM a database is not supported");
    }

    [Theory]
    [InlineData("TRUNCATE TABLE t", "TRUNCATE TABLE is not supported")]
    [InlineData("ANALYZE TABLE t COMPUTE STATISTICS", "ANALYZE TABLE is not supported")]
    [InlineData("CALL `system`.generate_n(4)", "CALL is not supported")]
    [InlineData("DELETE FROM t WHERE n = 1", "DELETE is not supported")]
    [InlineData("UPDATE t SET n = 1", "UPDATE is not supported")]
    [InlineData("STOP JOB '228d70913eab60dda85c5e7f78b5782c' WITH SAVEPOINT", "STOP JOB is not supported")]
    [InlineData("SHOW PARTITIONS t PARTITION (n = 1)", "SHOW PARTITIONS is not supported")]
    [InlineData("SHOW PROCEDURES", "SHOW PROCEDURES is not supported")]
    public void Statements_eddy_does_not_have_are_refused_where_written(string statement, string reason)
    {
        string sql = "CREATE TABLE t (n INT) WITH ('connector' = 'blackhole');\n" + statement + ";\nSELECT 1";
        var e = RefusedAt(sql, statement, reason);
        Assert.Equal(2, e.Line);
    }

    [Theory]
    [InlineData("ALTER TABLE t ADD (a INT FIRST, b AS a + 1 AFTER a, PRIMARY KEY (a) NOT ENFORCED, WATERMARK FOR ts AS ts)")]
    [InlineData("ALTER TABLE IF EXISTS db.t MODIFY (a BIGINT NOT NULL)")]
    [InlineData("ALTER TABLE t DROP (a, b)")]
    [InlineData("ALTER TABLE t DROP CONSTRAINT pk")]
    [InlineData("ALTER TABLE t RENAME a TO b")]
    [InlineData("ALTER TABLE t RESET ('k1', 'k2')")]
    [InlineData("ALTER VIEW v AS SELECT 1")]
    [InlineData("ALTER TEMPORARY SYSTEM FUNCTION IF EXISTS f AS 'A.B' LANGUAGE JAVA")]
    [InlineData("LOAD MODULE hive WITH ('hive-version' = '3.1.3'); UNLOAD MODULE hive; USE MODULES core, hive")]
    [InlineData("SHOW FULL MODULES; SHOW USER FUNCTIONS NOT ILIKE 'a%'; SHOW COLUMNS FROM t LIKE 'x'")]
    public void Round_trip(string sql) => P.RoundTrip(sql);
}
