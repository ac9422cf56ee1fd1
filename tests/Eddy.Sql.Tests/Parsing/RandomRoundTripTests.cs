using Eddy.Sql.Parsing;

namespace Eddy.Sql.Tests.Parsing;

/// <summary>Random expression and query trees: print, parse, compare. Exercises the printer's parenthesisation.</summary>
public class RandomRoundTripTests
{
    private sealed class Gen(int seed)
    {
        private readonly Random rnd = new(seed);

        private T Pick<T>(params T[] items) => items[rnd.Next(items.Length)];

        private static readonly string[] Names = ["a", "b", "c", "my col", "select", "date", "row", "array", "map", "value", "t"];

        public Expr Expr(int depth)
        {
            if (depth <= 0 || rnd.Next(5) == 0) return Leaf();
            int d = depth - 1;
            switch (rnd.Next(26))
            {
                case 22: return new IsJsonExpr(Expr(d), rnd.Next(2) == 0 ? null : Pick(Enum.GetValues<JsonType>()), rnd.Next(2) == 0);
                case 23: return new JsonObjectExpr(new[] { new JsonKeyValue(Expr(d), Expr(d)) }, rnd.Next(2) == 0);
                case 24: return new JsonArrayExpr(new[] { Expr(d), Expr(d) }, rnd.Next(2) == 0);
                case 25:
                    return new JsonValueExpr(Expr(d), Expr(d), rnd.Next(2) == 0 ? null : new TypeSpec(DataType.Int),
                        rnd.Next(2) == 0 ? null : new JsonBehavior(JsonBehaviorKind.Default, Expr(d)), rnd.Next(2) == 0 ? null : new JsonBehavior(JsonBehaviorKind.Null));
                case 0 or 1 or 2 or 3:
                    return new BinaryExpr(Pick(Enum.GetValues<BinaryOperator>()), Expr(d), Expr(d));
                case 4: return new UnaryExpr(Pick(Enum.GetValues<UnaryOperator>()), Expr(d));
                case 5: return new IsExpr(Expr(d), Pick(Enum.GetValues<IsPredicate>()), rnd.Next(2) == 0);
                case 6: return new IsDistinctFromExpr(Expr(d), Expr(d), rnd.Next(2) == 0);
                case 7: return new InListExpr(Expr(d), new[] { Expr(d), Expr(d) }, rnd.Next(2) == 0);
                case 8: return new LikeExpr(Expr(d), Expr(d), rnd.Next(2) == 0 ? null : Expr(d), rnd.Next(2) == 0);
                case 9: return new BetweenExpr(Expr(d), Expr(d), Expr(d), rnd.Next(2) == 0);
                case 10:
                    return new CaseExpr(rnd.Next(2) == 0 ? null : Expr(d), new[] { new WhenClause(Expr(d), Expr(d)) }, rnd.Next(2) == 0 ? null : Expr(d));
                case 11:
                    return new CastExpr(Expr(d), new TypeSpec(Pick(DataType.Int, DataType.String.NotNull(), DataType.Decimal(5, 2),
                        DataType.ArrayOf(DataType.BigInt), DataType.RowOf(new Column("x", DataType.Double)))), rnd.Next(2) == 0);
                case 12:
                    return new FunctionCall(new ObjectName(new[] { new Identifier(Pick("f", "COUNT", "db", "LEFT")) }),
                        new[] { Expr(d), Expr(d) }, Distinct: rnd.Next(4) == 0, Filter: rnd.Next(4) == 0 ? Expr(d) : null);
                case 13: return new Subscript(Expr(d), Expr(d));
                case 14: return new FieldAccess(Expr(d), new Identifier(Pick(Names)));
                case 15: return new ExtractExpr(Pick(TimeUnit.Hour, TimeUnit.DayOfWeek), Expr(d));
                case 16: return new PositionExpr(Expr(d), Expr(d));
                case 17: return new TrimExpr(Pick(Enum.GetValues<TrimMode>()), rnd.Next(2) == 0 ? null : Expr(d), Expr(d));
                case 18: return new RowConstructor(new[] { Expr(d), Expr(d) });
                case 19: return new InSubqueryExpr(Expr(d), Query(1), rnd.Next(2) == 0);
                case 20: return new FloorCeilExpr(rnd.Next(2) == 0, Expr(d), TimeUnit.Day);
                default: return new SubqueryExpr(Query(1));
            }
        }

        private Expr Leaf() => rnd.Next(9) switch
        {
            0 => new NumericLiteral(Pick("0", "1", "42"), NumericKind.Integer),
            1 => new NumericLiteral(Pick("1.5", ".25"), NumericKind.Decimal),
            2 => new StringLiteral(Pick("", "x", "it's", "${ENV}")),
            3 => new BooleanLiteral(rnd.Next(2) == 0),
            4 => new NullLiteral(),
            5 => new IntervalLiteral("5", new IntervalQualifier(TimeUnit.Minute)),
            6 => new ColumnRef(new[] { new Identifier(Pick(Names)), new Identifier(Pick(Names)) }),
            7 => new TypedLiteral(TypedLiteralKind.Timestamp, "2024-01-01 00:00:00"),
            _ => new ColumnRef(new[] { new Identifier(Pick(Names)) }),
        };

        public QueryExpr Query(int depth)
        {
            if (depth <= 0 || rnd.Next(3) > 0)
            {
                var from = new NamedTableRef(new ObjectName(new[] { new Identifier(Pick(Names)) }), null, NodeList<Identifier>.Empty, null, NodeList<SqlHint>.Empty);
                return new SelectQuery(rnd.Next(3) == 0, new SelectItem[] { new SelectExpr(Expr(1), rnd.Next(2) == 0 ? new Identifier(Pick(Names)) : null) },
                    from, rnd.Next(2) == 0 ? Expr(1) : null, NodeList<Expr>.Empty, null, NodeList<NamedWindow>.Empty, NodeList<SqlHint>.Empty);
            }
            return rnd.Next(3) switch
            {
                0 => new SetOperation(Pick(Enum.GetValues<SetOperator>()), rnd.Next(2) == 0, Query(depth - 1), Query(depth - 1)),
                1 => new Query(NodeList<CommonTableExpression>.Empty, Query(depth - 1),
                    new[] { new OrderItem(Expr(0), rnd.Next(2) == 0) }, new NumericLiteral("3", NumericKind.Integer)),
                _ => new ValuesQuery(new NodeList<Expr>[] { new[] { Expr(1) } }),
            };
        }
    }

    [Fact]
    public void Random_expressions_round_trip()
    {
        for (int seed = 0; seed < 5000; seed++)
        {
            var expr = new Gen(seed).Expr(4);
            string printed = expr.ToSql();
            Expr reparsed;
            try
            {
                reparsed = SqlParser.ParseExpression(printed);
            }
            catch (SqlParseException e)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}: printed expression does not parse:\n{printed}\n{e.Message}\n{expr}");
            }
            if (!expr.Equals(reparsed))
                throw new Xunit.Sdk.XunitException($"seed {seed}: round trip changed the tree:\n{printed}\nexpected {expr}\nactual   {reparsed}");
        }
    }

    [Fact]
    public void Random_queries_round_trip()
    {
        for (int seed = 0; seed < 1000; seed++)
        {
            var query = new Gen(seed).Query(4);
            string printed = query.ToSql();
            QueryExpr reparsed;
            try
            {
                reparsed = SqlParser.ParseQuery(printed);
            }
            catch (SqlParseException e)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}: printed query does not parse:\n{printed}\n{e.Message}");
            }
            if (!query.Equals(reparsed))
                throw new Xunit.Sdk.XunitException($"seed {seed}: round trip changed the tree:\n{printed}\n--- reprinted ---\n{reparsed.ToSql()}");
        }
    }
}
