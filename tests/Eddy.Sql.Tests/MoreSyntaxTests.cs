using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class MoreSyntaxTests
{
    [Fact]
    public void Insert_with_static_partition()
    {
        var i = P.Stmt<Insert>("INSERT INTO page_views PARTITION (`date` = '2019-8-30', country = 'China', hr = 1) (user_id, cnt) SELECT u, c FROM src");
        Assert.Equal([
            new PartitionValue(P.Id("date"), new StringLiteral("2019-8-30")),
            new PartitionValue(P.Id("country"), new StringLiteral("China")),
            new PartitionValue(P.Id("hr"), P.Int(1)),
        ], i.StaticPartition);
        Assert.Equal([P.Id("user_id"), P.Id("cnt")], i.Columns);
        Assert.Empty(P.Stmt<Insert>("INSERT INTO t SELECT 1").StaticPartition);
    }

    [Fact]
    public void Similar_to()
    {
        Assert.Equal(new LikeExpr(P.Col("a"), new StringLiteral("x%"), null, false, SimilarTo: true), P.Expr("a SIMILAR TO 'x%'"));
        Assert.Equal(new LikeExpr(P.Col("a"), new StringLiteral("x"), new StringLiteral("!"), true, SimilarTo: true), P.Expr("a NOT SIMILAR TO 'x' ESCAPE '!'"));
    }

    [Fact]
    public void Overlay()
    {
        var expected = new FunctionCall(P.Name("OVERLAY"), new Expr[] { P.Col("s"), new StringLiteral("x"), P.Int(2), P.Int(1) });
        Assert.Equal(expected, P.Expr("OVERLAY(s PLACING 'x' FROM 2 FOR 1)"));
        Assert.Equal(expected, P.Expr("OVERLAY(s, 'x', 2, 1)"));
        Assert.Equal("OVERLAY(s PLACING 'x' FROM 2 FOR 1)", expected.ToSql());
    }

    [Fact]
    public void Json_value()
    {
        Assert.Equal(new JsonValueExpr(P.Col("headers"), new StringLiteral("$.host"), null, null, null), P.Expr("JSON_VALUE(headers, '$.host')"));
        var j = P.Expr<JsonValueExpr>("JSON_VALUE(doc, '$.n' RETURNING INT DEFAULT -1 ON EMPTY ERROR ON ERROR)");
        Assert.Equal(new TypeSpec(DataType.Int), j.Returning);
        Assert.Equal(new JsonBehavior(JsonBehaviorKind.Default, new UnaryExpr(UnaryOperator.Negate, P.Int(1))), j.OnEmpty);
        Assert.Equal(new JsonBehavior(JsonBehaviorKind.Error), j.OnError);
        Assert.Equal(new JsonBehavior(JsonBehaviorKind.Null), P.Expr<JsonValueExpr>("JSON_VALUE(doc, '$.n' NULL ON ERROR)").OnError);
        Assert.Equal("ON EMPTY must come once, before ON ERROR", P.Error("SELECT JSON_VALUE(d, '$' NULL ON ERROR NULL ON EMPTY)").Reason);
    }

    [Theory]
    [InlineData("INSERT OVERWRITE t PARTITION (dt = '2024-01-01', h = 3) SELECT * FROM s")]
    [InlineData("SELECT a SIMILAR TO 'x', a NOT SIMILAR TO 'y' ESCAPE '!', OVERLAY(s PLACING 'x' FROM 2), `OVERLAY`(s, 'x', 2) FROM t")]
    [InlineData("SELECT JSON_VALUE(d, '$.a'), JSON_VALUE(d, '$.b' RETURNING DOUBLE DEFAULT 0.5 ON EMPTY NULL ON ERROR), `JSON_VALUE`(d, '$') FROM t")]
    public void Round_trip(string sql) => P.RoundTrip(sql);
}
