using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class QueryTests
{
    private static readonly NodeList<Identifier> NoIds = NodeList<Identifier>.Empty;
    private static readonly NodeList<SqlHint> NoHints = NodeList<SqlHint>.Empty;

    private static NamedTableRef Table(string name, string? alias = null) =>
        new(P.Name(name.Split('.')), alias is null ? null : P.Id(alias), NoIds, null, NoHints);

    private static IntervalLiteral Interval(string v, TimeUnit u) => new(v, new IntervalQualifier(u));

    [Fact]
    public void Select_clauses()
    {
        var s = P.Select("""
            SELECT DISTINCT a, b AS bee, c cee, t.*, *
            FROM t
            WHERE a > 1
            GROUP BY a, b
            HAVING COUNT(*) > 2
            """);
        Assert.True(s.Distinct);
        Assert.Equal(5, s.Items.Count);
        Assert.Equal(new SelectExpr(P.Col("a")), s.Items[0]);
        Assert.Equal(new SelectExpr(P.Col("b"), P.Id("bee")), s.Items[1]);
        Assert.Equal(new SelectExpr(P.Col("c"), P.Id("cee")), s.Items[2]);
        Assert.Equal(new SelectAll(P.Name("t")), s.Items[3]);
        Assert.Equal(new SelectAll(null), s.Items[4]);
        Assert.Equal(Table("t"), s.From);
        Assert.Equal(new BinaryExpr(BinaryOperator.Greater, P.Col("a"), P.Int(1)), s.Where);
        Assert.Equal([P.Col("a"), P.Col("b")], s.GroupBy);
        Assert.NotNull(s.Having);
        Assert.False(P.Select("SELECT ALL a FROM t").Distinct);
    }

    [Fact]
    public void Select_without_from()
    {
        var s = P.Select("SELECT 1 + 1 AS two");
        Assert.Null(s.From);
        Assert.Equal(P.Id("two"), ((SelectExpr)s.Items[0]).Alias);
    }

    [Fact]
    public void Qualified_star_and_names()
    {
        var s = P.Select("SELECT db.t.*, `x y`.* FROM cat.db.t AS `x y`");
        Assert.Equal(new SelectAll(P.Name("db", "t")), s.Items[0]);
        Assert.Equal(new SelectAll(P.Name("x y")), s.Items[1]);
        Assert.Equal(new NamedTableRef(P.Name("cat", "db", "t"), P.Id("x y"), NoIds, null, NoHints), s.From);
    }

    [Fact]
    public void Order_by_limit_offset()
    {
        var q = P.Query<Query>("SELECT a FROM t ORDER BY a DESC, b ASC NULLS FIRST, c LIMIT 10 OFFSET 5");
        Assert.Empty(q.With);
        Assert.IsType<SelectQuery>(q.Body);
        Assert.Equal(
            [new OrderItem(P.Col("a"), true), new OrderItem(P.Col("b"), false, NullOrdering.First), new OrderItem(P.Col("c"))],
            q.OrderBy);
        Assert.Equal(P.Int(10), q.Limit);
        Assert.Equal(P.Int(5), q.Offset);

        var fetch = P.Query<Query>("SELECT a FROM t FETCH FIRST 3 ROWS ONLY");
        Assert.Equal(P.Int(3), fetch.Limit);
    }

    [Fact]
    public void With_clause()
    {
        var q = P.Query<Query>("WITH a AS (SELECT 1 AS x), b (y) AS (SELECT x FROM a) SELECT * FROM b");
        Assert.Equal(2, q.With.Count);
        Assert.Equal(P.Id("a"), q.With[0].Name);
        Assert.Empty(q.With[0].Columns);
        Assert.Equal([P.Id("y")], q.With[1].Columns);
        Assert.Equal(Table("b"), ((SelectQuery)q.Body).From);
    }

    [Fact]
    public void Set_operations_and_precedence()
    {
        var u = P.Query<SetOperation>("SELECT a FROM t UNION ALL SELECT a FROM u");
        Assert.Equal(SetOperator.Union, u.Operator);
        Assert.True(u.All);

        // INTERSECT binds tighter than UNION: a UNION (b INTERSECT c)
        var mixed = P.Query<SetOperation>("SELECT 1 UNION SELECT 2 INTERSECT SELECT 3");
        Assert.Equal(SetOperator.Union, mixed.Operator);
        Assert.False(mixed.All);
        Assert.Equal(SetOperator.Intersect, Assert.IsType<SetOperation>(mixed.Right).Operator);

        // left associative: (a EXCEPT b) UNION c
        var left = P.Query<SetOperation>("SELECT 1 EXCEPT SELECT 2 UNION SELECT 3");
        Assert.Equal(SetOperator.Union, left.Operator);
        Assert.Equal(SetOperator.Except, Assert.IsType<SetOperation>(left.Left).Operator);

        // ORDER BY after a union applies to the whole union
        var ordered = P.Query<Query>("SELECT a FROM t UNION SELECT a FROM u ORDER BY a LIMIT 1");
        Assert.IsType<SetOperation>(ordered.Body);

        var paren = P.Query<SetOperation>("(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT a FROM u)");
        Assert.IsType<Query>(paren.Left);
        Assert.IsType<SelectQuery>(paren.Right);
    }

    [Fact]
    public void Joins()
    {
        var s = P.Select("""
            SELECT * FROM a
            JOIN b ON a.id = b.id
            INNER JOIN c ON TRUE
            LEFT JOIN d ON a.x = d.x
            LEFT OUTER JOIN e USING (x, y)
            RIGHT JOIN f ON TRUE
            FULL OUTER JOIN g ON TRUE
            CROSS JOIN h
            """);
        var kinds = new List<JoinKind>();
        var node = s.From;
        while (node is JoinRef j)
        {
            kinds.Add(j.Kind);
            node = j.Left;
        }
        kinds.Reverse();
        Assert.Equal([JoinKind.Inner, JoinKind.Inner, JoinKind.Left, JoinKind.Left, JoinKind.Right, JoinKind.Full, JoinKind.Cross], kinds);
        Assert.Equal(Table("a"), node);
        var top = Assert.IsType<JoinRef>(s.From);
        Assert.Equal(Table("h"), top.Right);
        Assert.Null(top.Condition);
        var usingJoin = (JoinRef)((JoinRef)((JoinRef)top.Left).Left).Left;
        Assert.Equal([P.Id("x"), P.Id("y")], usingJoin.Using);
    }

    [Fact]
    public void Comma_joins_and_parenthesised_joins()
    {
        var s = P.Select("SELECT * FROM a x, b AS y, (c JOIN d ON c.k = d.k)");
        var outer = Assert.IsType<JoinRef>(s.From);
        Assert.Equal(JoinKind.Comma, outer.Kind);
        Assert.Equal(JoinKind.Inner, Assert.IsType<JoinRef>(outer.Right).Kind);
        var inner = Assert.IsType<JoinRef>(outer.Left);
        Assert.Equal(Table("a", "x"), inner.Left);
        Assert.Equal(Table("b", "y"), inner.Right);
    }

    [Fact]
    public void Subquery_in_from()
    {
        var s = P.Select("SELECT * FROM (SELECT a FROM t) AS sub (x) WHERE x > 0");
        var sub = Assert.IsType<SubqueryRef>(s.From);
        Assert.Equal(P.Id("sub"), sub.Alias);
        Assert.Equal([P.Id("x")], sub.ColumnAliases);
        Assert.False(sub.Lateral);
        var noAs = Assert.IsType<SubqueryRef>(P.Select("SELECT * FROM (SELECT 1) s").From);
        Assert.Equal(P.Id("s"), noAs.Alias);
    }

    [Fact]
    public void Temporal_join()
    {
        var s = P.Select("""
            SELECT o.id, r.rate
            FROM orders AS o
            JOIN rates FOR SYSTEM_TIME AS OF o.proctime AS r
            ON o.currency = r.currency
            """);
        var j = Assert.IsType<JoinRef>(s.From);
        Assert.Equal(JoinKind.Inner, j.Kind);
        var right = Assert.IsType<NamedTableRef>(j.Right);
        Assert.Equal(P.Col("o", "proctime"), right.SystemTimeAsOf);
        Assert.Equal(P.Id("r"), right.Alias);
        Assert.Equal(new BinaryExpr(BinaryOperator.Equal, P.Col("o", "currency"), P.Col("r", "currency")), j.Condition);
        var left = Assert.IsType<JoinRef>(P.Select("SELECT * FROM o LEFT JOIN r FOR SYSTEM_TIME AS OF o.ts ON o.k = r.k").From);
        Assert.Equal(JoinKind.Left, left.Kind);
        Assert.Null(((NamedTableRef)left.Right).Alias);
    }

    [Fact]
    public void Lateral_table_functions()
    {
        var s = P.Select("SELECT a, w FROM t, LATERAL TABLE(split(a)) AS T(w, len)");
        var j = Assert.IsType<JoinRef>(s.From);
        Assert.Equal(JoinKind.Comma, j.Kind);
        var f = Assert.IsType<TableFunctionRef>(j.Right);
        Assert.True(f.Lateral);
        Assert.Equal(new FunctionCall(P.Name("split"), new Expr[] { P.Col("a") }), f.Call);
        Assert.Equal(P.Id("T"), f.Alias);
        Assert.Equal([P.Id("w"), P.Id("len")], f.ColumnAliases);

        var left = Assert.IsType<JoinRef>(P.Select("SELECT * FROM t LEFT JOIN LATERAL TABLE(f(a)) AS x(v) ON TRUE").From);
        Assert.Equal(JoinKind.Left, left.Kind);
        Assert.True(Assert.IsType<TableFunctionRef>(left.Right).Lateral);
        Assert.Equal(new BooleanLiteral(true), left.Condition);
    }

    [Fact]
    public void Unnest()
    {
        var s = P.Select("SELECT t.id, tag FROM t CROSS JOIN UNNEST(t.tags) AS x (tag)");
        var u = Assert.IsType<UnnestRef>(((JoinRef)s.From!).Right);
        Assert.Equal([P.Col("t", "tags")], u.Arguments);
        Assert.False(u.WithOrdinality);
        Assert.Equal(P.Id("x"), u.Alias);
        Assert.Equal([P.Id("tag")], u.ColumnAliases);
        var ord = Assert.IsType<UnnestRef>(((JoinRef)P.Select("SELECT * FROM t, UNNEST(arr) WITH ORDINALITY AS x(v, i)").From!).Right);
        Assert.True(ord.WithOrdinality);
    }

    [Fact]
    public void Window_tvfs()
    {
        var hop = Assert.IsType<TableFunctionRef>(P.Select(
            "SELECT * FROM TABLE(HOP(TABLE bids, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES, INTERVAL '10' MINUTES))").From).Call;
        Assert.Equal("HOP", hop.UpperName);
        Assert.Equal([
            new TableArgument(P.Name("bids"), null, NodeList<Expr>.Empty, NodeList<OrderItem>.Empty),
            new DescriptorExpr(new[] { P.Id("bidtime") }),
            Interval("5", TimeUnit.Minute),
            Interval("10", TimeUnit.Minute),
        ], hop.Arguments);

        var cumulate = Assert.IsType<TableFunctionRef>(P.Select(
            "SELECT * FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(bidtime), INTERVAL '2' MINUTE, INTERVAL '10' MINUTE))").From).Call;
        Assert.Equal("CUMULATE", cumulate.UpperName);
        Assert.Equal(4, cumulate.Arguments.Count);

        var tumbleOffset = Assert.IsType<TableFunctionRef>(P.Select(
            "SELECT * FROM TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), INTERVAL '1' HOUR, INTERVAL '5' MINUTE))").From).Call;
        Assert.Equal(Interval("5", TimeUnit.Minute), tumbleOffset.Arguments[3]);

        var session = Assert.IsType<TableFunctionRef>(P.Select(
            "SELECT * FROM TABLE(SESSION(TABLE bids PARTITION BY item, region, DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))").From).Call;
        Assert.Equal(3, session.Arguments.Count);
        Assert.Equal(new TableArgument(P.Name("bids"), null, new Expr[] { P.Col("item"), P.Col("region") }, NodeList<OrderItem>.Empty),
            session.Arguments[0]);
        Assert.Equal(new DescriptorExpr(new[] { P.Id("bidtime") }), session.Arguments[1]);

        var sessionParen = Assert.IsType<TableFunctionRef>(P.Select(
            "SELECT * FROM TABLE(SESSION(TABLE bids PARTITION BY (item, region), DESCRIPTOR(bidtime), INTERVAL '5' MINUTES))").From).Call;
        Assert.Equal(session, sessionParen);
    }

    [Fact]
    public void Window_tvf_named_arguments()
    {
        var f = Assert.IsType<TableFunctionRef>(P.Select("""
            SELECT * FROM TABLE(
              TUMBLE(DATA => TABLE bids, TIMECOL => DESCRIPTOR(bidtime), SIZE => INTERVAL '10' MINUTES, `OFFSET` => INTERVAL '1' MINUTE))
            """).From).Call;
        Assert.Equal([
            new NamedArgument(P.Id("DATA"), new TableArgument(P.Name("bids"), null, NodeList<Expr>.Empty, NodeList<OrderItem>.Empty)),
            new NamedArgument(P.Id("TIMECOL"), new DescriptorExpr(new[] { P.Id("bidtime") })),
            new NamedArgument(P.Id("SIZE"), Interval("10", TimeUnit.Minute)),
            new NamedArgument(P.Id("OFFSET"), Interval("1", TimeUnit.Minute)),
        ], f.Arguments);
    }

    [Fact]
    public void Window_tvf_with_alias_and_subquery_argument()
    {
        var f = Assert.IsType<TableFunctionRef>(P.Select(
            "SELECT w.window_start FROM TABLE(TUMBLE(TABLE (SELECT * FROM t WHERE x > 0), DESCRIPTOR(ts), INTERVAL '1' MINUTE)) AS w").From);
        Assert.Equal(P.Id("w"), f.Alias);
        var arg = Assert.IsType<TableArgument>(f.Call.Arguments[0]);
        Assert.Null(arg.Table);
        Assert.IsType<SelectQuery>(arg.Query);
    }

    [Fact]
    public void Legacy_group_window_in_group_by()
    {
        var s = P.Select("""
            SELECT user_id, TUMBLE_START(ts, INTERVAL '1' HOUR) AS wstart, COUNT(*)
            FROM clicks
            GROUP BY TUMBLE(ts, INTERVAL '1' HOUR), user_id
            """);
        Assert.Equal(new FunctionCall(P.Name("TUMBLE"), new Expr[] { P.Col("ts"), Interval("1", TimeUnit.Hour) }), s.GroupBy[0]);
        Assert.Equal(P.Col("user_id"), s.GroupBy[1]);
    }

    [Fact]
    public void Grouping_sets_rollup_cube()
    {
        var s = P.Select("SELECT a, b, COUNT(*) FROM t GROUP BY GROUPING SETS ((a, b), (a), ())");
        var g = Assert.IsType<GroupingSetsExpr>(s.GroupBy.Single());
        Assert.Equal([new RowConstructor(new Expr[] { P.Col("a"), P.Col("b") }), P.Col("a"), new RowConstructor(NodeList<Expr>.Empty)], g.Sets);
        Assert.Equal("ROLLUP", Assert.IsType<FunctionCall>(P.Select("SELECT a FROM t GROUP BY ROLLUP(a, b)").GroupBy[0]).UpperName);
        Assert.Equal("CUBE", Assert.IsType<FunctionCall>(P.Select("SELECT a FROM t GROUP BY CUBE(a, b)").GroupBy[0]).UpperName);
    }

    [Fact]
    public void Window_clause()
    {
        var s = P.Select("SELECT SUM(x) OVER w FROM t WINDOW w AS (PARTITION BY k ORDER BY ts ROWS BETWEEN 2 PRECEDING AND CURRENT ROW)");
        var w = Assert.Single(s.Windows);
        Assert.Equal(P.Id("w"), w.Name);
        Assert.Equal([P.Col("k")], w.Spec.PartitionBy);
    }

    [Fact]
    public void Top_n_and_dedup_patterns()
    {
        var q = P.Select("""
            SELECT * FROM (
              SELECT *, ROW_NUMBER() OVER (PARTITION BY category ORDER BY sales DESC) AS row_num
              FROM shop_sales)
            WHERE row_num <= 3
            """);
        var sub = Assert.IsType<SubqueryRef>(q.From);
        Assert.Null(sub.Alias);
        var inner = Assert.IsType<SelectQuery>(sub.Query);
        var rn = Assert.IsType<FunctionCall>(((SelectExpr)inner.Items[1]).Expression);
        Assert.Equal("ROW_NUMBER", rn.UpperName);
        Assert.Equal([new OrderItem(P.Col("sales"), true)], rn.Over!.OrderBy);
    }

    [Fact]
    public void Values_query()
    {
        var v = P.Query<ValuesQuery>("VALUES (1, 'a'), (2, 'b')");
        Assert.Equal(2, v.Rows.Count);
        Assert.Equal([P.Int(1), new StringLiteral("a")], v.Rows[0]);
    }

    [Fact]
    public void Subquery_with_values_in_from()
    {
        var s = P.Select("SELECT * FROM (VALUES (1), (2)) AS v(x)");
        var sub = Assert.IsType<SubqueryRef>(s.From);
        Assert.IsType<ValuesQuery>(sub.Query);
        Assert.Equal([P.Id("x")], sub.ColumnAliases);
    }
}
