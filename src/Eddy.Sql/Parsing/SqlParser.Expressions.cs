using System.Globalization;

namespace Eddy.Sql.Parsing;

/// <summary>
/// A hand-written recursive-descent parser for Flink SQL, with precedence climbing for expressions.
/// Entry points: <see cref="ParseScript"/>, <see cref="ParseStatement"/>, <see cref="ParseQuery"/>,
/// <see cref="ParseExpression"/> and <see cref="ParseDataType"/>. Errors are <see cref="SqlParseException"/>s.
/// </summary>
public sealed class SqlParser
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
        ["SELECT", "INSERT", "CREATE", "DROP", "WITH", "VALUES", "SET", "RESET", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "USE", "EXECUTE", "BEGIN"];

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
    // Script and statements
    // ------------------------------------------------------------------------------------------------------------

    private SqlScript Script()
    {
        var statements = new List<Statement>();
        while (true)
        {
            while (AcceptSymbol(";"))
            {
            }
            if (Cur.Kind == TokenKind.EndOfInput) break;
            statements.Add(Statement());
            if (Cur.Kind == TokenKind.EndOfInput) break;
            if (!IsSymbol(";")) throw Fail("';' or end of input");
        }
        var span = new SourceSpan(0, text.Length, 1, 1);
        return new SqlScript(statements, fileName) { Span = span };
    }

    private Statement Statement()
    {
        var t = Cur;
        switch (t.Keyword)
        {
            case Keyword.CREATE when t.IsWord: return Create();
            case Keyword.DROP when t.IsWord: return Drop();
            case Keyword.INSERT when t.IsWord: return InsertStatement();
            case Keyword.EXECUTE when t.IsWord: return Execute();
            case Keyword.BEGIN when t.IsWord: return BeginStatementSet();
            case Keyword.SET when t.IsWord: return Set();
            case Keyword.RESET when t.IsWord: return Reset();
            case Keyword.SHOW when t.IsWord: return ShowStatement();
            case Keyword.DESCRIBE or Keyword.DESC when t.IsWord: return DescribeStatement();
            case Keyword.EXPLAIN when t.IsWord: return ExplainStatement();
            case Keyword.USE when t.IsWord: return UseStatement();
            case Keyword.SELECT or Keyword.WITH or Keyword.VALUES when t.IsWord:
            {
                int start = p;
                var q = Query();
                return new QueryStatement(q) { Span = S(start) };
            }
        }
        if (t.IsSymbol("("))
        {
            int start = p;
            var q = Query();
            return new QueryStatement(q) { Span = S(start) };
        }
        throw Fail("a statement (SELECT, INSERT, CREATE, DROP, SET, ...)", StatementKeywords);
    }

    private Statement Create()
    {
        int start = p;
        Expect(Keyword.CREATE);
        bool orReplace = false;
        if (Accept(Keyword.OR))
        {
            Expect(Keyword.REPLACE);
            orReplace = true;
        }
        bool temporary = Accept(Keyword.TEMPORARY);
        bool system = temporary && Accept(Keyword.SYSTEM);
        if (Is(Keyword.TABLE) && !system) return CreateTableRest(start, temporary, orReplace);
        if (Is(Keyword.VIEW) && !system && !orReplace) return CreateViewRest(start, temporary);
        if (Is(Keyword.FUNCTION) && !orReplace)
            return CreateFunctionRest(start, temporary ? (system ? FunctionScope.TemporarySystem : FunctionScope.Temporary) : FunctionScope.Catalog);
        if (!temporary && !orReplace && Accept(Keyword.CATALOG))
        {
            bool ifNotExists = AcceptIfNotExists();
            var name = IdentifierRule("a catalog name");
            string? comment = Accept(Keyword.COMMENT) ? ExpectString("a comment string") : null;
            Expect(Keyword.WITH);
            var options = Options();
            return new CreateCatalog(name, options, comment, ifNotExists) { Span = S(start) };
        }
        if (!temporary && !orReplace && Accept(Keyword.DATABASE))
        {
            bool ifNotExists = AcceptIfNotExists();
            var name = ObjectNameRule("a database name");
            string? comment = Accept(Keyword.COMMENT) ? ExpectString("a comment string") : null;
            var options = Accept(Keyword.WITH) ? Options() : NodeList<TableOption>.Empty;
            return new CreateDatabase(name, options, comment, ifNotExists) { Span = S(start) };
        }
        if (system) throw Fail("'FUNCTION'", ["FUNCTION"]);
        if (orReplace) throw Fail("'TABLE'", ["TABLE"]);
        throw Fail("TABLE, VIEW or FUNCTION", ["TABLE", "VIEW", "FUNCTION", "TEMPORARY", "CATALOG", "DATABASE"]);
    }

    private bool AcceptIfNotExists()
    {
        if (!Is(Keyword.IF)) return false;
        Advance();
        Expect(Keyword.NOT);
        Expect(Keyword.EXISTS);
        return true;
    }

    private bool AcceptIfExists()
    {
        if (!Is(Keyword.IF)) return false;
        Advance();
        Expect(Keyword.EXISTS);
        return true;
    }

    private CreateTable CreateTableRest(int start, bool temporary, bool orReplace)
    {
        Expect(Keyword.TABLE);
        bool ifNotExists = AcceptIfNotExists();
        var name = ObjectNameRule("a table name");
        var columns = new List<TableColumn>();
        WatermarkSpec? watermark = null;
        PrimaryKeySpec? primaryKey = null;
        if (AcceptSymbol("("))
        {
            do
            {
                var t = Cur;
                if (t.Is(Keyword.WATERMARK) && PeekAt(1).Is(Keyword.FOR))
                {
                    if (watermark is not null) throw FailAt(t, "a table can have only one WATERMARK definition");
                    watermark = Watermark();
                }
                else if ((t.Is(Keyword.PRIMARY) && PeekAt(1).Is(Keyword.KEY)) || t.Is(Keyword.CONSTRAINT))
                {
                    if (primaryKey is not null) throw FailAt(t, "a table can have only one PRIMARY KEY");
                    primaryKey = TablePrimaryKey();
                }
                else
                {
                    var column = Column(out var columnKey);
                    columns.Add(column);
                    if (columnKey is not null)
                    {
                        if (primaryKey is not null) throw FailAt(tokens[p - 1], "a table can have only one PRIMARY KEY");
                        primaryKey = columnKey;
                    }
                }
            }
            while (AcceptSymbol(","));
            if (!IsSymbol(")"))
                throw Fail("',' or ')'", ["WATERMARK", "PRIMARY", "CONSTRAINT", "METADATA", "VIRTUAL", "COMMENT"]);
            Advance();
        }
        string? comment = null;
        if (Accept(Keyword.COMMENT)) comment = ExpectString("a comment string");
        var partitionedBy = NodeList<Identifier>.Empty;
        if (Accept(Keyword.PARTITIONED))
        {
            Expect(Keyword.BY);
            partitionedBy = ParenIdentifierList("a partition column");
        }
        var options = NodeList<TableOption>.Empty;
        if (Accept(Keyword.WITH)) options = Options();
        TableLike? like = null;
        if (Is(Keyword.LIKE)) like = Like();
        QueryExpr? asQuery = null;
        if (Accept(Keyword.AS)) asQuery = Query();
        else if (columns.Count == 0 && watermark is null && primaryKey is null && options.IsEmpty && like is null)
            throw Fail("'(' or WITH", ["WITH", "AS", "LIKE"]);
        return new CreateTable(name, columns, watermark, primaryKey, comment, partitionedBy, options, asQuery, like, temporary, ifNotExists, orReplace)
        {
            Span = S(start),
        };
    }

    private TableLike Like()
    {
        int start = p;
        Expect(Keyword.LIKE);
        var source = ObjectNameRule("a table name");
        var options = new List<LikeOption>();
        if (AcceptSymbol("("))
        {
            do
            {
                int optStart = p;
                string[] strategies = ["INCLUDING", "EXCLUDING", "OVERWRITING"];
                string[] features = ["ALL", "CONSTRAINTS", "PARTITIONS", "GENERATED", "OPTIONS", "WATERMARKS", "METADATA"];
                int si = Cur.Kind == TokenKind.Word ? Array.IndexOf(strategies, Cur.Text.ToUpperInvariant()) : -1;
                if (si < 0) throw Fail("INCLUDING, EXCLUDING or OVERWRITING", strategies);
                Advance();
                int fi = Cur.Kind == TokenKind.Word ? Array.IndexOf(features, Cur.Text.ToUpperInvariant()) : -1;
                if (fi < 0) throw Fail("ALL, CONSTRAINTS, PARTITIONS, GENERATED, OPTIONS, WATERMARKS or METADATA", features);
                Advance();
                var strategy = (LikeStrategy)si;
                var feature = (LikeFeature)fi;
                if (strategy == LikeStrategy.Overwriting && feature is LikeFeature.All or LikeFeature.Constraints or LikeFeature.Partitions)
                    throw new SqlParseException($"OVERWRITING cannot be combined with {feature.ToString().ToUpperInvariant()}", S(optStart), text, fileName);
                options.Add(new LikeOption(strategy, feature) { Span = S(optStart) });
            }
            while (AcceptSymbol(","));
            ExpectSymbol(")");
        }
        return new TableLike(source, options) { Span = S(start) };
    }

    private WatermarkSpec Watermark()
    {
        int start = p;
        Expect(Keyword.WATERMARK);
        Expect(Keyword.FOR);
        var column = IdentifierRule("a column name");
        Expect(Keyword.AS);
        var strategy = Expression();
        return new WatermarkSpec(column, strategy) { Span = S(start) };
    }

    private PrimaryKeySpec TablePrimaryKey()
    {
        int start = p;
        Identifier? constraintName = null;
        if (Accept(Keyword.CONSTRAINT)) constraintName = IdentifierRule("a constraint name");
        Expect(Keyword.PRIMARY);
        Expect(Keyword.KEY);
        var columns = ParenIdentifierList("a column name");
        bool notEnforced = AcceptNotEnforced();
        return new PrimaryKeySpec(columns, constraintName, notEnforced) { Span = S(start) };
    }

    private bool AcceptNotEnforced()
    {
        if (Is(Keyword.NOT) && PeekAt(1).Is(Keyword.ENFORCED))
        {
            Advance();
            Advance();
            return true;
        }
        if (Is(Keyword.ENFORCED)) throw FailAt(Cur, "Flink does not support ENFORCED primary keys; write 'PRIMARY KEY ... NOT ENFORCED'");
        return false;
    }

    private TableColumn Column(out PrimaryKeySpec? primaryKey)
    {
        int start = p;
        primaryKey = null;
        var name = IdentifierRule("a column name");
        if (Accept(Keyword.AS))
        {
            var expr = Expression();
            string? c = Accept(Keyword.COMMENT) ? ExpectString("a comment string") : null;
            return new ComputedColumn(name, expr, c) { Span = S(start) };
        }
        var type = DataTypeSpec();
        if (Accept(Keyword.METADATA))
        {
            string? key = null;
            if (Accept(Keyword.FROM)) key = ExpectString("a metadata key string");
            bool isVirtual = Accept(Keyword.VIRTUAL);
            string? c = Accept(Keyword.COMMENT) ? ExpectString("a comment string") : null;
            return new MetadataColumn(name, type, key, isVirtual, c) { Span = S(start) };
        }
        if (Is(Keyword.CONSTRAINT) || Is(Keyword.PRIMARY))
        {
            Identifier? constraintName = null;
            if (Accept(Keyword.CONSTRAINT)) constraintName = IdentifierRule("a constraint name");
            Expect(Keyword.PRIMARY);
            Expect(Keyword.KEY);
            bool notEnforced = AcceptNotEnforced();
            // The span covers the column definition, so that it contains the column name.
            primaryKey = new PrimaryKeySpec(new[] { name }, constraintName, notEnforced) { Span = S(start) };
        }
        string? comment = Accept(Keyword.COMMENT) ? ExpectString("a comment string") : null;
        return new PhysicalColumn(name, type, comment) { Span = S(start) };
    }

    private NodeList<TableOption> Options()
    {
        ExpectSymbol("(");
        var list = new List<TableOption>();
        if (!IsSymbol(")"))
        {
            do
            {
                int start = p;
                string key;
                if (Cur.Kind == TokenKind.String)
                {
                    key = Advance().Text;
                }
                else if (IsIdentifierToken(Cur))
                {
                    key = Advance().Text;
                    while (IsSymbol(".") && (PeekAt(1).Kind is TokenKind.Word or TokenKind.QuotedIdentifier))
                    {
                        Advance();
                        key += "." + Advance().Text;
                    }
                }
                else
                {
                    throw Fail("an option key string");
                }
                ExpectSymbol("=");
                string value = ExpectString("an option value string");
                list.Add(new TableOption(key, value) { Span = S(start) });
            }
            while (AcceptSymbol(","));
        }
        ExpectSymbol(")");
        return list;
    }

    private CreateView CreateViewRest(int start, bool temporary)
    {
        Expect(Keyword.VIEW);
        bool ifNotExists = AcceptIfNotExists();
        var name = ObjectNameRule("a view name");
        var columns = IsSymbol("(") ? ParenIdentifierList("a column name") : NodeList<Identifier>.Empty;
        string? comment = Accept(Keyword.COMMENT) ? ExpectString("a comment string") : null;
        Expect(Keyword.AS);
        var query = Query();
        return new CreateView(name, columns, query, comment, temporary, ifNotExists) { Span = S(start) };
    }

    private CreateFunction CreateFunctionRest(int start, FunctionScope scope)
    {
        Expect(Keyword.FUNCTION);
        bool ifNotExists = AcceptIfNotExists();
        var name = ObjectNameRule("a function name");
        Expect(Keyword.AS);
        string className = ExpectString("a class name string");
        string? language = null;
        if (Accept(Keyword.LANGUAGE))
        {
            if (Cur.Kind != TokenKind.Word) throw Fail("a language name");
            language = Advance().Text.ToUpperInvariant();
        }
        return new CreateFunction(name, className, language, scope, ifNotExists) { Span = S(start) };
    }

    private Statement Drop()
    {
        int start = p;
        Expect(Keyword.DROP);
        bool temporary = Accept(Keyword.TEMPORARY);
        bool system = temporary && Accept(Keyword.SYSTEM);
        if (Accept(Keyword.FUNCTION))
        {
            bool ifExists = AcceptIfExists();
            var name = ObjectNameRule("a function name");
            var scope = temporary ? (system ? FunctionScope.TemporarySystem : FunctionScope.Temporary) : FunctionScope.Catalog;
            return new DropFunction(name, scope, ifExists) { Span = S(start) };
        }
        if (system) throw Fail("'FUNCTION'", ["FUNCTION"]);
        if (!temporary && Accept(Keyword.CATALOG))
        {
            bool ifExists = AcceptIfExists();
            var name = IdentifierRule("a catalog name");
            return new DropCatalog(name, ifExists) { Span = S(start) };
        }
        if (!temporary && Accept(Keyword.DATABASE))
        {
            bool ifExists = AcceptIfExists();
            var name = ObjectNameRule("a database name");
            bool cascade = false;
            if (IsWordText(Cur, "CASCADE"))
            {
                Advance();
                cascade = true;
            }
            else if (IsWordText(Cur, "RESTRICT"))
            {
                Advance();
            }
            return new DropDatabase(name, ifExists, cascade) { Span = S(start) };
        }
        if (Accept(Keyword.TABLE))
        {
            bool ifExists = AcceptIfExists();
            var name = ObjectNameRule("a table name");
            return new DropTable(name, ifExists, temporary) { Span = S(start) };
        }
        if (Accept(Keyword.VIEW))
        {
            bool ifExists = AcceptIfExists();
            var name = ObjectNameRule("a view name");
            return new DropView(name, ifExists, temporary) { Span = S(start) };
        }
        throw Fail("TABLE, VIEW or FUNCTION", ["TABLE", "VIEW", "FUNCTION", "TEMPORARY"]);
    }

    private Insert InsertStatement()
    {
        int start = p;
        Expect(Keyword.INSERT);
        bool overwrite;
        if (Accept(Keyword.INTO)) overwrite = false;
        else if (Accept(Keyword.OVERWRITE)) overwrite = true;
        else throw Fail("INTO or OVERWRITE", ["INTO", "OVERWRITE"]);
        var target = ObjectNameRule("a table name");
        var hints = Hints();
        var partition = NodeList<PartitionValue>.Empty;
        if (Accept(Keyword.PARTITION))
        {
            ExpectSymbol("(");
            var values = new List<PartitionValue>();
            do
            {
                int vStart = p;
                var column = IdentifierRule("a partition column");
                ExpectSymbol("=");
                var value = Binary(PrecAdditive);
                values.Add(new PartitionValue(column, value) { Span = S(vStart) });
            }
            while (AcceptSymbol(","));
            ExpectSymbol(")");
            partition = values;
        }
        var columns = NodeList<Identifier>.Empty;
        if (IsSymbol("(") && !IsQueryStart(PeekAt(1)) && !PeekAt(1).IsSymbol("("))
            columns = ParenIdentifierList("a column name");
        var source = Query();
        return new Insert(target, hints, partition, columns, source, overwrite) { Span = S(start) };
    }

    private Statement Execute()
    {
        int start = p;
        Expect(Keyword.EXECUTE);
        if (Is(Keyword.INSERT))
        {
            var insert = InsertStatement();
            return insert with { Span = S(start) };
        }
        Expect(Keyword.STATEMENT);
        Expect(Keyword.SET);
        Expect(Keyword.BEGIN);
        var inserts = new List<Insert>();
        while (true)
        {
            while (AcceptSymbol(";"))
            {
            }
            if (Accept(Keyword.END)) break;
            if (!Is(Keyword.INSERT)) throw Fail("INSERT or END", ["INSERT", "END"]);
            inserts.Add(InsertStatement());
            if (!IsSymbol(";") && !Is(Keyword.END)) throw Fail("';'");
        }
        return new StatementSet(inserts) { Span = S(start) };
    }

    private StatementSet BeginStatementSet()
    {
        int start = p;
        Expect(Keyword.BEGIN);
        Expect(Keyword.STATEMENT);
        Expect(Keyword.SET);
        ExpectSymbol(";");
        var inserts = new List<Insert>();
        while (true)
        {
            while (AcceptSymbol(";"))
            {
            }
            if (Accept(Keyword.END)) break;
            if (!Is(Keyword.INSERT)) throw Fail("INSERT or END", ["INSERT", "END"]);
            inserts.Add(InsertStatement());
            if (!IsSymbol(";")) throw Fail("';'");
        }
        return new StatementSet(inserts) { Span = S(start) };
    }

    private SetOption Set()
    {
        int start = p;
        Expect(Keyword.SET);
        if (Cur.Kind == TokenKind.EndOfInput || IsSymbol(";")) return new SetOption(null, null) { Span = S(start) };
        string key = OptionWord("an option key string");
        ExpectSymbol("=");
        string value = OptionWord("an option value string");
        return new SetOption(key, value) { Span = S(start) };
    }

    /// <summary>A string, or (legacy SQL client form) an unquoted dotted word or number.</summary>
    private string OptionWord(string what)
    {
        if (Cur.Kind == TokenKind.String) return Advance().Text;
        if (Cur.Kind is TokenKind.Word or TokenKind.Integer or TokenKind.Decimal)
        {
            string s = Advance().Text;
            while (IsSymbol(".") && PeekAt(1).Kind is TokenKind.Word or TokenKind.Integer)
            {
                Advance();
                s += "." + Advance().Text;
            }
            return s;
        }
        throw Fail(what);
    }

    private ResetOption Reset()
    {
        int start = p;
        Expect(Keyword.RESET);
        string? key = null;
        if (Cur.Kind != TokenKind.EndOfInput && !IsSymbol(";")) key = OptionWord("an option key string");
        return new ResetOption(key) { Span = S(start) };
    }

    private Show ShowStatement()
    {
        int start = p;
        Expect(Keyword.SHOW);
        ShowKind kind = Cur.Keyword switch
        {
            Keyword.TABLES => ShowKind.Tables,
            Keyword.VIEWS => ShowKind.Views,
            Keyword.FUNCTIONS => ShowKind.Functions,
            Keyword.CATALOGS => ShowKind.Catalogs,
            Keyword.DATABASES => ShowKind.Databases,
            Keyword.MODULES => ShowKind.Modules,
            Keyword.JOBS => ShowKind.Jobs,
            Keyword.CURRENT when PeekAt(1).Is(Keyword.CATALOG) => ShowKind.CurrentCatalog,
            Keyword.CURRENT when PeekAt(1).Is(Keyword.DATABASE) => ShowKind.CurrentDatabase,
            _ => throw Fail("TABLES, VIEWS, FUNCTIONS, CATALOGS, DATABASES, MODULES or JOBS",
                ["TABLES", "VIEWS", "FUNCTIONS", "CATALOGS", "DATABASES", "MODULES", "JOBS"]),
        };
        Advance();
        if (kind is ShowKind.CurrentCatalog or ShowKind.CurrentDatabase) Advance();
        return new Show(kind) { Span = S(start) };
    }

    private Describe DescribeStatement()
    {
        int start = p;
        Advance();
        bool extended = Accept(Keyword.EXTENDED);
        var name = ObjectNameRule("a table name");
        return new Describe(name, extended) { Span = S(start) };
    }

    private Explain ExplainStatement()
    {
        int start = p;
        Expect(Keyword.EXPLAIN);
        var details = new List<ExplainDetail>();
        if (Accept(Keyword.PLAN))
        {
            Expect(Keyword.FOR);
        }
        else
        {
            while (Cur.Kind == TokenKind.Word && TryExplainDetail(Cur.Text, out var d))
            {
                Advance();
                details.Add(d);
                if (!AcceptSymbol(",")) break;
            }
        }
        var stmt = Statement();
        if (stmt is not (QueryStatement or Insert or StatementSet))
            throw new SqlParseException("EXPLAIN supports queries, INSERT and statement sets", stmt.Span, text, fileName);
        return new Explain(stmt, details) { Span = S(start) };
    }

    private static bool TryExplainDetail(string word, out ExplainDetail detail)
    {
        switch (word.ToUpperInvariant())
        {
            case "ESTIMATED_COST": detail = ExplainDetail.EstimatedCost; return true;
            case "CHANGELOG_MODE": detail = ExplainDetail.ChangelogMode; return true;
            case "JSON_EXECUTION_PLAN": detail = ExplainDetail.JsonExecutionPlan; return true;
            case "PLAN_ADVICE": detail = ExplainDetail.PlanAdvice; return true;
            default: detail = default; return false;
        }
    }

    private Use UseStatement()
    {
        int start = p;
        Expect(Keyword.USE);
        bool catalog = Is(Keyword.CATALOG) && IsIdentifierToken(PeekAt(1)) && Accept(Keyword.CATALOG);
        var name = ObjectNameRule(catalog ? "a catalog name" : "a database name");
        return new Use(name, catalog) { Span = S(start) };
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

    // ------------------------------------------------------------------------------------------------------------
    // Data types
    // ------------------------------------------------------------------------------------------------------------

    private TypeSpec DataTypeSpec()
    {
        int start = p;
        var type = DataTypeRule();
        return new TypeSpec(type) { Span = S(start) };
    }

    private DataType DataTypeRule()
    {
        Enter();
        try
        {
            return DataTypeCore();
        }
        finally
        {
            depth--;
        }
    }

    private DataType DataTypeCore()
    {
        var t = Cur;
        if (t.Kind != TokenKind.Word) throw Fail("a data type", TypeNames);
        DataType type;
        switch (t.Keyword)
        {
            case Keyword.STRING:
                Advance();
                type = DataType.String;
                break;
            case Keyword.VARCHAR:
                Advance();
                type = new DataType(TypeKind.String, Precision: OptionalLength(0));
                break;
            case Keyword.CHAR or Keyword.CHARACTER:
                Advance();
                if (Accept(Keyword.VARYING)) type = new DataType(TypeKind.String, Precision: OptionalLength(0));
                else type = new DataType(TypeKind.Char, Precision: OptionalLength(DataTypes.DefaultCharLength));
                break;
            case Keyword.BOOLEAN:
                Advance();
                type = DataType.Boolean;
                break;
            case Keyword.TINYINT:
                Advance();
                type = DataType.TinyInt;
                break;
            case Keyword.SMALLINT:
                Advance();
                type = DataType.SmallInt;
                break;
            case Keyword.INT or Keyword.INTEGER:
                Advance();
                type = DataType.Int;
                break;
            case Keyword.BIGINT:
                Advance();
                type = DataType.BigInt;
                break;
            case Keyword.FLOAT or Keyword.REAL:
                Advance();
                type = DataType.Float;
                break;
            case Keyword.DOUBLE:
                Advance();
                Accept(Keyword.PRECISION);
                type = DataType.Double;
                break;
            case Keyword.DECIMAL or Keyword.DEC or Keyword.NUMERIC:
            {
                Advance();
                int precision = DataTypes.DefaultDecimalPrecision, scale = 0;
                if (AcceptSymbol("("))
                {
                    precision = ExpectInt("a precision");
                    if (AcceptSymbol(",")) scale = ExpectInt("a scale");
                    ExpectSymbol(")");
                }
                type = DataType.Decimal(precision, scale);
                break;
            }
            case Keyword.DATE:
                Advance();
                type = DataType.Date;
                break;
            case Keyword.TIME:
                Advance();
                type = new DataType(TypeKind.Time, Precision: OptionalLength(DataTypes.DefaultTimePrecision));
                AcceptWithoutTimeZone();
                break;
            case Keyword.TIMESTAMP:
            {
                Advance();
                int precision = OptionalLength(DataTypes.DefaultTimestampPrecision);
                if (AcceptWithoutTimeZone())
                {
                    type = new DataType(TypeKind.Timestamp, Precision: precision);
                }
                else if (Is(Keyword.WITH))
                {
                    Advance();
                    if (!Accept(Keyword.LOCAL))
                        throw Fail("LOCAL (Flink supports TIMESTAMP WITH LOCAL TIME ZONE, not WITH TIME ZONE)", ["LOCAL"]);
                    Expect(Keyword.TIME);
                    Expect(Keyword.ZONE);
                    type = new DataType(TypeKind.TimestampLtz, Precision: precision);
                }
                else
                {
                    type = new DataType(TypeKind.Timestamp, Precision: precision);
                }
                break;
            }
            case Keyword.TIMESTAMP_LTZ:
                Advance();
                type = new DataType(TypeKind.TimestampLtz, Precision: OptionalLength(DataTypes.DefaultTimestampPrecision));
                break;
            case Keyword.BYTES:
                Advance();
                type = new DataType(TypeKind.Binary);
                break;
            case Keyword.VARBINARY:
                Advance();
                type = new DataType(TypeKind.Binary, Precision: OptionalLength(0));
                break;
            case Keyword.BINARY:
                Advance();
                type = new DataType(TypeKind.Binary, Precision: OptionalLength(1));
                break;
            case Keyword.ARRAY:
            {
                Advance();
                ExpectSymbol("<");
                var element = DataTypeRule();
                ExpectSymbol(">");
                type = DataType.ArrayOf(element);
                break;
            }
            case Keyword.MAP:
            {
                Advance();
                ExpectSymbol("<");
                var key = DataTypeRule();
                ExpectSymbol(",");
                var value = DataTypeRule();
                ExpectSymbol(">");
                type = DataType.MapOf(key, value);
                break;
            }
            case Keyword.ROW:
            {
                Advance();
                string close;
                if (AcceptSymbol("<")) close = ">";
                else if (AcceptSymbol("(")) close = ")";
                else throw Fail("'<' or '('");
                var fields = new List<Column>();
                if (!IsSymbol(close))
                {
                    do
                    {
                        var fieldName = IdentifierRule("a field name");
                        var fieldType = DataTypeRule();
                        if (Accept(Keyword.COMMENT)) ExpectString("a comment string");
                        fields.Add(new Column(fieldName.Value, fieldType));
                    }
                    while (AcceptSymbol(","));
                }
                ExpectSymbol(close);
                type = new DataType(TypeKind.Row, Fields: fields.ToArray());
                break;
            }
            default:
                throw Fail("a data type", TypeNames);
        }
        if (Is(Keyword.NOT) && PeekAt(1).Is(Keyword.NULL))
        {
            Advance();
            Advance();
            type = type.NotNull();
        }
        else if (Is(Keyword.NULL) && !PeekAt(1).Is(Keyword.ON))
        {
            Advance(); // explicit NULL; "RETURNING INT NULL ON ERROR" leaves NULL to the JSON clause
        }
        return type;
    }

    private int OptionalLength(int defaultValue)
    {
        if (!AcceptSymbol("(")) return defaultValue;
        int n = ExpectInt("a length or precision");
        ExpectSymbol(")");
        return n;
    }

    private bool AcceptWithoutTimeZone()
    {
        if (!Is(Keyword.WITHOUT)) return false;
        Advance();
        Expect(Keyword.TIME);
        Expect(Keyword.ZONE);
        return true;
    }

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
        var low = Binary(PrecAdditive);
        Expect(Keyword.AND);
        var high = Binary(PrecAdditive);
        return new BetweenExpr(left, low, high, negated) { Span = S(start) };
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
        if (IsSymbol("*"))
        {
            Advance();
            star = true;
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
        return new FunctionCall(name, args, distinct, star, filter, over) { Span = S(start) };
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
