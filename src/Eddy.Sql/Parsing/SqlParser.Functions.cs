namespace Eddy.Sql.Parsing;

// Functions with syntax of their own: JSON_VALUE/QUERY/EXISTS/OBJECT/ARRAY, CASE, TRIM, SUBSTRING, ...
public sealed partial class SqlParser
{
    // ------------------------------------------------------------------------------------------------------------
    // Functions with their own syntax (JSON, CASE, TRIM, SUBSTRING, ...)
    // ------------------------------------------------------------------------------------------------------------

    private JsonValueExpr JsonValue()
    {
        int start = p;
        Advance();
        ExpectSymbol("(");
        var json = Expression();
        ExpectSymbol(",");
        var path = Expression();
        TypeSpec? returning = null;
        if (Accept(Keyword.RETURNING)) returning = DataTypeSpec();
        JsonBehavior? onEmpty = null, onError = null;
        while (!IsSymbol(")"))
        {
            int bStart = p;
            JsonBehavior behavior;
            if (Accept(Keyword.NULL)) behavior = new JsonBehavior(JsonBehaviorKind.Null);
            else if (Accept(Keyword.ERROR)) behavior = new JsonBehavior(JsonBehaviorKind.Error);
            else if (IsWordText(Cur, "DEFAULT"))
            {
                Advance();
                behavior = new JsonBehavior(JsonBehaviorKind.Default, Binary(PrecAdditive));
            }
            else throw Fail("RETURNING, NULL, ERROR, DEFAULT or ')'", ["RETURNING", "NULL", "ERROR", "DEFAULT"]);
            Expect(Keyword.ON);
            bool empty;
            if (Accept(Keyword.EMPTY)) empty = true;
            else if (Accept(Keyword.ERROR)) empty = false;
            else throw Fail("EMPTY or ERROR", ["EMPTY", "ERROR"]);
            behavior = behavior with { Span = S(bStart) };
            if (empty)
            {
                if (onEmpty is not null || onError is not null) throw new SqlParseException("ON EMPTY must come once, before ON ERROR", S(bStart), text, fileName);
                onEmpty = behavior;
            }
            else
            {
                if (onError is not null) throw new SqlParseException("ON ERROR may appear only once", S(bStart), text, fileName);
                onError = behavior;
            }
        }
        ExpectSymbol(")");
        return new JsonValueExpr(json, path, returning, onEmpty, onError) { Span = S(start) };
    }

    private JsonQueryExpr JsonQuery()
    {
        int start = p;
        Advance();
        ExpectSymbol("(");
        var json = Expression();
        ExpectSymbol(",");
        var path = Expression();
        TypeSpec? returning = null;
        if (Accept(Keyword.RETURNING)) returning = DataTypeSpec();
        var wrapper = JsonWrapper.Without;
        if (Accept(Keyword.WITHOUT))
        {
            AcceptWord("ARRAY");
            ExpectWord("WRAPPER");
        }
        else if (Is(Keyword.WITH))
        {
            Advance();
            wrapper = JsonWrapper.Unconditional;
            if (AcceptWord("CONDITIONAL")) wrapper = JsonWrapper.Conditional;
            else AcceptWord("UNCONDITIONAL");
            AcceptWord("ARRAY");
            ExpectWord("WRAPPER");
        }
        JsonQueryBehaviorKind? onEmpty = null, onError = null;
        while (!IsSymbol(")"))
        {
            int bStart = p;
            JsonQueryBehaviorKind behavior;
            if (Accept(Keyword.NULL)) behavior = JsonQueryBehaviorKind.Null;
            else if (Accept(Keyword.ERROR)) behavior = JsonQueryBehaviorKind.Error;
            else if (Accept(Keyword.EMPTY))
            {
                if (AcceptWord("ARRAY")) behavior = JsonQueryBehaviorKind.EmptyArray;
                else if (AcceptWord("OBJECT")) behavior = JsonQueryBehaviorKind.EmptyObject;
                else throw Fail("ARRAY or OBJECT", ["ARRAY", "OBJECT"]);
            }
            else throw Fail("RETURNING, a wrapper, NULL, EMPTY, ERROR or ')'", ["RETURNING", "WITH", "WITHOUT", "NULL", "EMPTY", "ERROR"]);
            Expect(Keyword.ON);
            if (Accept(Keyword.EMPTY))
            {
                if (onEmpty is not null || onError is not null) throw new SqlParseException("ON EMPTY must come once, before ON ERROR", S(bStart), text, fileName);
                onEmpty = behavior;
            }
            else if (Accept(Keyword.ERROR))
            {
                if (onError is not null) throw new SqlParseException("ON ERROR may appear only once", S(bStart), text, fileName);
                onError = behavior;
            }
            else
            {
                throw Fail("EMPTY or ERROR", ["EMPTY", "ERROR"]);
            }
        }
        ExpectSymbol(")");
        return new JsonQueryExpr(json, path, returning, wrapper, onEmpty, onError) { Span = S(start) };
    }

    private JsonExistsExpr JsonExists()
    {
        int start = p;
        Advance();
        ExpectSymbol("(");
        var json = Expression();
        ExpectSymbol(",");
        var path = Expression();
        JsonExistsBehavior? onError = null;
        if (!IsSymbol(")"))
        {
            if (Accept(Keyword.TRUE)) onError = JsonExistsBehavior.True;
            else if (Accept(Keyword.FALSE)) onError = JsonExistsBehavior.False;
            else if (Accept(Keyword.UNKNOWN)) onError = JsonExistsBehavior.Unknown;
            else if (Accept(Keyword.ERROR)) onError = JsonExistsBehavior.Error;
            else throw Fail("TRUE, FALSE, UNKNOWN, ERROR or ')'", ["TRUE", "FALSE", "UNKNOWN", "ERROR"]);
            Expect(Keyword.ON);
            Expect(Keyword.ERROR);
        }
        ExpectSymbol(")");
        return new JsonExistsExpr(json, path, onError) { Span = S(start) };
    }

    private JsonObjectExpr JsonObject()
    {
        int start = p;
        Advance();
        ExpectSymbol("(");
        var entries = new List<JsonKeyValue>();
        bool absent = false;
        if (!IsSymbol(")") && !TryOnNull(out absent))
        {
            do
            {
                int eStart = p;
                // KEY is optional, and "key" / "value" may be column names: KEY VALUE v (key column "KEY"),
                // KEY value VALUE v (key column "value").
                if (Is(Keyword.KEY) && (!IsWordText(PeekAt(1), "VALUE") || IsWordText(PeekAt(2), "VALUE"))) Advance();
                var key = Binary(PrecAdditive);
                ExpectWord("VALUE");
                var value = Expression();
                entries.Add(new JsonKeyValue(key, value) { Span = S(eStart) });
            }
            while (AcceptSymbol(","));
            TryOnNull(out absent);
        }
        if (!IsSymbol(")")) throw Fail("',', NULL ON NULL, ABSENT ON NULL or ')'", ["NULL", "ABSENT"]);
        Advance();
        return new JsonObjectExpr(entries, absent) { Span = S(start) };
    }

    private JsonArrayExpr JsonArray()
    {
        int start = p;
        Advance();
        ExpectSymbol("(");
        var elements = new List<Expr>();
        bool absent = true;
        if (!IsSymbol(")") && !TryOnNull(out absent))
        {
            absent = true;
            do
            {
                elements.Add(Expression());
            }
            while (AcceptSymbol(","));
            if (!TryOnNull(out absent)) absent = true;
        }
        if (!IsSymbol(")")) throw Fail("',', NULL ON NULL, ABSENT ON NULL or ')'", ["NULL", "ABSENT"]);
        Advance();
        bool nullOnNull = !absent;
        return new JsonArrayExpr(elements, nullOnNull) { Span = S(start) };
    }

    /// <summary><c>NULL ON NULL</c> or <c>ABSENT ON NULL</c>.</summary>
    private bool TryOnNull(out bool absent)
    {
        absent = false;
        bool isNull = Is(Keyword.NULL) && PeekAt(1).Is(Keyword.ON);
        bool isAbsent = IsWordText(Cur, "ABSENT") && PeekAt(1).Is(Keyword.ON);
        if (!isNull && !isAbsent) return false;
        Advance();
        Advance();
        Expect(Keyword.NULL);
        absent = isAbsent;
        return true;
    }

    private bool AcceptWord(string word)
    {
        if (!IsWordText(Cur, word)) return false;
        Advance();
        return true;
    }

    private void ExpectWord(string word)
    {
        if (!AcceptWord(word)) throw Fail($"'{word}'", [word]);
    }

    private CaseExpr Case()
    {
        int start = p;
        Expect(Keyword.CASE);
        Expr? operand = null;
        if (!Is(Keyword.WHEN)) operand = Expression();
        var whens = new List<WhenClause>();
        while (Is(Keyword.WHEN))
        {
            int wStart = p;
            Advance();
            var cond = Expression();
            Expect(Keyword.THEN);
            var result = Expression();
            whens.Add(new WhenClause(cond, result) { Span = S(wStart) });
        }
        if (whens.Count == 0) throw Fail("WHEN", ["WHEN"]);
        Expr? elseExpr = null;
        if (Accept(Keyword.ELSE)) elseExpr = Expression();
        if (!Is(Keyword.END)) throw Fail("WHEN, ELSE or END", ["WHEN", "ELSE", "END"]);
        Advance();
        return new CaseExpr(operand, whens, elseExpr) { Span = S(start) };
    }

    private TrimExpr Trim()
    {
        int start = p;
        Advance();
        ExpectSymbol("(");
        var mode = TrimMode.Both;
        bool explicitMode = true;
        if (Accept(Keyword.BOTH)) mode = TrimMode.Both;
        else if (Accept(Keyword.LEADING)) mode = TrimMode.Leading;
        else if (Accept(Keyword.TRAILING)) mode = TrimMode.Trailing;
        else explicitMode = false;
        Expr? chars = null;
        Expr source;
        if (Accept(Keyword.FROM))
        {
            source = Expression();
        }
        else
        {
            var first = Expression();
            if (Accept(Keyword.FROM))
            {
                chars = first;
                source = Expression();
            }
            else
            {
                if (explicitMode) throw Fail("FROM", ["FROM"]);
                source = first;
            }
        }
        ExpectSymbol(")");
        return new TrimExpr(mode, chars, source) { Span = S(start) };
    }

    private FunctionCall Substring()
    {
        int start = p;
        var nameTok = Advance();
        var name = new ObjectName(new[] { new Identifier(nameTok.Text) { Span = nameTok.Span } }) { Span = nameTok.Span };
        ExpectSymbol("(");
        var args = new List<Expr> { Expression() };
        if (Accept(Keyword.FROM))
        {
            args.Add(Expression());
            if (Accept(Keyword.FOR)) args.Add(Expression());
        }
        else
        {
            while (AcceptSymbol(",")) args.Add(Expression());
        }
        ExpectSymbol(")");
        return new FunctionCall(name, args) { Span = S(start) };
    }
}
