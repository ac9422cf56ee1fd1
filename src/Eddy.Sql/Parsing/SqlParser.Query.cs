namespace Eddy.Sql.Parsing;

// Queries: set operations, VALUES, SELECT (hints, GROUP BY, select items, ORDER BY) and the FROM clause (joins, table functions).
public sealed partial class SqlParser
{
    // ------------------------------------------------------------------------------------------------------------
    // Queries
    // ------------------------------------------------------------------------------------------------------------

    private QueryExpr Query()
    {
        Enter();
        try
        {
            return QueryCore();
        }
        finally
        {
            depth--;
        }
    }

    private QueryExpr QueryCore()
    {
        int start = p;
        var ctes = new List<CommonTableExpression>();
        if (Accept(Keyword.WITH))
        {
            do
            {
                int cteStart = p;
                var name = IdentifierRule("a name for the WITH query");
                var columns = IsSymbol("(") ? ParenIdentifierList("a column name") : NodeList<Identifier>.Empty;
                Expect(Keyword.AS);
                ExpectSymbol("(");
                var q = Query();
                ExpectSymbol(")");
                ctes.Add(new CommonTableExpression(name, columns, q) { Span = S(cteStart) });
            }
            while (AcceptSymbol(","));
        }
        var body = SetExpression(0);
        var orderBy = NodeList<OrderItem>.Empty;
        Expr? limit = null, offset = null;
        if (Is(Keyword.ORDER))
        {
            Advance();
            Expect(Keyword.BY);
            orderBy = OrderItems();
        }
        if (Accept(Keyword.LIMIT))
        {
            if (!Accept(Keyword.ALL)) limit = Expression();
        }
        if (Accept(Keyword.OFFSET))
        {
            offset = Expression();
            if (!Accept(Keyword.ROWS)) Accept(Keyword.ROW);
        }
        if (limit is null && Accept(Keyword.FETCH))
        {
            if (!Accept(Keyword.FIRST)) Expect(Keyword.NEXT);
            limit = Is(Keyword.ROW) || Is(Keyword.ROWS)
                ? new NumericLiteral("1", NumericKind.Integer) { Span = Cur.Span }
                : Expression();
            if (!Accept(Keyword.ROWS)) Expect(Keyword.ROW);
            Expect(Keyword.ONLY);
        }
        if (ctes.Count == 0 && orderBy.IsEmpty && limit is null && offset is null) return body;
        return new Query(ctes, body, orderBy, limit, offset) { Span = S(start) };
    }

    private QueryExpr SetExpression(int minPrec)
    {
        int start = p;
        var left = QueryPrimary();
        while (true)
        {
            SetOperator op;
            int prec;
            if (Is(Keyword.UNION))
            {
                op = SetOperator.Union;
                prec = 1;
            }
            else if (Is(Keyword.EXCEPT))
            {
                op = SetOperator.Except;
                prec = 1;
            }
            else if (Is(Keyword.INTERSECT))
            {
                op = SetOperator.Intersect;
                prec = 2;
            }
            else
            {
                break;
            }
            if (prec < minPrec) break;
            Advance();
            bool all = Accept(Keyword.ALL);
            if (!all) Accept(Keyword.DISTINCT);
            var right = SetExpression(prec + 1);
            left = new SetOperation(op, all, left, right) { Span = S(start) };
        }
        return left;
    }

    private QueryExpr QueryPrimary()
    {
        if (Is(Keyword.SELECT)) return Select();
        if (Is(Keyword.VALUES)) return Values();
        if (IsSymbol("("))
        {
            Advance();
            var q = Query();
            ExpectSymbol(")");
            return q;
        }
        throw Fail("SELECT, VALUES or '('", ["SELECT", "VALUES", "WITH"]);
    }

    private ValuesQuery Values()
    {
        int start = p;
        Expect(Keyword.VALUES);
        var rows = new List<NodeList<Expr>>();
        do
        {
            if (IsSymbol("("))
            {
                Advance();
                var row = new List<Expr>();
                do
                {
                    row.Add(Expression());
                }
                while (AcceptSymbol(","));
                ExpectSymbol(")");
                rows.Add(row);
            }
            else
            {
                rows.Add(new[] { Expression() });
            }
        }
        while (AcceptSymbol(","));
        return new ValuesQuery(rows) { Span = S(start) };
    }

    private SelectQuery Select()
    {
        int start = p;
        Expect(Keyword.SELECT);
        var hints = Hints();
        bool distinct = Accept(Keyword.DISTINCT);
        if (!distinct) Accept(Keyword.ALL);
        var items = new List<SelectItem>();
        do
        {
            items.Add(SelectItemRule());
        }
        while (AcceptSymbol(","));
        TableRef? from = null;
        if (Accept(Keyword.FROM)) from = FromClause();
        Expr? where = null;
        if (Accept(Keyword.WHERE)) where = Expression();
        var groupBy = NodeList<Expr>.Empty;
        if (Is(Keyword.GROUP))
        {
            Advance();
            Expect(Keyword.BY);
            var list = new List<Expr>();
            do
            {
                list.Add(GroupingElement());
            }
            while (AcceptSymbol(","));
            groupBy = list;
        }
        Expr? having = null;
        if (Accept(Keyword.HAVING)) having = Expression();
        var windows = NodeList<NamedWindow>.Empty;
        if (Accept(Keyword.WINDOW))
        {
            var list = new List<NamedWindow>();
            do
            {
                int wStart = p;
                var name = IdentifierRule("a window name");
                Expect(Keyword.AS);
                var spec = WindowSpecification();
                list.Add(new NamedWindow(name, spec) { Span = S(wStart) });
            }
            while (AcceptSymbol(","));
            windows = list;
        }
        return new SelectQuery(distinct, items, from, where, groupBy, having, windows, hints) { Span = S(start) };
    }

    /// <summary>The hints written just before the current token, if any.</summary>
    private NodeList<SqlHint> Hints()
    {
        if (hintBefore is null || !hintBefore.TryGetValue(p, out var hint)) return NodeList<SqlHint>.Empty;
        (hintsUsed ??= []).Add(p);
        // Lex the inside of /*+ ... */ in place, so positions stay those of the script.
        int innerStart = hint.Span.Offset + 3;
        int innerEnd = hint.Span.End - 2;
        int lineStart = text.LastIndexOf('\n', Math.Max(0, innerStart - 1)) + 1;
        int line = hint.Span.Line + text.AsSpan(hint.Span.Offset, innerStart - hint.Span.Offset).Count('\n');
        var inner = new Lexer(text, fileName, innerStart, innerEnd, line, lineStart).Run();
        var sub = new SqlParser(text, fileName, inner);
        var list = new List<SqlHint>();
        do
        {
            list.Add(sub.HintItem());
        }
        while (sub.AcceptSymbol(","));
        sub.ExpectEnd();
        return list;
    }

    private SqlHint HintItem()
    {
        int start = p;
        var name = IdentifierRule("a hint name such as OPTIONS");
        var options = new List<TableOption>();
        var args = new List<string>();
        if (AcceptSymbol("("))
        {
            if (!IsSymbol(")"))
            {
                do
                {
                    int itemStart = p;
                    var t = Cur;
                    if (t.Kind is not (TokenKind.String or TokenKind.Word or TokenKind.QuotedIdentifier or TokenKind.Integer or TokenKind.Decimal))
                        throw Fail("a hint option or argument");
                    Advance();
                    string key = t.Text;
                    while (t.Kind != TokenKind.String && IsSymbol(".") && PeekAt(1).Kind is TokenKind.Word or TokenKind.QuotedIdentifier)
                    {
                        Advance();
                        key += "." + Advance().Text;
                    }
                    if (AcceptSymbol("="))
                    {
                        string value = ExpectString("a hint option value string");
                        options.Add(new TableOption(key, value) { Span = S(itemStart) });
                    }
                    else
                    {
                        args.Add(key);
                    }
                }
                while (AcceptSymbol(","));
            }
            ExpectSymbol(")");
        }
        if (options.Count > 0 && args.Count > 0)
            throw new SqlParseException("a hint takes either 'key' = 'value' options or plain arguments, not both", S(start), text, fileName);
        return new SqlHint(name, options, args) { Span = S(start) };
    }

    private Expr GroupingElement()
    {
        Enter();
        try
        {
            return GroupingElementCore();
        }
        finally
        {
            depth--;
        }
    }

    private Expr GroupingElementCore()
    {
        if (Is(Keyword.GROUPING) && IsWordText(PeekAt(1), "SETS"))
        {
            int start = p;
            Advance();
            Advance();
            ExpectSymbol("(");
            var sets = new List<Expr>();
            do
            {
                sets.Add(GroupingElement());
            }
            while (AcceptSymbol(","));
            ExpectSymbol(")");
            return new GroupingSetsExpr(sets) { Span = S(start) };
        }
        if (IsSymbol("(") && PeekAt(1).IsSymbol(")"))
        {
            // The empty grouping set "()": the grand total.
            int start = p;
            Advance();
            Advance();
            return new RowConstructor(NodeList<Expr>.Empty) { Span = S(start) };
        }
        return Expression();
    }

    private SelectItem SelectItemRule()
    {
        int start = p;
        if (IsSymbol("*"))
        {
            Advance();
            return new SelectAll(null) { Span = S(start) };
        }
        // qualifier.* : identifiers separated by dots, ending in .*
        int i = 0;
        while (IsIdentifierToken(PeekAt(i)) && PeekAt(i + 1).IsSymbol("."))
        {
            if (PeekAt(i + 2).IsSymbol("*"))
            {
                var parts = new List<Identifier>();
                for (int k = 0; k <= i; k += 2)
                {
                    var t = PeekAt(k);
                    parts.Add(new Identifier(t.Text) { Span = t.Span });
                }
                for (int k = 0; k < i + 3; k++) Advance();
                var qualifier = new ObjectName(parts) { Span = parts[0].Span.Union(parts[^1].Span) };
                return new SelectAll(qualifier) { Span = S(start) };
            }
            i += 2;
        }
        var expr = Expression();
        var alias = OptionalAlias();
        return new SelectExpr(expr, alias) { Span = S(start) };
    }

    private Identifier? OptionalAlias()
    {
        if (Accept(Keyword.AS)) return IdentifierRule("an alias");
        if (IsIdentifierToken(Cur)) return IdentifierRule("an alias");
        return null;
    }

    private NodeList<Identifier> OptionalColumnAliases() =>
        IsSymbol("(") ? ParenIdentifierList("a column alias") : NodeList<Identifier>.Empty;

    private NodeList<OrderItem> OrderItems()
    {
        var list = new List<OrderItem>();
        do
        {
            int start = p;
            var e = Expression();
            bool desc = false;
            if (Accept(Keyword.DESC)) desc = true;
            else Accept(Keyword.ASC);
            var nulls = NullOrdering.Default;
            if (Accept(Keyword.NULLS))
            {
                if (Accept(Keyword.FIRST)) nulls = NullOrdering.First;
                else if (Accept(Keyword.LAST)) nulls = NullOrdering.Last;
                else throw Fail("FIRST or LAST", ["FIRST", "LAST"]);
            }
            list.Add(new OrderItem(e, desc, nulls) { Span = S(start) });
        }
        while (AcceptSymbol(","));
        return list;
    }

    // ------------------------------------------------------------------------------------------------------------
    // FROM
    // ------------------------------------------------------------------------------------------------------------

    private TableRef FromClause()
    {
        Enter();
        try
        {
            return FromClauseCore();
        }
        finally
        {
            depth--;
        }
    }

    private TableRef FromClauseCore()
    {
        int start = p;
        var left = TablePrimary();
        while (true)
        {
            JoinKind kind;
            if (IsSymbol(","))
            {
                Advance();
                var r = TablePrimary();
                left = new JoinRef(JoinKind.Comma, left, r, null, NodeList<Identifier>.Empty) { Span = S(start) };
                continue;
            }
            if (Is(Keyword.CROSS))
            {
                Advance();
                Expect(Keyword.JOIN);
                var r = TablePrimary();
                left = new JoinRef(JoinKind.Cross, left, r, null, NodeList<Identifier>.Empty) { Span = S(start) };
                continue;
            }
            if (Is(Keyword.JOIN)) kind = JoinKind.Inner;
            else if (Is(Keyword.INNER)) kind = JoinKind.Inner;
            else if (Is(Keyword.LEFT)) kind = JoinKind.Left;
            else if (Is(Keyword.RIGHT)) kind = JoinKind.Right;
            else if (Is(Keyword.FULL)) kind = JoinKind.Full;
            else break;
            if (!Is(Keyword.JOIN))
            {
                Advance();
                if (kind != JoinKind.Inner) Accept(Keyword.OUTER);
            }
            Expect(Keyword.JOIN);
            var right = TablePrimary();
            Expr? condition = null;
            var usingCols = NodeList<Identifier>.Empty;
            if (Accept(Keyword.ON)) condition = Expression();
            else if (Accept(Keyword.USING)) usingCols = ParenIdentifierList("a column name");
            else throw Fail("ON or USING", ["ON", "USING"]);
            left = new JoinRef(kind, left, right, condition, usingCols) { Span = S(start) };
        }
        return left;
    }

    private TableRef TablePrimary()
    {
        int start = p;
        if (Accept(Keyword.LATERAL))
        {
            if (Is(Keyword.TABLE)) return TableFunction(start, lateral: true);
            if (IsSymbol("("))
            {
                Advance();
                var q = Query();
                ExpectSymbol(")");
                var alias = OptionalAlias();
                var cols = alias is null ? NodeList<Identifier>.Empty : OptionalColumnAliases();
                return new SubqueryRef(q, alias, cols, Lateral: true) { Span = S(start) };
            }
            throw Fail("TABLE or '(' after LATERAL", ["TABLE"]);
        }
        if (Is(Keyword.TABLE) && PeekAt(1).IsSymbol("(")) return TableFunction(start, lateral: false);
        if (Is(Keyword.UNNEST))
        {
            Advance();
            ExpectSymbol("(");
            var args = new List<Expr>();
            do
            {
                args.Add(Expression());
            }
            while (AcceptSymbol(","));
            ExpectSymbol(")");
            bool ordinality = false;
            if (Is(Keyword.WITH) && PeekAt(1).Is(Keyword.ORDINALITY))
            {
                Advance();
                Advance();
                ordinality = true;
            }
            var alias = OptionalAlias();
            var cols = alias is null ? NodeList<Identifier>.Empty : OptionalColumnAliases();
            return new UnnestRef(args, ordinality, alias, cols) { Span = S(start) };
        }
        if (IsSymbol("("))
        {
            if (IsQueryStart(PeekAt(1)) || PeekAt(1).IsSymbol("("))
            {
                Advance();
                var q = Query();
                ExpectSymbol(")");
                if (IsMatchRecognizeStart())
                    return MatchRecognize(start, new SubqueryRef(q, null, NodeList<Identifier>.Empty) { Span = S(start) });
                var alias = OptionalAlias();
                var cols = alias is null ? NodeList<Identifier>.Empty : OptionalColumnAliases();
                return new SubqueryRef(q, alias, cols) { Span = S(start) };
            }
            Advance();
            var inner = FromClause();
            ExpectSymbol(")");
            return inner;
        }
        var name = ObjectNameRule("a table name");
        var hints = Hints();
        Expr? asOf = null;
        if (Is(Keyword.FOR) && PeekAt(1).Is(Keyword.SYSTEM_TIME))
        {
            Advance();
            Advance();
            Expect(Keyword.AS);
            Expect(Keyword.OF);
            asOf = Binary(PrecAdditive);
        }
        if (IsMatchRecognizeStart())
            return MatchRecognize(start, new NamedTableRef(name, null, NodeList<Identifier>.Empty, asOf, hints) { Span = S(start) });
        var tableAlias = OptionalAlias();
        var columnAliases = tableAlias is null ? NodeList<Identifier>.Empty : OptionalColumnAliases();
        return new NamedTableRef(name, tableAlias, columnAliases, asOf, hints) { Span = S(start) };
    }

    private TableFunctionRef TableFunction(int start, bool lateral)
    {
        Expect(Keyword.TABLE);
        ExpectSymbol("(");
        var callStart = p;
        var e = Expression();
        if (e is not FunctionCall call)
            throw new SqlParseException("expected a table function call inside TABLE(...)", S(callStart), text, fileName);
        ExpectSymbol(")");
        var alias = OptionalAlias();
        var cols = alias is null ? NodeList<Identifier>.Empty : OptionalColumnAliases();
        return new TableFunctionRef(call, alias, cols, lateral) { Span = S(start) };
    }
}
