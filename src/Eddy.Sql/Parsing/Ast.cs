namespace Eddy.Sql.Parsing;

// The syntax tree. Every node is an immutable record carrying its SourceSpan. Equality is structural and ignores
// spans, so an expression in SELECT can be matched against the same expression in GROUP BY, and a parsed, printed
// and re-parsed tree equals the original. Lists are NodeList<T>, which also compares by content.

/// <summary>The base of all syntax nodes.</summary>
public abstract record SqlNode
{
    /// <summary>Where the node was written. Not part of equality.</summary>
    public SourceSpan Span { get; init; }

    // Derived records' equality and hashing call these at every level: each checks the stack (see DeepStack).
    public virtual bool Equals(SqlNode? other) => other is not null && DeepStack.Ensure(EqualityContract) == other.EqualityContract;

    public override int GetHashCode() => DeepStack.Ensure(EqualityContract).GetHashCode();

    /// <summary>Prints the node back as Flink SQL (see <see cref="SqlPrinter"/>).</summary>
    public string ToSql() => SqlPrinter.Print(this);
}

/// <summary>A name as written (case preserved; back-quotes removed).</summary>
public sealed record Identifier(string Value) : SqlNode
{
    public override string ToString() => Value;
}

/// <summary>A possibly qualified name: <c>t</c>, <c>db.t</c>, <c>cat.db.t</c>.</summary>
public sealed record ObjectName(NodeList<Identifier> Parts) : SqlNode
{
    public Identifier Last => Parts[^1];

    public override string ToString() => string.Join('.', Parts.Select(p => p.Value));
}

/// <summary>A data type as written in DDL or CAST, mapped to <see cref="DataType"/>.</summary>
public sealed record TypeSpec(DataType Type) : SqlNode
{
    public bool Equals(TypeSpec? other) => other is not null && DataTypes.StructurallyEqual(Type, other.Type);

    public override int GetHashCode() => HashCode.Combine(Type.Kind, Type.Nullable, Type.Precision, Type.Scale);
}

/// <summary>A parsed script: the statements in order.</summary>
public sealed record SqlScript(NodeList<Statement> Statements, string? FileName = null) : SqlNode;

// ---------------------------------------------------------------------------------------------------------------
// Statements
// ---------------------------------------------------------------------------------------------------------------

public abstract record Statement : SqlNode;

/// <summary>
/// <c>CREATE [OR REPLACE] [TEMPORARY] TABLE [IF NOT EXISTS] name (columns, constraints) [COMMENT] [PARTITIONED BY]
/// WITH (options) [LIKE source (options)] [AS query]</c>; <see cref="ReplaceOnly"/> for Flink's <c>REPLACE TABLE name
/// WITH (options) AS query</c> (the table must exist).
/// </summary>
public sealed record CreateTable(
    ObjectName Name,
    NodeList<TableColumn> Columns,
    WatermarkSpec? Watermark,
    PrimaryKeySpec? PrimaryKey,
    string? Comment,
    NodeList<Identifier> PartitionedBy,
    NodeList<TableOption> Options,
    QueryExpr? AsQuery,
    TableLike? Like = null,
    bool Temporary = false,
    bool IfNotExists = false,
    bool OrReplace = false,
    bool ReplaceOnly = false) : Statement;

/// <summary>A column of <see cref="CreateTable"/>.</summary>
public abstract record TableColumn(Identifier Name, string? Comment) : SqlNode;

/// <summary><c>name TYPE [COMMENT '...']</c>.</summary>
public sealed record PhysicalColumn(Identifier Name, TypeSpec Type, string? Comment = null) : TableColumn(Name, Comment);

/// <summary><c>name AS expr [COMMENT '...']</c>.</summary>
public sealed record ComputedColumn(Identifier Name, Expr Expression, string? Comment = null) : TableColumn(Name, Comment);

/// <summary><c>name TYPE METADATA [FROM 'key'] [VIRTUAL] [COMMENT '...']</c>.</summary>
public sealed record MetadataColumn(Identifier Name, TypeSpec Type, string? MetadataKey, bool IsVirtual, string? Comment = null)
    : TableColumn(Name, Comment);

/// <summary><c>WATERMARK FOR column AS expr</c>.</summary>
public sealed record WatermarkSpec(Identifier Column, Expr Strategy) : SqlNode;

/// <summary>
/// <c>[CONSTRAINT name] PRIMARY KEY (a, b) NOT ENFORCED</c>, or the column form <c>a INT PRIMARY KEY NOT ENFORCED</c>
/// (normalised to the table form). <see cref="NotEnforced"/> is false when <c>NOT ENFORCED</c> was omitted, which
/// Flink rejects during validation.
/// </summary>
public sealed record PrimaryKeySpec(NodeList<Identifier> Columns, Identifier? ConstraintName, bool NotEnforced) : SqlNode;

/// <summary><c>'key' = 'value'</c> in a WITH clause. <c>${NAME}</c> references are kept verbatim.</summary>
public sealed record TableOption(string Key, string Value) : SqlNode;

public enum LikeStrategy
{
    Including,
    Excluding,
    Overwriting,
}

public enum LikeFeature
{
    All,
    Constraints,
    Partitions,
    Generated,
    Options,
    Watermarks,
    Metadata,
}

/// <summary><c>INCLUDING ALL</c>, <c>EXCLUDING OPTIONS</c>, <c>OVERWRITING WATERMARKS</c>, ...</summary>
public sealed record LikeOption(LikeStrategy Strategy, LikeFeature Feature) : SqlNode;

/// <summary><c>LIKE source [(INCLUDING ALL, OVERWRITING OPTIONS, ...)]</c> in CREATE TABLE.</summary>
public sealed record TableLike(ObjectName Source, NodeList<LikeOption> Options) : SqlNode;

/// <summary><c>CREATE CATALOG [IF NOT EXISTS] name [COMMENT '...'] WITH (options)</c>.</summary>
public sealed record CreateCatalog(Identifier Name, NodeList<TableOption> Options, string? Comment = null, bool IfNotExists = false) : Statement;

public sealed record DropCatalog(Identifier Name, bool IfExists = false) : Statement;

/// <summary><c>CREATE DATABASE [IF NOT EXISTS] [catalog.]name [COMMENT '...'] [WITH (options)]</c>.</summary>
public sealed record CreateDatabase(ObjectName Name, NodeList<TableOption> Options, string? Comment = null, bool IfNotExists = false) : Statement;

/// <summary><c>DROP DATABASE [IF EXISTS] name [RESTRICT | CASCADE]</c>.</summary>
public sealed record DropDatabase(ObjectName Name, bool IfExists = false, bool Cascade = false) : Statement;

public sealed record DropTable(ObjectName Name, bool IfExists = false, bool Temporary = false) : Statement;

/// <summary><c>CREATE [TEMPORARY] VIEW [IF NOT EXISTS] name [(cols)] [COMMENT '...'] AS query</c>.</summary>
public sealed record CreateView(
    ObjectName Name,
    NodeList<Identifier> Columns,
    QueryExpr Query,
    string? Comment = null,
    bool Temporary = false,
    bool IfNotExists = false) : Statement;

public sealed record DropView(ObjectName Name, bool IfExists = false, bool Temporary = false) : Statement;

public enum FunctionScope
{
    Catalog,
    Temporary,
    TemporarySystem,
}

/// <summary>
/// <c>CREATE [TEMPORARY [SYSTEM]] FUNCTION [IF NOT EXISTS] name AS 'Namespace.Type' [LANGUAGE lang]
/// [USING JAR 'path' [, JAR 'path']*]</c>.
/// </summary>
public sealed record CreateFunction(
    ObjectName Name,
    string ClassName,
    string? Language = null,
    FunctionScope Scope = FunctionScope.Catalog,
    bool IfNotExists = false) : Statement
{
    /// <summary>The assemblies of <c>USING JAR</c> (empty: the class is looked up in the added jars and the host).</summary>
    public NodeList<JarPath> Jars { get; init; } = NodeList<JarPath>.Empty;
}

/// <summary>A path in <c>ADD JAR</c>, <c>REMOVE JAR</c> or <c>USING JAR</c>, located for errors.</summary>
public sealed record JarPath(string Path) : SqlNode;

/// <summary><c>ADD JAR 'path'</c>: loads a .NET assembly (a function library) into the session.</summary>
public sealed record AddJar(JarPath Jar) : Statement;

/// <summary><c>REMOVE JAR 'path'</c>.</summary>
public sealed record RemoveJar(JarPath Jar) : Statement;

public sealed record DropFunction(ObjectName Name, FunctionScope Scope = FunctionScope.Catalog, bool IfExists = false) : Statement;

/// <summary><c>INSERT INTO|OVERWRITE target [/*+ OPTIONS(...) */] [PARTITION (k = v, ...)] [(cols)] query</c>.</summary>
public sealed record Insert(
    ObjectName Target,
    NodeList<SqlHint> TargetHints,
    NodeList<PartitionValue> StaticPartition,
    NodeList<Identifier> Columns,
    QueryExpr Source,
    bool Overwrite = false) : Statement;

/// <summary><c>column = literal</c> in <c>INSERT ... PARTITION (...)</c>.</summary>
public sealed record PartitionValue(Identifier Column, Expr Value) : SqlNode;

/// <summary><c>EXECUTE STATEMENT SET BEGIN insert; ... END</c> or <c>BEGIN STATEMENT SET; insert; ... END</c>.</summary>
public sealed record StatementSet(NodeList<Insert> Inserts) : Statement;

/// <summary><c>SET 'key' = 'value'</c>; both null for a bare <c>SET</c> (list the options).</summary>
public sealed record SetOption(string? Key, string? Value) : Statement;

/// <summary><c>RESET ['key']</c>; null resets every option.</summary>
public sealed record ResetOption(string? Key) : Statement;

public enum ShowKind
{
    Tables,
    Views,
    Functions,
    Catalogs,
    Databases,
    Modules,
    Jobs,
    CurrentCatalog,
    CurrentDatabase,
    CreateTable,
    CreateView,
    Columns,
    UserFunctions,
    FullModules,
    Partitions,
    Procedures,
    Jars,
}

/// <summary><c>[NOT] LIKE 'pattern'</c> or <c>[NOT] ILIKE 'pattern'</c> after SHOW (MySQL-style: <c>%</c>, <c>_</c>, <c>\</c> escapes).</summary>
public sealed record ShowLike(string Pattern, bool Not, bool CaseInsensitive) : SqlNode;

/// <summary>
/// <c>SHOW kind</c>; <see cref="Name"/> is the object of <c>SHOW CREATE TABLE|VIEW name</c> and
/// <c>SHOW COLUMNS FROM|IN name</c>, or the database of <c>SHOW TABLES|VIEWS FROM|IN db</c>.
/// </summary>
public sealed record Show(ShowKind Kind, ObjectName? Name = null, ShowLike? Like = null) : Statement;

/// <summary><c>DESCRIBE|DESC [EXTENDED] name</c>.</summary>
public sealed record Describe(ObjectName Name, bool Extended = false) : Statement;

public enum ExplainDetail
{
    EstimatedCost,
    ChangelogMode,
    JsonExecutionPlan,
    PlanAdvice,
}

/// <summary><c>EXPLAIN [PLAN FOR | detail, ...] statement</c>.</summary>
public sealed record Explain(Statement Statement, NodeList<ExplainDetail> Details) : Statement;

/// <summary><c>USE [CATALOG] name</c>.</summary>
public sealed record Use(ObjectName Name, bool Catalog = false) : Statement;

/// <summary><c>ALTER TABLE [IF EXISTS] name operation</c>.</summary>
public sealed record AlterTable(ObjectName Name, AlterTableOperation Operation, bool IfExists = false) : Statement;

public abstract record AlterTableOperation : SqlNode;

/// <summary><c>RENAME TO new_name</c>.</summary>
public sealed record AlterTableRename(ObjectName NewName) : AlterTableOperation;

/// <summary><c>RENAME column TO new_column</c>.</summary>
public sealed record AlterTableRenameColumn(Identifier Column, Identifier NewName) : AlterTableOperation;

/// <summary><c>SET ('k' = 'v', ...)</c>.</summary>
public sealed record AlterTableSet(NodeList<TableOption> Options) : AlterTableOperation;

/// <summary><c>RESET ('k', ...)</c>.</summary>
public sealed record AlterTableReset(NodeList<OptionKey> Keys) : AlterTableOperation;

/// <summary>An option key in <c>ALTER TABLE ... RESET (...)</c>.</summary>
public sealed record OptionKey(string Key) : SqlNode;

/// <summary><c>ADD ...</c> (<see cref="Modify"/> false) or <c>MODIFY ...</c>: columns with positions, a primary key, a watermark.</summary>
public sealed record AlterTableSchema(bool Modify, NodeList<AlterColumn> Columns, WatermarkSpec? Watermark, PrimaryKeySpec? PrimaryKey)
    : AlterTableOperation;

/// <summary>A column of ADD/MODIFY with its position: <c>FIRST</c> or <c>AFTER column</c> (neither: last, or where it was).</summary>
public sealed record AlterColumn(TableColumn Column, bool First, Identifier? After) : SqlNode;

/// <summary><c>DROP column | (columns) | PRIMARY KEY | CONSTRAINT name | WATERMARK</c>.</summary>
public sealed record AlterTableDrop(NodeList<Identifier> Columns, bool PrimaryKey, Identifier? Constraint, bool Watermark) : AlterTableOperation;

/// <summary><c>ALTER VIEW name RENAME TO new_name</c> or <c>ALTER VIEW name AS query</c>.</summary>
public sealed record AlterView(ObjectName Name, ObjectName? NewName, QueryExpr? Query) : Statement;

/// <summary><c>ALTER DATABASE [catalog.]name SET ('k' = 'v', ...)</c>.</summary>
public sealed record AlterDatabase(ObjectName Name, NodeList<TableOption> Options) : Statement;

/// <summary><c>ALTER [TEMPORARY [SYSTEM]] FUNCTION [IF EXISTS] name AS 'Namespace.Type' [LANGUAGE lang]</c>.</summary>
public sealed record AlterFunction(ObjectName Name, string ClassName, string? Language = null, FunctionScope Scope = FunctionScope.Catalog, bool IfExists = false)
    : Statement;

/// <summary><c>LOAD MODULE name [WITH (...)]</c>.</summary>
public sealed record LoadModule(Identifier Name, NodeList<TableOption> Options) : Statement;

/// <summary><c>UNLOAD MODULE name</c>.</summary>
public sealed record UnloadModule(Identifier Name) : Statement;

/// <summary><c>USE MODULES name [, name]*</c>.</summary>
public sealed record UseModules(NodeList<Identifier> Names) : Statement;

/// <summary>
/// A statement of Flink's grammar that Eddy reads only to refuse it where it is written (TRUNCATE, ANALYZE, CALL,
/// DELETE, UPDATE, STOP JOB, ...): <see cref="Construct"/> names it, <see cref="Text"/> is the statement as written.
/// </summary>
public sealed record UnsupportedStatement(string Construct, string Text) : Statement;

/// <summary>A query run on its own.</summary>
public sealed record QueryStatement(QueryExpr Query) : Statement;

// ---------------------------------------------------------------------------------------------------------------
// Queries
// ---------------------------------------------------------------------------------------------------------------

public abstract record QueryExpr : SqlNode;

/// <summary>
/// A query body with the clauses that apply to it as a whole: <c>WITH ... body ORDER BY ... LIMIT n OFFSET m</c>.
/// Only created when at least one of those clauses is present.
/// </summary>
public sealed record Query(
    NodeList<CommonTableExpression> With,
    QueryExpr Body,
    NodeList<OrderItem> OrderBy,
    Expr? Limit = null,
    Expr? Offset = null) : QueryExpr;

public sealed record CommonTableExpression(Identifier Name, NodeList<Identifier> Columns, QueryExpr Query) : SqlNode;

/// <summary><c>SELECT [/*+ hints */] [DISTINCT] items [FROM] [WHERE] [GROUP BY] [HAVING] [WINDOW]</c>.</summary>
public sealed record SelectQuery(
    bool Distinct,
    NodeList<SelectItem> Items,
    TableRef? From,
    Expr? Where,
    NodeList<Expr> GroupBy,
    Expr? Having,
    NodeList<NamedWindow> Windows,
    NodeList<SqlHint> Hints) : QueryExpr;

public enum SetOperator
{
    Union,
    Intersect,
    Except,
}

/// <summary><c>left UNION|INTERSECT|EXCEPT [ALL] right</c>.</summary>
public sealed record SetOperation(SetOperator Operator, bool All, QueryExpr Left, QueryExpr Right) : QueryExpr;

/// <summary><c>VALUES (a, b), (c, d)</c>.</summary>
public sealed record ValuesQuery(NodeList<NodeList<Expr>> Rows) : QueryExpr;

public enum NullOrdering
{
    Default,
    First,
    Last,
}

public sealed record OrderItem(Expr Expression, bool Descending = false, NullOrdering Nulls = NullOrdering.Default) : SqlNode;

/// <summary><c>WINDOW name AS (spec)</c>.</summary>
public sealed record NamedWindow(Identifier Name, WindowSpec Spec) : SqlNode;

public abstract record SelectItem : SqlNode;

/// <summary><c>*</c> or <c>t.*</c>.</summary>
public sealed record SelectAll(ObjectName? Qualifier) : SelectItem;

/// <summary><c>expr [AS alias]</c>.</summary>
public sealed record SelectExpr(Expr Expression, Identifier? Alias = null) : SelectItem;

// ---------------------------------------------------------------------------------------------------------------
// FROM
// ---------------------------------------------------------------------------------------------------------------

public abstract record TableRef : SqlNode;

/// <summary>
/// A table or view by name, optionally as of a point in time (temporal join:
/// <c>t FOR SYSTEM_TIME AS OF o.proctime AS r</c>) and with <c>/*+ OPTIONS('k'='v') */</c> hints.
/// </summary>
public sealed record NamedTableRef(
    ObjectName Name,
    Identifier? Alias,
    NodeList<Identifier> ColumnAliases,
    Expr? SystemTimeAsOf,
    NodeList<SqlHint> Hints) : TableRef;

/// <summary>
/// One hint from a <c>/*+ ... */</c> comment: <c>OPTIONS('k' = 'v')</c> (key-value <see cref="Options"/>),
/// <c>BROADCAST(t1, t2)</c> (plain <see cref="Arguments"/>), or a bare name. Hints are recognised after a table name
/// in FROM, after the INSERT target and right after SELECT; anywhere else they are ignored like comments.
/// </summary>
public sealed record SqlHint(Identifier Name, NodeList<TableOption> Options, NodeList<string> Arguments) : SqlNode;

/// <summary><c>[LATERAL] (query) [AS] alias [(cols)]</c>.</summary>
public sealed record SubqueryRef(QueryExpr Query, Identifier? Alias, NodeList<Identifier> ColumnAliases, bool Lateral = false) : TableRef;

/// <summary>
/// <c>TABLE(f(...))</c> or <c>LATERAL TABLE(f(...))</c>: a table-valued function such as the window functions
/// TUMBLE, HOP, SESSION and CUMULATE, or a user table function.
/// </summary>
public sealed record TableFunctionRef(FunctionCall Call, Identifier? Alias, NodeList<Identifier> ColumnAliases, bool Lateral = false) : TableRef;

/// <summary><c>UNNEST(expr) [WITH ORDINALITY] [AS] alias [(cols)]</c>.</summary>
public sealed record UnnestRef(NodeList<Expr> Arguments, bool WithOrdinality, Identifier? Alias, NodeList<Identifier> ColumnAliases) : TableRef;

public enum JoinKind
{
    Inner,
    Left,
    Right,
    Full,
    Cross,
    /// <summary>A comma in the FROM list; same meaning as <see cref="Cross"/>.</summary>
    Comma,
}

/// <summary>
/// <c>input MATCH_RECOGNIZE (PARTITION BY ... ORDER BY ... MEASURES ... [ONE ROW PER MATCH] [AFTER MATCH SKIP ...]
/// PATTERN (...) [WITHIN INTERVAL ...] DEFINE ...) [AS alias]</c>: Flink's row pattern recognition.
/// </summary>
public sealed record MatchRecognizeRef(
    TableRef Input,
    NodeList<Expr> PartitionBy,
    NodeList<OrderItem> OrderBy,
    NodeList<SelectExpr> Measures,
    bool AllRowsPerMatch,
    AfterMatchSkip? AfterMatch,
    PatternTerm Pattern,
    Expr? Within,
    NodeList<PatternDefinition> Definitions,
    Identifier? Alias,
    NodeList<Identifier> ColumnAliases) : TableRef;

public enum AfterMatchSkipKind
{
    PastLastRow,
    ToNextRow,
    ToFirst,
    ToLast,
}

/// <summary><c>AFTER MATCH SKIP PAST LAST ROW | TO NEXT ROW | TO FIRST var | TO LAST var</c>.</summary>
public sealed record AfterMatchSkip(AfterMatchSkipKind Kind, Identifier? Variable) : SqlNode;

/// <summary><c>var AS condition</c> in DEFINE.</summary>
public sealed record PatternDefinition(Identifier Variable, Expr Condition) : SqlNode;

/// <summary>A row pattern: a concatenation of quantified variables (<see cref="PatternSequence"/>) or one variable.</summary>
public abstract record PatternTerm : SqlNode;

/// <summary>
/// One pattern variable with its quantifier: <see cref="Min"/>..<see cref="Max"/> rows (<see cref="Max"/> null when
/// unbounded), reluctant when written with a trailing <c>?</c>. <see cref="Quantified"/> is false for a bare variable.
/// </summary>
public sealed record PatternVariable(Identifier Name, int Min, int? Max, bool Reluctant, bool Quantified, string QuantifierText) : PatternTerm;

/// <summary><c>A B+ C</c>: the terms in order.</summary>
public sealed record PatternSequence(NodeList<PatternTerm> Terms) : PatternTerm;

/// <summary><c>left [kind] JOIN right [ON cond | USING (cols)]</c>.</summary>
public sealed record JoinRef(JoinKind Kind, TableRef Left, TableRef Right, Expr? Condition, NodeList<Identifier> Using) : TableRef;

// ---------------------------------------------------------------------------------------------------------------
// Expressions
// ---------------------------------------------------------------------------------------------------------------

public abstract record Expr : SqlNode;

public enum NumericKind
{
    Integer,
    Decimal,
    /// <summary>With an exponent: <c>1.5E3</c>.</summary>
    Approximate,
}

/// <summary>A number as written.</summary>
public sealed record NumericLiteral(string Text, NumericKind Kind) : Expr;

/// <summary>A string literal, unescaped; <c>${NAME}</c> kept verbatim.</summary>
public sealed record StringLiteral(string Value) : Expr;

public sealed record BooleanLiteral(bool Value) : Expr;

public sealed record NullLiteral : Expr;

public enum TimeUnit
{
    Year,
    Quarter,
    Month,
    Week,
    Day,
    Hour,
    Minute,
    Second,
    Millisecond,
    Microsecond,
    Nanosecond,
    DayOfWeek,
    DayOfYear,
    Epoch,
    Decade,
    Century,
    Millennium,
}

/// <summary><c>MINUTE</c> or <c>MINUTE TO SECOND</c>.</summary>
public sealed record IntervalQualifier(TimeUnit Start, TimeUnit? End = null) : SqlNode;

/// <summary><c>INTERVAL '5' MINUTE</c>, <c>INTERVAL '1:30' MINUTE TO SECOND</c>.</summary>
public sealed record IntervalLiteral(string Value, IntervalQualifier Qualifier) : Expr;

public enum TypedLiteralKind
{
    Date,
    Time,
    Timestamp,
    TimestampLtz,
}

/// <summary><c>DATE '2024-01-01'</c>, <c>TIME '10:00:00'</c>, <c>TIMESTAMP '2024-01-01 00:00:00'</c>.</summary>
public sealed record TypedLiteral(TypedLiteralKind Kind, string Value) : Expr;

/// <summary>
/// A dotted name in an expression: <c>a</c>, <c>t.a</c>, <c>t.a.field</c>. Whether a part is a table alias, a column
/// or a nested field is for the binder to decide.
/// </summary>
public sealed record ColumnRef(NodeList<Identifier> Names) : Expr;

/// <summary><c>expr.field</c> where expr is not a plain name, e.g. <c>f(x).a</c> or <c>arr[1].b</c>.</summary>
public sealed record FieldAccess(Expr Target, Identifier Field) : Expr;

/// <summary><c>arr[1]</c>, <c>map['k']</c>.</summary>
public sealed record Subscript(Expr Target, Expr Index) : Expr;

public enum UnaryOperator
{
    Negate,
    Plus,
    Not,
}

public sealed record UnaryExpr(UnaryOperator Operator, Expr Operand) : Expr;

public enum BinaryOperator
{
    Add,
    Subtract,
    Multiply,
    Divide,
    Modulo,
    Concat,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    And,
    Or,
}

public sealed record BinaryExpr(BinaryOperator Operator, Expr Left, Expr Right) : Expr;

public enum IsPredicate
{
    Null,
    True,
    False,
    Unknown,
}

/// <summary><c>x IS [NOT] NULL|TRUE|FALSE|UNKNOWN</c>.</summary>
public sealed record IsExpr(Expr Operand, IsPredicate Predicate, bool Negated = false) : Expr;

/// <summary><c>a IS [NOT] DISTINCT FROM b</c>.</summary>
public sealed record IsDistinctFromExpr(Expr Left, Expr Right, bool Negated = false) : Expr;

/// <summary><c>x [NOT] IN (a, b, c)</c>.</summary>
public sealed record InListExpr(Expr Operand, NodeList<Expr> Values, bool Negated = false) : Expr;

/// <summary><c>x [NOT] IN (SELECT ...)</c>.</summary>
public sealed record InSubqueryExpr(Expr Operand, QueryExpr Query, bool Negated = false) : Expr;

/// <summary><c>EXISTS (SELECT ...)</c>.</summary>
public sealed record ExistsExpr(QueryExpr Query) : Expr;

/// <summary>A scalar subquery <c>(SELECT ...)</c>.</summary>
public sealed record SubqueryExpr(QueryExpr Query) : Expr;

/// <summary><c>x [NOT] LIKE pattern [ESCAPE e]</c>, or <c>x [NOT] SIMILAR TO pattern [ESCAPE e]</c> (<see cref="SimilarTo"/>).</summary>
public sealed record LikeExpr(Expr Operand, Expr Pattern, Expr? Escape = null, bool Negated = false, bool SimilarTo = false) : Expr;

/// <summary><c>x [NOT] BETWEEN low AND high</c>.</summary>
public sealed record BetweenExpr(Expr Operand, Expr Low, Expr High, bool Negated = false, bool Symmetric = false) : Expr;

/// <summary><c>(start1, end1) OVERLAPS (start2, end2)</c>; an end may be an interval (the period's length).</summary>
public sealed record OverlapsExpr(RowConstructor Left, RowConstructor Right) : Expr;

public sealed record WhenClause(Expr Condition, Expr Result) : SqlNode;

/// <summary>Simple (<see cref="Operand"/> set) or searched CASE.</summary>
public sealed record CaseExpr(Expr? Operand, NodeList<WhenClause> Whens, Expr? Else) : Expr;

/// <summary><c>CAST(x AS type)</c> or <c>TRY_CAST(x AS type)</c>.</summary>
public sealed record CastExpr(Expr Operand, TypeSpec Type, bool Try = false) : Expr;

/// <summary>
/// A function call: <c>f(a, b)</c>, <c>COUNT(*)</c> (<see cref="Star"/>), <c>COUNT(DISTINCT x)</c>,
/// <c>SUM(x) FILTER (WHERE c)</c>, <c>ROW_NUMBER() OVER (...)</c>. Niladic functions written without parentheses
/// (<c>CURRENT_TIMESTAMP</c>) are calls with no arguments. <c>SUBSTRING(s FROM a FOR b)</c> is normalised to
/// <c>SUBSTRING(s, a, b)</c>. Window TVF arguments appear as <see cref="TableArgument"/>,
/// <see cref="DescriptorExpr"/> and <see cref="NamedArgument"/>.
/// </summary>
public sealed record FunctionCall(
    ObjectName Name,
    NodeList<Expr> Arguments,
    bool Distinct = false,
    bool Star = false,
    Expr? Filter = null,
    WindowSpec? Over = null) : Expr
{
    /// <summary>
    /// The NULL treatment written inside the parentheses of an aggregate: <c>RESPECT NULLS</c> / <c>IGNORE NULLS</c>
    /// (ARRAY_AGG) or <c>NULL ON NULL</c> / <c>ABSENT ON NULL</c> (JSON_ARRAYAGG, JSON_OBJECTAGG, whose two arguments
    /// are written <c>[KEY] k VALUE v</c>).
    /// </summary>
    public NullTreatment Nulls { get; init; }

    /// <summary>The unqualified function name, upper-cased for matching built-ins.</summary>
    public string UpperName => Name.Last.Value.ToUpperInvariant();

    /// <summary>Structural equality; function names compare case-insensitively (<c>count(*)</c> equals <c>COUNT(*)</c>).</summary>
    public bool Equals(FunctionCall? other)
    {
        if (other is null) return false;
        if (ReferenceEquals(this, other)) return true;
        if (Name.Parts.Count != other.Name.Parts.Count) return false;
        for (int i = 0; i < Name.Parts.Count; i++)
        {
            if (!string.Equals(Name.Parts[i].Value, other.Name.Parts[i].Value, StringComparison.OrdinalIgnoreCase)) return false;
        }
        return Arguments.Equals(other.Arguments) && Distinct == other.Distinct && Star == other.Star
            && Equals(Filter, other.Filter) && Equals(Over, other.Over) && Nulls == other.Nulls;
    }

    public override int GetHashCode() =>
        HashCode.Combine(StringComparer.OrdinalIgnoreCase.GetHashCode(Name.Last.Value), Arguments, Distinct, Star, Filter, Over);
}

/// <summary>The NULL treatment clause of an aggregate call (<see cref="FunctionCall.Nulls"/>); None when not written.</summary>
public enum NullTreatment
{
    None,
    RespectNulls,
    IgnoreNulls,
    NullOnNull,
    AbsentOnNull,
}

/// <summary><c>name => value</c> inside a function call.</summary>
public sealed record NamedArgument(Identifier Name, Expr Value) : Expr;

/// <summary><c>TABLE t [PARTITION BY a, b] [ORDER BY c]</c> or <c>TABLE (query)</c> as a table-function argument.</summary>
public sealed record TableArgument(ObjectName? Table, QueryExpr? Query, NodeList<Expr> PartitionBy, NodeList<OrderItem> OrderBy) : Expr;

/// <summary><c>DESCRIPTOR(a, b)</c>.</summary>
public sealed record DescriptorExpr(NodeList<Identifier> Columns) : Expr;

/// <summary><c>EXTRACT(unit FROM x)</c>.</summary>
public sealed record ExtractExpr(TimeUnit Unit, Expr Source) : Expr;

/// <summary><c>FLOOR(x TO unit)</c> or <c>CEIL(x TO unit)</c>. Plain <c>FLOOR(x)</c> is a <see cref="FunctionCall"/>.</summary>
public sealed record FloorCeilExpr(bool Ceiling, Expr Operand, TimeUnit Unit) : Expr;

/// <summary><c>TIMESTAMPDIFF(unit, start, end)</c>.</summary>
public sealed record TimestampDiffExpr(TimeUnit Unit, Expr Start, Expr End) : Expr;

/// <summary><c>TIMESTAMPADD(unit, amount, ts)</c>.</summary>
public sealed record TimestampAddExpr(TimeUnit Unit, Expr Amount, Expr Timestamp) : Expr;

public enum TrimMode
{
    Both,
    Leading,
    Trailing,
}

/// <summary><c>TRIM([BOTH|LEADING|TRAILING] [chars] FROM s)</c> or <c>TRIM(s)</c>.</summary>
public sealed record TrimExpr(TrimMode Mode, Expr? Characters, Expr Source) : Expr;

/// <summary><c>POSITION(needle IN haystack)</c>.</summary>
public sealed record PositionExpr(Expr Needle, Expr Haystack) : Expr;

public enum JsonBehaviorKind
{
    Null,
    Error,
    Default,
}

/// <summary><c>NULL</c>, <c>ERROR</c> or <c>DEFAULT expr</c> in a JSON function's <c>ON EMPTY</c> / <c>ON ERROR</c> clause.</summary>
public sealed record JsonBehavior(JsonBehaviorKind Kind, Expr? Default = null) : SqlNode;

/// <summary><c>JSON_VALUE(json, path [RETURNING type] [behavior ON EMPTY] [behavior ON ERROR])</c>.</summary>
public sealed record JsonValueExpr(Expr Json, Expr Path, TypeSpec? Returning, JsonBehavior? OnEmpty, JsonBehavior? OnError) : Expr;

public enum JsonQueryBehaviorKind
{
    Null,
    EmptyArray,
    EmptyObject,
    Error,
}

public enum JsonWrapper
{
    /// <summary><c>WITHOUT [ARRAY] WRAPPER</c>, the default.</summary>
    Without,
    /// <summary><c>WITH [UNCONDITIONAL] [ARRAY] WRAPPER</c>.</summary>
    Unconditional,
    /// <summary><c>WITH CONDITIONAL [ARRAY] WRAPPER</c>.</summary>
    Conditional,
}

/// <summary>
/// <c>JSON_QUERY(json, path [RETURNING type] [wrapper] [behavior ON EMPTY] [behavior ON ERROR])</c>; an absent
/// behavior is null.
/// </summary>
public sealed record JsonQueryExpr(
    Expr Json,
    Expr Path,
    TypeSpec? Returning,
    JsonWrapper Wrapper,
    JsonQueryBehaviorKind? OnEmpty,
    JsonQueryBehaviorKind? OnError) : Expr;

public enum JsonExistsBehavior
{
    True,
    False,
    Unknown,
    Error,
}

/// <summary><c>JSON_EXISTS(json, path [TRUE|FALSE|UNKNOWN|ERROR ON ERROR])</c>.</summary>
public sealed record JsonExistsExpr(Expr Json, Expr Path, JsonExistsBehavior? OnError) : Expr;

/// <summary><c>[KEY] key VALUE value</c> in JSON_OBJECT.</summary>
public sealed record JsonKeyValue(Expr Key, Expr Value) : SqlNode;

/// <summary>
/// <c>JSON_OBJECT([KEY] k VALUE v, ... [NULL|ABSENT ON NULL])</c>. <see cref="AbsentOnNull"/> is false unless
/// <c>ABSENT ON NULL</c> was written (Flink's default for JSON_OBJECT is NULL ON NULL).
/// </summary>
public sealed record JsonObjectExpr(NodeList<JsonKeyValue> Entries, bool AbsentOnNull = false) : Expr;

/// <summary>
/// <c>JSON_ARRAY(v, ... [NULL|ABSENT ON NULL])</c>. <see cref="NullOnNull"/> is false unless <c>NULL ON NULL</c> was
/// written (Flink's default for JSON_ARRAY is ABSENT ON NULL).
/// </summary>
public sealed record JsonArrayExpr(NodeList<Expr> Elements, bool NullOnNull = false) : Expr;

public enum JsonType
{
    Value,
    Scalar,
    Array,
    Object,
}

/// <summary><c>x IS [NOT] JSON [VALUE|SCALAR|ARRAY|OBJECT]</c>; <see cref="Type"/> is null when no type was written.</summary>
public sealed record IsJsonExpr(Expr Operand, JsonType? Type, bool Negated = false) : Expr;

/// <summary><c>ROW(a, b)</c> or <c>(a, b)</c>.</summary>
public sealed record RowConstructor(NodeList<Expr> Fields) : Expr;

/// <summary><c>ARRAY[a, b]</c>.</summary>
public sealed record ArrayConstructor(NodeList<Expr> Elements) : Expr;

/// <summary><c>MAP[k1, v1, k2, v2]</c>.</summary>
public sealed record MapConstructor(NodeList<Expr> KeysAndValues) : Expr;

/// <summary><c>GROUPING SETS ((a, b), (a), ())</c> in GROUP BY; each set is a <see cref="RowConstructor"/> or a single expression.</summary>
public sealed record GroupingSetsExpr(NodeList<Expr> Sets) : Expr;

// ---------------------------------------------------------------------------------------------------------------
// OVER windows
// ---------------------------------------------------------------------------------------------------------------

/// <summary><c>OVER (PARTITION BY ... ORDER BY ... ROWS|RANGE ...)</c>, or <c>OVER w</c> (only <see cref="BaseWindow"/>).</summary>
public sealed record WindowSpec(Identifier? BaseWindow, NodeList<Expr> PartitionBy, NodeList<OrderItem> OrderBy, WindowFrame? Frame) : SqlNode;

public enum FrameUnit
{
    Rows,
    Range,
}

/// <summary><c>ROWS|RANGE BETWEEN start AND end</c>, or <c>ROWS|RANGE start</c> (<see cref="End"/> null).</summary>
public sealed record WindowFrame(FrameUnit Unit, FrameBound Start, FrameBound? End) : SqlNode;

public enum FrameBoundKind
{
    UnboundedPreceding,
    Preceding,
    CurrentRow,
    Following,
    UnboundedFollowing,
}

/// <summary><c>UNBOUNDED PRECEDING</c>, <c>n PRECEDING</c>, <c>CURRENT ROW</c>, ...; <see cref="Offset"/> for the bounded forms.</summary>
public sealed record FrameBound(FrameBoundKind Kind, Expr? Offset = null) : SqlNode;
