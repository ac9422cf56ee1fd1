using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class StatementTests
{
    private static readonly NodeList<Identifier> NoIds = NodeList<Identifier>.Empty;

    [Fact]
    public void Create_table_with_every_column_kind()
    {
        var t = P.Stmt<CreateTable>("""
            CREATE TEMPORARY TABLE IF NOT EXISTS cat.db.orders (
              id BIGINT NOT NULL COMMENT 'order id',
              `user name` STRING,
              price DECIMAL(10, 2),
              total AS price * 2 COMMENT 'doubled',
              ts TIMESTAMP(3) METADATA FROM 'timestamp' VIRTUAL,
              part INT METADATA,
              off BIGINT METADATA VIRTUAL COMMENT 'kafka offset',
              WATERMARK FOR ts AS ts - INTERVAL '5' SECOND,
              CONSTRAINT pk PRIMARY KEY (id) NOT ENFORCED
            ) COMMENT 'the orders' PARTITIONED BY (part, price) WITH ('connector' = 'filesystem', 'path' = '/tmp/x')
            """);
        Assert.True(t.Temporary);
        Assert.True(t.IfNotExists);
        Assert.False(t.OrReplace);
        Assert.Equal(P.Name("cat", "db", "orders"), t.Name);
        Assert.Equal(7, t.Columns.Count);
        Assert.Equal(new PhysicalColumn(P.Id("id"), new TypeSpec(DataType.BigInt.NotNull()), "order id"), t.Columns[0]);
        Assert.Equal(new PhysicalColumn(P.Id("user name"), new TypeSpec(DataType.String)), t.Columns[1]);
        Assert.Equal(new PhysicalColumn(P.Id("price"), new TypeSpec(DataType.Decimal(10, 2))), t.Columns[2]);
        Assert.Equal(new ComputedColumn(P.Id("total"), new BinaryExpr(BinaryOperator.Multiply, P.Col("price"), P.Int(2)), "doubled"), t.Columns[3]);
        Assert.Equal(new MetadataColumn(P.Id("ts"), new TypeSpec(DataType.Timestamp3), "timestamp", true), t.Columns[4]);
        Assert.Equal(new MetadataColumn(P.Id("part"), new TypeSpec(DataType.Int), null, false), t.Columns[5]);
        Assert.Equal(new MetadataColumn(P.Id("off"), new TypeSpec(DataType.BigInt), null, true, "kafka offset"), t.Columns[6]);
        Assert.Equal(new WatermarkSpec(P.Id("ts"), new BinaryExpr(BinaryOperator.Subtract, P.Col("ts"),
            new IntervalLiteral("5", new IntervalQualifier(TimeUnit.Second)))), t.Watermark);
        Assert.Equal(new PrimaryKeySpec(new[] { P.Id("id") }, P.Id("pk"), true), t.PrimaryKey);
        Assert.Equal("the orders", t.Comment);
        Assert.Equal([P.Id("part"), P.Id("price")], t.PartitionedBy);
        Assert.Equal([new TableOption("connector", "filesystem"), new TableOption("path", "/tmp/x")], t.Options);
        Assert.Null(t.AsQuery);
    }

    [Fact]
    public void Column_level_primary_key_is_normalised_to_table_level()
    {
        var t = P.Stmt<CreateTable>("CREATE TABLE t (id INT PRIMARY KEY NOT ENFORCED, v STRING) WITH ('connector' = 'print')");
        Assert.Equal(new PrimaryKeySpec(new[] { P.Id("id") }, null, true), t.PrimaryKey);
        Assert.Equal(new PhysicalColumn(P.Id("id"), new TypeSpec(DataType.Int)), t.Columns[0]);
        Assert.Equal(1, t.PrimaryKey!.Span.Line);
        Assert.Equal("id INT PRIMARY KEY NOT ENFORCED", "CREATE TABLE t (id INT PRIMARY KEY NOT ENFORCED, v STRING) WITH ('connector' = 'print')"
            .Substring(t.PrimaryKey.Span.Offset, t.PrimaryKey.Span.Length));
    }

    [Fact]
    public void Primary_key_without_not_enforced_is_recorded()
    {
        var t = P.Stmt<CreateTable>("CREATE TABLE t (a INT, PRIMARY KEY (a)) WITH ('connector' = 'print')");
        Assert.False(t.PrimaryKey!.NotEnforced);
    }

    [Fact]
    public void Option_keys_may_be_unquoted_dotted_names()
    {
        var t = P.Stmt<CreateTable>("CREATE TABLE t (a INT) WITH (connector = 'kafka', scan.startup.mode = 'earliest-offset')");
        Assert.Equal([new TableOption("connector", "kafka"), new TableOption("scan.startup.mode", "earliest-offset")], t.Options);
    }

    [Fact]
    public void Create_or_replace_table_as_select()
    {
        var t = P.Stmt<CreateTable>("CREATE OR REPLACE TABLE t2 WITH ('connector' = 'blackhole') AS SELECT a, b FROM t1");
        Assert.True(t.OrReplace);
        Assert.Empty(t.Columns);
        var q = Assert.IsType<SelectQuery>(t.AsQuery);
        Assert.Equal(2, q.Items.Count);
        Assert.Equal(new NamedTableRef(P.Name("t1"), null, NoIds, null, NodeList<SqlHint>.Empty), q.From);
    }

    [Fact]
    public void Create_table_as_select_without_options()
    {
        var t = P.Stmt<CreateTable>("CREATE TABLE t2 AS SELECT 1 AS x");
        Assert.Empty(t.Options);
        Assert.NotNull(t.AsQuery);
    }

    [Fact]
    public void Drop_table_view_function()
    {
        Assert.Equal(new DropTable(P.Name("t"), false, false), P.Stmt<DropTable>("DROP TABLE t"));
        Assert.Equal(new DropTable(P.Name("db", "t"), true, true), P.Stmt<DropTable>("DROP TEMPORARY TABLE IF EXISTS db.t"));
        Assert.Equal(new DropView(P.Name("v"), true, false), P.Stmt<DropView>("drop view if exists v"));
        Assert.Equal(new DropView(P.Name("v"), false, true), P.Stmt<DropView>("DROP TEMPORARY VIEW v"));
        Assert.Equal(new DropFunction(P.Name("f"), FunctionScope.Catalog, false), P.Stmt<DropFunction>("DROP FUNCTION f"));
        Assert.Equal(new DropFunction(P.Name("f"), FunctionScope.TemporarySystem, true), P.Stmt<DropFunction>("DROP TEMPORARY SYSTEM FUNCTION IF EXISTS f"));
        Assert.Equal(new DropFunction(P.Name("f"), FunctionScope.Temporary, false), P.Stmt<DropFunction>("DROP TEMPORARY FUNCTION f"));
    }

    [Fact]
    public void Create_view()
    {
        var v = P.Stmt<CreateView>("CREATE TEMPORARY VIEW IF NOT EXISTS v (x, y) COMMENT 'c' AS SELECT a, b FROM t");
        Assert.True(v.Temporary);
        Assert.True(v.IfNotExists);
        Assert.Equal([P.Id("x"), P.Id("y")], v.Columns);
        Assert.Equal("c", v.Comment);
        Assert.IsType<SelectQuery>(v.Query);

        var plain = P.Stmt<CreateView>("CREATE VIEW v AS WITH c AS (SELECT 1 AS one) SELECT * FROM c");
        Assert.False(plain.Temporary);
        Assert.Empty(plain.Columns);
        Assert.IsType<Query>(plain.Query);
    }

    [Fact]
    public void Create_function()
    {
        Assert.Equal(new CreateFunction(P.Name("f"), "MyAssembly.MyFunctions.Upper", null, FunctionScope.Catalog, false),
            P.Stmt<CreateFunction>("CREATE FUNCTION f AS 'MyAssembly.MyFunctions.Upper'"));
        Assert.Equal(new CreateFunction(P.Name("db", "f"), "A.B", "JAVA", FunctionScope.Temporary, true),
            P.Stmt<CreateFunction>("CREATE TEMPORARY FUNCTION IF NOT EXISTS db.f AS 'A.B' LANGUAGE java"));
        Assert.Equal(new CreateFunction(P.Name("f"), "A.B", "CSHARP", FunctionScope.TemporarySystem, false),
            P.Stmt<CreateFunction>("CREATE TEMPORARY SYSTEM FUNCTION f AS 'A.B' LANGUAGE CSHARP"));
    }

    [Fact]
    public void Insert_into_and_overwrite()
    {
        var i = P.Stmt<Insert>("INSERT INTO sink (a, b) SELECT x, y FROM src");
        Assert.False(i.Overwrite);
        Assert.Equal(P.Name("sink"), i.Target);
        Assert.Equal([P.Id("a"), P.Id("b")], i.Columns);

        var o = P.Stmt<Insert>("INSERT OVERWRITE db.sink SELECT * FROM src");
        Assert.True(o.Overwrite);
        Assert.Empty(o.Columns);

        var paren = P.Stmt<Insert>("INSERT INTO sink (SELECT * FROM src)");
        Assert.Empty(paren.Columns);
        Assert.IsType<SelectQuery>(paren.Source);

        var values = P.Stmt<Insert>("INSERT INTO sink VALUES (1, 'a'), (2, 'b')");
        var v = Assert.IsType<ValuesQuery>(values.Source);
        Assert.Equal(2, v.Rows.Count);
        Assert.Equal([P.Int(2), new StringLiteral("b")], v.Rows[1]);
    }

    [Fact]
    public void Execute_statement_set()
    {
        var s = P.Stmt<StatementSet>("""
            EXECUTE STATEMENT SET
            BEGIN
              INSERT INTO a SELECT * FROM s;
              INSERT INTO b SELECT * FROM s;
            END
            """);
        Assert.Equal(2, s.Inserts.Count);
        Assert.Equal(P.Name("a"), s.Inserts[0].Target);
        Assert.Equal(P.Name("b"), s.Inserts[1].Target);
    }

    [Fact]
    public void Begin_statement_set_in_a_script()
    {
        var script = SqlParser.ParseScript("""
            SET 'pipeline.name' = 'job';
            BEGIN STATEMENT SET;
            INSERT INTO a SELECT * FROM s;
            INSERT INTO b SELECT * FROM s;
            END;
            SELECT 1;
            """);
        Assert.Equal(3, script.Statements.Count);
        var set = Assert.IsType<StatementSet>(script.Statements[1]);
        Assert.Equal(2, set.Inserts.Count);
        Assert.Equal(2, set.Span.Line);
        Assert.IsType<QueryStatement>(script.Statements[2]);
        Assert.Equal(6, script.Statements[2].Span.Line);
    }

    [Fact]
    public void Set_and_reset()
    {
        Assert.Equal(new SetOption("execution.runtime-mode", "streaming"), P.Stmt<SetOption>("SET 'execution.runtime-mode' = 'streaming'"));
        Assert.Equal(new SetOption(null, null), P.Stmt<SetOption>("SET"));
        Assert.Equal(new SetOption(null, null), P.Stmt<SetOption>("SET;"));
        Assert.Equal(new SetOption("parallelism.default", "4"), P.Stmt<SetOption>("SET parallelism.default = 4"));
        Assert.Equal(new ResetOption("a.b"), P.Stmt<ResetOption>("RESET 'a.b'"));
        Assert.Equal(new ResetOption(null), P.Stmt<ResetOption>("RESET"));
    }

    [Theory]
    [InlineData("SHOW TABLES", ShowKind.Tables)]
    [InlineData("show views", ShowKind.Views)]
    [InlineData("SHOW FUNCTIONS", ShowKind.Functions)]
    [InlineData("SHOW CATALOGS", ShowKind.Catalogs)]
    [InlineData("SHOW DATABASES", ShowKind.Databases)]
    [InlineData("SHOW JOBS", ShowKind.Jobs)]
    public void Show(string sql, ShowKind kind) => Assert.Equal(new Show(kind), P.Stmt<Show>(sql));

    [Fact]
    public void Describe_and_desc()
    {
        Assert.Equal(new Describe(P.Name("t"), false), P.Stmt<Describe>("DESCRIBE t"));
        Assert.Equal(new Describe(P.Name("db", "t"), false), P.Stmt<Describe>("DESC db.t"));
        Assert.Equal(new Describe(P.Name("t"), true), P.Stmt<Describe>("DESCRIBE EXTENDED t"));
    }

    [Fact]
    public void Explain()
    {
        var e = P.Stmt<Explain>("EXPLAIN PLAN FOR SELECT * FROM t");
        Assert.Empty(e.Details);
        Assert.IsType<QueryStatement>(e.Statement);
        var bare = P.Stmt<Explain>("EXPLAIN INSERT INTO s SELECT * FROM t");
        Assert.IsType<Insert>(bare.Statement);
        var detailed = P.Stmt<Explain>("EXPLAIN CHANGELOG_MODE, ESTIMATED_COST SELECT 1");
        Assert.Equal([ExplainDetail.ChangelogMode, ExplainDetail.EstimatedCost], detailed.Details);
        var set = P.Stmt<Explain>("EXPLAIN STATEMENT SET BEGIN INSERT INTO a SELECT 1; END".Replace("EXPLAIN ", "EXPLAIN EXECUTE ", StringComparison.Ordinal));
        Assert.IsType<StatementSet>(set.Statement);
    }

    [Fact]
    public void Use()
    {
        Assert.Equal(new Use(P.Name("db"), false), P.Stmt<Use>("USE db"));
        Assert.Equal(new Use(P.Name("cat", "db"), false), P.Stmt<Use>("USE cat.db"));
        Assert.Equal(new Use(P.Name("my_cat"), true), P.Stmt<Use>("USE CATALOG my_cat"));
        Assert.Equal(new Use(P.Name("catalog"), false), P.Stmt<Use>("USE catalog"));
    }

    [Fact]
    public void Bare_query_statements()
    {
        Assert.IsType<SelectQuery>(P.Stmt<QueryStatement>("SELECT 1").Query);
        Assert.IsType<Query>(P.Stmt<QueryStatement>("WITH a AS (SELECT 1) SELECT * FROM a").Query);
        Assert.IsType<ValuesQuery>(P.Stmt<QueryStatement>("VALUES (1), (2)").Query);
        Assert.IsType<SetOperation>(P.Stmt<QueryStatement>("(SELECT 1) UNION ALL (SELECT 2)").Query);
    }

    [Fact]
    public void Script_with_comments_and_empty_statements()
    {
        var script = SqlParser.ParseScript("""
            -- a job
            /* block
               comment */ SET 'a' = 'b';;
            ;
            SELECT 1 -- trailing
            ; SHOW TABLES
            """);
        Assert.Equal(3, script.Statements.Count);
        Assert.Equal(new SourceSpan(32, 13, 3, 15), script.Statements[0].Span);
        Assert.Equal(5, script.Statements[1].Span.Line);
        Assert.Equal(new SourceSpan(73, 11, 6, 3), script.Statements[2].Span);
    }

    [Fact]
    public void Keywords_are_case_insensitive_and_identifiers_keep_case()
    {
        var t = P.Stmt<CreateTable>("create table MyTable (MyCol int) with ('connector' = 'print')");
        Assert.Equal("MyTable", t.Name.ToString());
        Assert.Equal("MyCol", t.Columns[0].Name.Value);
    }

    [Fact]
    public void Non_reserved_keywords_work_as_names()
    {
        var t = P.Stmt<CreateTable>("CREATE TABLE t (`timestamp` TIMESTAMP(3), comment STRING, watermark INT, metadata INT, `value` INT, date DATE) WITH ('connector' = 'x')");
        Assert.Equal(["timestamp", "comment", "watermark", "metadata", "value", "date"], t.Columns.Select(c => c.Name.Value));
        Assert.All(t.Columns, c => Assert.IsType<PhysicalColumn>(c));
    }
}
