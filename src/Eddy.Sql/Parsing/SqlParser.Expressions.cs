namespace Eddy.Sql.Parsing;

// Expressions by precedence climbing, calls and their arguments, OVER windows, intervals and time units.
public sealed partial class SqlParser
{
    // ------------------------------------------------------------------------------------------------------------
    // Expressions
    // ------------------------------------------------------------------------------------------------------------

    private Expr Expression() => Binary(0);

    private Expr Binary(int minPrec)
    {
        Enter();
        try
        {
            return BinaryCore(minPrec);
        }
        finally
        {
            depth--;
        }
    }

    private void Enter()
    {
        if (++depth > MaxNesting || !System.Runtime.CompilerServices.RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new SqlParseException($"expressions or queries are nested more than {MaxNesting} levels deep", Cur.Span, text, fileName);
        }
    }

    private Expr BinaryCore(int minPrec)
    {
        int start = p;
        var left = Prefix();
        while (true)
        {
            var t = Cur;
            if (t.Kind == TokenKind.Symbol)
            {
                BinaryOperator op;
                int prec;
                switch (t.Text)
                {
                    case "=": op = BinaryOperator.Equal; prec = PrecComparison; break;
                    case "<>" or "!=": op = BinaryOperator.NotEqual; prec = PrecComparison; break;
                    case "<": op = BinaryOperator.Less; prec = PrecComparison; break;
                    case "<=": op = BinaryOperator.LessOrEqual; prec = PrecComparison; break;
                    case ">": op = BinaryOperator.Greater; prec = PrecComparison; break;
                    case ">=": op = BinaryOperator.GreaterOrEqual; prec = PrecComparison; break;
                    case "+": op = BinaryOperator.Add; prec = PrecAdditive; break;
                    case "-": op = BinaryOperator.Subtract; prec = PrecAdditive; break;
                    case "*": op = BinaryOperator.Multiply; prec = PrecMultiplicative; break;
                    case "/": op = BinaryOperator.Divide; prec = PrecMultiplicative; break;
                    case "%": op = BinaryOperator.Modulo; prec = PrecMultiplicative; break;
                    case "||": op = BinaryOperator.Concat; prec = PrecMultiplicative; break;
                    default: return left;
                }
                if (prec < minPrec) return left;
                Advance();
                var right = Binary(prec + 1);
                left = new BinaryExpr(op, left, right) { Span = S(start) };
                continue;
            }
            if (t.Kind != TokenKind.Word) return left;
            switch (t.Keyword)
            {
                case Keyword.OR:
                    if (PrecOr < minPrec) return left;
                    Advance();
                    left = new BinaryExpr(BinaryOperator.Or, left, Binary(PrecOr + 1)) { Span = S(start) };
                    continue;
                case Keyword.AND:
                    if (PrecAnd < minPrec) return left;
                    Advance();
                    left = new BinaryExpr(BinaryOperator.And, left, Binary(PrecAnd + 1)) { Span = S(start) };
                    continue;
                case Keyword.IS:
                    if (PrecIs < minPrec) return left;
                    left = IsSuffix(left, start);
                    continue;
                case Keyword.NOT:
                {
                    var next = PeekAt(1);
                    if (!(next.Is(Keyword.IN) || next.Is(Keyword.LIKE) || next.Is(Keyword.BETWEEN) || next.Is(Keyword.SIMILAR))) return left;
                    if (PrecIn < minPrec) return left;
                    Advance();
                    left = InLikeBetween(left, start, negated: true);
                    continue;
                }
                case Keyword.IN or Keyword.LIKE or Keyword.BETWEEN or Keyword.SIMILAR:
                    if (PrecIn < minPrec) return left;
                    left = InLikeBetween(left, start, negated: false);
                    continue;
                case Keyword.None when left is RowConstructor { Fields.Count: 2 } period && t.Text.Equals("OVERLAPS", StringComparison.OrdinalIgnoreCase):
                {
                    if (PrecComparison < minPrec) return left;
                    Advance();
                    var right = Binary(PrecComparison + 1);
                    if (right is not RowConstructor { Fields.Count: 2 } other)
                        throw new SqlParseException("OVERLAPS compares two periods written (start, end) or (start, interval)", right.Span, text, fileName);
                    left = new OverlapsExpr(period, other) { Span = S(start) };
                    continue;
                }
                default:
                    return left;
            }
        }
    }

    private Expr IsSuffix(Expr left, int start)
    {
        Expect(Keyword.IS);
        bool negated = Accept(Keyword.NOT);
        IsPredicate pred;
        if (Accept(Keyword.NULL)) pred = IsPredicate.Null;
        else if (Accept(Keyword.TRUE)) pred = IsPredicate.True;
        else if (Accept(Keyword.FALSE)) pred = IsPredicate.False;
        else if (Accept(Keyword.UNKNOWN)) pred = IsPredicate.Unknown;
        else if (Accept(Keyword.JSON))
        {
            JsonType? type = null;
            if (Cur.Kind == TokenKind.Word)
            {
                switch (Cur.Text.ToUpperInvariant())
                {
                    case "VALUE": type = JsonType.Value; break;
                    case "SCALAR": type = JsonType.Scalar; break;
                    case "ARRAY": type = JsonType.Array; break;
                    case "OBJECT": type = JsonType.Object; break;
                }
                if (type is not null) Advance();
            }
            return new IsJsonExpr(left, type, negated) { Span = S(start) };
        }
        else if (Accept(Keyword.DISTINCT))
        {
            Expect(Keyword.FROM);
            var right = Binary(PrecComparison);
            return new IsDistinctFromExpr(left, right, negated) { Span = S(start) };
        }
        else throw Fail("NULL, TRUE, FALSE, UNKNOWN, JSON or DISTINCT FROM", ["NULL", "TRUE", "FALSE", "UNKNOWN", "JSON", "DISTINCT"]);
        return new IsExpr(left, pred, negated) { Span = S(start) };
    }

    private Expr InLikeBetween(Expr left, int start, bool negated)
    {
        if (Accept(Keyword.IN))
        {
            ExpectSymbol("(");
            if (IsQueryStart(Cur))
            {
                var q = Query();
                ExpectSymbol(")");
                return new InSubqueryExpr(left, q, negated) { Span = S(start) };
            }
            var values = new List<Expr>();
            do
            {
                values.Add(Expression());
            }
            while (AcceptSymbol(","));
            ExpectSymbol(")");
            return new InListExpr(left, values, negated) { Span = S(start) };
        }
        bool similar = false;
        if (Accept(Keyword.SIMILAR))
        {
            Expect(Keyword.TO);
            similar = true;
        }
        if (similar || Accept(Keyword.LIKE))
        {
            var pattern = Binary(PrecAdditive);
            Expr? escape = null;
            if (Accept(Keyword.ESCAPE)) escape = Binary(PrecAdditive);
            return new LikeExpr(left, pattern, escape, negated, similar) { Span = S(start) };
        }
        Expect(Keyword.BETWEEN);
        // ASYMMETRIC (the default) and SYMMETRIC are words, not reserved keywords.
        bool symmetric = false;
        if (Cur.Kind == TokenKind.Word && Cur.Keyword == Keyword.None
            && (Cur.Text.Equals("SYMMETRIC", StringComparison.OrdinalIgnoreCase) || Cur.Text.Equals("ASYMMETRIC", StringComparison.OrdinalIgnoreCase)))
        {
            symmetric = Advance().Text.Equals("SYMMETRIC", StringComparison.OrdinalIgnoreCase);
        }
        var low = Binary(PrecAdditive);
        Expect(Keyword.AND);
        var high = Binary(PrecAdditive);
        return new BetweenExpr(left, low, high, negated, symmetric) { Span = S(start) };
    }

    private Expr Prefix()
    {
        int start = p;
        var t = Cur;
        if (t.Is(Keyword.NOT))
        {
            Advance();
            var operand = Binary(PrecIs);
            return new UnaryExpr(UnaryOperator.Not, operand) { Span = S(start) };
        }
        if (t.IsSymbol("-") || t.IsSymbol("+"))
        {
            Advance();
            Enter();
            Expr operand;
            try
            {
                operand = Prefix();
            }
            finally
            {
                depth--;
            }
            return new UnaryExpr(t.Text == "-" ? UnaryOperator.Negate : UnaryOperator.Plus, operand) { Span = S(start) };
        }
        return Postfix(Primary(), start);
    }

    private Expr Postfix(Expr e, int start)
    {
        while (true)
        {
            if (IsSymbol("["))
            {
                Advance();
                var index = Expression();
                ExpectSymbol("]");
                e = new Subscript(e, index) { Span = S(start) };
            }
            else if (IsSymbol(".") && (PeekAt(1).Kind is TokenKind.Word or TokenKind.QuotedIdentifier))
            {
                Advance();
                var f = Advance();
                e = new FieldAccess(e, new Identifier(f.Text) { Span = f.Span }) { Span = S(start) };
            }
            else
            {
                return e;
            }
        }
    }

    private Expr Primary()
    {
        int start = p;
        var t = Cur;
        switch (t.Kind)
        {
            case TokenKind.Integer:
                Advance();
                return new NumericLiteral(t.Text, NumericKind.Integer) { Span = t.Span };
            case TokenKind.Decimal:
                Advance();
                return new NumericLiteral(t.Text, NumericKind.Decimal) { Span = t.Span };
            case TokenKind.Approximate:
                Advance();
                return new NumericLiteral(t.Text, NumericKind.Approximate) { Span = t.Span };
            case TokenKind.String:
                Advance();
                return new StringLiteral(t.Text) { Span = t.Span };
            case TokenKind.QuotedIdentifier:
                return NameOrCall();
            case TokenKind.Symbol:
                if (t.Text == "(")
                {
                    Advance();
                    if (IsQueryStart(Cur))
                    {
                        var q = Query();
                        ExpectSymbol(")");
                        return new SubqueryExpr(q) { Span = S(start) };
                    }
                    if (AcceptSymbol(")")) return new RowConstructor(NodeList<Expr>.Empty) { Span = S(start) };
                    var first = Expression();
                    if (IsSymbol(","))
                    {
                        var fields = new List<Expr> { first };
                        while (AcceptSymbol(",")) fields.Add(Expression());
                        ExpectSymbol(")");
                        return new RowConstructor(fields) { Span = S(start) };
                    }
                    ExpectSymbol(")");
                    return first;
                }
                throw Fail("an expression");
            case TokenKind.Word:
                return WordPrimary(start, t);
            default:
                throw Fail("an expression");
        }
    }

    private Expr WordPrimary(int start, Token t)
    {
        var next = PeekAt(1);
        switch (t.Keyword)
        {
            case Keyword.TRUE:
                Advance();
                return new BooleanLiteral(true) { Span = t.Span };
            case Keyword.FALSE:
                Advance();
                return new BooleanLiteral(false) { Span = t.Span };
            case Keyword.NULL:
                Advance();
                return new NullLiteral { Span = t.Span };
            case Keyword.INTERVAL:
                return Interval();
            case Keyword.DATE when next.Kind == TokenKind.String:
                Advance();
                return new TypedLiteral(TypedLiteralKind.Date, Advance().Text) { Span = S(start) };
            case Keyword.TIME when next.Kind == TokenKind.String:
                Advance();
                return new TypedLiteral(TypedLiteralKind.Time, Advance().Text) { Span = S(start) };
            case Keyword.TIMESTAMP when next.Kind == TokenKind.String:
                Advance();
                return new TypedLiteral(TypedLiteralKind.Timestamp, Advance().Text) { Span = S(start) };
            case Keyword.TIMESTAMP_LTZ when next.Kind == TokenKind.String:
                Advance();
                return new TypedLiteral(TypedLiteralKind.TimestampLtz, Advance().Text) { Span = S(start) };
            case Keyword.CASE:
                return Case();
            case Keyword.CAST or Keyword.TRY_CAST:
            {
                Advance();
                ExpectSymbol("(");
                var operand = Expression();
                Expect(Keyword.AS);
                var type = DataTypeSpec();
                ExpectSymbol(")");
                return new CastExpr(operand, type, t.Keyword == Keyword.TRY_CAST) { Span = S(start) };
            }
            case Keyword.EXTRACT when next.IsSymbol("("):
            {
                Advance();
                Advance();
                var unit = TimeUnitRule();
                Expect(Keyword.FROM);
                var source = Expression();
                ExpectSymbol(")");
                return new ExtractExpr(unit, source) { Span = S(start) };
            }
            case Keyword.FLOOR or Keyword.CEIL or Keyword.CEILING when next.IsSymbol("("):
            {
                Advance();
                Advance();
                var operand = Expression();
                if (Accept(Keyword.TO))
                {
                    var unit = TimeUnitRule();
                    ExpectSymbol(")");
                    return new FloorCeilExpr(t.Keyword != Keyword.FLOOR, operand, unit) { Span = S(start) };
                }
                p = start; // no TO: re-read as an ordinary call, FLOOR(x)
                return NameOrCall();
            }
            case Keyword.TIMESTAMPDIFF or Keyword.TIMESTAMPADD when next.IsSymbol("("):
            {
                Advance();
                Advance();
                var unit = TimeUnitRule();
                ExpectSymbol(",");
                var a = Expression();
                ExpectSymbol(",");
                var b = Expression();
                ExpectSymbol(")");
                return t.Keyword == Keyword.TIMESTAMPDIFF
                    ? new TimestampDiffExpr(unit, a, b) { Span = S(start) }
                    : new TimestampAddExpr(unit, a, b) { Span = S(start) };
            }
            case Keyword.TRIM when next.IsSymbol("("):
                return Trim();
            case Keyword.SUBSTRING when next.IsSymbol("("):
                return Substring();
            case Keyword.OVERLAY when next.IsSymbol("("):
            {
                Advance();
                Advance();
                var args = new List<Expr> { Expression() };
                if (Accept(Keyword.PLACING))
                {
                    args.Add(Expression());
                    Expect(Keyword.FROM);
                    args.Add(Expression());
                    if (Accept(Keyword.FOR)) args.Add(Expression());
                }
                else
                {
                    while (AcceptSymbol(",")) args.Add(Expression());
                }
                ExpectSymbol(")");
                var name = new ObjectName(new[] { new Identifier(t.Text) { Span = t.Span } }) { Span = t.Span };
                return new FunctionCall(name, args) { Span = S(start) };
            }
            case Keyword.JSON_QUERY when next.IsSymbol("("):
                return JsonQuery();
            case Keyword.JSON_EXISTS when next.IsSymbol("("):
                return JsonExists();
            case Keyword.JSON_OBJECT when next.IsSymbol("("):
                return JsonObject();
            case Keyword.JSON_ARRAY when next.IsSymbol("("):
                return JsonArray();
            case Keyword.JSON_VALUE when next.IsSymbol("("):
                return JsonValue();
            case Keyword.POSITION when next.IsSymbol("("):
            {
                Advance();
                Advance();
                var needle = Binary(PrecAdditive);
                Expect(Keyword.IN);
                var haystack = Expression();
                ExpectSymbol(")");
                return new PositionExpr(needle, haystack) { Span = S(start) };
            }
            case Keyword.EXISTS:
            {
                Advance();
                ExpectSymbol("(");
                var q = Query();
                ExpectSymbol(")");
                return new ExistsExpr(q) { Span = S(start) };
            }
            case Keyword.ROW when next.IsSymbol("("):
            {
                Advance();
                Advance();
                var fields = new List<Expr>();
                if (!IsSymbol(")"))
                {
                    do
                    {
                        fields.Add(Expression());
                    }
                    while (AcceptSymbol(","));
                }
                ExpectSymbol(")");
                return new RowConstructor(fields) { Span = S(start) };
            }
            case Keyword.ARRAY or Keyword.MAP when next.IsSymbol("["):
            {
                Advance();
                Advance();
                var items = new List<Expr>();
                if (!IsSymbol("]"))
                {
                    do
                    {
                        items.Add(Expression());
                    }
                    while (AcceptSymbol(","));
                }
                ExpectSymbol("]");
                if (t.Keyword == Keyword.ARRAY) return new ArrayConstructor(items) { Span = S(start) };
                if (items.Count % 2 != 0)
                    throw new SqlParseException("MAP[...] needs an even number of elements (key, value, ...)", S(start), text, fileName);
                return new MapConstructor(items) { Span = S(start) };
            }
            case Keyword.CURRENT_DATE or Keyword.CURRENT_TIME or Keyword.CURRENT_TIMESTAMP or Keyword.LOCALTIME or Keyword.LOCALTIMESTAMP:
            {
                Advance();
                var name = new ObjectName(new[] { new Identifier(t.Text) { Span = t.Span } }) { Span = t.Span };
                return new FunctionCall(name, NodeList<Expr>.Empty) { Span = t.Span };
            }
            case Keyword.LEFT or Keyword.RIGHT when next.IsSymbol("("):
                return NameOrCall();
        }
        if (Keywords.IsReserved(t.Keyword)) throw Fail("an expression", ClauseKeywords);
        return NameOrCall();
    }

    /// <summary>A dotted name, or a function call when followed by '('.</summary>
    private Expr NameOrCall()
    {
        int start = p;
        var first = Advance();
        var parts = new List<Identifier> { new(first.Text) { Span = first.Span } };
        while (IsSymbol(".") && IsIdentifierToken(PeekAt(1)))
        {
            Advance();
            var t = Advance();
            parts.Add(new Identifier(t.Text) { Span = t.Span });
        }
        if (!IsSymbol("(")) return new ColumnRef(parts) { Span = S(start) };
        var name = new ObjectName(parts) { Span = S(start) };
        return CallRest(name, start);
    }

    private FunctionCall CallRest(ObjectName name, int start)
    {
        ExpectSymbol("(");
        var args = new List<Expr>();
        bool distinct = false, star = false;
        var nulls = NullTreatment.None;
        string upper = name.Parts.Count == 1 ? name.Parts[0].Value.ToUpperInvariant() : "";
        if (IsSymbol("*"))
        {
            Advance();
            star = true;
        }
        else if (upper == "JSON_OBJECTAGG")
        {
            // JSON_OBJECTAGG([KEY] k VALUE v [NULL|ABSENT ON NULL]): KEY is optional, and "key" may be a column name.
            if (Is(Keyword.KEY) && (!IsWordText(PeekAt(1), "VALUE") || IsWordText(PeekAt(2), "VALUE"))) Advance();
            args.Add(Binary(PrecAdditive));
            ExpectWord("VALUE");
            args.Add(Expression());
            if (TryOnNull(out bool absent)) nulls = absent ? NullTreatment.AbsentOnNull : NullTreatment.NullOnNull;
        }
        else if (!IsSymbol(")"))
        {
            if (Accept(Keyword.DISTINCT)) distinct = true;
            else Accept(Keyword.ALL);
            do
            {
                args.Add(Argument());
            }
            while (AcceptSymbol(","));
            if (upper == "ARRAY_AGG" && (IsWordText(Cur, "RESPECT") || IsWordText(Cur, "IGNORE")) && IsWordText(PeekAt(1), "NULLS"))
            {
                nulls = IsWordText(Cur, "IGNORE") ? NullTreatment.IgnoreNulls : NullTreatment.RespectNulls;
                Advance();
                Advance();
            }
            else if (upper == "JSON_ARRAYAGG" && TryOnNull(out bool absent))
            {
                nulls = absent ? NullTreatment.AbsentOnNull : NullTreatment.NullOnNull;
            }
        }
        ExpectSymbol(")");
        Expr? filter = null;
        if (Is(Keyword.FILTER) && PeekAt(1).IsSymbol("("))
        {
            Advance();
            Advance();
            Expect(Keyword.WHERE);
            filter = Expression();
            ExpectSymbol(")");
        }
        WindowSpec? over = null;
        if (Accept(Keyword.OVER))
        {
            if (IsSymbol("("))
            {
                over = WindowSpecification();
            }
            else
            {
                int wStart = p;
                var wName = IdentifierRule("a window name or '('");
                over = new WindowSpec(wName, NodeList<Expr>.Empty, NodeList<OrderItem>.Empty, null) { Span = S(wStart) };
            }
        }
        return new FunctionCall(name, args, distinct, star, filter, over) { Span = S(start), Nulls = nulls };
    }

    private Expr Argument()
    {
        int start = p;
        if ((Cur.Kind is TokenKind.Word or TokenKind.QuotedIdentifier) && PeekAt(1).IsSymbol("=>"))
        {
            var nameTok = Advance();
            Advance();
            var value = ArgumentValue();
            return new NamedArgument(new Identifier(nameTok.Text) { Span = nameTok.Span }, value) { Span = S(start) };
        }
        return ArgumentValue();
    }

    private Expr ArgumentValue()
    {
        int start = p;
        if (Is(Keyword.TABLE))
        {
            Advance();
            ObjectName? table = null;
            QueryExpr? query = null;
            if (IsSymbol("("))
            {
                Advance();
                query = Query();
                ExpectSymbol(")");
            }
            else
            {
                table = ObjectNameRule("a table name");
            }
            var partitionBy = NodeList<Expr>.Empty;
            var orderBy = NodeList<OrderItem>.Empty;
            if (Accept(Keyword.PARTITION))
            {
                Expect(Keyword.BY);
                partitionBy = PartitionByList();
            }
            if (Accept(Keyword.ORDER))
            {
                Expect(Keyword.BY);
                orderBy = OrderItems();
            }
            return new TableArgument(table, query, partitionBy, orderBy) { Span = S(start) };
        }
        if (Is(Keyword.DESCRIPTOR) && PeekAt(1).IsSymbol("("))
        {
            Advance();
            var cols = ParenIdentifierList("a column name");
            return new DescriptorExpr(cols) { Span = S(start) };
        }
        return Expression();
    }

    /// <summary>
    /// The PARTITION BY list of a table argument. It ends where the next table-function argument starts, as in
    /// <c>SESSION(TABLE t PARTITION BY a, b, DESCRIPTOR(ts), INTERVAL '5' MINUTE)</c>. <c>(a, b)</c> is unpacked.
    /// </summary>
    private NodeList<Expr> PartitionByList()
    {
        var list = new List<Expr>();
        var first = Expression();
        if (first is RowConstructor row && row.Fields.Count > 0 && IsParenRow(first))
            list.AddRange(row.Fields);
        else
            list.Add(first);
        while (IsSymbol(","))
        {
            var next = PeekAt(1);
            if (next.Is(Keyword.DESCRIPTOR) || next.Is(Keyword.TABLE) || next.Is(Keyword.INTERVAL) || PeekAt(2).IsSymbol("=>")
                || next.Kind is TokenKind.Integer or TokenKind.String)
                break;
            Advance();
            list.Add(Expression());
        }
        return list;
    }

    private bool IsParenRow(Expr e) => e.Span.Length > 0 && text[e.Span.Offset] == '(';

    private WindowSpec WindowSpecification()
    {
        int start = p;
        ExpectSymbol("(");
        Identifier? baseWindow = null;
        if (IsIdentifierToken(Cur) && !Is(Keyword.PARTITION) && !Is(Keyword.ORDER) && !Is(Keyword.ROWS) && !Is(Keyword.RANGE))
            baseWindow = IdentifierRule("a window name");
        var partitionBy = NodeList<Expr>.Empty;
        var orderBy = NodeList<OrderItem>.Empty;
        WindowFrame? frame = null;
        if (Accept(Keyword.PARTITION))
        {
            Expect(Keyword.BY);
            var list = new List<Expr>();
            do
            {
                list.Add(Expression());
            }
            while (AcceptSymbol(","));
            partitionBy = list;
        }
        if (Accept(Keyword.ORDER))
        {
            Expect(Keyword.BY);
            orderBy = OrderItems();
        }
        if (Is(Keyword.ROWS) || Is(Keyword.RANGE))
        {
            int fStart = p;
            var unit = Advance().Keyword == Keyword.ROWS ? FrameUnit.Rows : FrameUnit.Range;
            FrameBound lo;
            FrameBound? hi = null;
            if (Accept(Keyword.BETWEEN))
            {
                lo = Bound();
                Expect(Keyword.AND);
                hi = Bound();
            }
            else
            {
                lo = Bound();
            }
            frame = new WindowFrame(unit, lo, hi) { Span = S(fStart) };
        }
        if (!IsSymbol(")")) throw Fail("')'", ["PARTITION", "ORDER", "ROWS", "RANGE"]);
        Advance();
        return new WindowSpec(baseWindow, partitionBy, orderBy, frame) { Span = S(start) };
    }

    private FrameBound Bound()
    {
        int start = p;
        if (Accept(Keyword.UNBOUNDED))
        {
            if (Accept(Keyword.PRECEDING)) return new FrameBound(FrameBoundKind.UnboundedPreceding) { Span = S(start) };
            if (Accept(Keyword.FOLLOWING)) return new FrameBound(FrameBoundKind.UnboundedFollowing) { Span = S(start) };
            throw Fail("PRECEDING or FOLLOWING", ["PRECEDING", "FOLLOWING"]);
        }
        if (Accept(Keyword.CURRENT))
        {
            Expect(Keyword.ROW);
            return new FrameBound(FrameBoundKind.CurrentRow) { Span = S(start) };
        }
        var offset = Binary(PrecAdditive);
        if (Accept(Keyword.PRECEDING)) return new FrameBound(FrameBoundKind.Preceding, offset) { Span = S(start) };
        if (Accept(Keyword.FOLLOWING)) return new FrameBound(FrameBoundKind.Following, offset) { Span = S(start) };
        throw Fail("PRECEDING or FOLLOWING", ["PRECEDING", "FOLLOWING"]);
    }

    private Expr Interval()
    {
        int start = p;
        Expect(Keyword.INTERVAL);
        string value;
        if (Cur.Kind == TokenKind.String || Cur.Kind == TokenKind.Integer || Cur.Kind == TokenKind.Decimal)
        {
            value = Advance().Text;
        }
        else if (IsSymbol("-") && PeekAt(1).Kind is TokenKind.String or TokenKind.Integer)
        {
            Advance();
            value = "-" + Advance().Text;
        }
        else
        {
            throw Fail("an interval value string such as '5'");
        }
        int qStart = p;
        var unit = TimeUnitRule();
        TimeUnit? end = null;
        // Only a valid range (MINUTE TO SECOND, DAY TO HOUR, ...) is read as part of the literal, so that
        // FLOOR(INTERVAL '5' MINUTE TO DAY) still means FLOOR(... TO DAY).
        if (Is(Keyword.TO) && PeekAt(1).Kind == TokenKind.Word && TryTimeUnit(PeekAt(1).Text, out var endUnit) && IsIntervalRange(unit, endUnit))
        {
            Advance();
            Advance();
            end = endUnit;
        }
        var qualifier = new IntervalQualifier(unit, end) { Span = S(qStart) };
        return new IntervalLiteral(value, qualifier) { Span = S(start) };
    }

    private TimeUnit TimeUnitRule()
    {
        if (Cur.Kind == TokenKind.Word && TryTimeUnit(Cur.Text, out var unit))
        {
            Advance();
            return unit;
        }
        throw Fail("a time unit (SECOND, MINUTE, HOUR, DAY, ...)",
            ["YEAR", "QUARTER", "MONTH", "WEEK", "DAY", "HOUR", "MINUTE", "SECOND", "MILLISECOND", "MICROSECOND", "NANOSECOND"]);
    }

    private static bool IsIntervalRange(TimeUnit start, TimeUnit end) => (start, end) switch
    {
        (TimeUnit.Year, TimeUnit.Month) => true,
        (TimeUnit.Day, TimeUnit.Hour or TimeUnit.Minute or TimeUnit.Second) => true,
        (TimeUnit.Hour, TimeUnit.Minute or TimeUnit.Second) => true,
        (TimeUnit.Minute, TimeUnit.Second) => true,
        _ => false,
    };

    internal static bool TryTimeUnit(string word, out TimeUnit unit)
    {
        switch (word.ToUpperInvariant())
        {
            case "YEAR" or "YEARS": unit = TimeUnit.Year; return true;
            case "QUARTER" or "QUARTERS": unit = TimeUnit.Quarter; return true;
            case "MONTH" or "MONTHS": unit = TimeUnit.Month; return true;
            case "WEEK" or "WEEKS": unit = TimeUnit.Week; return true;
            case "DAY" or "DAYS": unit = TimeUnit.Day; return true;
            case "HOUR" or "HOURS": unit = TimeUnit.Hour; return true;
            case "MINUTE" or "MINUTES": unit = TimeUnit.Minute; return true;
            case "SECOND" or "SECONDS": unit = TimeUnit.Second; return true;
            case "MILLISECOND" or "MILLISECONDS": unit = TimeUnit.Millisecond; return true;
            case "MICROSECOND" or "MICROSECONDS": unit = TimeUnit.Microsecond; return true;
            case "NANOSECOND" or "NANOSECONDS": unit = TimeUnit.Nanosecond; return true;
            case "DOW": unit = TimeUnit.DayOfWeek; return true;
            case "DOY": unit = TimeUnit.DayOfYear; return true;
            case "EPOCH": unit = TimeUnit.Epoch; return true;
            case "DECADE": unit = TimeUnit.Decade; return true;
            case "CENTURY": unit = TimeUnit.Century; return true;
            case "MILLENNIUM": unit = TimeUnit.Millennium; return true;
            default: unit = default; return false;
        }
    }
}
