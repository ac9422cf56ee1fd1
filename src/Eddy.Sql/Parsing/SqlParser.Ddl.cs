namespace Eddy.Sql.Parsing;

// CREATE TABLE/VIEW/FUNCTION (columns, watermark, primary key, LIKE, options) and DROP.
public sealed partial class SqlParser
{
    // ------------------------------------------------------------------------------------------------------------
    // CREATE and DROP
    // ------------------------------------------------------------------------------------------------------------

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

    /// <summary>
    /// A <c>WATERMARK FOR</c> or table <c>PRIMARY KEY</c>/<c>CONSTRAINT</c> element of a column list (CREATE TABLE,
    /// ALTER TABLE ADD/MODIFY), if one starts here; false when the element is a column.
    /// </summary>
    private bool SchemaConstraint(ref WatermarkSpec? watermark, ref PrimaryKeySpec? primaryKey)
    {
        var t = Cur;
        if (t.Is(Keyword.WATERMARK) && PeekAt(1).Is(Keyword.FOR))
        {
            if (watermark is not null) throw FailAt(t, "a table can have only one WATERMARK definition");
            watermark = Watermark();
            return true;
        }
        if ((t.Is(Keyword.PRIMARY) && PeekAt(1).Is(Keyword.KEY)) || t.Is(Keyword.CONSTRAINT))
        {
            if (primaryKey is not null) throw FailAt(t, "a table can have only one PRIMARY KEY");
            primaryKey = TablePrimaryKey();
            return true;
        }
        return false;
    }

    /// <summary>A column definition; an inline <c>PRIMARY KEY</c> on it becomes the table's (only one per table).</summary>
    private TableColumn ColumnWithKey(ref PrimaryKeySpec? primaryKey)
    {
        var column = Column(out var columnKey);
        if (columnKey is not null)
        {
            if (primaryKey is not null) throw FailAt(tokens[p - 1], "a table can have only one PRIMARY KEY");
            primaryKey = columnKey;
        }
        return column;
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
                if (!SchemaConstraint(ref watermark, ref primaryKey)) columns.Add(ColumnWithKey(ref primaryKey));
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
        var jars = new List<JarPath>();
        if (Accept(Keyword.USING))
        {
            do
            {
                if (!IsWordText(Cur, "JAR")) throw Fail("JAR", ["JAR"]);
                Advance();
                jars.Add(JarPathRule());
            }
            while (AcceptSymbol(","));
        }
        return new CreateFunction(name, className, language, scope, ifNotExists) { Span = S(start), Jars = new NodeList<JarPath>(jars) };
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
}

// ALTER TABLE / VIEW / DATABASE / FUNCTION, as Flink's grammar (docs: "ALTER Statements").
public sealed partial class SqlParser
{
    private Statement Alter()
    {
        int start = p;
        Advance(); // ALTER
        bool temporary = Accept(Keyword.TEMPORARY);
        bool system = temporary && Accept(Keyword.SYSTEM);
        if (Accept(Keyword.FUNCTION))
        {
            bool ifExists = AcceptIfExists();
            var name = ObjectNameRule("a function name");
            Expect(Keyword.AS);
            string className = ExpectString("a class name string");
            string? language = null;
            if (Accept(Keyword.LANGUAGE))
            {
                if (Cur.Kind != TokenKind.Word) throw Fail("a language name");
                language = Advance().Text.ToUpperInvariant();
            }
            var scope = temporary ? (system ? FunctionScope.TemporarySystem : FunctionScope.Temporary) : FunctionScope.Catalog;
            return new AlterFunction(name, className, language, scope, ifExists) { Span = S(start) };
        }
        if (temporary) throw Fail("'FUNCTION'", ["FUNCTION"]);
        if (Accept(Keyword.TABLE)) return AlterTableRest(start);
        if (Accept(Keyword.VIEW))
        {
            var name = ObjectNameRule("a view name");
            if (IsWordText(Cur, "RENAME"))
            {
                Advance();
                Expect(Keyword.TO);
                var newName = ObjectNameRule("a view name");
                return new AlterView(name, newName, null) { Span = S(start) };
            }
            if (Accept(Keyword.AS)) return new AlterView(name, null, Query()) { Span = S(start) };
            throw Fail("RENAME TO or AS", ["RENAME", "AS"]);
        }
        if (Accept(Keyword.DATABASE))
        {
            var name = ObjectNameRule("a database name");
            Expect(Keyword.SET);
            return new AlterDatabase(name, Options()) { Span = S(start) };
        }
        throw Fail("TABLE, VIEW, DATABASE or FUNCTION", ["TABLE", "VIEW", "DATABASE", "FUNCTION"]);
    }

    private AlterTable AlterTableRest(int start)
    {
        bool ifExists = AcceptIfExists();
        var name = ObjectNameRule("a table name");
        int opStart = p;
        AlterTableOperation op;
        if (IsWordText(Cur, "RENAME"))
        {
            Advance();
            if (Accept(Keyword.TO))
            {
                op = new AlterTableRename(ObjectNameRule("a table name"));
            }
            else
            {
                var column = IdentifierRule("a column name or TO");
                Expect(Keyword.TO);
                op = new AlterTableRenameColumn(column, IdentifierRule("a column name"));
            }
        }
        else if (Accept(Keyword.SET))
        {
            op = new AlterTableSet(Options());
        }
        else if (Accept(Keyword.RESET))
        {
            ExpectSymbol("(");
            var keys = new List<OptionKey>();
            if (!IsSymbol(")"))
            {
                do
                {
                    int keyStart = p;
                    string key = ExpectString("an option key string");
                    keys.Add(new OptionKey(key) { Span = S(keyStart) });
                }
                while (AcceptSymbol(","));
            }
            ExpectSymbol(")");
            op = new AlterTableReset(keys);
        }
        else if (IsWordText(Cur, "ADD") || IsWordText(Cur, "MODIFY"))
        {
            bool modify = IsWordText(Cur, "MODIFY");
            Advance();
            var columns = new List<AlterColumn>();
            WatermarkSpec? watermark = null;
            PrimaryKeySpec? primaryKey = null;
            bool parenthesized = AcceptSymbol("(");
            do
            {
                if (!SchemaConstraint(ref watermark, ref primaryKey))
                {
                    int columnStart = p;
                    var column = ColumnWithKey(ref primaryKey);
                    bool first = Accept(Keyword.FIRST);
                    Identifier? after = null;
                    if (!first && IsWordText(Cur, "AFTER"))
                    {
                        Advance();
                        after = IdentifierRule("a column name");
                    }
                    columns.Add(new AlterColumn(column, first, after) { Span = S(columnStart) });
                }
            }
            while (parenthesized && AcceptSymbol(","));
            if (parenthesized) ExpectSymbol(")");
            op = new AlterTableSchema(modify, columns, watermark, primaryKey);
        }
        else if (Accept(Keyword.DROP))
        {
            if (Accept(Keyword.PRIMARY))
            {
                Expect(Keyword.KEY);
                op = new AlterTableDrop(NodeList<Identifier>.Empty, true, null, false);
            }
            else if (Accept(Keyword.CONSTRAINT))
            {
                op = new AlterTableDrop(NodeList<Identifier>.Empty, false, IdentifierRule("a constraint name"), false);
            }
            else if (Accept(Keyword.WATERMARK))
            {
                op = new AlterTableDrop(NodeList<Identifier>.Empty, false, null, true);
            }
            else
            {
                var columns = IsSymbol("(") ? ParenIdentifierList("a column name") : new NodeList<Identifier>([IdentifierRule("a column name")]);
                op = new AlterTableDrop(columns, false, null, false);
            }
        }
        else
        {
            throw Fail("ADD, MODIFY, DROP, RENAME, SET or RESET", ["ADD", "MODIFY", "DROP", "RENAME", "SET", "RESET"]);
        }
        op = op with { Span = S(opStart) };
        return new AlterTable(name, op, ifExists) { Span = S(start) };
    }
}
