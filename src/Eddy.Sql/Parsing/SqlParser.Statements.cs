namespace Eddy.Sql.Parsing;

// Scripts and the statements other than CREATE/DROP: INSERT, EXECUTE, statement sets, SET/RESET, SHOW, DESCRIBE, EXPLAIN, USE.
public sealed partial class SqlParser
{
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
        if (IsWordText(t, "ADD") && IsWordText(PeekAt(1), "JAR")) return JarStatement(remove: false);
        if (IsWordText(t, "REMOVE") && IsWordText(PeekAt(1), "JAR")) return JarStatement(remove: true);
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
        if (t.Kind == TokenKind.Word)
        {
            switch (t.Text.ToUpperInvariant())
            {
                case "ALTER": return Alter();
                case "REPLACE" when PeekAt(1).Is(Keyword.TABLE):
                {
                    int start = p;
                    Advance();
                    var replace = CreateTableRest(start, temporary: false, orReplace: true);
                    if (replace.AsQuery is null) throw new SqlParseException("REPLACE TABLE needs AS query (Flink's REPLACE TABLE AS SELECT)", replace.Span, text, fileName);
                    return replace with { ReplaceOnly = true };
                }
                case "LOAD" when IsWordText(PeekAt(1), "MODULE"): return LoadModuleStatement();
                case "UNLOAD" when IsWordText(PeekAt(1), "MODULE"):
                {
                    int start = p;
                    Advance();
                    Advance();
                    var name = IdentifierRule("a module name");
                    return new UnloadModule(name) { Span = S(start) };
                }
                case "TRUNCATE" when PeekAt(1).Is(Keyword.TABLE): return Unsupported("TRUNCATE TABLE");
                case "ANALYZE" when PeekAt(1).Is(Keyword.TABLE): return Unsupported("ANALYZE TABLE");
                case "CALL": return Unsupported("CALL");
                case "DELETE" when PeekAt(1).Is(Keyword.FROM): return Unsupported("DELETE");
                case "UPDATE": return Unsupported("UPDATE");
                case "STOP" when IsWordText(PeekAt(1), "JOB"): return Unsupported("STOP JOB");
            }
        }
        throw Fail("a statement (SELECT, INSERT, CREATE, DROP, SET, ...)", StatementKeywords);
    }

    /// <summary>A statement Eddy refuses as a whole: read up to its end (';' outside parentheses) and kept as written.</summary>
    private UnsupportedStatement Unsupported(string construct)
    {
        int start = p;
        int depth = 0;
        while (Cur.Kind != TokenKind.EndOfInput && !(depth == 0 && IsSymbol(";")))
        {
            if (IsSymbol("(")) depth++;
            else if (IsSymbol(")")) depth--;
            Advance();
        }
        var span = S(start);
        return new UnsupportedStatement(construct, text.Substring(span.Offset, span.Length)) { Span = span };
    }

    private LoadModule LoadModuleStatement()
    {
        int start = p;
        Advance();
        Advance();
        var name = IdentifierRule("a module name");
        var options = Accept(Keyword.WITH) ? Options() : NodeList<TableOption>.Empty;
        return new LoadModule(name, options) { Span = S(start) };
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
        return StatementSetBody(start);
    }

    /// <summary><c>STATEMENT SET BEGIN insert; ... END</c> (after EXECUTE or EXPLAIN).</summary>
    private StatementSet StatementSetBody(int start)
    {
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

    private Statement ShowStatement()
    {
        int start = p;
        Expect(Keyword.SHOW);
        if (Accept(Keyword.CREATE))
        {
            ShowKind what;
            if (Accept(Keyword.TABLE)) what = ShowKind.CreateTable;
            else if (Accept(Keyword.VIEW)) what = ShowKind.CreateView;
            else throw Fail("TABLE or VIEW", ["TABLE", "VIEW"]);
            var objectName = ObjectNameRule(what == ShowKind.CreateTable ? "a table name" : "a view name");
            return new Show(what, objectName) { Span = S(start) };
        }
        if (Cur.IsWord && Cur.Text.Equals("COLUMNS", StringComparison.OrdinalIgnoreCase))
        {
            Advance();
            if (!Accept(Keyword.FROM) && !Accept(Keyword.IN)) throw Fail("FROM or IN", ["FROM", "IN"]);
            var table = ObjectNameRule("a table name");
            return new Show(ShowKind.Columns, table, ShowLikeClause(allowILike: false)) { Span = S(start) };
        }
        if (IsWordText(Cur, "PARTITIONS") || IsWordText(Cur, "PROCEDURES"))
        {
            p = start;
            return Unsupported(IsWordText(PeekAt(1), "PARTITIONS") ? "SHOW PARTITIONS" : "SHOW PROCEDURES");
        }
        if (Is(Keyword.FULL) && PeekAt(1).Is(Keyword.MODULES))
        {
            Advance();
            Advance();
            return new Show(ShowKind.FullModules) { Span = S(start) };
        }
        if (IsWordText(Cur, "USER") && PeekAt(1).Is(Keyword.FUNCTIONS))
        {
            Advance();
            Advance();
            var db = Accept(Keyword.FROM) || Accept(Keyword.IN) ? ObjectNameRule("a database name") : null;
            return new Show(ShowKind.UserFunctions, db, ShowLikeClause(allowILike: true)) { Span = S(start) };
        }
        if (IsWordText(Cur, "JARS"))
        {
            Advance();
            return new Show(ShowKind.Jars) { Span = S(start) };
        }
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
            _ => throw Fail("TABLES, VIEWS, FUNCTIONS, CATALOGS, DATABASES, MODULES, JOBS, JARS, COLUMNS or CREATE",
                ["TABLES", "VIEWS", "FUNCTIONS", "CATALOGS", "DATABASES", "MODULES", "JOBS", "JARS", "COLUMNS", "CREATE"]),
        };
        Advance();
        if (kind is ShowKind.CurrentCatalog or ShowKind.CurrentDatabase) Advance();
        ObjectName? database = null;
        if (kind is ShowKind.Tables or ShowKind.Views or ShowKind.Functions && (Accept(Keyword.FROM) || Accept(Keyword.IN)))
            database = ObjectNameRule("a database name");
        var like = kind switch
        {
            ShowKind.Tables => ShowLikeClause(allowILike: false),
            ShowKind.Functions => ShowLikeClause(allowILike: true),
            _ => null,
        };
        return new Show(kind, database, like) { Span = S(start) };
    }

    /// <summary><c>[NOT] LIKE 'pattern'</c> (and <c>ILIKE</c> where Flink's grammar has it) after SHOW, or null.</summary>
    private ShowLike? ShowLikeClause(bool allowILike)
    {
        int start = p;
        bool not = Is(Keyword.NOT) && (PeekAt(1).Is(Keyword.LIKE) || (allowILike && IsWordText(PeekAt(1), "ILIKE")));
        if (not) Advance();
        bool ilike = false;
        if (Accept(Keyword.LIKE))
        {
        }
        else if (allowILike && IsWordText(Cur, "ILIKE"))
        {
            Advance();
            ilike = true;
        }
        else
        {
            return null;
        }
        string pattern = ExpectString("a LIKE pattern string");
        return new ShowLike(pattern, not, ilike) { Span = S(start) };
    }

    /// <summary><c>ADD JAR 'path'</c> or <c>REMOVE JAR 'path'</c> (ADD, REMOVE and JAR are no reserved words).</summary>
    private Statement JarStatement(bool remove)
    {
        int start = p;
        Advance();
        Advance();
        var jar = JarPathRule();
        return remove ? new RemoveJar(jar) { Span = S(start) } : new AddJar(jar) { Span = S(start) };
    }

    private JarPath JarPathRule()
    {
        int start = p;
        string path = ExpectString("the path of an assembly (a string)");
        return new JarPath(path) { Span = S(start) };
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
        // EXPLAIN STATEMENT SET BEGIN ...; END is the EXECUTE STATEMENT SET form without EXECUTE.
        var stmt = Is(Keyword.STATEMENT) ? StatementSetBody(p) : Statement();
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

    private Statement UseStatement()
    {
        int start = p;
        Expect(Keyword.USE);
        if (Is(Keyword.MODULES) && IsIdentifierToken(PeekAt(1)))
        {
            Advance();
            var names = new List<Identifier>();
            do
            {
                names.Add(IdentifierRule("a module name"));
            }
            while (AcceptSymbol(","));
            return new UseModules(names) { Span = S(start) };
        }
        bool catalog = Is(Keyword.CATALOG) && IsIdentifierToken(PeekAt(1)) && Accept(Keyword.CATALOG);
        var name = ObjectNameRule(catalog ? "a catalog name" : "a database name");
        return new Use(name, catalog) { Span = S(start) };
    }
}
