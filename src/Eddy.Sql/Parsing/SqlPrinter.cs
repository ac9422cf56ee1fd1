using System.Text;
using QueryNode = Eddy.Sql.Parsing.Query;

namespace Eddy.Sql.Parsing;

/// <summary>
/// Prints a syntax tree back as Flink SQL. The output parses back to an equal tree: parentheses are added where
/// precedence needs them, identifiers are back-quoted where needed, and strings are re-escaped.
/// </summary>
public static class SqlPrinter
{
    public static string Print(SqlNode node)
    {
        var sb = new StringBuilder();
        new Writer(sb).Node(node);
        return sb.ToString();
    }

    /// <summary>As <see cref="Print"/>, with every identifier back-quoted, as Flink's DESCRIBE and SHOW CREATE TABLE print expressions.</summary>
    public static string PrintQuoted(SqlNode node)
    {
        var sb = new StringBuilder();
        new Writer(sb, quoteAll: true).Node(node);
        return sb.ToString();
    }

    public static void AppendIdentifier(StringBuilder sb, string name)
    {
        if (Keywords.NeedsQuoting(name)) sb.Append('`').Append(name.Replace("`", "``", StringComparison.Ordinal)).Append('`');
        else sb.Append(name);
    }

    public static string Quote(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    /// <summary>The binding power of an expression's outermost operator (see <see cref="SqlParser"/>).</summary>
    internal static int Precedence(Expr e) => e switch
    {
        BinaryExpr b => b.Operator switch
        {
            BinaryOperator.Or => SqlParser.PrecOr,
            BinaryOperator.And => SqlParser.PrecAnd,
            BinaryOperator.Add or BinaryOperator.Subtract => SqlParser.PrecAdditive,
            BinaryOperator.Multiply or BinaryOperator.Divide or BinaryOperator.Modulo or BinaryOperator.Concat => SqlParser.PrecMultiplicative,
            _ => SqlParser.PrecComparison,
        },
        UnaryExpr { Operator: UnaryOperator.Not } => SqlParser.PrecNot,
        UnaryExpr => SqlParser.PrecUnary,
        IsExpr or IsDistinctFromExpr or IsJsonExpr => SqlParser.PrecIs,
        OverlapsExpr => SqlParser.PrecComparison,
        InListExpr or InSubqueryExpr or LikeExpr or BetweenExpr => SqlParser.PrecIn,
        _ => SqlParser.PrecPrimary,
    };

    private static readonly HashSet<string> Niladic = new(StringComparer.OrdinalIgnoreCase)
    {
        "CURRENT_DATE", "CURRENT_TIME", "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP",
    };

    private sealed class Writer(StringBuilder sb, bool quoteAll = false)
    {
        public void Node(SqlNode node)
        {
            switch (node)
            {
                case SqlScript s:
                    foreach (var st in s.Statements)
                    {
                        Statement(st);
                        sb.Append(";\n");
                    }
                    break;
                case Statement st: Statement(st); break;
                case QueryExpr q: Query(q); break;
                case Expr e: Expr(e); break;
                case TableRef t: TableRef(t); break;
                case TypeSpec t: DataTypes.Append(sb, t.Type); break;
                case Identifier i: Id(i); break;
                case ObjectName n: Name(n); break;
                case SelectItem item: SelectItem(item); break;
                case OrderItem o: OrderItem(o); break;
                case WindowSpec w: WindowSpec(w); break;
                case TableColumn c: Column(c); break;
                case WatermarkSpec w: Watermark(w); break;
                case PrimaryKeySpec pk: PrimaryKey(pk); break;
                case TableOption o: Option(o); break;
                case IntervalQualifier q: Qualifier(q); break;
                default: throw new NotSupportedException($"cannot print {node.GetType().Name}");
            }
        }

        private void Id(Identifier id)
        {
            if (quoteAll) sb.Append('`').Append(id.Value.Replace("`", "``", StringComparison.Ordinal)).Append('`');
            else AppendIdentifier(sb, id.Value);
        }

        private void Name(ObjectName name)
        {
            for (int i = 0; i < name.Parts.Count; i++)
            {
                if (i > 0) sb.Append('.');
                Id(name.Parts[i]);
            }
        }

        private void IdList(NodeList<Identifier> ids)
        {
            sb.Append('(');
            for (int i = 0; i < ids.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                Id(ids[i]);
            }
            sb.Append(')');
        }

        private void Str(string s) => sb.Append(Quote(s));

        private void ExprList(NodeList<Expr> list)
        {
            for (int i = 0; i < list.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                Expr(list[i]);
            }
        }

        // --------------------------------------------------------------------------------------------------------
        // Statements
        // --------------------------------------------------------------------------------------------------------

        private void Statement(Statement statement)
        {
            DeepStack.Ensure();
            switch (statement)
            {
                case CreateTable t: CreateTable(t); break;
                case DropTable d:
                    sb.Append("DROP ");
                    if (d.Temporary) sb.Append("TEMPORARY ");
                    sb.Append("TABLE ");
                    if (d.IfExists) sb.Append("IF EXISTS ");
                    Name(d.Name);
                    break;
                case CreateView v:
                    sb.Append("CREATE ");
                    if (v.Temporary) sb.Append("TEMPORARY ");
                    sb.Append("VIEW ");
                    if (v.IfNotExists) sb.Append("IF NOT EXISTS ");
                    Name(v.Name);
                    if (!v.Columns.IsEmpty)
                    {
                        sb.Append(' ');
                        IdList(v.Columns);
                    }
                    if (v.Comment is not null)
                    {
                        sb.Append(" COMMENT ");
                        Str(v.Comment);
                    }
                    sb.Append(" AS\n");
                    Query(v.Query);
                    break;
                case DropView d:
                    sb.Append("DROP ");
                    if (d.Temporary) sb.Append("TEMPORARY ");
                    sb.Append("VIEW ");
                    if (d.IfExists) sb.Append("IF EXISTS ");
                    Name(d.Name);
                    break;
                case CreateFunction f:
                    sb.Append("CREATE ").Append(ScopeText(f.Scope)).Append("FUNCTION ");
                    if (f.IfNotExists) sb.Append("IF NOT EXISTS ");
                    Name(f.Name);
                    sb.Append(" AS ");
                    Str(f.ClassName);
                    if (f.Language is not null) sb.Append(" LANGUAGE ").Append(f.Language);
                    for (int j = 0; j < f.Jars.Count; j++)
                    {
                        sb.Append(j == 0 ? " USING JAR " : ", JAR ");
                        Str(f.Jars[j].Path);
                    }
                    break;
                case AddJar a:
                    sb.Append("ADD JAR ");
                    Str(a.Jar.Path);
                    break;
                case RemoveJar r:
                    sb.Append("REMOVE JAR ");
                    Str(r.Jar.Path);
                    break;
                case DropFunction f:
                    sb.Append("DROP ").Append(ScopeText(f.Scope)).Append("FUNCTION ");
                    if (f.IfExists) sb.Append("IF EXISTS ");
                    Name(f.Name);
                    break;
                case Insert i: Insert(i); break;
                case StatementSet s:
                    sb.Append("EXECUTE STATEMENT SET\nBEGIN\n");
                    foreach (var i in s.Inserts)
                    {
                        Insert(i);
                        sb.Append(";\n");
                    }
                    sb.Append("END");
                    break;
                case SetOption s:
                    sb.Append("SET");
                    if (s.Key is not null)
                    {
                        sb.Append(' ');
                        Str(s.Key);
                        sb.Append(" = ");
                        Str(s.Value ?? "");
                    }
                    break;
                case ResetOption r:
                    sb.Append("RESET");
                    if (r.Key is not null)
                    {
                        sb.Append(' ');
                        Str(r.Key);
                    }
                    break;
                case Show s:
                    sb.Append("SHOW ").Append(s.Kind switch
                    {
                        ShowKind.CurrentCatalog => "CURRENT CATALOG",
                        ShowKind.CurrentDatabase => "CURRENT DATABASE",
                        ShowKind.CreateTable => "CREATE TABLE ",
                        ShowKind.CreateView => "CREATE VIEW ",
                        ShowKind.Columns => "COLUMNS FROM ",
                        ShowKind.UserFunctions => "USER FUNCTIONS",
                        ShowKind.FullModules => "FULL MODULES",
                        _ => s.Kind.ToString().ToUpperInvariant(),
                    });
                    if (s.Name is not null)
                    {
                        if (s.Kind is ShowKind.Tables or ShowKind.Views or ShowKind.Functions or ShowKind.UserFunctions) sb.Append(" FROM ");
                        Name(s.Name);
                    }
                    if (s.Like is not null)
                    {
                        sb.Append(s.Like.Not ? " NOT " : " ").Append(s.Like.CaseInsensitive ? "ILIKE " : "LIKE ");
                        Str(s.Like.Pattern);
                    }
                    break;
                case CreateCatalog c:
                    sb.Append("CREATE CATALOG ");
                    if (c.IfNotExists) sb.Append("IF NOT EXISTS ");
                    Id(c.Name);
                    if (c.Comment is not null)
                    {
                        sb.Append(" COMMENT ");
                        Str(c.Comment);
                    }
                    OptionsClause(c.Options);
                    break;
                case DropCatalog d:
                    sb.Append("DROP CATALOG ");
                    if (d.IfExists) sb.Append("IF EXISTS ");
                    Id(d.Name);
                    break;
                case CreateDatabase c:
                    sb.Append("CREATE DATABASE ");
                    if (c.IfNotExists) sb.Append("IF NOT EXISTS ");
                    Name(c.Name);
                    if (c.Comment is not null)
                    {
                        sb.Append(" COMMENT ");
                        Str(c.Comment);
                    }
                    OptionsClause(c.Options);
                    break;
                case DropDatabase d:
                    sb.Append("DROP DATABASE ");
                    if (d.IfExists) sb.Append("IF EXISTS ");
                    Name(d.Name);
                    if (d.Cascade) sb.Append(" CASCADE");
                    break;
                case Describe d:
                    sb.Append("DESCRIBE ");
                    if (d.Extended) sb.Append("EXTENDED ");
                    Name(d.Name);
                    break;
                case Explain e:
                    sb.Append("EXPLAIN ");
                    if (e.Details.IsEmpty)
                    {
                        sb.Append("PLAN FOR ");
                    }
                    else
                    {
                        for (int i = 0; i < e.Details.Count; i++)
                        {
                            if (i > 0) sb.Append(", ");
                            sb.Append(e.Details[i] switch
                            {
                                ExplainDetail.EstimatedCost => "ESTIMATED_COST",
                                ExplainDetail.ChangelogMode => "CHANGELOG_MODE",
                                ExplainDetail.JsonExecutionPlan => "JSON_EXECUTION_PLAN",
                                _ => "PLAN_ADVICE",
                            });
                        }
                        sb.Append(' ');
                    }
                    Statement(e.Statement);
                    break;
                case Use u:
                    sb.Append(u.Catalog ? "USE CATALOG " : "USE ");
                    Name(u.Name);
                    break;
                case QueryStatement q: Query(q.Query); break;
                case AlterTable a: AlterTable(a); break;
                case AlterView v:
                    sb.Append("ALTER VIEW ");
                    Name(v.Name);
                    if (v.NewName is not null)
                    {
                        sb.Append(" RENAME TO ");
                        Name(v.NewName);
                    }
                    else
                    {
                        sb.Append(" AS\n");
                        Query(v.Query!);
                    }
                    break;
                case AlterDatabase d:
                    sb.Append("ALTER DATABASE ");
                    Name(d.Name);
                    sb.Append(" SET (");
                    for (int i = 0; i < d.Options.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        Option(d.Options[i]);
                    }
                    sb.Append(')');
                    break;
                case AlterFunction f:
                    sb.Append("ALTER ").Append(ScopeText(f.Scope)).Append("FUNCTION ");
                    if (f.IfExists) sb.Append("IF EXISTS ");
                    Name(f.Name);
                    sb.Append(" AS ");
                    Str(f.ClassName);
                    if (f.Language is not null) sb.Append(" LANGUAGE ").Append(f.Language);
                    break;
                case LoadModule l:
                    sb.Append("LOAD MODULE ");
                    Id(l.Name);
                    OptionsClause(l.Options);
                    break;
                case UnloadModule u:
                    sb.Append("UNLOAD MODULE ");
                    Id(u.Name);
                    break;
                case UseModules u:
                    sb.Append("USE MODULES ");
                    for (int i = 0; i < u.Names.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        Id(u.Names[i]);
                    }
                    break;
                case UnsupportedStatement u: sb.Append(u.Text); break;
                default: throw new NotSupportedException($"cannot print {statement.GetType().Name}");
            }
        }

        private static string ScopeText(FunctionScope scope) => scope switch
        {
            FunctionScope.Temporary => "TEMPORARY ",
            FunctionScope.TemporarySystem => "TEMPORARY SYSTEM ",
            _ => "",
        };

        private void Insert(Insert i)
        {
            sb.Append(i.Overwrite ? "INSERT OVERWRITE " : "INSERT INTO ");
            Name(i.Target);
            if (!i.TargetHints.IsEmpty)
            {
                sb.Append(' ');
                Hints(i.TargetHints);
            }
            if (!i.StaticPartition.IsEmpty)
            {
                sb.Append(" PARTITION (");
                for (int k = 0; k < i.StaticPartition.Count; k++)
                {
                    if (k > 0) sb.Append(", ");
                    Id(i.StaticPartition[k].Column);
                    sb.Append(" = ");
                    Expr(i.StaticPartition[k].Value, SqlParser.PrecAdditive);
                }
                sb.Append(')');
            }
            if (!i.Columns.IsEmpty)
            {
                sb.Append(' ');
                IdList(i.Columns);
            }
            sb.Append('\n');
            Query(i.Source);
        }

        private void CreateTable(CreateTable t)
        {
            if (t.ReplaceOnly) sb.Append("REPLACE ");
            else sb.Append(t.OrReplace ? "CREATE OR REPLACE " : "CREATE ");
            if (t.Temporary) sb.Append("TEMPORARY ");
            sb.Append("TABLE ");
            if (t.IfNotExists) sb.Append("IF NOT EXISTS ");
            Name(t.Name);
            var elements = new List<SqlNode>(t.Columns);
            if (t.Watermark is not null) elements.Add(t.Watermark);
            if (t.PrimaryKey is not null) elements.Add(t.PrimaryKey);
            if (elements.Count > 0)
            {
                sb.Append(" (\n");
                for (int i = 0; i < elements.Count; i++)
                {
                    sb.Append("  ");
                    Node(elements[i]);
                    sb.Append(i < elements.Count - 1 ? ",\n" : "\n");
                }
                sb.Append(')');
            }
            if (t.Comment is not null)
            {
                sb.Append(" COMMENT ");
                Str(t.Comment);
            }
            if (!t.PartitionedBy.IsEmpty)
            {
                sb.Append(" PARTITIONED BY ");
                IdList(t.PartitionedBy);
            }
            OptionsClause(t.Options);
            if (t.Like is not null)
            {
                sb.Append(" LIKE ");
                Name(t.Like.Source);
                if (!t.Like.Options.IsEmpty)
                {
                    sb.Append(" (");
                    for (int i = 0; i < t.Like.Options.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        sb.Append(t.Like.Options[i].Strategy.ToString().ToUpperInvariant()).Append(' ')
                            .Append(t.Like.Options[i].Feature.ToString().ToUpperInvariant());
                    }
                    sb.Append(')');
                }
            }
            if (t.AsQuery is not null)
            {
                sb.Append(" AS\n");
                Query(t.AsQuery);
            }
        }

        private void AlterTable(AlterTable a)
        {
            sb.Append("ALTER TABLE ");
            if (a.IfExists) sb.Append("IF EXISTS ");
            Name(a.Name);
            switch (a.Operation)
            {
                case AlterTableRename r:
                    sb.Append(" RENAME TO ");
                    Name(r.NewName);
                    break;
                case AlterTableRenameColumn r:
                    sb.Append(" RENAME ");
                    Id(r.Column);
                    sb.Append(" TO ");
                    Id(r.NewName);
                    break;
                case AlterTableSet set:
                    sb.Append(" SET (");
                    for (int i = 0; i < set.Options.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        Option(set.Options[i]);
                    }
                    sb.Append(')');
                    break;
                case AlterTableReset reset:
                    sb.Append(" RESET (");
                    for (int i = 0; i < reset.Keys.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        Str(reset.Keys[i].Key);
                    }
                    sb.Append(')');
                    break;
                case AlterTableSchema schema:
                {
                    sb.Append(schema.Modify ? " MODIFY (" : " ADD (");
                    bool any = false;
                    void Separate()
                    {
                        if (any) sb.Append(", ");
                        any = true;
                    }
                    foreach (var c in schema.Columns)
                    {
                        Separate();
                        Column(c.Column);
                        if (c.First) sb.Append(" FIRST");
                        if (c.After is not null)
                        {
                            sb.Append(" AFTER ");
                            Id(c.After);
                        }
                    }
                    if (schema.PrimaryKey is not null)
                    {
                        Separate();
                        PrimaryKey(schema.PrimaryKey);
                    }
                    if (schema.Watermark is not null)
                    {
                        Separate();
                        Watermark(schema.Watermark);
                    }
                    sb.Append(')');
                    break;
                }
                case AlterTableDrop drop:
                    sb.Append(" DROP ");
                    if (drop.PrimaryKey) sb.Append("PRIMARY KEY");
                    else if (drop.Watermark) sb.Append("WATERMARK");
                    else if (drop.Constraint is not null)
                    {
                        sb.Append("CONSTRAINT ");
                        Id(drop.Constraint);
                    }
                    else IdList(drop.Columns);
                    break;
            }
        }

        private void OptionsClause(NodeList<TableOption> options)
        {
            if (options.IsEmpty) return;
            sb.Append(" WITH (\n");
            for (int i = 0; i < options.Count; i++)
            {
                sb.Append("  ");
                Option(options[i]);
                sb.Append(i < options.Count - 1 ? ",\n" : "\n");
            }
            sb.Append(')');
        }

        private void Column(TableColumn c)
        {
            Id(c.Name);
            switch (c)
            {
                case PhysicalColumn pc:
                    sb.Append(' ');
                    DataTypes.Append(sb, pc.Type.Type);
                    break;
                case ComputedColumn cc:
                    sb.Append(" AS ");
                    Expr(cc.Expression);
                    break;
                case MetadataColumn mc:
                    sb.Append(' ');
                    DataTypes.Append(sb, mc.Type.Type);
                    sb.Append(" METADATA");
                    if (mc.MetadataKey is not null)
                    {
                        sb.Append(" FROM ");
                        Str(mc.MetadataKey);
                    }
                    if (mc.IsVirtual) sb.Append(" VIRTUAL");
                    break;
            }
            if (c.Comment is not null)
            {
                sb.Append(" COMMENT ");
                Str(c.Comment);
            }
        }

        private void Watermark(WatermarkSpec w)
        {
            sb.Append("WATERMARK FOR ");
            Id(w.Column);
            sb.Append(" AS ");
            Expr(w.Strategy);
        }

        private void PrimaryKey(PrimaryKeySpec pk)
        {
            if (pk.ConstraintName is not null)
            {
                sb.Append("CONSTRAINT ");
                Id(pk.ConstraintName);
                sb.Append(' ');
            }
            sb.Append("PRIMARY KEY ");
            IdList(pk.Columns);
            if (pk.NotEnforced) sb.Append(" NOT ENFORCED");
        }

        private void Option(TableOption o)
        {
            Str(o.Key);
            sb.Append(" = ");
            Str(o.Value);
        }

        // --------------------------------------------------------------------------------------------------------
        // Queries
        // --------------------------------------------------------------------------------------------------------

        private void Query(QueryExpr q)
        {
            DeepStack.Ensure();
            switch (q)
            {
                case QueryNode w:
                    if (!w.With.IsEmpty)
                    {
                        sb.Append("WITH ");
                        for (int i = 0; i < w.With.Count; i++)
                        {
                            if (i > 0) sb.Append(",\n");
                            var cte = w.With[i];
                            Id(cte.Name);
                            if (!cte.Columns.IsEmpty)
                            {
                                sb.Append(' ');
                                IdList(cte.Columns);
                            }
                            sb.Append(" AS (");
                            Query(cte.Query);
                            sb.Append(')');
                        }
                        sb.Append('\n');
                    }
                    if (w.Body is QueryNode) ParenQuery(w.Body);
                    else Query(w.Body);
                    if (!w.OrderBy.IsEmpty)
                    {
                        sb.Append("\nORDER BY ");
                        OrderItems(w.OrderBy);
                    }
                    if (w.Limit is not null)
                    {
                        sb.Append("\nLIMIT ");
                        Expr(w.Limit);
                    }
                    if (w.Offset is not null)
                    {
                        sb.Append("\nOFFSET ");
                        Expr(w.Offset);
                    }
                    break;
                case SetOperation s:
                {
                    int prec = s.Operator == SetOperator.Intersect ? 2 : 1;
                    SetOperand(s.Left, prec);
                    sb.Append('\n').Append(s.Operator.ToString().ToUpperInvariant());
                    if (s.All) sb.Append(" ALL");
                    sb.Append('\n');
                    SetOperand(s.Right, prec + 1);
                    break;
                }
                case ValuesQuery v:
                    sb.Append("VALUES ");
                    for (int i = 0; i < v.Rows.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        sb.Append('(');
                        ExprList(v.Rows[i]);
                        sb.Append(')');
                    }
                    break;
                case SelectQuery s: Select(s); break;
                default: throw new NotSupportedException($"cannot print {q.GetType().Name}");
            }
        }

        private void SetOperand(QueryExpr q, int minPrec)
        {
            bool paren = q switch
            {
                QueryNode => true,
                SetOperation s => (s.Operator == SetOperator.Intersect ? 2 : 1) < minPrec,
                _ => false,
            };
            if (paren) ParenQuery(q);
            else Query(q);
        }

        private void ParenQuery(QueryExpr q)
        {
            sb.Append('(');
            Query(q);
            sb.Append(')');
        }

        private void Select(SelectQuery s)
        {
            sb.Append("SELECT ");
            if (!s.Hints.IsEmpty)
            {
                Hints(s.Hints);
                sb.Append(' ');
            }
            if (s.Distinct) sb.Append("DISTINCT ");
            for (int i = 0; i < s.Items.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                SelectItem(s.Items[i]);
            }
            if (s.From is not null)
            {
                sb.Append("\nFROM ");
                TableRef(s.From);
            }
            if (s.Where is not null)
            {
                sb.Append("\nWHERE ");
                Expr(s.Where);
            }
            if (!s.GroupBy.IsEmpty)
            {
                sb.Append("\nGROUP BY ");
                ExprList(s.GroupBy);
            }
            if (s.Having is not null)
            {
                sb.Append("\nHAVING ");
                Expr(s.Having);
            }
            if (!s.Windows.IsEmpty)
            {
                sb.Append("\nWINDOW ");
                for (int i = 0; i < s.Windows.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Id(s.Windows[i].Name);
                    sb.Append(" AS ");
                    WindowSpec(s.Windows[i].Spec, forceParens: true);
                }
            }
        }

        private void Hints(NodeList<SqlHint> hints)
        {
            sb.Append("/*+ ");
            for (int i = 0; i < hints.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                var h = hints[i];
                Id(h.Name);
                if (h.Options.IsEmpty && h.Arguments.IsEmpty) continue;
                sb.Append('(');
                for (int k = 0; k < h.Options.Count; k++)
                {
                    if (k > 0) sb.Append(", ");
                    Option(h.Options[k]);
                }
                for (int k = 0; k < h.Arguments.Count; k++)
                {
                    if (k > 0) sb.Append(", ");
                    AppendIdentifier(sb, h.Arguments[k]);
                }
                sb.Append(')');
            }
            sb.Append(" */");
        }

        private void SelectItem(SelectItem item)
        {
            switch (item)
            {
                case SelectAll a:
                    if (a.Qualifier is not null)
                    {
                        Name(a.Qualifier);
                        sb.Append('.');
                    }
                    sb.Append('*');
                    break;
                case SelectExpr e:
                    Expr(e.Expression);
                    if (e.Alias is not null)
                    {
                        sb.Append(" AS ");
                        Id(e.Alias);
                    }
                    break;
            }
        }

        private void OrderItems(NodeList<OrderItem> items)
        {
            for (int i = 0; i < items.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                OrderItem(items[i]);
            }
        }

        private void OrderItem(OrderItem o)
        {
            Expr(o.Expression);
            if (o.Descending) sb.Append(" DESC");
            if (o.Nulls == NullOrdering.First) sb.Append(" NULLS FIRST");
            else if (o.Nulls == NullOrdering.Last) sb.Append(" NULLS LAST");
        }

        // --------------------------------------------------------------------------------------------------------
        // FROM
        // --------------------------------------------------------------------------------------------------------

        private void TableRef(TableRef t)
        {
            DeepStack.Ensure();
            switch (t)
            {
                case NamedTableRef n:
                    Name(n.Name);
                    if (!n.Hints.IsEmpty)
                    {
                        sb.Append(' ');
                        Hints(n.Hints);
                    }
                    if (n.SystemTimeAsOf is not null)
                    {
                        sb.Append(" FOR SYSTEM_TIME AS OF ");
                        Expr(n.SystemTimeAsOf, SqlParser.PrecAdditive);
                    }
                    Alias(n.Alias, n.ColumnAliases);
                    break;
                case SubqueryRef s:
                    if (s.Lateral) sb.Append("LATERAL ");
                    ParenQuery(s.Query);
                    Alias(s.Alias, s.ColumnAliases);
                    break;
                case TableFunctionRef f:
                    if (f.Lateral) sb.Append("LATERAL ");
                    sb.Append("TABLE(");
                    Expr(f.Call);
                    sb.Append(')');
                    Alias(f.Alias, f.ColumnAliases);
                    break;
                case UnnestRef u:
                    sb.Append("UNNEST(");
                    ExprList(u.Arguments);
                    sb.Append(')');
                    if (u.WithOrdinality) sb.Append(" WITH ORDINALITY");
                    Alias(u.Alias, u.ColumnAliases);
                    break;
                case JoinRef j:
                    TableRef(j.Left);
                    sb.Append(j.Kind switch
                    {
                        JoinKind.Comma => ",\n  ",
                        JoinKind.Cross => "\nCROSS JOIN ",
                        JoinKind.Inner => "\nJOIN ",
                        JoinKind.Left => "\nLEFT JOIN ",
                        JoinKind.Right => "\nRIGHT JOIN ",
                        _ => "\nFULL JOIN ",
                    });
                    if (j.Right is JoinRef)
                    {
                        sb.Append('(');
                        TableRef(j.Right);
                        sb.Append(')');
                    }
                    else
                    {
                        TableRef(j.Right);
                    }
                    if (j.Condition is not null)
                    {
                        sb.Append(" ON ");
                        Expr(j.Condition);
                    }
                    else if (!j.Using.IsEmpty)
                    {
                        sb.Append(" USING ");
                        IdList(j.Using);
                    }
                    break;
                case MatchRecognizeRef m:
                    MatchRecognize(m);
                    break;
                default: throw new NotSupportedException($"cannot print {t.GetType().Name}");
            }
        }

        private void MatchRecognize(MatchRecognizeRef m)
        {
            TableRef(m.Input);
            sb.Append(" MATCH_RECOGNIZE (");
            if (!m.PartitionBy.IsEmpty)
            {
                sb.Append("PARTITION BY ");
                ExprList(m.PartitionBy);
                sb.Append(' ');
            }
            if (!m.OrderBy.IsEmpty)
            {
                sb.Append("ORDER BY ");
                OrderItems(m.OrderBy);
                sb.Append(' ');
            }
            if (!m.Measures.IsEmpty)
            {
                sb.Append("MEASURES ");
                for (int i = 0; i < m.Measures.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    Expr(m.Measures[i].Expression);
                    sb.Append(" AS ");
                    Id(m.Measures[i].Alias!);
                }
                sb.Append(' ');
            }
            sb.Append(m.AllRowsPerMatch ? "ALL ROWS PER MATCH " : "ONE ROW PER MATCH ");
            if (m.AfterMatch is { } after)
            {
                sb.Append(after.Kind switch
                {
                    AfterMatchSkipKind.PastLastRow => "AFTER MATCH SKIP PAST LAST ROW ",
                    AfterMatchSkipKind.ToNextRow => "AFTER MATCH SKIP TO NEXT ROW ",
                    AfterMatchSkipKind.ToFirst => "AFTER MATCH SKIP TO FIRST ",
                    _ => "AFTER MATCH SKIP TO LAST ",
                });
                if (after.Variable is { } v)
                {
                    Id(v);
                    sb.Append(' ');
                }
            }
            sb.Append("PATTERN (");
            var terms = m.Pattern is PatternSequence seq ? seq.Terms : new NodeList<PatternTerm>(new[] { m.Pattern });
            for (int i = 0; i < terms.Count; i++)
            {
                if (i > 0) sb.Append(' ');
                var v = (PatternVariable)terms[i];
                Id(v.Name);
                sb.Append(v.QuantifierText);
            }
            sb.Append(')');
            if (m.Within is not null)
            {
                sb.Append(" WITHIN ");
                Expr(m.Within, SqlParser.PrecAdditive);
            }
            sb.Append(" DEFINE ");
            for (int i = 0; i < m.Definitions.Count; i++)
            {
                if (i > 0) sb.Append(", ");
                Id(m.Definitions[i].Variable);
                sb.Append(" AS ");
                Expr(m.Definitions[i].Condition);
            }
            sb.Append(')');
            Alias(m.Alias, m.ColumnAliases);
        }

        private void Alias(Identifier? alias, NodeList<Identifier> columns)
        {
            if (alias is null) return;
            sb.Append(" AS ");
            Id(alias);
            if (!columns.IsEmpty) IdList(columns);
        }

        // --------------------------------------------------------------------------------------------------------
        // Expressions
        // --------------------------------------------------------------------------------------------------------

        /// <summary>Prints <paramref name="e"/>, parenthesised if it binds looser than <paramref name="minPrec"/>.</summary>
        private void Expr(Expr e, int minPrec = 0)
        {
            DeepStack.Ensure();
            if (Precedence(e) < minPrec)
            {
                sb.Append('(');
                Expr(e);
                sb.Append(')');
                return;
            }
            switch (e)
            {
                case NumericLiteral n: sb.Append(n.Text); break;
                case StringLiteral s: Str(s.Value); break;
                case BooleanLiteral b: sb.Append(b.Value ? "TRUE" : "FALSE"); break;
                case NullLiteral: sb.Append("NULL"); break;
                case IntervalLiteral i:
                    sb.Append("INTERVAL ");
                    Str(i.Value);
                    sb.Append(' ');
                    Qualifier(i.Qualifier);
                    break;
                case TypedLiteral t:
                    sb.Append(t.Kind switch
                    {
                        TypedLiteralKind.Date => "DATE ",
                        TypedLiteralKind.Time => "TIME ",
                        TypedLiteralKind.Timestamp => "TIMESTAMP ",
                        _ => "TIMESTAMP_LTZ ",
                    });
                    Str(t.Value);
                    break;
                case ColumnRef c:
                    for (int i = 0; i < c.Names.Count; i++)
                    {
                        if (i > 0) sb.Append('.');
                        Id(c.Names[i]);
                    }
                    break;
                case FieldAccess f:
                    if (f.Target is ColumnRef)
                    {
                        sb.Append('(');
                        Expr(f.Target);
                        sb.Append(')');
                    }
                    else
                    {
                        Expr(f.Target, SqlParser.PrecPrimary);
                    }
                    sb.Append('.');
                    Id(f.Field);
                    break;
                case Subscript s:
                    Expr(s.Target, SqlParser.PrecPrimary);
                    sb.Append('[');
                    Expr(s.Index);
                    sb.Append(']');
                    break;
                case UnaryExpr u:
                    if (u.Operator == UnaryOperator.Not)
                    {
                        sb.Append("NOT ");
                        Expr(u.Operand, SqlParser.PrecIs);
                    }
                    else
                    {
                        sb.Append(u.Operator == UnaryOperator.Negate ? '-' : '+');
                        int mark = sb.Length;
                        Expr(u.Operand, SqlParser.PrecUnary);
                        // Avoid "--" (a comment) and "+-" ambiguity by separating signs.
                        if (sb.Length > mark && sb[mark] is '-' or '+') sb.Insert(mark, ' ');
                    }
                    break;
                case BinaryExpr b:
                {
                    int prec = Precedence(b);
                    Expr(b.Left, prec);
                    sb.Append(b.Operator switch
                    {
                        BinaryOperator.Add => " + ",
                        BinaryOperator.Subtract => " - ",
                        BinaryOperator.Multiply => " * ",
                        BinaryOperator.Divide => " / ",
                        BinaryOperator.Modulo => " % ",
                        BinaryOperator.Concat => " || ",
                        BinaryOperator.Equal => " = ",
                        BinaryOperator.NotEqual => " <> ",
                        BinaryOperator.Less => " < ",
                        BinaryOperator.LessOrEqual => " <= ",
                        BinaryOperator.Greater => " > ",
                        BinaryOperator.GreaterOrEqual => " >= ",
                        BinaryOperator.And => " AND ",
                        _ => " OR ",
                    });
                    Expr(b.Right, prec + 1);
                    break;
                }
                case IsExpr i:
                    Expr(i.Operand, SqlParser.PrecIs);
                    sb.Append(i.Negated ? " IS NOT " : " IS ").Append(i.Predicate.ToString().ToUpperInvariant());
                    break;
                case IsDistinctFromExpr d:
                    Expr(d.Left, SqlParser.PrecIs);
                    sb.Append(d.Negated ? " IS NOT DISTINCT FROM " : " IS DISTINCT FROM ");
                    Expr(d.Right, SqlParser.PrecComparison);
                    break;
                case InListExpr i:
                    Expr(i.Operand, SqlParser.PrecIn);
                    sb.Append(i.Negated ? " NOT IN (" : " IN (");
                    ExprList(i.Values);
                    sb.Append(')');
                    break;
                case InSubqueryExpr i:
                    Expr(i.Operand, SqlParser.PrecIn);
                    sb.Append(i.Negated ? " NOT IN " : " IN ");
                    ParenQuery(i.Query);
                    break;
                case LikeExpr l:
                    Expr(l.Operand, SqlParser.PrecIn);
                    sb.Append(l.Negated ? " NOT" : "").Append(l.SimilarTo ? " SIMILAR TO " : " LIKE ");
                    Expr(l.Pattern, SqlParser.PrecAdditive);
                    if (l.Escape is not null)
                    {
                        sb.Append(" ESCAPE ");
                        Expr(l.Escape, SqlParser.PrecAdditive);
                    }
                    break;
                case BetweenExpr b:
                    Expr(b.Operand, SqlParser.PrecIn);
                    sb.Append(b.Negated ? " NOT BETWEEN " : " BETWEEN ").Append(b.Symmetric ? "SYMMETRIC " : "");
                    Expr(b.Low, SqlParser.PrecAdditive);
                    sb.Append(" AND ");
                    Expr(b.High, SqlParser.PrecAdditive);
                    break;
                case ExistsExpr x:
                    sb.Append("EXISTS ");
                    ParenQuery(x.Query);
                    break;
                case SubqueryExpr s: ParenQuery(s.Query); break;
                case CaseExpr c:
                    sb.Append("CASE");
                    if (c.Operand is not null)
                    {
                        sb.Append(' ');
                        Expr(c.Operand);
                    }
                    foreach (var w in c.Whens)
                    {
                        sb.Append(" WHEN ");
                        Expr(w.Condition);
                        sb.Append(" THEN ");
                        Expr(w.Result);
                    }
                    if (c.Else is not null)
                    {
                        sb.Append(" ELSE ");
                        Expr(c.Else);
                    }
                    sb.Append(" END");
                    break;
                case CastExpr c:
                    sb.Append(c.Try ? "TRY_CAST(" : "CAST(");
                    Expr(c.Operand);
                    sb.Append(" AS ");
                    DataTypes.Append(sb, c.Type.Type);
                    sb.Append(')');
                    break;
                case FunctionCall f: Call(f); break;
                case IsJsonExpr j:
                    Expr(j.Operand, SqlParser.PrecIs);
                    sb.Append(j.Negated ? " IS NOT JSON" : " IS JSON");
                    if (j.Type is { } jt) sb.Append(' ').Append(jt.ToString().ToUpperInvariant());
                    break;
                case JsonQueryExpr q:
                    sb.Append("JSON_QUERY(");
                    Expr(q.Json);
                    sb.Append(", ");
                    Expr(q.Path);
                    if (q.Returning is not null)
                    {
                        sb.Append(" RETURNING ");
                        DataTypes.Append(sb, q.Returning.Type);
                    }
                    if (q.Wrapper == JsonWrapper.Unconditional) sb.Append(" WITH UNCONDITIONAL ARRAY WRAPPER");
                    else if (q.Wrapper == JsonWrapper.Conditional) sb.Append(" WITH CONDITIONAL ARRAY WRAPPER");
                    JsonQueryBehaviorClause(q.OnEmpty, "EMPTY");
                    JsonQueryBehaviorClause(q.OnError, "ERROR");
                    sb.Append(')');
                    break;
                case JsonExistsExpr x:
                    sb.Append("JSON_EXISTS(");
                    Expr(x.Json);
                    sb.Append(", ");
                    Expr(x.Path);
                    if (x.OnError is { } onError) sb.Append(' ').Append(onError.ToString().ToUpperInvariant()).Append(" ON ERROR");
                    sb.Append(')');
                    break;
                case JsonObjectExpr o:
                    sb.Append("JSON_OBJECT(");
                    for (int i = 0; i < o.Entries.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        sb.Append("KEY ");
                        int keyStart = sb.Length;
                        Expr(o.Entries[i].Key, SqlParser.PrecAdditive);
                        // A key starting with a column named "key" or "value" would read as part of the syntax.
                        if (StartsWithWord(sb, keyStart, "KEY") || StartsWithWord(sb, keyStart, "VALUE"))
                        {
                            sb.Insert(keyStart, '(');
                            sb.Append(')');
                        }
                        sb.Append(" VALUE ");
                        Expr(o.Entries[i].Value);
                    }
                    if (o.AbsentOnNull) sb.Append(o.Entries.IsEmpty ? "ABSENT ON NULL" : " ABSENT ON NULL");
                    sb.Append(')');
                    break;
                case JsonArrayExpr a:
                    sb.Append("JSON_ARRAY(");
                    ExprList(a.Elements);
                    if (a.NullOnNull) sb.Append(a.Elements.IsEmpty ? "NULL ON NULL" : " NULL ON NULL");
                    sb.Append(')');
                    break;
                case JsonValueExpr j:
                    sb.Append("JSON_VALUE(");
                    Expr(j.Json);
                    sb.Append(", ");
                    Expr(j.Path);
                    if (j.Returning is not null)
                    {
                        sb.Append(" RETURNING ");
                        DataTypes.Append(sb, j.Returning.Type);
                    }
                    JsonBehaviorClause(j.OnEmpty, "EMPTY");
                    JsonBehaviorClause(j.OnError, "ERROR");
                    sb.Append(')');
                    break;
                case NamedArgument n:
                    Id(n.Name);
                    sb.Append(" => ");
                    Expr(n.Value);
                    break;
                case TableArgument t:
                    sb.Append("TABLE ");
                    if (t.Table is not null) Name(t.Table);
                    else ParenQuery(t.Query!);
                    if (!t.PartitionBy.IsEmpty)
                    {
                        sb.Append(" PARTITION BY ");
                        ExprList(t.PartitionBy);
                    }
                    if (!t.OrderBy.IsEmpty)
                    {
                        sb.Append(" ORDER BY ");
                        OrderItems(t.OrderBy);
                    }
                    break;
                case DescriptorExpr d:
                    sb.Append("DESCRIPTOR");
                    IdList(d.Columns);
                    break;
                case ExtractExpr x:
                    sb.Append("EXTRACT(").Append(UnitText(x.Unit)).Append(" FROM ");
                    Expr(x.Source);
                    sb.Append(')');
                    break;
                case FloorCeilExpr f:
                    sb.Append(f.Ceiling ? "CEIL(" : "FLOOR(");
                    // "x + INTERVAL '1' DAY TO HOUR" would read as a DAY TO HOUR interval.
                    Expr(f.Operand, EndsWithInterval(f.Operand) ? SqlParser.PrecPrimary + 1 : 0);
                    sb.Append(" TO ").Append(UnitText(f.Unit)).Append(')');
                    break;
                case TimestampDiffExpr d:
                    sb.Append("TIMESTAMPDIFF(").Append(UnitText(d.Unit)).Append(", ");
                    Expr(d.Start);
                    sb.Append(", ");
                    Expr(d.End);
                    sb.Append(')');
                    break;
                case TimestampAddExpr a:
                    sb.Append("TIMESTAMPADD(").Append(UnitText(a.Unit)).Append(", ");
                    Expr(a.Amount);
                    sb.Append(", ");
                    Expr(a.Timestamp);
                    sb.Append(')');
                    break;
                case TrimExpr t:
                    sb.Append("TRIM(");
                    if (t.Mode != TrimMode.Both || t.Characters is not null)
                    {
                        sb.Append(t.Mode.ToString().ToUpperInvariant()).Append(' ');
                        if (t.Characters is not null)
                        {
                            Expr(t.Characters);
                            sb.Append(' ');
                        }
                        sb.Append("FROM ");
                    }
                    Expr(t.Source);
                    sb.Append(')');
                    break;
                case PositionExpr pos:
                    sb.Append("POSITION(");
                    Expr(pos.Needle, SqlParser.PrecAdditive);
                    sb.Append(" IN ");
                    Expr(pos.Haystack);
                    sb.Append(')');
                    break;
                case OverlapsExpr o:
                    Expr(o.Left, SqlParser.PrecComparison);
                    sb.Append(" OVERLAPS ");
                    Expr(o.Right, SqlParser.PrecComparison + 1);
                    break;
                case RowConstructor r:
                    sb.Append("ROW(");
                    ExprList(r.Fields);
                    sb.Append(')');
                    break;
                case ArrayConstructor a:
                    sb.Append("ARRAY[");
                    ExprList(a.Elements);
                    sb.Append(']');
                    break;
                case MapConstructor m:
                    sb.Append("MAP[");
                    ExprList(m.KeysAndValues);
                    sb.Append(']');
                    break;
                case GroupingSetsExpr g:
                    sb.Append("GROUPING SETS (");
                    for (int i = 0; i < g.Sets.Count; i++)
                    {
                        if (i > 0) sb.Append(", ");
                        if (g.Sets[i] is RowConstructor row)
                        {
                            sb.Append('(');
                            ExprList(row.Fields);
                            sb.Append(')');
                        }
                        else
                        {
                            Expr(g.Sets[i]);
                        }
                    }
                    sb.Append(')');
                    break;
                default: throw new NotSupportedException($"cannot print {e.GetType().Name}");
            }
        }

        private void JsonQueryBehaviorClause(JsonQueryBehaviorKind? b, string when)
        {
            if (b is not { } kind) return;
            sb.Append(' ').Append(kind switch
            {
                JsonQueryBehaviorKind.Null => "NULL",
                JsonQueryBehaviorKind.EmptyArray => "EMPTY ARRAY",
                JsonQueryBehaviorKind.EmptyObject => "EMPTY OBJECT",
                _ => "ERROR",
            }).Append(" ON ").Append(when);
        }

        private void JsonBehaviorClause(JsonBehavior? b, string when)
        {
            if (b is null) return;
            sb.Append(' ');
            switch (b.Kind)
            {
                case JsonBehaviorKind.Null: sb.Append("NULL"); break;
                case JsonBehaviorKind.Error: sb.Append("ERROR"); break;
                default:
                    sb.Append("DEFAULT ");
                    Expr(b.Default!, SqlParser.PrecAdditive);
                    break;
            }
            sb.Append(" ON ").Append(when);
        }

        private static bool StartsWithWord(StringBuilder sb, int start, string word)
        {
            if (sb.Length - start < word.Length) return false;
            for (int i = 0; i < word.Length; i++)
            {
                if (char.ToUpperInvariant(sb[start + i]) != word[i]) return false;
            }
            int end = start + word.Length;
            return end == sb.Length || !(char.IsAsciiLetterOrDigit(sb[end]) || sb[end] is '_' or '$');
        }

                private static bool EndsWithInterval(Expr e) => e switch
        {
            IntervalLiteral => true,
            BinaryExpr b => EndsWithInterval(b.Right),
            UnaryExpr u => EndsWithInterval(u.Operand),
            BetweenExpr b => EndsWithInterval(b.High),
            LikeExpr l => EndsWithInterval(l.Escape ?? l.Pattern),
            IsDistinctFromExpr d => EndsWithInterval(d.Right),
            NamedArgument n => EndsWithInterval(n.Value),
            _ => false,
        };

        private void Call(FunctionCall f)
        {
            bool niladic = f.Arguments.IsEmpty && !f.Star && f.Name.Parts.Count == 1 && Niladic.Contains(f.Name.Parts[0].Value)
                && f.Filter is null && f.Over is null && !f.Distinct;
            for (int i = 0; i < f.Name.Parts.Count; i++)
            {
                if (i > 0) sb.Append('.');
                string part = f.Name.Parts[i].Value;
                var kw = f.Name.Parts.Count == 1 ? Keywords.Lookup(part) : Keyword.None;
                if (kw is Keyword.LEFT or Keyword.RIGHT || (niladic && kw != Keyword.None))
                    sb.Append(part); // LEFT(s, n), RIGHT(s, n) and CURRENT_TIMESTAMP are calls although reserved
                else if (kw is Keyword.TRIM or Keyword.EXTRACT or Keyword.POSITION or Keyword.TIMESTAMPDIFF or Keyword.TIMESTAMPADD
                         or Keyword.ROW or Keyword.CURRENT_DATE or Keyword.CURRENT_TIME or Keyword.CURRENT_TIMESTAMP
                         or Keyword.LOCALTIME or Keyword.LOCALTIMESTAMP or Keyword.JSON_VALUE or Keyword.JSON_QUERY
                         or Keyword.JSON_EXISTS or Keyword.JSON_OBJECT or Keyword.JSON_ARRAY)
                    sb.Append('`').Append(part).Append('`'); // an ordinary call that would otherwise read as special syntax
                else
                    AppendIdentifier(sb, part);
            }
            if (niladic) return;
            if (f.Name.Parts.Count == 1 && f.Arguments.Count is 3 or 4 && !f.Distinct && !f.Star
                && string.Equals(f.Name.Parts[0].Value, "OVERLAY", StringComparison.OrdinalIgnoreCase))
            {
                sb.Append('(');
                Expr(f.Arguments[0]);
                sb.Append(" PLACING ");
                Expr(f.Arguments[1]);
                sb.Append(" FROM ");
                Expr(f.Arguments[2]);
                if (f.Arguments.Count == 4)
                {
                    sb.Append(" FOR ");
                    Expr(f.Arguments[3]);
                }
                sb.Append(')');
            }
            else
            {
                CallArguments(f);
            }
            if (f.Filter is not null)
            {
                sb.Append(" FILTER (WHERE ");
                Expr(f.Filter);
                sb.Append(')');
            }
            if (f.Over is not null)
            {
                sb.Append(" OVER ");
                WindowSpec(f.Over);
            }
        }

        private void CallArguments(FunctionCall f)
        {
            sb.Append('(');
            if (f.Star)
            {
                sb.Append('*');
            }
            else
            {
                if (f.Distinct) sb.Append("DISTINCT ");
                if (f.Name.Parts.Count == 1 && f.Arguments.Count == 2
                    && string.Equals(f.Name.Parts[0].Value, "JSON_OBJECTAGG", StringComparison.OrdinalIgnoreCase))
                {
                    sb.Append("KEY ");
                    Expr(f.Arguments[0], SqlParser.PrecAdditive);
                    sb.Append(" VALUE ");
                    Expr(f.Arguments[1]);
                }
                else
                {
                    ExprList(f.Arguments);
                }
                sb.Append(f.Nulls switch
                {
                    NullTreatment.RespectNulls => " RESPECT NULLS",
                    NullTreatment.IgnoreNulls => " IGNORE NULLS",
                    NullTreatment.NullOnNull => " NULL ON NULL",
                    NullTreatment.AbsentOnNull => " ABSENT ON NULL",
                    _ => "",
                });
            }
            sb.Append(')');
        }

        private void WindowSpec(WindowSpec w, bool forceParens = false)
        {
            if (!forceParens && w.BaseWindow is not null && w.PartitionBy.IsEmpty && w.OrderBy.IsEmpty && w.Frame is null)
            {
                Id(w.BaseWindow);
                return;
            }
            sb.Append('(');
            var parts = 0;
            if (w.BaseWindow is not null)
            {
                Id(w.BaseWindow);
                parts++;
            }
            if (!w.PartitionBy.IsEmpty)
            {
                if (parts++ > 0) sb.Append(' ');
                sb.Append("PARTITION BY ");
                ExprList(w.PartitionBy);
            }
            if (!w.OrderBy.IsEmpty)
            {
                if (parts++ > 0) sb.Append(' ');
                sb.Append("ORDER BY ");
                OrderItems(w.OrderBy);
            }
            if (w.Frame is not null)
            {
                if (parts > 0) sb.Append(' ');
                sb.Append(w.Frame.Unit == FrameUnit.Rows ? "ROWS " : "RANGE ");
                if (w.Frame.End is null)
                {
                    Bound(w.Frame.Start);
                }
                else
                {
                    sb.Append("BETWEEN ");
                    Bound(w.Frame.Start);
                    sb.Append(" AND ");
                    Bound(w.Frame.End);
                }
            }
            sb.Append(')');
        }

        private void Bound(FrameBound b)
        {
            switch (b.Kind)
            {
                case FrameBoundKind.UnboundedPreceding: sb.Append("UNBOUNDED PRECEDING"); break;
                case FrameBoundKind.UnboundedFollowing: sb.Append("UNBOUNDED FOLLOWING"); break;
                case FrameBoundKind.CurrentRow: sb.Append("CURRENT ROW"); break;
                default:
                    Expr(b.Offset!, SqlParser.PrecAdditive);
                    sb.Append(b.Kind == FrameBoundKind.Preceding ? " PRECEDING" : " FOLLOWING");
                    break;
            }
        }

        private void Qualifier(IntervalQualifier q)
        {
            sb.Append(UnitText(q.Start));
            if (q.End is { } end) sb.Append(" TO ").Append(UnitText(end));
        }

        private static string UnitText(TimeUnit unit) => unit switch
        {
            TimeUnit.DayOfWeek => "DOW",
            TimeUnit.DayOfYear => "DOY",
            _ => unit.ToString().ToUpperInvariant(),
        };
    }
}
