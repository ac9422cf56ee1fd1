namespace Eddy.Sql.Parsing;

// MATCH_RECOGNIZE: the clause after a table in FROM, as Flink's row pattern recognition. The words of the clause
// (MEASURES, PATTERN, DEFINE, ...) are not keywords, so that they stay usable as column names elsewhere.
public sealed partial class SqlParser
{
    private bool IsMatchRecognizeStart() => IsWordText(Cur, "MATCH_RECOGNIZE") && PeekAt(1).IsSymbol("(");

    private MatchRecognizeRef MatchRecognize(int start, TableRef input)
    {
        Advance();
        ExpectSymbol("(");
        var partitionBy = new List<Expr>();
        if (Is(Keyword.PARTITION))
        {
            Advance();
            Expect(Keyword.BY);
            do
            {
                partitionBy.Add(Expression());
            }
            while (AcceptSymbol(","));
        }
        var orderBy = NodeList<OrderItem>.Empty;
        if (Is(Keyword.ORDER))
        {
            Advance();
            Expect(Keyword.BY);
            orderBy = OrderItems();
        }
        var measures = new List<SelectExpr>();
        if (IsWordText(Cur, "MEASURES"))
        {
            Advance();
            do
            {
                int itemStart = p;
                var e = Expression();
                Accept(Keyword.AS);
                var name = IdentifierRule("a measure name");
                measures.Add(new SelectExpr(e, name) { Span = S(itemStart) });
            }
            while (AcceptSymbol(","));
        }
        bool allRows = false;
        if (IsWordText(Cur, "ONE"))
        {
            Advance();
            Expect(Keyword.ROW);
            ExpectWord("PER");
            ExpectWord("MATCH");
        }
        else if (Is(Keyword.ALL) && IsWordText(PeekAt(1), "ROWS"))
        {
            Advance();
            Advance();
            ExpectWord("PER");
            ExpectWord("MATCH");
            allRows = true;
        }
        AfterMatchSkip? after = null;
        if (IsWordText(Cur, "AFTER"))
        {
            int afterStart = p;
            Advance();
            ExpectWord("MATCH");
            ExpectWord("SKIP");
            if (IsWordText(Cur, "PAST"))
            {
                Advance();
                Expect(Keyword.LAST);
                Expect(Keyword.ROW);
                after = new AfterMatchSkip(AfterMatchSkipKind.PastLastRow, null) { Span = S(afterStart) };
            }
            else
            {
                Expect(Keyword.TO);
                if (Is(Keyword.NEXT))
                {
                    Advance();
                    Expect(Keyword.ROW);
                    after = new AfterMatchSkip(AfterMatchSkipKind.ToNextRow, null) { Span = S(afterStart) };
                }
                else if (Is(Keyword.FIRST) || Is(Keyword.LAST))
                {
                    var kind = Advance().Is(Keyword.FIRST) ? AfterMatchSkipKind.ToFirst : AfterMatchSkipKind.ToLast;
                    var variable = IdentifierRule("a pattern variable");
                    after = new AfterMatchSkip(kind, variable) { Span = S(afterStart) };
                }
                else
                {
                    // SKIP TO var means SKIP TO LAST var in the standard.
                    var variable = IdentifierRule("NEXT ROW, FIRST var, LAST var or a pattern variable");
                    after = new AfterMatchSkip(AfterMatchSkipKind.ToLast, variable) { Span = S(afterStart) };
                }
            }
        }
        if (!IsWordText(Cur, "PATTERN")) throw Fail("PATTERN", ["PATTERN", "MEASURES", "DEFINE"]);
        Advance();
        ExpectSymbol("(");
        var pattern = PatternSequence();
        ExpectSymbol(")");
        Expr? within = null;
        if (IsWordText(Cur, "WITHIN"))
        {
            Advance();
            within = Binary(PrecAdditive);
        }
        if (IsWordText(Cur, "SUBSET"))
            throw FailAt(Cur, "SUBSET in MATCH_RECOGNIZE is not supported (as in Flink)");
        if (!IsWordText(Cur, "DEFINE")) throw Fail("DEFINE", ["DEFINE"]);
        Advance();
        var definitions = new List<PatternDefinition>();
        do
        {
            int defStart = p;
            var variable = IdentifierRule("a pattern variable");
            Expect(Keyword.AS);
            var condition = Expression();
            definitions.Add(new PatternDefinition(variable, condition) { Span = S(defStart) });
        }
        while (AcceptSymbol(","));
        ExpectSymbol(")");
        var alias = OptionalAlias();
        var columns = alias is null ? NodeList<Identifier>.Empty : OptionalColumnAliases();
        return new MatchRecognizeRef(input, partitionBy, orderBy, measures, allRows, after, pattern, within, definitions, alias, columns)
        {
            Span = S(start),
        };
    }

    private PatternTerm PatternSequence()
    {
        int start = p;
        var terms = new List<PatternTerm>();
        while (!IsSymbol(")"))
        {
            if (Cur.Kind == TokenKind.EndOfInput) throw Fail("')'");
            if (IsSymbol("("))
                throw FailAt(Cur, "pattern groups are not supported in MATCH_RECOGNIZE (as in Flink: quantifiers apply to single variables only)");
            if (IsSymbol("|"))
                throw FailAt(Cur, "alternation '|' in a pattern is not supported in MATCH_RECOGNIZE (as in Flink)");
            if (IsSymbol("^") || IsSymbol("$"))
                throw FailAt(Cur, $"the anchor '{Cur.Text}' is not supported in MATCH_RECOGNIZE (as in Flink)");
            if (IsSymbol("{") && PeekAt(1).IsSymbol("-"))
                throw FailAt(Cur, "exclusion '{- ... -}' in a pattern is not supported in MATCH_RECOGNIZE (as in Flink)");
            if (IsWordText(Cur, "PERMUTE") && PeekAt(1).IsSymbol("("))
                throw FailAt(Cur, "PERMUTE in a pattern is not supported in MATCH_RECOGNIZE (as in Flink)");
            terms.Add(PatternVariableTerm());
        }
        if (terms.Count == 0) throw Fail("a pattern variable");
        return terms.Count == 1 ? terms[0] : new PatternSequence(terms) { Span = S(start) };
    }

    private PatternVariable PatternVariableTerm()
    {
        int start = p;
        var name = IdentifierRule("a pattern variable");
        int quantStart = p;
        int min = 1;
        int? max = 1;
        bool quantified = true;
        if (AcceptSymbol("*"))
        {
            min = 0;
            max = null;
        }
        else if (AcceptSymbol("+"))
        {
            max = null;
        }
        else if (AcceptSymbol("?"))
        {
            min = 0;
        }
        else if (IsSymbol("{"))
        {
            var open = Advance();
            int? lower = Cur.Kind == TokenKind.Integer ? ExpectInt("a number of rows") : null;
            if (AcceptSymbol(","))
            {
                int? upper = Cur.Kind == TokenKind.Integer ? ExpectInt("a number of rows") : null;
                ExpectSymbol("}");
                if (lower is null && upper is null) throw FailAt(open, "a quantifier {n,m} needs n or m");
                min = lower ?? 0;
                max = upper;
                if (upper is { } m && (m <= 0 || min > m))
                    throw new SqlParseException($"the quantifier {{{lower},{upper}}} needs 0 <= n <= m and m > 0", S(quantStart), text, fileName);
            }
            else
            {
                ExpectSymbol("}");
                if (lower is not { } n) throw FailAt(open, "a quantifier {n} needs a number of rows");
                if (n <= 0) throw new SqlParseException("the quantifier {n} needs n > 0", S(quantStart), text, fileName);
                min = n;
                max = n;
            }
        }
        else
        {
            quantified = false;
        }
        bool reluctant = quantified && AcceptSymbol("?");
        string quantifierText = quantified ? text.Substring(tokens[quantStart].Span.Offset, tokens[p - 1].Span.End - tokens[quantStart].Span.Offset) : "";
        return new PatternVariable(name, min, max, reluctant, quantified, quantifierText) { Span = S(start) };
    }
}
