using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Eddy.Runtime;
using Eddy.Sql.Catalog;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.Scan;
using Eddy.Sql.Plan.TableSink;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;
using Eddy.Runtime.Distributed;

namespace Eddy.Sql;

/// <summary>A job a script asked for: its name, its plans and the environment that runs it.</summary>
public sealed record SqlJob(string Name, StreamEnvironment Environment, IReadOnlyList<LogicalPlan> Plans)
{
    /// <summary>The session's user assemblies this job holds (null: none); <see cref="ReleaseUserCode"/> when it has ended.</summary>
    public UserCode? UserCode { get; init; }

    /// <summary>The statement each of <see cref="Plans"/> came from (INSERTs, or the query), for located messages about the whole job.</summary>
    public IReadOnlyList<Parsing.SqlNode> Origins { get; init; } = [];

    /// <summary>The script the job was planned from (for <see cref="Origins"/>' positions).</summary>
    public SqlContext? Context { get; init; }

    /// <summary>Planned with <c>execution.distributed</c> true: it runs as workers of a Kafka consumer group, not in one process.</summary>
    public bool Distributed { get; init; }

    /// <summary>For a <see cref="Distributed"/> job, a refusal located at the SET that asked for it (at the statement when the option came from outside the script).</summary>
    public Func<string, Parsing.SqlParseException>? RefuseDistributed { get; init; }

    private int released;

    /// <summary>Lets go of the user assemblies once the job has ended (the last holder unloads them); idempotent.</summary>
    public void ReleaseUserCode()
    {
        if (UserCode is not null && Interlocked.Exchange(ref released, 1) == 0) UserCode.Release();
    }
}

/// <summary>
/// Runs Flink SQL scripts: keeps the catalog and the SET options of a session, executes DDL at once, and turns
/// INSERTs (one job each), statement sets (one job) and queries into jobs.
/// </summary>
public sealed partial class SqlSession
{
    private static readonly string[] KnownOptions =
    [
        "parallelism.default", "pipeline.max-parallelism", "pipeline.name", "pipeline.auto-watermark-interval",
        "execution.runtime-mode", "execution.checkpointing.interval", "table.exec.source.idle-timeout",
        "pipeline.operator-chaining", "table.exec.emit.allow-lateness", "table.exec.emit.late-fire.enabled",
        "table.exec.emit.late-fire.delay", "table.exec.emit.early-fire.enabled", "table.exec.emit.early-fire.delay",
        "table.exec.late-data.table", "table.exec.state.ttl", Plan.UpsertMaterialize.UpsertMaterializer.Option, "table.exec.source.cdc-events-duplicate", "execution.checkpointing.dir", "execution.checkpointing.timeout",
        "state.checkpoints.num-retained", "execution.savepoint.path", "execution.savepoint.ignore-unclaimed-state",
        "table.exec.repartition.partitions", DistributedOption,
        "restart-strategy.type", "restart-strategy.fixed-delay.attempts", "restart-strategy.fixed-delay.delay",
        "restart-strategy.exponential-delay.initial-backoff", "restart-strategy.exponential-delay.max-backoff",
        "restart-strategy.exponential-delay.backoff-multiplier", "restart-strategy.exponential-delay.attempts-before-reset-backoff",
        .. Eddy.Functions.Geo.GeoConfig.OptionNames, .. S3Settings.OptionNames, .. Functions.AsyncScalarOptions.OptionNames,
    ];

    private readonly Dictionary<string, string> options = new(StringComparer.Ordinal);

    // Where each option was SET in a script, so that an error found later (a checkpoint store that does not answer)
    // points at the statement that named it.
    private readonly Dictionary<string, (SqlNode At, SqlContext Context)> optionSites = new(StringComparer.Ordinal);

    /// <param name="connectors">the connectors its tables may name, built by the composition root (the CLI, the server, a test project's helper).</param>
    public SqlSession(ConnectorRegistry connectors, TextWriter? output = null, TextWriter? error = null, Func<string, string?>? environment = null)
    {
        Connectors = connectors;
        Output = output ?? Console.Out;
        Error = error ?? Console.Error;
        Environment = environment ?? System.Environment.GetEnvironmentVariable;
        Catalog.Geo = new Functions.GeoSqlFunctions(() => options, Environment);
        Catalog.JobOptions = () => options;
    }

    public SqlCatalog Catalog { get; } = new();

    /// <summary>The connectors this session's tables may name (<c>'connector' = ...</c>).</summary>
    public ConnectorRegistry Connectors { get; }

    /// <summary>The assemblies of ADD JAR, USING JAR and <c>eddy run --udf</c>, in the session's own load context.</summary>
    public UserCode UserCode { get; } = new();

    /// <summary>Where a relative jar path resolves (null: the current directory, as Flink's SQL client).</summary>
    public string? JarDirectory { get; init; }

    /// <summary>The planning side is done with the user code (its jobs keep it until they end).</summary>
    public void ReleaseUserCode() => UserCode.Release();

    /// <summary>Adds an assembly as <c>ADD JAR</c> does (the CLI's <c>--udf</c>); throws <see cref="ArgumentException"/> with the reason.</summary>
    public void AddJar(string path) => UserCode.Add(ResolveJar(path));

    private string ResolveJar(string path) =>
        Path.IsPathRooted(path) || path.StartsWith("file:", StringComparison.OrdinalIgnoreCase) || JarDirectory is null
            ? path : Path.Combine(JarDirectory, path);

    private readonly Dictionary<string, string> functionJars = new(StringComparer.OrdinalIgnoreCase);

    public TextWriter Output { get; }

    public TextWriter Error { get; }

    /// <summary>Looks up <c>${NAME}</c> references in option values.</summary>
    public Func<string, string?> Environment { get; }

    public IReadOnlyDictionary<string, string> Options => options;

    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>Where the rows of a query (a SELECT statement) go; default: printed as Flink's print connector does.</summary>
    public Func<Schema, Sink<Row>>? QuerySink { get; set; }

    /// <summary>Sets an option as <c>SET 'key' = 'value'</c> does (the CLI's <c>--set</c>).</summary>
    public void Set(string key, string value)
    {
        if (!KnownOptions.Contains(key))
            Error.WriteLine($"warning: option '{key}' is not used by Eddy itself (user functions read it with GetJobParameter){SqlErrors.Suggest(key, KnownOptions)}");
        ValidateOption(key, value);
        options[key] = value;
    }

    /// <summary><c>table.exec.repartition.partitions</c>: the partition count of a distributed job's repartition topics (null: the source topic's).</summary>
    public int? RepartitionPartitions => options.TryGetValue("table.exec.repartition.partitions", out var n) ? int.Parse(n, CultureInfo.InvariantCulture) : null;

    /// <summary>
    /// <c>execution.distributed</c> (Eddy's own, default false): the jobs planned while it is true run as workers of a
    /// Kafka consumer group (<c>eddy worker</c>, a server hosting one) rather than in one process.
    /// </summary>
    public const string DistributedOption = "execution.distributed";

    private bool Distributed => options.TryGetValue(DistributedOption, out var d) && bool.Parse(d);

    public bool BatchMode => options.TryGetValue("execution.runtime-mode", out var m) && m.Equals("batch", StringComparison.OrdinalIgnoreCase);

    /// <summary>Executes every statement of a script; returns the jobs it asked for (not started).</summary>
    public IReadOnlyList<SqlJob> Execute(string sql, string? fileName = null) => DeepStack.Run(() =>
    {
        var context = new SqlContext(sql, fileName);
        var script = SqlParser.ParseScript(sql, fileName);
        var jobs = new List<SqlJob>();
        foreach (var statement in script.Statements)
        {
            SqlJob? job;
            try
            {
                job = ExecuteStatement(statement, context, fileName);
            }
            catch (InsufficientExecutionStackException)
            {
                // A walk without a finer location ran out of stack: the statement is the place.
                throw DeepStack.TooDeep(statement.Span, context);
            }
            if (job is not null) jobs.Add(job);
        }
        return (IReadOnlyList<SqlJob>)jobs;
    });

    private SqlJob? ExecuteStatement(Statement statement, SqlContext context, string? fileName)
    {
        switch (statement)
        {
            case CreateTable { AsQuery: not null } ctas:
                return CreateTableAsSelect(ctas, context, fileName);
            case CreateTable create:
                CreateTableFrom(create, context);
                return null;
            case DropTable drop:
                ObjectNameOf(drop.Name, context);
                if (!Catalog.DropTable(Parts(drop.Name)) && !drop.IfExists)
                    throw SqlErrors.At(drop.Name, $"unknown table '{drop.Name}'", context);
                return null;
            case CreateView view:
            {
                var name = view.Name.Last.Value;
                ObjectNameOf(view.Name, context);
                if (Catalog.Exists(Parts(view.Name)))
                {
                    if (view.IfNotExists) return null;
                    throw SqlErrors.At(view.Name, $"a table or view '{name}' already exists", context);
                }
                // Bind now so that a broken view fails where it is declared.
                Binder(context).BindQuery(view.Query);
                Catalog.AddView(Parts(view.Name), new ViewDef(name, view.Query, view.Columns.Select(c => c.Value).ToList(), context));
                return null;
            }
            case DropView dv:
                ObjectNameOf(dv.Name, context);
                if (!Catalog.DropView(Parts(dv.Name)) && !dv.IfExists)
                    throw SqlErrors.At(dv.Name, $"unknown view '{dv.Name}'", context);
                return null;
            case CreateCatalog cc:
                CreateCatalogFrom(cc, context);
                return null;
            case DropCatalog dc:
                DropCatalogFrom(dc, context);
                return null;
            case CreateDatabase cd:
                CreateDatabaseFrom(cd, context);
                return null;
            case DropDatabase dd:
                DropDatabaseFrom(dd, context);
                return null;
            case CreateFunction fn:
                CreateFunctionFrom(fn, context);
                return null;
            case DropFunction df:
                if (!Catalog.Functions.Names.Contains(df.Name.Last.Value, StringComparer.OrdinalIgnoreCase))
                {
                    if (df.IfExists) return null;
                    throw SqlErrors.At(df.Name, $"function '{df.Name.Last.Value}' does not exist" + SqlErrors.Suggest(df.Name.Last.Value, Catalog.Functions.Names), context);
                }
                Catalog.Functions.Drop(df.Name.Last.Value);
                functionJars.Remove(df.Name.Last.Value);
                return null;
            case AddJar add:
                LoadJar(add.Jar, context);
                return null;
            case RemoveJar remove:
            {
                string full = Path.GetFullPath(ResolveJar(remove.Jar.Path));
                if (functionJars.FirstOrDefault(f => f.Value == full) is { Key: not null } user)
                    throw SqlErrors.At(remove.Jar, $"jar '{remove.Jar.Path}' is used by function '{user.Key}': drop the function first", context);
                if (!UserCode.Remove(full))
                    throw SqlErrors.At(remove.Jar, $"jar '{remove.Jar.Path}' was not added (SHOW JARS lists the added ones)", context);
                return null;
            }
            case SetOption set:
                if (set.Key is null)
                {
                    // Flink's SQL client (gateway-based, 1.16 and later) answers SET with a key/value table.
                    Tableau.Print(Output, ["key", "value"], SecretOptions.Redact(options).OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => new[] { kv.Key, kv.Value }));
                    return null;
                }
                try
                {
                    Set(set.Key, set.Value!);
                }
                catch (FormatException e)
                {
                    throw SqlErrors.At(set, e.Message, context);
                }
                optionSites[set.Key] = (set, context);
                return null;
            case ResetOption reset:
                if (reset.Key is null)
                {
                    options.Clear();
                    optionSites.Clear();
                }
                else
                {
                    options.Remove(reset.Key);
                    optionSites.Remove(reset.Key);
                }
                return null;
            case Show show:
                ShowObjects(show, context);
                return null;
            case Describe describe:
                if (describe.Extended) throw SqlErrors.At(describe, "DESCRIBE EXTENDED is not supported by Eddy; DESCRIBE t shows the columns", context);
                DescribeTable(describe.Name, context);
                return null;
            case Parsing.Explain explain:
                foreach (var detail in explain.Details.Where(d => d != ExplainDetail.ChangelogMode))
                {
                    throw SqlErrors.At(explain, $"EXPLAIN {detail switch { ExplainDetail.EstimatedCost => "ESTIMATED_COST", ExplainDetail.JsonExecutionPlan => "JSON_EXECUTION_PLAN", _ => "PLAN_ADVICE" }}"
                        + " is not supported by Eddy (it has CHANGELOG_MODE)", context);
                }
                Output.Write(ExplainStatement(explain.Statement, context, explain.Details.Contains(ExplainDetail.ChangelogMode)));
                return null;
            case Insert insert:
                return StorageChecked(MakeJob([insert], context, fileName), insert, context);
            case StatementSet set:
                return StorageChecked(MakeJob(set.Inserts, context, fileName), set, context);
            case QueryStatement query:
                return StorageChecked(MakeQueryJob(query.Query, context, fileName), query, context);
            case Use use:
                UseFrom(use, context);
                return null;
            case AlterTable alter:
                AlterTableFrom(alter, context);
                return null;
            case AlterView alter:
                AlterViewFrom(alter, context);
                return null;
            case AlterDatabase alter:
                AlterDatabaseFrom(alter, context);
                return null;
            case AlterFunction alter:
                AlterFunctionFrom(alter, context);
                return null;
            case LoadModule load:
                LoadModuleFrom(load, context);
                return null;
            case UnloadModule unload:
                UnloadModuleFrom(unload, context);
                return null;
            case UseModules use:
                UseModulesFrom(use, context);
                return null;
            case UnsupportedStatement unsupported:
                throw SqlErrors.At(unsupported, UnsupportedReason(unsupported.Construct), context);
            default:
                throw SqlErrors.At(statement, $"{statement.GetType().Name} is not supported by Eddy yet", context);
        }
    }

    private UserJar LoadJar(JarPath jar, SqlContext context)
    {
        try
        {
            return UserCode.Add(ResolveJar(jar.Path));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or IOException or UnauthorizedAccessException)
        {
            throw SqlErrors.At(jar, e.Message, context);
        }
    }

    /// <summary>Flink's LANGUAGE values that name a class on the class path; Eddy's class path holds .NET assemblies.</summary>
    private static readonly string[] ClassLanguages = ["JAVA", "SCALA", "CSHARP", "DOTNET"];

    private void CreateFunctionFrom(CreateFunction fn, SqlContext context)
    {
        var name = fn.Name.Last.Value;
        if (Catalog.Functions.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            if (fn.IfNotExists) return;
            throw SqlErrors.At(fn.Name, $"function '{name}' already exists (DROP it, ALTER FUNCTION, or CREATE FUNCTION IF NOT EXISTS)", context);
        }
        if (fn.Language is { } language && !ClassLanguages.Contains(language))
            throw SqlErrors.At(fn, $"LANGUAGE {language} is not supported by Eddy: functions are .NET classes (LANGUAGE JAVA, SCALA, CSHARP or DOTNET, or none)", context);
        var jars = fn.Jars.Select(j => LoadJar(j, context)).ToList();
        var type = UserCode.FindType(fn.ClassName, jars.Count > 0 ? jars : null)
            ?? throw SqlErrors.At(fn, $"class '{fn.ClassName}' was not found in "
                + (jars.Count > 0 ? string.Join(", ", jars.Select(j => $"'{j.Path}'")) : UserCode.Jars.Count > 0 ? "the added jars nor in Eddy" : "the loaded assemblies (ADD JAR or USING JAR loads a function library)")
                + SqlErrors.Suggest(fn.ClassName, (jars.Count > 0 ? jars : UserCode.Jars).SelectMany(j => ExportedNames(j.Assembly))), context);
        try
        {
            Catalog.Functions.RegisterClass(name, type);
        }
        catch (Exception e) when (e is ArgumentException or MissingMethodException or MemberAccessException)
        {
            throw SqlErrors.At(fn, e.Message, context);
        }
        catch (System.Reflection.TargetInvocationException e)
        {
            throw SqlErrors.At(fn, $"the constructor of '{fn.ClassName}' failed: {e.InnerException?.Message}", context);
        }
        if (UserCode.JarOf(type) is { } jar) functionJars[name] = jar.Path;
        else functionJars.Remove(name);
    }

    private static IEnumerable<string> ExportedNames(System.Reflection.Assembly assembly)
    {
        try
        {
            return assembly.GetExportedTypes().Select(t => t.FullName!).ToList();
        }
        catch (System.Reflection.ReflectionTypeLoadException)
        {
            return [];
        }
    }

    private Binder Binder(SqlContext context) =>
        new(Catalog, Connectors, context, BatchMode, table => Connectors.Find(table).AcceptsUpdates(table) || table.PrimaryKey.Count > 0)
        {
            WindowEmit = WindowEmit(),
            UpsertMaterialize = options.TryGetValue(Plan.UpsertMaterialize.UpsertMaterializer.Option, out var materialize)
                ? Plan.UpsertMaterialize.UpsertMaterializer.ParseMode(materialize) : Plan.UpsertMaterialize.UpsertMaterializeMode.Auto,
            StateTtlMs = options.TryGetValue("table.exec.state.ttl", out var ttl) ? (long)ParseDuration("table.exec.state.ttl", ttl).TotalMilliseconds : 0,
            Parallelism = options.TryGetValue("parallelism.default", out var parallelism)
                && int.TryParse(parallelism, NumberStyles.None, CultureInfo.InvariantCulture, out int p) ? p : 1,
        };

    /// <summary>
    /// Flink's (experimental) late firing of window aggregations: <c>table.exec.emit.allow-lateness</c> with
    /// <c>table.exec.emit.late-fire.enabled</c> and a <c>late-fire.delay</c> of 0 (every late row re-fires its window).
    /// Eddy fires late when the lateness is set and late firing is not switched off ('false'); Flink also needs
    /// 'late-fire.enabled' = 'true'. <c>table.exec.late-data.table</c> (Eddy) names where rows later than that go.
    /// </summary>
    private WindowEmitOptions WindowEmit()
    {
        long lateness = options.TryGetValue("table.exec.emit.allow-lateness", out var l)
            ? (long)ParseDuration("table.exec.emit.allow-lateness", l).TotalMilliseconds : 0;
        if (options.TryGetValue("table.exec.emit.late-fire.enabled", out var enabled) && !bool.Parse(enabled)) lateness = 0;
        options.TryGetValue("table.exec.late-data.table", out var lateTable);
        return new WindowEmitOptions(lateness, string.IsNullOrWhiteSpace(lateTable) ? null : lateTable.Trim());
    }

    private void CreateTableFrom(CreateTable create, SqlContext context)
    {
        var (catalogName, databaseName, name) = ObjectNameOf(create.Name, context);
        if (Catalog.Exists(Parts(create.Name)) && !create.OrReplace)
        {
            if (create.IfNotExists) return;
            throw SqlErrors.At(create.Name, $"table '{name}' already exists (use CREATE OR REPLACE TABLE or IF NOT EXISTS)", context);
        }
        if (create.PartitionedBy.Count > 0 && create.Like is not null)
            throw SqlErrors.At(create.PartitionedBy[0], "PARTITIONED BY together with LIKE is not supported by Eddy yet", context);
        if (create.Like is { } like)
        {
            if (TableNamed(like.Source, context).PartitionKeys.Count > 0)
                throw SqlErrors.At(like.Source, "LIKE of a partitioned table is not supported by Eddy yet", context);
            create = MergeLike(create, like, context);
        }
        var columns = new List<TableColumnDef>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var physical = new List<Column>();
        foreach (var c in create.Columns)
        {
            if (!names.Add(c.Name.Value)) throw SqlErrors.At(c.Name, $"column '{c.Name.Value}' is declared twice", context);
            switch (c)
            {
                case PhysicalColumn p:
                    columns.Add(new TableColumnDef(p.Name.Value, p.Type.Type));
                    physical.Add(new Column(p.Name.Value, p.Type.Type));
                    break;
                case MetadataColumn m:
                    columns.Add(new TableColumnDef(m.Name.Value, m.Type.Type, MetadataKey: m.MetadataKey ?? m.Name.Value, IsVirtual: m.IsVirtual));
                    physical.Add(new Column(m.Name.Value, m.Type.Type));
                    break;
                case ComputedColumn cc:
                {
                    // Computed columns see the physical and metadata columns, not each other (as in Flink).
                    var scope = Scope.Of(new Schema(physical.ToArray()), name);
                    var bound = Binder(context).Bind(cc.Expression, scope);
                    columns.Add(new TableColumnDef(cc.Name.Value, bound.Type.Kind == TypeKind.Null ? DataType.String : bound.Type, Computed: cc.Expression));
                    break;
                }
            }
        }
        var opts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var o in create.Options)
        {
            if (!opts.TryAdd(o.Key, Substitute(o.Value, o, context))) throw SqlErrors.At(o, $"option '{o.Key}' is given twice", context);
        }
        (string, Expr)? watermark = null;
        if (create.Watermark is { } wm)
        {
            var col = columns.FirstOrDefault(c => string.Equals(c.Name, wm.Column.Value, StringComparison.OrdinalIgnoreCase))
                ?? throw SqlErrors.At(wm.Column, $"WATERMARK FOR an unknown column '{wm.Column.Value}'" + SqlErrors.Suggest(wm.Column.Value, columns.Select(c => c.Name)), context);
            if (col.Type.Kind is not (TypeKind.Timestamp or TypeKind.TimestampLtz))
            {
                throw SqlErrors.At(wm.Column, $"the rowtime column '{col.Name}' must be TIMESTAMP(3) or TIMESTAMP_LTZ(3), but it is {col.Type}: "
                    + "derive one with a computed column, e.g. ts AS TO_TIMESTAMP(event_time) or ts AS TO_TIMESTAMP_LTZ(epoch_ms, 3)", context);
            }
            watermark = (col.Name, wm.Strategy);
        }
        var pk = new List<string>();
        if (create.PrimaryKey is { } key)
        {
            if (!key.NotEnforced) throw SqlErrors.At(key, "Flink and Eddy do not enforce primary keys: write PRIMARY KEY (...) NOT ENFORCED", context);
            foreach (var k in key.Columns)
            {
                var col = columns.FirstOrDefault(c => string.Equals(c.Name, k.Value, StringComparison.OrdinalIgnoreCase))
                    ?? throw SqlErrors.At(k, $"PRIMARY KEY names an unknown column '{k.Value}'" + SqlErrors.Suggest(k.Value, columns.Select(c => c.Name)), context);
                pk.Add(col.Name);
            }
        }
        var partitionKeys = new List<string>();
        if (create.PartitionedBy.Count > 0)
        {
            // Only the filesystem connector writes partitions (Hive-style folders); anywhere else it would be ignored.
            string connectorName = opts.TryGetValue("connector", out var cn) ? cn : "";
            if (connectorName != "filesystem")
                throw SqlErrors.At(create.PartitionedBy[0], $"PARTITIONED BY is not supported by connector '{connectorName}' (only 'filesystem' writes partitions)", context);
            if (opts.TryGetValue("format", out var format) && format is not ("csv" or "json" or "parquet"))
                throw SqlErrors.At(create.PartitionedBy[0], $"PARTITIONED BY is not supported for format '{format}' (Eddy's partitioned filesystem sink writes csv, json and parquet)", context);
            foreach (var k in create.PartitionedBy)
            {
                var col = columns.FirstOrDefault(c => string.Equals(c.Name, k.Value, StringComparison.OrdinalIgnoreCase))
                    ?? throw SqlErrors.At(k, $"PARTITIONED BY names an unknown column '{k.Value}'" + SqlErrors.Suggest(k.Value, columns.Select(c => c.Name)), context);
                if (create.Columns.FirstOrDefault(c => string.Equals(c.Name.Value, col.Name, StringComparison.OrdinalIgnoreCase)) is not PhysicalColumn)
                    throw SqlErrors.At(k, $"partition column '{col.Name}' must be a physical column", context);
                if (partitionKeys.Contains(col.Name)) throw SqlErrors.At(k, $"partition column '{col.Name}' is named twice", context);
                partitionKeys.Add(col.Name);
            }
        }
        var table = new TableDef
        {
            Name = name,
            Columns = columns,
            Watermark = watermark,
            PrimaryKey = pk,
            PartitionKeys = partitionKeys,
            Options = opts,
            Declaration = create,
            Context = context,
            CatalogName = catalogName,
            DatabaseName = databaseName,
        };
        ITableConnector connector;
        try
        {
            connector = Connectors.Find(table);
        }
        catch (ConnectorOptionException e)
        {
            var at = create.Options.FirstOrDefault(o => o.Key == "connector") as SqlNode ?? create;
            throw SqlErrors.At(at, e.Message, context);
        }
        foreach (var m in create.Columns.OfType<MetadataColumn>())
        {
            string metadataKey = m.MetadataKey ?? m.Name.Value;
            if (!connector.MetadataKeys.Contains(metadataKey))
            {
                throw SqlErrors.At(m, connector.MetadataKeys.Count == 0
                    ? $"connector '{table.Connector}' has no metadata columns (column '{m.Name.Value}' asks for '{metadataKey}')"
                    : $"connector '{table.Connector}' has no metadata '{metadataKey}'; it offers {string.Join(", ", connector.MetadataKeys)}", context);
            }
        }
        Catalog.TryGetTable(Parts(create.Name), out var previous);
        Catalog.AddTable(table, replace: true);
        if (watermark is not null)
        {
            try
            {
                // Bind a scan now so that a bad watermark expression fails at its declaration.
                Binder(context).BindQuery(new SelectQuery(false, new([new SelectAll(null)]),
                    new NamedTableRef(create.Name, null, new([]), null, new([])), null, new([]), null, new([]), new([])));
            }
            catch
            {
                Catalog.DropTable(Parts(create.Name));
                if (previous is not null) Catalog.AddTable(previous, replace: true);
                throw;
            }
        }
    }

    private static readonly Regex EnvReference = EnvPattern();

    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")]
    private static partial Regex EnvPattern();

    private string Substitute(string value, TableOption at, SqlContext context)
    {
        // What the pattern does not take is malformed: '${A:-' without its brace, '${}', '${1X}'.
        int malformed = EnvReference.Replace(value, "").IndexOf("${", StringComparison.Ordinal);
        if (malformed >= 0)
        {
            throw SqlErrors.At(at, $"option '{at.Key}' has a malformed environment reference in '{value}': "
                + "write ${NAME} or ${NAME:-default} (NAME of letters, digits and '_', not starting with a digit)", context);
        }
        return EnvReference.Replace(value, m => Environment(m.Groups[1].Value)
            ?? (m.Groups[2].Success ? m.Groups[2].Value : null)
            ?? throw SqlErrors.At(at, $"option '{at.Key}' uses ${{{m.Groups[1].Value}}}, but the environment variable {m.Groups[1].Value} is not set", context));
    }

    /// <summary>A connector's option error, located at the option in its table's CREATE TABLE when it names one.</summary>
    private SqlParseException OptionError(ConnectorOptionException e, SqlNode fallback, SqlContext context)
    {
        var named = System.Text.RegularExpressions.Regex.Match(e.Message, @"option '(?<key>[^']+)'");
        if (named.Success && Catalog.TryGetTable(e.Table, out var table)
            && table.Declaration.Options.FirstOrDefault(o => o.Key == named.Groups["key"].Value) is { } option)
        {
            return SqlErrors.At(option, e.Message, table.Context);
        }
        return SqlErrors.At(fallback, e.Message, context);
    }

    /// <summary>A missing file or folder, located at the 'path' option that names it.</summary>
    private SqlParseException PathError(Exception e, SqlNode fallback, SqlContext context)
    {
        string? missing = (e as FileNotFoundException)?.FileName;
        foreach (var table in Catalog.Tables)
        {
            if (!table.Options.TryGetValue("path", out var path)) continue;
            if (table.Declaration.Options.FirstOrDefault(o => o.Key == "path") is not { } option) continue;
            bool names = missing is not null
                ? Path.GetFullPath(missing).StartsWith(Path.GetFullPath(path), StringComparison.Ordinal) || Path.GetFullPath(path).StartsWith(Path.GetFullPath(missing), StringComparison.Ordinal)
                : e.Message.Contains(path, StringComparison.Ordinal);
            if (names) return SqlErrors.At(option, $"table '{table.Name}', option 'path': {e.Message}", table.Context);
        }
        return SqlErrors.At(fallback, e.Message, context);
    }

    private static void ValidateOption(string key, string value)
    {
        switch (key)
        {
            case "parallelism.default" or "pipeline.max-parallelism":
                if (!int.TryParse(value, out int p) || p < 1) throw new FormatException($"'{key}' takes a positive whole number, got '{value}'");
                break;
            case "execution.runtime-mode":
                if (value is not ("streaming" or "batch" or "STREAMING" or "BATCH")) throw new FormatException($"'{key}' is 'streaming' or 'batch', got '{value}'");
                break;
            case "execution.checkpointing.interval" or "table.exec.source.idle-timeout" or "pipeline.auto-watermark-interval"
                or "execution.checkpointing.timeout" or "restart-strategy.fixed-delay.delay"
                or "restart-strategy.exponential-delay.initial-backoff" or "restart-strategy.exponential-delay.max-backoff":
                ParseDuration(key, value);
                break;
            case "execution.checkpointing.dir" or "execution.savepoint.path":
                CheckpointStorages.Validate(value);
                break;
            case not null when key.StartsWith("s3.", StringComparison.Ordinal):
                S3Settings.Validate(key, value);
                break;
            case "state.checkpoints.num-retained" or "table.exec.repartition.partitions":
                if (!int.TryParse(value, out int n) || n < 1) throw new FormatException($"'{key}' takes a positive whole number, got '{value}'");
                break;
            case "restart-strategy.type":
                RestartStrategy.FromOptions(new Dictionary<string, string> { [key] = value }, ParseDuration);
                break;
            case "table.exec.emit.allow-lateness" or "table.exec.emit.early-fire.delay" or "table.exec.state.ttl":
                ParseDuration(key, value);
                break;
            case Plan.UpsertMaterialize.UpsertMaterializer.Option:
                Plan.UpsertMaterialize.UpsertMaterializer.ParseMode(value);
                break;
            case not null when Functions.AsyncScalarOptions.OptionNames.Contains(key):
                Functions.AsyncScalarOptions.From(new Dictionary<string, string> { [key] = value }, ParseDuration,
                    key.StartsWith(Functions.AsyncScalarOptions.TablePrefix, StringComparison.Ordinal) ? Functions.AsyncScalarOptions.TablePrefix : Functions.AsyncScalarOptions.ScalarPrefix);
                break;
            case "table.exec.source.cdc-events-duplicate" or DistributedOption:
                if (!bool.TryParse(value, out _)) throw new FormatException($"'{key}' takes true or false, got '{value}'");
                break;
            case "table.exec.emit.late-fire.delay":
                if (ParseDuration(key, value) > TimeSpan.Zero)
                {
                    throw new FormatException($"'{key}' = '{value}': Eddy re-fires a window at once for each late row (a delay of 0); "
                        + "a delayed late firing is not supported yet");
                }
                break;
            case "table.exec.emit.early-fire.enabled":
                if (!bool.TryParse(value, out bool early)) throw new FormatException($"'{key}' is 'true' or 'false', got '{value}'");
                if (early) throw new FormatException($"'{key}': early firing (results before the watermark closes a window) is not supported by Eddy yet");
                break;
            case "table.exec.late-data.table":
                if (string.IsNullOrWhiteSpace(value)) throw new FormatException($"'{key}' names a declared table, got ''");
                break;
            case "pipeline.operator-chaining" or "execution.savepoint.ignore-unclaimed-state" or "table.exec.emit.late-fire.enabled":
                if (!bool.TryParse(value, out _)) throw new FormatException($"'{key}' is 'true' or 'false', got '{value}'");
                break;
            case not null when key.StartsWith("geo.", StringComparison.Ordinal):
                try
                {
                    Eddy.Functions.Geo.GeoConfig.From(new Dictionary<string, string> { [key] = value }, _ => null);
                }
                catch (ArgumentException e)
                {
                    throw new FormatException(e.Message);
                }
                break;
        }
    }

    /// <summary>Flink's duration syntax (the one parser, <see cref="Eddy.Sql.Connectors.Options.FlinkValues"/>): <c>10 s</c>, <c>500 ms</c>, <c>1 min</c>, or plain milliseconds.</summary>
    public static TimeSpan ParseDuration(string key, string text) =>
        Eddy.Sql.Connectors.Options.FlinkValues.TryParseDuration(text, out var duration, out var problem)
            ? duration
            : throw new FormatException(problem.StartsWith("expected ", StringComparison.Ordinal)
                ? $"'{key}' takes {Eddy.Sql.Connectors.Options.FlinkValues.DurationForm}, got '{text}'"
                : $"'{key}': {problem}");

    /// <summary>
    /// Applied last to every job's configuration (after the script's SETs): <c>eddy worker</c> makes each planned job one
    /// partition task this way (parallelism 1, the partition's checkpoint folder).
    /// </summary>
    public Func<JobConfig, JobConfig>? ConfigOverride { get; set; }

    public JobConfig JobConfig() => ConfigOverride is { } change ? change(OptionsConfig()) : OptionsConfig();

    private JobConfig OptionsConfig()
    {
        var config = new JobConfig { Clock = Clock };
        if (options.TryGetValue("parallelism.default", out var p)) config = config with { DefaultParallelism = int.Parse(p, CultureInfo.InvariantCulture) };
        if (options.TryGetValue("pipeline.max-parallelism", out var mp)) config = config with { MaxParallelism = int.Parse(mp, CultureInfo.InvariantCulture) };
        if (options.TryGetValue("table.exec.source.idle-timeout", out var idle))
        {
            var t = ParseDuration("table.exec.source.idle-timeout", idle);
            config = config with { SourceIdleTimeout = t > TimeSpan.Zero ? t : null };
        }
        if (options.TryGetValue("pipeline.auto-watermark-interval", out var wi))
            config = config with { AutoWatermarkInterval = ParseDuration("pipeline.auto-watermark-interval", wi) };
        if (options.TryGetValue("pipeline.operator-chaining", out var ch)) config = config with { Chaining = bool.Parse(ch) };
        if (options.TryGetValue("pipeline.name", out var name)) config = config with { JobName = name };
        if (options.TryGetValue("execution.checkpointing.interval", out var ci))
        {
            var t = ParseDuration("execution.checkpointing.interval", ci);
            config = config with { CheckpointInterval = t > TimeSpan.Zero ? t : null };
        }
        if (options.TryGetValue("execution.checkpointing.timeout", out var ct))
            config = config with { CheckpointTimeout = ParseDuration("execution.checkpointing.timeout", ct) };
        if (options.TryGetValue("execution.checkpointing.dir", out var cd)) config = config with { CheckpointDirectory = cd };
        if (S3Settings.FromOptions(options) is { } s3) config = config with { S3 = s3 };
        if (options.TryGetValue("state.checkpoints.num-retained", out var nr))
            config = config with { CheckpointsRetained = int.Parse(nr, CultureInfo.InvariantCulture) };
        if (options.TryGetValue("execution.savepoint.path", out var sp)) config = config with { RestorePath = sp };
        if (options.TryGetValue("execution.savepoint.ignore-unclaimed-state", out var ig)) config = config with { AllowNonRestoredState = bool.Parse(ig) };
        if (RestartStrategy.FromOptions(options, ParseDuration) is { } restart) config = config with { RestartStrategy = restart };
        return config;
    }

    /// <summary>
    /// A job that checkpoints into an object store is refused at planning when the store does not answer, the bucket is
    /// missing or the credentials are refused, located at the SET of the option at fault (else at the statement).
    /// </summary>
    private SqlJob StorageChecked(SqlJob job, SqlNode statement, SqlContext context)
    {
        var config = job.Environment.Config;
        if (PlanOnly || !config.CheckpointingEnabled || config.CheckpointDirectory is not { } dir || !CheckpointStorages.IsRemote(dir)) return job;
        try
        {
            CheckpointStorages.Open(dir, config.S3);
        }
        catch (CheckpointStorageException e)
        {
            job.ReleaseUserCode();
            var (at, where) = optionSites.TryGetValue(e.Option, out var site) ? site
                : optionSites.TryGetValue(CheckpointStorages.DirOption, out var dirSite) ? dirSite
                : (statement, context);
            throw SqlErrors.At(at, SecretOptions.RedactText(e.Message), where);
        }
        return job;
    }

    /// <summary>Plan to show, never to run (<c>eddy explain</c>): connectors contact no external system (see <see cref="ConnectorContext.PlanOnly"/>).</summary>
    public bool PlanOnly { get; set; }

    private ConnectorContext ConnectorContext => new(Output, Error, PlanOnly) { UserCode = UserCode, JobOptions = new Dictionary<string, string>(options) };

    private SqlJob MakeJob(IReadOnlyList<Insert> inserts, SqlContext context, string? fileName)
    {
        var binder = Binder(context);
        Catalog.Geo.ForgetBound();
        var plans = inserts.Select(binder.BindInsert).ToList();
        var env = StreamEnvironment.Create(JobConfig());
        Catalog.Geo.RegisterBoundCounters(env.Counters);
        var translator = new JobTranslator(env, ConnectorContext, Connectors) { BatchMode = BatchMode };
        for (int i = 0; i < plans.Count; i++)
        {
            try
            {
                if (i == 0) translator.Prepare(plans);
                translator.AddSink(plans[i]);
            }
            catch (ConnectorOptionException e)
            {
                throw OptionError(e, inserts[i], context);
            }
            catch (LocatedPlanningException e)
            {
                throw SqlErrors.At(e.Span, e.Message, context);
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                throw PathError(e, inserts[i], context);
            }
        }
        string name = options.TryGetValue("pipeline.name", out var n) ? n
            : inserts.Count == 1 ? $"insert-into_{plans[0].Table.QualifiedName}"
            : fileName is not null ? Path.GetFileNameWithoutExtension(fileName)
            : "insert-into_" + string.Join("_", plans.Select(p => p.Table.Name));
        return WithUserCode(new SqlJob(name, env, plans) { Origins = inserts, Context = context, Distributed = Distributed, RefuseDistributed = DistributedRefusal(inserts[0], context) });
    }

    /// <summary>For a distributed job: a located error at the SET that asked for it (or the statement, when it came from outside the script).</summary>
    private Func<string, SqlParseException>? DistributedRefusal(SqlNode statement, SqlContext context)
    {
        if (!Distributed) return null;
        var (at, where) = optionSites.TryGetValue(DistributedOption, out var site) ? site : (statement, context);
        return reason => SqlErrors.At(at, reason, where);
    }

    private SqlJob WithUserCode(SqlJob job)
    {
        if (UserCode.LoadContext is null) return job;
        UserCode.Retain();
        return job with { UserCode = UserCode };
    }

    private SqlJob MakeQueryJob(QueryExpr query, SqlContext context, string? fileName)
    {
        Catalog.Geo.ForgetBound();
        var (plan, _) = Binder(context).BindQuery(query);
        var env = StreamEnvironment.Create(JobConfig());
        Catalog.Geo.RegisterBoundCounters(env.Counters);
        var translator = new JobTranslator(env, ConnectorContext, Connectors) { BatchMode = BatchMode };
        try
        {
            translator.Prepare([plan]);
            translator.AddQuery(plan, QuerySink?.Invoke(plan.Schema) ?? new PrintSink<Row>(Output), "Print");
        }
        catch (ConnectorOptionException e)
        {
            throw OptionError(e, query, context);
        }
        catch (LocatedPlanningException e)
        {
            throw SqlErrors.At(e.Span, e.Message, context);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw PathError(e, query, context);
        }
        string name = options.TryGetValue("pipeline.name", out var n) ? n : fileName is not null ? Path.GetFileNameWithoutExtension(fileName) : "query";
        return WithUserCode(new SqlJob(name, env, [plan]) { Origins = [query], Context = context, Distributed = Distributed, RefuseDistributed = DistributedRefusal(query, context) });
    }

    /// <summary>The logical plans and the physical plan (tasks, parallelism, exchanges) of a statement.</summary>
    public string ExplainStatement(Statement statement, SqlContext context, bool changelogMode = false)
    {
        SqlJob job = statement switch
        {
            Insert i => MakeJob([i], context, context.FileName),
            StatementSet s => MakeJob(s.Inserts, context, context.FileName),
            QueryStatement q => MakeQueryJob(q.Query, context, context.FileName),
            _ => throw SqlErrors.At(statement, "EXPLAIN takes INSERT, a statement set or a query", context),
        };
        return Describe(job, changelogMode);
    }

    /// <summary>
    /// The stages of <paramref name="job"/> run distributed (<c>eddy explain --distributed</c>): each stage's operators
    /// and the repartition topics between them. Takes the job's graph apart: describe the job first.
    /// </summary>
    public static string DescribeStages(SqlJob job, int? repartitionPartitions)
    {
        try
        {
            var stages = StageSplitter.Split(job.Environment.Graph, job.Name, StageSplitter.PlanOnly, repartitionPartitions, job.Environment.Config.MaxParallelism);
            return StageSplitter.Describe(stages);
        }
        catch (StageSplitException e)
        {
            return $"not splittable into stages: {e.Message}{System.Environment.NewLine}";
        }
    }

    public static string Describe(SqlJob job, bool changelogMode = false)
    {
        var sb = new StringBuilder();
        sb.AppendLine("== Logical Plan ==");
        foreach (var plan in job.Plans) sb.Append(PlanPrinter.Print(plan, changelogMode));
        sb.AppendLine();
        sb.AppendLine("== Physical Plan ==");
        var physical = job.Environment.Plan();
        foreach (var chain in physical.Chains)
        {
            sb.Append("task ").Append(chain.Id).Append(": ").Append(chain.Name).Append("  parallelism=").Append(chain.Parallelism);
            if (chain.Inputs.Count > 0) sb.Append("  input=").Append(string.Join(", ", chain.Inputs));
            sb.AppendLine();
        }
        foreach (var node in job.Environment.Graph.Nodes)
        {
            foreach (var e in node.Inputs)
                sb.Append("edge: ").Append(e.From.Name).Append(" -> ").Append(e.To.Name).Append(" [")
                    .Append(e.Partitioning?.ToString() ?? "Forward").AppendLine("]");
        }
        var watermarks = job.Plans.SelectMany(Scans).Where(s => s.RowtimeIndex is not null).Distinct().ToList();
        foreach (var s in watermarks)
            sb.Append("watermark: ").Append(s.Table.Name).Append('.').Append(s.Schema[s.RowtimeIndex!.Value].Name)
                .Append(" - ").Append(s.WatermarkDelayMs).AppendLine(" ms");
        return sb.ToString();

        static IEnumerable<ScanPlan> Scans(LogicalPlan p) => DeepStack.Ensure(p) is ScanPlan s ? [s] : p.Inputs.SelectMany(Scans);
    }
}
