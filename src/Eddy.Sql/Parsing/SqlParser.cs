using System.Globalization;

namespace Eddy.Sql.Parsing;

/// <summary>
/// A hand-written recursive-descent parser for Flink SQL, with precedence climbing for expressions.
/// Entry points: <see cref="ParseScript"/>, <see cref="ParseStatement"/>, <see cref="ParseQuery"/>,
/// <see cref="ParseExpression"/> and <see cref="ParseDataType"/>. Errors are <see cref="SqlParseException"/>s.
/// </summary>
public sealed partial class SqlParser
{
    // Binding powers, lowest first. The printer uses the same numbers (see SqlPrinter.Precedence).
    internal const int PrecOr = 1;
    internal const int PrecAnd = 2;
    internal const int PrecNot = 3;
    internal const int PrecIs = 4;
    internal const int PrecComparison = 5;
    internal const int PrecIn = 6; // IN, LIKE, BETWEEN
    internal const int PrecAdditive = 7;
    internal const int PrecMultiplicative = 8; // * / % ||
    internal const int PrecUnary = 9;
    internal const int PrecPrimary = 10;

    private static readonly string[] StatementKeywords =
        ["SELECT", "INSERT", "CREATE", "DROP", "WITH", "VALUES", "SET", "RESET", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "USE", "EXECUTE", "BEGIN", "ADD", "REMOVE"];

    private static readonly string[] TypeNames =
    [
        "STRING", "VARCHAR", "CHAR", "CHARACTER", "BOOLEAN", "TINYINT", "SMALLINT", "INT", "INTEGER", "BIGINT", "FLOAT", "REAL",
        "DOUBLE", "DECIMAL", "DEC", "NUMERIC", "DATE", "TIME", "TIMESTAMP", "TIMESTAMP_LTZ", "BYTES", "BINARY", "VARBINARY",
        "ARRAY", "MAP", "ROW",
    ];

    private static readonly string[] ClauseKeywords =
        ["FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "UNION", "INTERSECT", "EXCEPT", "JOIN", "WINDOW", "ON"];

    /// <summary>Keywords that start a clause or table element: the likeliest intent behind a misspelled word that was
    /// read as an alias or column name. Tried before the full keyword list.</summary>
    private static readonly string[] StructuralKeywords =
    [
        "SELECT", "FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "OFFSET", "UNION", "INTERSECT", "EXCEPT", "JOIN", "LEFT",
        "RIGHT", "INNER", "FULL", "CROSS", "WINDOW", "ON", "USING", "WATERMARK", "PRIMARY", "CONSTRAINT", "METADATA", "VIRTUAL",
        "COMMENT", "PARTITIONED", "WITH", "AS", "INSERT", "INTO", "TABLE", "VALUES", "LATERAL", "UNNEST", "DISTINCT",
    ];

    private readonly string text;
    private readonly string? fileName;
    private readonly List<Token> tokens;
    private readonly Dictionary<int, Token>? hintBefore;
    private HashSet<int>? hintsUsed;
    private int p;
    private int depth;

    /// <summary>How deeply expressions and queries may nest before the parser gives up (instead of overflowing the stack).</summary>
    public const int MaxNesting = 256;

    private SqlParser(string text, string? fileName)
        : this(text, fileName, Lexer.Tokenize(text, fileName))
    {
    }

    private SqlParser(string text, string? fileName, List<Token> all)
    {
        this.text = text;
        this.fileName = fileName;
        // Hint comments are kept aside, keyed by the index of the token that follows them.
        if (all.Exists(t => t.Kind == TokenKind.Hint))
        {
            tokens = new List<Token>(all.Count);
            hintBefore = [];
            foreach (var t in all)
            {
                if (t.Kind == TokenKind.Hint) hintBefore[tokens.Count] = t;
                else tokens.Add(t);
            }
        }
        else
        {
            tokens = all;
        }
    }

    // ------------------------------------------------------------------------------------------------------------
    // Entry points
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>Parses statements separated by <c>;</c>.</summary>
    public static SqlScript ParseScript(string sql, string? fileName = null)
    {
        var parser = new SqlParser(sql, fileName);
        return parser.Script();
    }

    /// <summary>Parses exactly one statement (a trailing <c>;</c> is allowed).</summary>
    public static Statement ParseStatement(string sql, string? fileName = null)
    {
        var parser = new SqlParser(sql, fileName);
        var stmt = parser.Statement();
        parser.AcceptSymbol(";");
        parser.ExpectEnd();
        return stmt;
    }

    public static QueryExpr ParseQuery(string sql, string? fileName = null)
    {
        var parser = new SqlParser(sql, fileName);
        var q = parser.Query();
        parser.ExpectEnd();
        return q;
    }

    public static Expr ParseExpression(string sql, string? fileName = null)
    {
        var parser = new SqlParser(sql, fileName);
        var e = parser.Expression();
        parser.ExpectEnd();
        return e;
    }

    public static TypeSpec ParseDataType(string sql, string? fileName = null)
    {
        var parser = new SqlParser(sql, fileName);
        var t = parser.DataTypeSpec();
        parser.ExpectEnd();
        return t;
    }

    // ------------------------------------------------------------------------------------------------------------
    // Token helpers
    // ------------------------------------------------------------------------------------------------------------

    private Token Cur => tokens[p];

    private Token PeekAt(int ahead) => tokens[Math.Min(p + ahead, tokens.Count - 1)];

    private Token Advance()
    {
        var t = tokens[p];
        if (p < tokens.Count - 1) p++;
        return t;
    }

    /// <summary>The span from token index <paramref name="start"/> to the last consumed token.</summary>
    private SourceSpan S(int start)
    {
        var first = tokens[start].Span;
        if (p <= start) return first with { Length = 0 };
        int end = tokens[p - 1].Span.End;
        // A hint attached just before the current token belongs to the node that consumed it.
        if (hintsUsed is not null && hintsUsed.Contains(p)) end = Math.Max(end, hintBefore![p].Span.End);
        return first with { Length = end - first.Offset };
    }

    private bool Is(Keyword kw) => Cur.Is(kw);

    private bool IsSymbol(string s) => Cur.IsSymbol(s);

    private bool Accept(Keyword kw)
    {
        if (!Cur.Is(kw)) return false;
        Advance();
        return true;
    }

    private bool AcceptSymbol(string s)
    {
        if (!Cur.IsSymbol(s)) return false;
        Advance();
        return true;
    }

    private Token Expect(Keyword kw)
    {
        if (!Cur.Is(kw)) throw Fail($"'{kw}'", [kw.ToString()]);
        return Advance();
    }

    private Token ExpectSymbol(string s)
    {
        if (!Cur.IsSymbol(s)) throw Fail($"'{s}'");
        return Advance();
    }

    private void ExpectEnd()
    {
        if (Cur.Kind != TokenKind.EndOfInput) throw Fail("end of input");
    }

    private string ExpectString(string what)
    {
        if (Cur.Kind != TokenKind.String) throw Fail(what);
        return Advance().Text;
    }

    private int ExpectInt(string what)
    {
        if (Cur.Kind != TokenKind.Integer || !int.TryParse(Cur.Text, NumberStyles.None, CultureInfo.InvariantCulture, out int n))
            throw Fail(what);
        Advance();
        return n;
    }

    private bool IsWordText(Token t, string upper) =>
        t.Kind == TokenKind.Word && string.Equals(t.Text, upper, StringComparison.OrdinalIgnoreCase);

    private bool IsQueryStart(Token t) => t.Is(Keyword.SELECT) || t.Is(Keyword.WITH) || t.Is(Keyword.VALUES);

    /// <summary>An identifier token: back-quoted, or an unquoted word that is not a reserved keyword.</summary>
    private static bool IsIdentifierToken(Token t) =>
        t.Kind == TokenKind.QuotedIdentifier || (t.Kind == TokenKind.Word && !Keywords.IsReserved(t.Keyword));

    // ------------------------------------------------------------------------------------------------------------
    // Errors
    // ------------------------------------------------------------------------------------------------------------

    /// <summary>"expected X but found Y", with a keyword suggestion when a word looks misspelled.</summary>
    private SqlParseException Fail(string expected, IReadOnlyList<string>? candidates = null)
    {
        var t = Cur;
        string reason = $"expected {expected} but found {t.Describe()}";
        string? suggestion = null;
        if (t.Kind == TokenKind.Word)
        {
            // Only keywords that could plausibly stand here are offered, so that a column named "data" is not
            // "corrected" to DATE.
            if (candidates is not null) suggestion = Nearest(t.Text, candidates);
            if (suggestion is null && t.Keyword == Keyword.None) suggestion = Nearest(t.Text, StructuralKeywords);
            if (suggestion is not null) reason += $" (did you mean '{suggestion}'?)";
        }
        if (suggestion is null && p > 0)
        {
            var prev = tokens[p - 1];
            if (prev.Kind == TokenKind.Word && prev.Keyword == Keyword.None)
            {
                suggestion = Nearest(prev.Text, StructuralKeywords);
                if (suggestion is not null) reason += $" (did you mean '{suggestion}' instead of '{prev.Text}'?)";
            }
        }
        if (suggestion is null && t.Kind == TokenKind.Word && Keywords.IsReserved(t.Keyword) && expected.Contains("name", StringComparison.Ordinal))
            reason += $" ('{t.Text}' is a reserved keyword; write `{t.Text}` to use it as a name)";
        return new SqlParseException(reason, t.Span, text, fileName, suggestion);
    }

    private SqlParseException FailAt(Token t, string reason) => new(reason, t.Span, text, fileName);

    /// <summary>The candidate closest to <paramref name="word"/> by edit distance, if close enough to be a likely typo.</summary>
    internal static string? Nearest(string word, IEnumerable<string> candidates)
    {
        if (word.Length < 4) return null;
        int limit = word.Length <= 5 ? 1 : 2;
        string? best = null;
        int bestDistance = int.MaxValue;
        foreach (var c in candidates)
        {
            if (Math.Abs(c.Length - word.Length) > limit) continue;
            if (string.Equals(c, word, StringComparison.OrdinalIgnoreCase)) return null;
            int d = EditDistance(word, c);
            if (d <= limit && d < bestDistance)
            {
                bestDistance = d;
                best = c;
            }
        }
        return best;
    }

    /// <summary>Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), case-insensitive.</summary>
    internal static int EditDistance(string a, string b)
    {
        int n = a.Length, m = b.Length;
        Span<int> prev2 = stackalloc int[m + 1];
        Span<int> prev = stackalloc int[m + 1];
        Span<int> cur = stackalloc int[m + 1];
        for (int j = 0; j <= m; j++) prev[j] = j;
        for (int i = 1; i <= n; i++)
        {
            cur[0] = i;
            char ca = char.ToUpperInvariant(a[i - 1]);
            for (int j = 1; j <= m; j++)
            {
                char cb = char.ToUpperInvariant(b[j - 1]);
                int cost = ca == cb ? 0 : 1;
                int v = Math.Min(Math.Min(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + cost);
                if (i > 1 && j > 1 && ca == char.ToUpperInvariant(b[j - 2]) && char.ToUpperInvariant(a[i - 2]) == cb)
                    v = Math.Min(v, prev2[j - 2] + 1);
                cur[j] = v;
            }
            var tmp = prev2;
            prev2 = prev;
            prev = cur;
            cur = tmp;
        }
        return prev[m];
    }

    // ------------------------------------------------------------------------------------------------------------
    // Names
    // ------------------------------------------------------------------------------------------------------------

    private Identifier IdentifierRule(string what)
    {
        var t = Cur;
        if (!IsIdentifierToken(t)) throw Fail(what);
        Advance();
        return new Identifier(t.Text) { Span = t.Span };
    }

    private ObjectName ObjectNameRule(string what)
    {
        int start = p;
        var parts = new List<Identifier> { IdentifierRule(what) };
        while (IsSymbol(".") && (PeekAt(1).Kind is TokenKind.Word or TokenKind.QuotedIdentifier))
        {
            Advance();
            var t = Advance();
            parts.Add(new Identifier(t.Text) { Span = t.Span });
        }
        return new ObjectName(parts) { Span = S(start) };
    }

    private NodeList<Identifier> ParenIdentifierList(string what)
    {
        ExpectSymbol("(");
        var list = new List<Identifier>();
        do
        {
            list.Add(IdentifierRule(what));
        }
        while (AcceptSymbol(","));
        ExpectSymbol(")");
        return list;
    }
}
