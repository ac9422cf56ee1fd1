using Eddy.Connectors;
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
/// A connector usable in <c>CREATE TABLE ... WITH ('connector' = name)</c>. Options are validated when the table is
/// used, with errors that name the option.
/// </summary>
public interface ITableConnector
{
    string Name { get; }

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

/// <summary>The connectors SQL knows by name; later connector packages add theirs with <see cref="Register"/>.</summary>
public static class TableConnectors
{
    private static readonly Dictionary<string, ITableConnector> Known = new(StringComparer.OrdinalIgnoreCase);

    static TableConnectors()
    {
        Register(new DatagenConnector());
        Register(new FilesystemConnector());
        Register(new PrintConnector());
        Register(new BlackholeConnector());
        Register(new WebTrafficConnector());
    }

    public static void Register(ITableConnector connector)
    {
        lock (Known) Known[connector.Name] = connector;
    }

    public static IEnumerable<string> Names
    {
        get
        {
            lock (Known) return Known.Keys.ToList();
        }
    }

    /// <summary>The table's connector, or null when it names none or an unknown one (<see cref="Find"/> says which).</summary>
    public static ITableConnector? TryFind(TableDef table)
    {
        if (!table.Options.TryGetValue("connector", out var name)) return null;
        lock (Known) return Known.GetValueOrDefault(name);
    }

    public static ITableConnector Find(TableDef table)
    {
        if (!table.Options.TryGetValue("connector", out var name))
            throw new ConnectorOptionException(table.Name, "connector", $"missing; one of {string.Join(", ", Names.Order())}");
        lock (Known)
        {
            if (Known.TryGetValue(name, out var c)) return c;
        }
        throw new ConnectorOptionException(table.Name, "connector",
            $"unknown connector '{name}'{SqlErrors.Suggest(name, Names)}; known: {string.Join(", ", Names.Order())}");
    }

    /// <summary>Eddy's slow-sink option of print and blackhole: at most this many rows per second per sink subtask.</summary>
    internal const string RowsPerSecondOption = "sink.rows-per-second";

    /// <summary>The sink, slowed down to <see cref="RowsPerSecondOption"/> when the table sets it (a backpressure demo).</summary>
    internal static Sink<T> ThrottledIfAsked<T>(TableDef table, Sink<T> sink)
    {
        if (!table.Options.TryGetValue(RowsPerSecondOption, out var text)) return sink;
        if (!double.TryParse(text, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double rate)
            || !(rate > 0) || double.IsInfinity(rate))
            throw new ConnectorOptionException(table.Name, RowsPerSecondOption, $"expected a positive number of rows per second, got '{text}'");
        return new ThrottledSink<T>(sink, rate);
    }

    /// <summary>Fails on options the connector does not know (Flink does too: a typo must not be ignored).</summary>
    internal static void RequireKnown(TableDef table, IEnumerable<string> known, params string[] prefixes)
    {
        var set = new HashSet<string>(known, StringComparer.Ordinal) { "connector" };
        foreach (var key in table.Options.Keys)
        {
            if (set.Contains(key) || prefixes.Any(p => key.StartsWith(p, StringComparison.Ordinal))) continue;
            throw new ConnectorOptionException(table.Name, key, $"unknown option for connector '{table.Connector}'{SqlErrors.Suggest(key, set)}");
        }
    }
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
}

internal sealed class DatagenConnector : ITableConnector
{
    public string Name => "datagen";

    public bool AcceptsUpdates(TableDef table) => false;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        Wrap(table, () => new DatagenSource(decoded, table.Options));

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "datagen is a source only");

    internal static T Wrap<T>(TableDef table, Func<T> create)
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

/// <summary>
/// <c>'connector' = 'filesystem'</c>: a bounded source and a sink, and — as in Flink — a lookup table that is read
/// whole (a FULL cache) and read again after <c>lookup.full-cache.periodic-reload.interval</c> (or Flink's filesystem
/// option <c>lookup.join.cache.ttl</c>; default 60 min, as Flink).
/// </summary>
internal sealed class FilesystemConnector : ILookupTableConnector
{
    private const string CacheTtlOption = "lookup.join.cache.ttl";

    public string Name => "filesystem";

    public bool IsScannable => true;

    public bool AcceptsUpdates(TableDef table) => false;

    /// <summary>The file options without the lookup ones (which only a lookup join reads).</summary>
    private static Dictionary<string, string> FileOptions(TableDef table) =>
        table.Options.Where(kv => !kv.Key.StartsWith("lookup.", StringComparison.Ordinal)).ToDictionary(kv => kv.Key, kv => kv.Value);

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        RefusePartitionedRead(table);
        return DatagenConnector.Wrap(table, () => new FileSource(decoded, FileOptions(table)));
    }

    private static void RefusePartitionedRead(TableDef table)
    {
        if (table.PartitionKeys.Count > 0)
            throw new ConnectorOptionException(table.Name, "PARTITIONED BY", "reading a partitioned filesystem table is not supported by Eddy yet (it writes them)");
    }

    public LookupSource CreateLookup(TableDef table, Schema columns, IReadOnlyList<int> keyColumns, ConnectorContext context)
    {
        RefusePartitionedRead(table);
        var o = table.Options;
        foreach (var key in o.Keys.Where(k => k.StartsWith("lookup.", StringComparison.Ordinal)))
        {
            if (key is not ("lookup.cache" or "lookup.full-cache.periodic-reload.interval" or "lookup.full-cache.reload-strategy"
                or "lookup.full-cache.periodic-reload.schedule-mode" or CacheTtlOption))
                throw new ConnectorOptionException(table.Name, key, "not supported for a filesystem lookup table, which is always read whole (a FULL cache)");
        }
        if (o.TryGetValue("lookup.cache", out var mode) && !mode.Equals("FULL", StringComparison.OrdinalIgnoreCase))
            throw new ConnectorOptionException(table.Name, "lookup.cache", $"a filesystem lookup table is always read whole: expected FULL, got '{mode}'");
        if (o.ContainsKey(CacheTtlOption) && o.ContainsKey("lookup.full-cache.periodic-reload.interval"))
            throw new ConnectorOptionException(table.Name, CacheTtlOption, "set either it or 'lookup.full-cache.periodic-reload.interval', not both");
        LookupCacheOptions cache;
        if (o.ContainsKey("lookup.full-cache.periodic-reload.interval"))
        {
            var withMode = new TableDef
            {
                Name = table.Name, Columns = table.Columns, Declaration = table.Declaration, Context = table.Context,
                Options = new Dictionary<string, string>(o) { ["lookup.cache"] = "FULL" },
            };
            cache = LookupCacheOptions.Parse(withMode);
        }
        else
        {
            foreach (var key in o.Keys.Where(k => k.StartsWith("lookup.full-cache.", StringComparison.Ordinal)))
                throw new ConnectorOptionException(table.Name, key, "needs 'lookup.full-cache.periodic-reload.interval'");
            TimeSpan ttl = TimeSpan.FromMinutes(60);
            if (o.TryGetValue(CacheTtlOption, out var text))
            {
                try
                {
                    ttl = SqlSession.ParseDuration(CacheTtlOption, text);
                }
                catch (FormatException e)
                {
                    throw new ConnectorOptionException(table.Name, CacheTtlOption, e.Message);
                }
            }
            if (ttl <= TimeSpan.Zero) throw new ConnectorOptionException(table.Name, CacheTtlOption, "must be positive");
            cache = LookupCacheOptions.FullCache(ttl);
        }
        var files = DatagenConnector.Wrap(table, () => new FileSource(columns, FileOptions(table)));
        return new WholeFileLookup(table.Name, files) { Cache = cache };
    }

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        DatagenConnector.Wrap<Sink<Row>>(table, () => table.PartitionKeys.Count > 0
            ? new PartitionedFileSink(FileConnectorOptions.Parse(table.Options), schema, table.PartitionKeys)
            : FileSink.Create(schema, table.Options));
}

internal sealed class PrintConnector : ITableConnector
{
    public string Name => "print";

    public bool AcceptsUpdates(TableDef table) => true;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "print is a sink only");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context)
    {
        TableConnectors.RequireKnown(table, ["print-identifier", "standard-error", "sink.parallelism", TableConnectors.RowsPerSecondOption]);
        bool stderr = table.Options.TryGetValue("standard-error", out var se) && bool.Parse(se);
        table.Options.TryGetValue("print-identifier", out var id);
        return TableConnectors.ThrottledIfAsked(table, new PrintSink<Row>(stderr ? context.StandardError : context.StandardOutput, id));
    }
}

internal sealed class BlackholeConnector : ITypedTableConnector
{
    public Source<T>? CreateTypedSource<T>(TableDef table, Schema decoded, ConnectorContext context) => null;

    public Sink<T>? CreateTypedSink<T>(TableDef table, Schema schema, ConnectorContext context)
    {
        TableConnectors.RequireKnown(table, ["sink.parallelism", TableConnectors.RowsPerSecondOption]);
        return TableConnectors.ThrottledIfAsked(table, new BlackholeSink<T>());
    }

    public string Name => "blackhole";

    public bool AcceptsUpdates(TableDef table) => true;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "blackhole is a sink only");

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context)
    {
        TableConnectors.RequireKnown(table, ["sink.parallelism", TableConnectors.RowsPerSecondOption]);
        return TableConnectors.ThrottledIfAsked(table, new BlackholeSink<Row>());
    }
}

/// <summary>
/// Eddy's generator of the Flink lab's web-traffic events as a table (<c>'connector' = 'web-traffic'</c>): any subset
/// of the columns url, referrer, user_agent, host, ip, headers, event_time, in any order.
/// </summary>
internal sealed class WebTrafficConnector : ITableConnector
{
    public string Name => "web-traffic";

    public bool AcceptsUpdates(TableDef table) => false;

    public Source<Row> CreateSource(TableDef table, Schema decoded, ConnectorContext context)
    {
        var options = DatagenConnector.Wrap(table, () => WebTrafficOptions.Parse(table.Options));
        var all = WebTrafficEvent.Schema;
        var positions = decoded.Columns.Select(c =>
        {
            int i = all.IndexOf(c.Name);
            if (i < 0) throw new ConnectorOptionException(table.Name, "connector", $"web-traffic has no column '{c.Name}'{SqlErrors.Suggest(c.Name, all.Columns.Select(x => x.Name))}");
            if (!TypeRulesForStrings(c.Type)) throw new ConnectorOptionException(table.Name, "connector", $"web-traffic column '{c.Name}' is a STRING, not {c.Type}");
            return i;
        }).ToArray();
        return new ProjectedSource(new WebTrafficSource(options).AsRows(), positions);
    }

    private static bool TypeRulesForStrings(DataType t) => t.Kind is TypeKind.String or TypeKind.Char;

    public Sink<Row> CreateSink(TableDef table, Schema schema, ConnectorContext context) =>
        throw new ConnectorOptionException(table.Name, "connector", "web-traffic is a source only");

    /// <summary>Picks columns of each row by position.</summary>
    private sealed class ProjectedSource(Source<Row> inner, int[] positions) : Source<Row>
    {
        public override bool IsBounded => inner.IsBounded;

        public override SourceReader<Row> CreateReader(SourceReaderContext context) =>
            new Eddy.Sql.Plan.Scan.ConvertingSource<Row, Row>(inner, new Codegen.Compiled<Codegen.ConvertBatch<Row, Row>>(Pick)).CreateReader(context);

        private int Pick(Row[] input, long[] inTimestamps, int count, Row[] output, long[] timestamps, int start, long now, int[] selected)
        {
            for (int r = 0; r < count; r++)
            {
                var row = input[r];
                var fields = new object?[positions.Length];
                for (int i = 0; i < positions.Length; i++) fields[i] = row[positions[i]];
                output[start + r] = new Row(row.Kind, fields);
                timestamps[start + r] = inTimestamps[r];
                selected[r] = r;
            }
            return count;
        }
    }
}

/// <summary>A filesystem table as a lookup table: its files read whole, one subtask's reader over all of them.</summary>
internal sealed class WholeFileLookup(string table, FileSource files) : LookupSource
{
    public override string Describe => $"filesystem {files.Options.Path}, cache={Cache}";

    public override bool CanLoadAll => true;

    public override LookupFetcher CreateFetcher() => new Fetcher(table, files);

    private sealed class Fetcher(string table, FileSource files) : LookupFetcher
    {
        public override void Fetch(IReadOnlyList<object?[]> keys, Action<int, object?[]> found) =>
            throw new InvalidOperationException($"lookup table {table}: a filesystem lookup table is read whole, never by key");

        public override void LoadAll(Action<object?[]> row)
        {
            using var reader = files.CreateReader(new SourceReaderContext(0, 1, TimeProvider.System, new SubtaskMetrics($"lookup {table}", 0)));
            var output = new SourceOutput<Row>();
            var splits = new List<int>();
            while (true)
            {
                var status = reader.Read(output);
                var batch = output.DrainBatch(splits);
                for (int i = 0; i < batch.Count; i++) row(batch.Values[i].Fields.ToArray());
                BatchPool<Row>.Return(batch);
                if (status == SourceStatus.EndOfInput) break;
            }
        }
    }
}
