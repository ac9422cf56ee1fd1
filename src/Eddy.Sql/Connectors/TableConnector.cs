using Eddy.Runtime;
using Eddy.Sql.Catalog;

namespace Eddy.Sql.Connectors;

/// <summary>What a SQL job gives connectors: where print writes, the job's clock.</summary>
/// <param name="PlanOnly">
/// The job is planned to be shown, never run (<c>eddy explain</c>): connectors check their options but contact no
/// external system (a database's table check belongs to the run), and say on <paramref name="StandardError"/> what
/// they did not check.
/// </param>
public sealed record ConnectorContext(TextWriter StandardOutput, TextWriter StandardError, bool PlanOnly = false)
{
    /// <summary>The session's user assemblies (<c>ADD JAR</c>): where a format finds a class it names (protobuf's message class).</summary>
    public Catalog.UserCode? UserCode { get; init; }

    /// <summary>The job's options (<c>SET</c>), for connectors that obey planner options (<c>table.exec.source.cdc-events-duplicate</c>).</summary>
    public IReadOnlyDictionary<string, string> JobOptions { get; init; } = new Dictionary<string, string>();

    /// <summary>A class by full name: in the session's added jars, then in Eddy's own assemblies.</summary>
    public Type? FindType(string className) => UserCode is { } code ? code.FindType(className) : Catalog.UserCode.FindHostType(className);
}

/// <summary>
/// A connector usable in <c>CREATE TABLE ... WITH ('connector' = name)</c>: the table factory a connector project
/// gives the <see cref="ConnectorRegistry"/> its composition root builds. Options are validated when the table is
/// used, with errors that name the option.
/// </summary>
public interface ITableConnector
{
    string Name { get; }

    /// <summary>
    /// The options the connector declares (<see cref="Options.OptionSchema"/>), which validate a table's WITH options
    /// and list them in docs/CONNECTOR-OPTIONS.md; null for a connector that still checks its options itself.
    /// </summary>
    Options.OptionSchema? OptionSchema => null;

    /// <summary>Whether the sink applies updates and deletes (print shows them; upsert sinks apply them by key).</summary>
    bool AcceptsUpdates(TableDef table);

    /// <summary>
    /// Whether reading the table gives a changelog (+I/-U/+U/-D, as upsert-kafka), not only inserts: the planner then
    /// treats the scan as an updating stream (append-only sinks and window aggregations refuse it).
    /// </summary>
    bool ProducesUpdates(TableDef table) => false;

    /// <summary>The keys of <c>METADATA FROM 'key'</c> columns this connector fills (Kafka: timestamp, partition, ...).</summary>
    IReadOnlyCollection<string> MetadataKeys => [];

    Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context);

    Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context);
}

/// <summary>
/// A connector that reads or writes row structs directly (no generic <see cref="Row"/> per record): the planner
/// prefers it when present. <typeparamref name="T"/> is the struct of the table's decoded columns (a field per column).
/// </summary>
public interface ITypedTableConnector : ITableConnector
{
    Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context);

    Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context);
}

/// <summary>
/// What one field of a projected source's row struct holds: decoded column <see cref="Column"/> whole, or with
/// <see cref="Field"/>, only that field of the ROW column (NULL where the ROW value is NULL).
/// </summary>
public readonly record struct ColumnPath(int Column, int? Field);

/// <summary>
/// A typed connector that decodes only what a query reads (Flink's projection pushdown with nested fields): some
/// columns whole, and single fields of ROW columns as columns of their own, so no ROW value is made per record.
/// The planner asks for it when a scan's only reader reads a ROW column through its fields alone.
/// </summary>
public interface INestedProjectionConnector : ITypedTableConnector
{
    /// <param name="physical">the table's decoded columns, as <see cref="ITypedTableConnector.CreateTypedSource{T}"/> gets them.</param>
    /// <param name="paths">what each field of <typeparamref name="T"/> holds, in field order.</param>
    Source<T>? CreateProjectedSource<T>(TableDef table, Schema physical, IReadOnlyList<ColumnPath> paths, ConnectorContext context);
}

/// <summary>A bad connector option, named with its table.</summary>
public sealed class ConnectorOptionException : Exception
{
    public ConnectorOptionException(string table, string option, string problem)
        : base($"table '{table}', option '{option}': {problem}") => Table = table;

    /// <summary>A connector's own message (which already names the option), prefixed with the table.</summary>
    public ConnectorOptionException(string table, string connectorMessage, Exception inner)
        : base($"table '{table}': {connectorMessage}", inner) => Table = table;

    public string Table { get; }

    /// <summary>
    /// Runs a connector's own option parsing, whose argument and format errors already name the option, and gives
    /// them the table's name.
    /// </summary>
    public static T Naming<T>(TableDef table, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            throw new ConnectorOptionException(table.Name, e.Message, e);
        }
    }
}
