using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests;

public class ExpressionTests
{
    private static readonly ColumnRef A = P.Col("a");
    private static readonly ColumnRef B = P.Col("b");
    private static readonly ColumnRef C = P.Col("c");

    private static BinaryExpr Bin(BinaryOperator op, Expr l, Expr r) => new(op, l, r);

    private static FunctionCall Call(string name, params Expr[] args) => new(P.Name(name), args);

    [Fact]
    public void Literals()
    {
        Assert.Equal(P.Int(42), P.Expr("42"));
        Assert.Equal(new NumericLiteral("3.14", NumericKind.Decimal), P.Expr("3.14"));
        Assert.Equal(new NumericLiteral(".5", NumericKind.Decimal), P.Expr(".5"));
        Assert.Equal(new NumericLiteral("1.5E-3", NumericKind.Approximate), P.Expr("1.5E-3"));
        Assert.Equal(new NumericLiteral("2e10", NumericKind.Approximate), P.Expr("2e10"));
        Assert.Equal(new StringLiteral("it's"), P.Expr("'it''s'"));
        Assert.Equal(new StringLiteral(""), P.Expr("''"));
        Assert.Equal(new StringLiteral("${KAFKA_URL}/x"), P.Expr("'${KAFKA_URL}/x'"));
        Assert.Equal(new BooleanLiteral(true), P.Expr("TRUE"));
        Assert.Equal(new BooleanLiteral(false), P.Expr("false"));
        Assert.Equal(new NullLiteral(), P.Expr("NULL"));
        Assert.Equal(new TypedLiteral(TypedLiteralKind.Timestamp, "2024-01-01 00:00:00"), P.Expr("TIMESTAMP '2024-01-01 00:00:00'"));
        Assert.Equal(new TypedLiteral(TypedLiteralKind.Date, "2024-01-01"), P.Expr("DATE '2024-01-01'"));
        Assert.Equal(new TypedLiteral(TypedLiteralKind.Time, "10:00:00"), P.Expr("TIME '10:00:00'"));
    }

    [Theory]
    [InlineData("INTERVAL '5' MINUTE", "5", TimeUnit.Minute, null)]
    [InlineData("INTERVAL '1' SECOND", "1", TimeUnit.Second, null)]
    [InlineData("INTERVAL '10' HOUR", "10", TimeUnit.Hour, null)]
    [InlineData("INTERVAL '2' DAY", "2", TimeUnit.Day, null)]
    [InlineData("interval '3' month", "3", TimeUnit.Month, null)]
    [InlineData("INTERVAL '1:30' MINUTE TO SECOND", "1:30", TimeUnit.Minute, TimeUnit.Second)]
    [InlineData("INTERVAL '1 02:00' DAY TO MINUTE", "1 02:00", TimeUnit.Day, TimeUnit.Minute)]
    [InlineData("INTERVAL '10' SECONDS", "10", TimeUnit.Second, null)]
    public void Intervals(string sql, string value, TimeUnit start, TimeUnit? end) =>
        Assert.Equal(new IntervalLiteral(value, new IntervalQualifier(start, end)), P.Expr(sql));

    [Fact]
    public void Column_references_and_access()
    {
        Assert.Equal(A, P.Expr("a"));
        Assert.Equal(P.Col("t", "a"), P.Expr("t.a"));
        Assert.Equal(P.Col("t", "row", "field"), P.Expr("t.`row`.field"));
        Assert.Equal(P.Col("my col"), P.Expr("`my col`"));
        Assert.Equal(P.Col("a`b"), P.Expr("`a``b`"));
        Assert.Equal(new Subscript(P.Col("arr"), P.Int(1)), P.Expr("arr[1]"));
        Assert.Equal(new Subscript(P.Col("m"), new StringLiteral("k")), P.Expr("m['k']"));
        Assert.Equal(new FieldAccess(new Subscript(P.Col("arr"), P.Int(1)), P.Id("name")), P.Expr("arr[1].name"));
        Assert.Equal(new FieldAccess(Call("f", A), P.Id("x")), P.Expr("f(a).x"));
        Assert.Equal(new Subscript(new Subscript(P.Col("t", "m"), new StringLiteral("a")), P.Int(2)), P.Expr("t.m['a'][2]"));
    }

    [Fact]
    public void Arithmetic_precedence()
    {
        // a + b * c  =>  a + (b * c)
        Assert.Equal(Bin(BinaryOperator.Add, A, Bin(BinaryOperator.Multiply, B, C)), P.Expr("a + b * c"));
        // a - b - c  =>  (a - b) - c
        Assert.Equal(Bin(BinaryOperator.Subtract, Bin(BinaryOperator.Subtract, A, B), C), P.Expr("a - b - c"));
        // a / b % c  =>  (a / b) % c
        Assert.Equal(Bin(BinaryOperator.Modulo, Bin(BinaryOperator.Divide, A, B), C), P.Expr("a / b % c"));
        // (a + b) * c
        Assert.Equal(Bin(BinaryOperator.Multiply, Bin(BinaryOperator.Add, A, B), C), P.Expr("(a + b) * c"));
        // -a * b  =>  (-a) * b
        Assert.Equal(Bin(BinaryOperator.Multiply, new UnaryExpr(UnaryOperator.Negate, A), B), P.Expr("-a * b"));
        // - -a
        Assert.Equal(new UnaryExpr(UnaryOperator.Negate, new UnaryExpr(UnaryOperator.Negate, A)), P.Expr("- -a"));
        Assert.Equal(new UnaryExpr(UnaryOperator.Plus, A), P.Expr("+a"));
        // || binds like * (as in Calcite): a || b + c  =>  (a || b) + c
        Assert.Equal(Bin(BinaryOperator.Add, Bin(BinaryOperator.Concat, A, B), C), P.Expr("a || b + c"));
        Assert.Equal(Bin(BinaryOperator.Concat, Bin(BinaryOperator.Concat, A, B), C), P.Expr("a || b || c"));
    }

    [Fact]
    public void Boolean_precedence()
    {
        // a OR b AND c  =>  a OR (b AND c)
        Assert.Equal(Bin(BinaryOperator.Or, A, Bin(BinaryOperator.And, B, C)), P.Expr("a OR b AND c"));
        // NOT a AND b  =>  (NOT a) AND b
        Assert.Equal(Bin(BinaryOperator.And, new UnaryExpr(UnaryOperator.Not, A), B), P.Expr("NOT a AND b"));
        // NOT a = b  =>  NOT (a = b)
        Assert.Equal(new UnaryExpr(UnaryOperator.Not, Bin(BinaryOperator.Equal, A, B)), P.Expr("NOT a = b"));
        // a = 1 AND b > 2 OR c <> 3
        Assert.Equal(
            Bin(BinaryOperator.Or,
                Bin(BinaryOperator.And, Bin(BinaryOperator.Equal, A, P.Int(1)), Bin(BinaryOperator.Greater, B, P.Int(2))),
                Bin(BinaryOperator.NotEqual, C, P.Int(3))),
            P.Expr("a = 1 AND b > 2 OR c <> 3"));
        // a + 1 < b * 2  =>  (a + 1) < (b * 2)
        Assert.Equal(Bin(BinaryOperator.Less, Bin(BinaryOperator.Add, A, P.Int(1)), Bin(BinaryOperator.Multiply, B, P.Int(2))),
            P.Expr("a + 1 < b * 2"));
        // NOT a IS NULL  =>  NOT (a IS NULL)
        Assert.Equal(new UnaryExpr(UnaryOperator.Not, new IsExpr(A, IsPredicate.Null)), P.Expr("NOT a IS NULL"));
        // a = b IS TRUE  =>  (a = b) IS TRUE
        Assert.Equal(new IsExpr(Bin(BinaryOperator.Equal, A, B), IsPredicate.True), P.Expr("a = b IS TRUE"));
        // a BETWEEN 1 AND 2 AND b  =>  (a BETWEEN 1 AND 2) AND b
        Assert.Equal(Bin(BinaryOperator.And, new BetweenExpr(A, P.Int(1), P.Int(2)), B), P.Expr("a BETWEEN 1 AND 2 AND b"));
        // a = b IN (1)  =>  a = (b IN (1))
        Assert.Equal(Bin(BinaryOperator.Equal, A, new InListExpr(B, new Expr[] { P.Int(1) })), P.Expr("a = b IN (1)"));
    }

    [Fact]
    public void Comparison_operators()
    {
        Assert.Equal(BinaryOperator.Equal, P.Expr<BinaryExpr>("a = b").Operator);
        Assert.Equal(BinaryOperator.NotEqual, P.Expr<BinaryExpr>("a <> b").Operator);
        Assert.Equal(BinaryOperator.NotEqual, P.Expr<BinaryExpr>("a != b").Operator);
        Assert.Equal(BinaryOperator.Less, P.Expr<BinaryExpr>("a < b").Operator);
        Assert.Equal(BinaryOperator.LessOrEqual, P.Expr<BinaryExpr>("a <= b").Operator);
        Assert.Equal(BinaryOperator.Greater, P.Expr<BinaryExpr>("a > b").Operator);
        Assert.Equal(BinaryOperator.GreaterOrEqual, P.Expr<BinaryExpr>("a >= b").Operator);
    }

    [Fact]
    public void Is_predicates()
    {
        Assert.Equal(new IsExpr(A, IsPredicate.Null), P.Expr("a IS NULL"));
        Assert.Equal(new IsExpr(A, IsPredicate.Null, true), P.Expr("a IS NOT NULL"));
        Assert.Equal(new IsExpr(A, IsPredicate.True), P.Expr("a IS TRUE"));
        Assert.Equal(new IsExpr(A, IsPredicate.False, true), P.Expr("a IS NOT FALSE"));
        Assert.Equal(new IsExpr(A, IsPredicate.Unknown), P.Expr("a IS UNKNOWN"));
        Assert.Equal(new IsDistinctFromExpr(A, B), P.Expr("a IS DISTINCT FROM b"));
        Assert.Equal(new IsDistinctFromExpr(A, B, true), P.Expr("a IS NOT DISTINCT FROM b"));
    }

    [Fact]
    public void In_like_between()
    {
        Assert.Equal(new InListExpr(A, new Expr[] { P.Int(1), P.Int(2), P.Int(3) }), P.Expr("a IN (1, 2, 3)"));
        Assert.Equal(new InListExpr(A, new Expr[] { new StringLiteral("x") }, true), P.Expr("a NOT IN ('x')"));
        var sub = P.Expr<InSubqueryExpr>("a IN (SELECT id FROM t)");
        Assert.False(sub.Negated);
        Assert.IsType<SelectQuery>(sub.Query);
        Assert.True(P.Expr<InSubqueryExpr>("a NOT IN (SELECT id FROM t)").Negated);
        Assert.Equal(new LikeExpr(A, new StringLiteral("%x%")), P.Expr("a LIKE '%x%'"));
        Assert.Equal(new LikeExpr(A, new StringLiteral("x!%"), new StringLiteral("!"), true), P.Expr("a NOT LIKE 'x!%' ESCAPE '!'"));
        Assert.Equal(new BetweenExpr(A, P.Int(1), Bin(BinaryOperator.Add, B, P.Int(1))), P.Expr("a BETWEEN 1 AND b + 1"));
        Assert.Equal(new BetweenExpr(A, P.Int(1), P.Int(2), true), P.Expr("a NOT BETWEEN 1 AND 2"));
        Assert.IsType<ExistsExpr>(P.Expr("EXISTS (SELECT 1 FROM t)"));
        Assert.IsType<SubqueryExpr>(P.Expr("(SELECT MAX(x) FROM t)"));
    }

    [Fact]
    public void Case_expressions()
    {
        Assert.Equal(
            new CaseExpr(A, new[] { new WhenClause(P.Int(1), new StringLiteral("one")), new WhenClause(P.Int(2), new StringLiteral("two")) },
                new StringLiteral("many")),
            P.Expr("CASE a WHEN 1 THEN 'one' WHEN 2 THEN 'two' ELSE 'many' END"));
        Assert.Equal(
            new CaseExpr(null, new[] { new WhenClause(Bin(BinaryOperator.Greater, A, P.Int(0)), P.Int(1)) }, null),
            P.Expr("CASE WHEN a > 0 THEN 1 END"));
    }

    [Fact]
    public void Function_calls()
    {
        Assert.Equal(Call("f"), P.Expr("f()"));
        Assert.Equal(Call("f", A, P.Int(1)), P.Expr("f(a, 1)"));
        Assert.Equal(new FunctionCall(P.Name("db", "f"), new Expr[] { A }), P.Expr("db.f(a)"));
        Assert.Equal(new FunctionCall(P.Name("COUNT"), NodeList<Expr>.Empty, Star: true), P.Expr("COUNT(*)"));
        Assert.Equal(new FunctionCall(P.Name("COUNT"), new Expr[] { A }, Distinct: true), P.Expr("COUNT(DISTINCT a)"));
        Assert.Equal(new FunctionCall(P.Name("SUM"), new Expr[] { A }, Filter: Bin(BinaryOperator.Greater, B, P.Int(0))),
            P.Expr("SUM(a) FILTER (WHERE b > 0)"));
        Assert.Equal(new FunctionCall(P.Name("CURRENT_TIMESTAMP"), NodeList<Expr>.Empty), P.Expr("CURRENT_TIMESTAMP"));
        Assert.Equal(Call("LEFT", P.Col("s"), P.Int(3)), P.Expr("LEFT(s, 3)"));
        Assert.Equal(Call("PROCTIME"), P.Expr("PROCTIME()"));
        Assert.Equal(Call("IF", A, B, C), P.Expr("IF(a, b, c)"));
        Assert.Equal("TO_TIMESTAMP", P.Expr<FunctionCall>("to_timestamp(x)").UpperName);
    }

    [Fact]
    public void Special_function_syntax()
    {
        Assert.Equal(new ExtractExpr(TimeUnit.Hour, P.Col("ts")), P.Expr("EXTRACT(HOUR FROM ts)"));
        Assert.Equal(new ExtractExpr(TimeUnit.DayOfWeek, P.Col("ts")), P.Expr("EXTRACT(DOW FROM ts)"));
        Assert.Equal(new TimestampDiffExpr(TimeUnit.Second, A, B), P.Expr("TIMESTAMPDIFF(SECOND, a, b)"));
        Assert.Equal(new TimestampAddExpr(TimeUnit.Day, P.Int(1), A), P.Expr("TIMESTAMPADD(DAY, 1, a)"));
        Assert.Equal(new FloorCeilExpr(false, P.Col("ts"), TimeUnit.Hour), P.Expr("FLOOR(ts TO HOUR)"));
        Assert.Equal(new FloorCeilExpr(true, P.Col("ts"), TimeUnit.Minute), P.Expr("CEIL(ts TO MINUTE)"));
        Assert.Equal(Call("FLOOR", P.Col("x")), P.Expr("FLOOR(x)"));
        Assert.Equal(Call("CEIL", Bin(BinaryOperator.Divide, A, P.Int(2))), P.Expr("CEIL(a / 2)"));
        Assert.Equal(new TrimExpr(TrimMode.Both, null, P.Col("s")), P.Expr("TRIM(s)"));
        Assert.Equal(new TrimExpr(TrimMode.Both, null, P.Col("s")), P.Expr("TRIM(BOTH FROM s)"));
        Assert.Equal(new TrimExpr(TrimMode.Leading, new StringLiteral("x"), P.Col("s")), P.Expr("TRIM(LEADING 'x' FROM s)"));
        Assert.Equal(new TrimExpr(TrimMode.Trailing, null, P.Col("s")), P.Expr("TRIM(TRAILING FROM s)"));
        Assert.Equal(new TrimExpr(TrimMode.Both, new StringLiteral(" "), P.Col("s")), P.Expr("TRIM(' ' FROM s)"));
        Assert.Equal(Call("SUBSTRING", P.Col("s"), P.Int(2), P.Int(3)), P.Expr("SUBSTRING(s FROM 2 FOR 3)"));
        Assert.Equal(Call("SUBSTRING", P.Col("s"), P.Int(2)), P.Expr("SUBSTRING(s FROM 2)"));
        Assert.Equal(Call("SUBSTRING", P.Col("s"), P.Int(2), P.Int(3)), P.Expr("SUBSTRING(s, 2, 3)"));
        Assert.Equal(new PositionExpr(new StringLiteral("x"), P.Col("s")), P.Expr("POSITION('x' IN s)"));
        Assert.Equal(new RowConstructor(new Expr[] { A, P.Int(1) }), P.Expr("ROW(a, 1)"));
        Assert.Equal(new RowConstructor(new Expr[] { A, B }), P.Expr("(a, b)"));
        Assert.Equal(new ArrayConstructor(new Expr[] { P.Int(1), P.Int(2) }), P.Expr("ARRAY[1, 2]"));
        Assert.Equal(new MapConstructor(new Expr[] { new StringLiteral("k"), P.Int(1) }), P.Expr("MAP['k', 1]"));
    }

    [Fact]
    public void Legacy_group_window_functions_are_ordinary_calls()
    {
        var interval = new IntervalLiteral("1", new IntervalQualifier(TimeUnit.Hour));
        Assert.Equal(Call("TUMBLE", P.Col("ts"), interval), P.Expr("TUMBLE(ts, INTERVAL '1' HOUR)"));
        Assert.Equal(Call("TUMBLE_START", P.Col("ts"), interval), P.Expr("TUMBLE_START(ts, INTERVAL '1' HOUR)"));
        Assert.Equal(3, P.Expr<FunctionCall>("HOP(ts, INTERVAL '1' MINUTE, INTERVAL '1' HOUR)").Arguments.Count);
        Assert.Equal("SESSION", P.Expr<FunctionCall>("SESSION(ts, INTERVAL '10' MINUTE)").UpperName);
    }

    [Fact]
    public void Over_windows()
    {
        var f = P.Expr<FunctionCall>(
            "SUM(amount) OVER (PARTITION BY user_id, region ORDER BY ts DESC NULLS LAST ROWS BETWEEN 10 PRECEDING AND CURRENT ROW)");
        var w = f.Over!;
        Assert.Null(w.BaseWindow);
        Assert.Equal([P.Col("user_id"), P.Col("region")], w.PartitionBy);
        Assert.Equal([new OrderItem(P.Col("ts"), true, NullOrdering.Last)], w.OrderBy);
        Assert.Equal(new WindowFrame(FrameUnit.Rows, new FrameBound(FrameBoundKind.Preceding, P.Int(10)), new FrameBound(FrameBoundKind.CurrentRow)), w.Frame);

        var range = P.Expr<FunctionCall>("COUNT(*) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '1' HOUR PRECEDING AND CURRENT ROW)").Over!;
        Assert.Equal(FrameUnit.Range, range.Frame!.Unit);
        Assert.Equal(new FrameBound(FrameBoundKind.Preceding, new IntervalLiteral("1", new IntervalQualifier(TimeUnit.Hour))), range.Frame.Start);

        var unbounded = P.Expr<FunctionCall>("ROW_NUMBER() OVER (PARTITION BY k ORDER BY ts ROWS UNBOUNDED PRECEDING)").Over!;
        Assert.Equal(new WindowFrame(FrameUnit.Rows, new FrameBound(FrameBoundKind.UnboundedPreceding), null), unbounded.Frame);

        var named = P.Expr<FunctionCall>("SUM(x) OVER w").Over!;
        Assert.Equal(P.Id("w"), named.BaseWindow);
        Assert.Empty(named.PartitionBy);
        var empty = P.Expr<FunctionCall>("COUNT(*) OVER ()").Over!;
        Assert.Equal(new WindowSpec(null, NodeList<Expr>.Empty, NodeList<OrderItem>.Empty, null), empty);
    }

    [Fact]
    public void Equality_ignores_positions_and_quoting()
    {
        Assert.Equal(P.Expr("a+b*2"), P.Expr("  a +\n b * 2"));
        Assert.Equal(P.Expr("`a` + b"), P.Expr("a + `b`"));
        Assert.NotEqual(P.Expr("a + b"), P.Expr("b + a"));
        Assert.Equal(P.Expr("a + b").GetHashCode(), P.Expr(" a + b ").GetHashCode());
        // Function names are case-insensitive, column names are not (as in Flink).
        Assert.Equal(P.Expr("upper(a) || count(*)"), P.Expr("UPPER(a) || COUNT(*)"));
        Assert.Equal(P.Expr("upper(a)").GetHashCode(), P.Expr("UPPER(a)").GetHashCode());
        Assert.NotEqual(P.Expr("upper(a)"), P.Expr("UPPER(A)"));
        Assert.NotEqual(P.Expr("f(a)"), P.Expr("f(DISTINCT a)"));
    }

    [Fact]
    public void Spans_cover_the_source_text()
    {
        const string sql = "x + f(a, 'b') * 2";
        var e = P.Expr<BinaryExpr>(sql);
        Assert.Equal(new SourceSpan(0, sql.Length, 1, 1), e.Span);
        var mul = Assert.IsType<BinaryExpr>(e.Right);
        Assert.Equal("f(a, 'b') * 2", sql.Substring(mul.Span.Offset, mul.Span.Length));
        var call = Assert.IsType<FunctionCall>(mul.Left);
        Assert.Equal(new SourceSpan(4, 9, 1, 5), call.Span);
        Assert.Equal(new SourceSpan(9, 3, 1, 10), call.Arguments[1].Span);
        Assert.Equal(new SourceSpan(4, 1, 1, 5), call.Name.Span);
    }
}
