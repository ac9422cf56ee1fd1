using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class CatalogStatementTests
{
    [Fact]
    public void Create_table_like()
    {
        var t = P.Stmt<CreateTable>("""
            CREATE TABLE derived (extra INT) WITH ('scan.startup.mode' = 'latest-offset')
            LIKE base (EXCLUDING PARTITIONS, INCLUDING GENERATED, OVERWRITING OPTIONS)
            """);
        Assert.Equal(P.Name("base"), t.Like!.Source);
        Assert.Equal([
            new LikeOption(LikeStrategy.Excluding, LikeFeature.Partitions),
            new LikeOption(LikeStrategy.Including, LikeFeature.Generated),
            new LikeOption(LikeStrategy.Overwriting, LikeFeature.Options),
        ], t.Like.Options);
        var bare = P.Stmt<CreateTable>("CREATE TEMPORARY TABLE t LIKE db.base");
        Assert.Equal(P.Name("db", "base"), bare.Like!.Source);
        Assert.Empty(bare.Like.Options);
        Assert.Empty(bare.Columns);
    }

    [Fact]
    public void Like_rejects_overwriting_all()
    {
        var e = P.Error("CREATE TABLE t LIKE s (OVERWRITING ALL)");
        Assert.Equal("OVERWRITING cannot be combined with ALL", e.Reason);
        Assert.Equal((1, 24), (e.Line, e.Column));
        Assert.Equal("expected INCLUDING, EXCLUDING or OVERWRITING but found 'INCLUDNG' (did you mean 'INCLUDING'?)",
            P.Error("CREATE TABLE t LIKE s (INCLUDNG ALL)").Reason);
    }

    [Fact]
    public void Catalogs_and_databases()
    {
        Assert.Equal(new CreateCatalog(P.Id("pg"), new[] { new TableOption("type", "jdbc") }, null, false),
            P.Stmt<CreateCatalog>("CREATE CATALOG pg WITH ('type' = 'jdbc')"));
        Assert.Equal(new CreateDatabase(P.Name("cat", "db"), NodeList<TableOption>.Empty, "analytics", true),
            P.Stmt<CreateDatabase>("CREATE DATABASE IF NOT EXISTS cat.db COMMENT 'analytics'"));
        Assert.Equal(new DropCatalog(P.Id("pg"), true), P.Stmt<DropCatalog>("DROP CATALOG IF EXISTS pg"));
        Assert.Equal(new DropDatabase(P.Name("db"), false, true), P.Stmt<DropDatabase>("DROP DATABASE db CASCADE"));
        Assert.Equal(new DropDatabase(P.Name("db"), false, false), P.Stmt<DropDatabase>("DROP DATABASE db RESTRICT"));
        Assert.Equal(new Show(ShowKind.CurrentCatalog), P.Stmt<Show>("SHOW CURRENT CATALOG"));
        Assert.Equal(new Show(ShowKind.CurrentDatabase), P.Stmt<Show>("SHOW CURRENT DATABASE"));
    }

    [Theory]
    [InlineData("CREATE TABLE d (x INT) WITH ('a' = 'b') LIKE s (EXCLUDING ALL, INCLUDING WATERMARKS, OVERWRITING METADATA)")]
    [InlineData("CREATE TABLE d LIKE s")]
    [InlineData("CREATE CATALOG IF NOT EXISTS c COMMENT 'x' WITH ('type' = 'generic_in_memory'); DROP CATALOG c")]
    [InlineData("CREATE DATABASE d WITH ('k' = 'v'); DROP DATABASE IF EXISTS c.d CASCADE; SHOW CURRENT CATALOG; SHOW CURRENT DATABASE")]
    public void Round_trip(string sql) => P.RoundTrip(sql);
}
