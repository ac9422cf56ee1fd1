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

    [Fact]
    public void Json_query_exists_object_array()
    {
        Assert.Equal(new JsonQueryExpr(P.Col("d"), new StringLiteral("$.a"), null, JsonWrapper.Without, null, null),
            P.Expr("JSON_QUERY(d, '$.a')"));
        Assert.Equal(
            new JsonQueryExpr(P.Col("d"), new StringLiteral("$.a"), new TypeSpec(DataType.ArrayOf(DataType.String)), JsonWrapper.Conditional,
                JsonQueryBehaviorKind.EmptyArray, JsonQueryBehaviorKind.Error),
            P.Expr("JSON_QUERY(d, '$.a' RETURNING ARRAY<STRING> WITH CONDITIONAL ARRAY WRAPPER EMPTY ARRAY ON EMPTY ERROR ON ERROR)"));
        Assert.Equal(JsonWrapper.Unconditional, P.Expr<JsonQueryExpr>("JSON_QUERY(d, '$' WITH WRAPPER)").Wrapper);
        Assert.Equal(JsonWrapper.Without, P.Expr<JsonQueryExpr>("JSON_QUERY(d, '$' WITHOUT ARRAY WRAPPER NULL ON ERROR)").Wrapper);

        Assert.Equal(new JsonExistsExpr(P.Col("d"), new StringLiteral("$.a"), null), P.Expr("JSON_EXISTS(d, '$.a')"));
        Assert.Equal(JsonExistsBehavior.Unknown, P.Expr<JsonExistsExpr>("JSON_EXISTS(d, '$.a' UNKNOWN ON ERROR)").OnError);

        Assert.Equal(
            new JsonObjectExpr(new[]
            {
                new JsonKeyValue(new StringLiteral("a"), P.Col("x")),
                new JsonKeyValue(new StringLiteral("b"), new JsonArrayExpr(new Expr[] { P.Int(1), P.Int(2) })),
            }, AbsentOnNull: true),
            P.Expr("JSON_OBJECT(KEY 'a' VALUE x, 'b' VALUE JSON_ARRAY(1, 2) ABSENT ON NULL)"));
        Assert.Equal(new JsonObjectExpr(NodeList<JsonKeyValue>.Empty), P.Expr("JSON_OBJECT()"));
        Assert.Equal(new JsonObjectExpr(NodeList<JsonKeyValue>.Empty), P.Expr("JSON_OBJECT(NULL ON NULL)"));
        Assert.Equal(new JsonArrayExpr(new Expr[] { P.Col("a") }, NullOnNull: true), P.Expr("JSON_ARRAY(a NULL ON NULL)"));
        Assert.Equal(new JsonArrayExpr(NodeList<Expr>.Empty), P.Expr("JSON_ARRAY()"));
        Assert.Equal("expected ',', NULL ON NULL, ABSENT ON NULL or ')' but found 'KEY'",
            P.Error("SELECT JSON_OBJECT(KEY 'a' VALUE 1 KEY 'b' VALUE 2)").Reason);
    }

    [Fact]
    public void Is_json()
    {
        Assert.Equal(new IsJsonExpr(P.Col("s"), null), P.Expr("s IS JSON"));
        Assert.Equal(new IsJsonExpr(P.Col("s"), JsonType.Object, true), P.Expr("s IS NOT JSON OBJECT"));
        Assert.Equal(new UnaryExpr(UnaryOperator.Not, new IsJsonExpr(P.Col("s"), JsonType.Scalar)), P.Expr("NOT s IS JSON SCALAR"));
    }

    [Theory]
    [InlineData("SELECT JSON_QUERY(d, '$.a' RETURNING STRING WITH UNCONDITIONAL ARRAY WRAPPER NULL ON EMPTY EMPTY OBJECT ON ERROR), JSON_EXISTS(d, '$' FALSE ON ERROR) FROM t")]
    [InlineData("SELECT JSON_OBJECT(KEY 'a' VALUE 1, KEY 'b' VALUE JSON_ARRAY(x, y NULL ON NULL) ABSENT ON NULL), JSON_OBJECT(), JSON_ARRAY(), JSON_OBJECT(ABSENT ON NULL) FROM t")]
    [InlineData("SELECT a IS JSON, b IS NOT JSON ARRAY, `JSON_OBJECT`(1), `JSON_ARRAY`(2) FROM t WHERE c IS JSON VALUE AND NOT d IS JSON")]
    [InlineData("INSERT OVERWRITE t PARTITION (dt = '2024-01-01', h = 3) SELECT * FROM s")]
    [InlineData("SELECT a SIMILAR TO 'x', a NOT SIMILAR TO 'y' ESCAPE '!', OVERLAY(s PLACING 'x' FROM 2), `OVERLAY`(s, 'x', 2) FROM t")]
    [InlineData("SELECT JSON_VALUE(d, '$.a'), JSON_VALUE(d, '$.b' RETURNING DOUBLE DEFAULT 0.5 ON EMPTY NULL ON ERROR), `JSON_VALUE`(d, '$') FROM t")]
    public void Round_trip(string sql) => P.RoundTrip(sql);
}
