using Eddy.Sql.Parsing;

namespace Eddy.Sql.Catalog;

/// <summary>A column of a table as declared: physical, computed (an expression) or metadata (from the connector).</summary>
public sealed record TableColumnDef(string Name, DataType Type, Expr? Computed = null, string? MetadataKey = null, bool IsVirtual = false)
{
    public bool IsPhysical => Computed is null && MetadataKey is null;
}

/// <summary>A table declared with CREATE TABLE: its columns, watermark, primary key and connector options.</summary>
public sealed class TableDef
{
    public required string Name { get; init; }

    public required IReadOnlyList<TableColumnDef> Columns { get; init; }

    /// <summary>The rowtime column and the watermark expression over the row, if declared.</summary>
    public (string Column, Expr Expression)? Watermark { get; init; }

    public IReadOnlyList<string> PrimaryKey { get; init; } = [];

    /// <summary>The columns of <c>PARTITIONED BY</c> (filesystem tables only), in order.</summary>
    public IReadOnlyList<string> PartitionKeys { get; init; } = [];

    public required IReadOnlyDictionary<string, string> Options { get; init; }

    /// <summary>The statement that declared it, for error positions.</summary>
    public required CreateTable Declaration { get; init; }

    public SqlContext Context { get; init; } = new("", null);

    /// <summary>The catalog and database the table lives in.</summary>
    public string CatalogName { get; init; } = SqlCatalog.DefaultCatalog;

    public string DatabaseName { get; init; } = SqlCatalog.DefaultDatabase;

    /// <summary>Flink's fully qualified name: <c>catalog.database.table</c>.</summary>
    public string QualifiedName => $"{CatalogName}.{DatabaseName}.{Name}";

    public string Connector => Options.TryGetValue("connector", out var c) ? c : "";

    /// <summary>All columns a query can read (physical, metadata, computed).</summary>
    public Schema Schema => new(Columns.Select(c => new Column(c.Name, c.Type)).ToArray());

    /// <summary>The columns the connector produces (physical then metadata) — what a source decodes.</summary>
    public Schema PhysicalSchema => new(Columns.Where(c => c.IsPhysical).Select(c => new Column(c.Name, c.Type)).ToArray());

    /// <summary>The columns a sink receives (not computed, not virtual metadata).</summary>
    public Schema SinkSchema => new(Columns.Where(c => c.Computed is null && !c.IsVirtual).Select(c => new Column(c.Name, c.Type)).ToArray());
}

public sealed record ViewDef(string Name, QueryExpr Query, IReadOnlyList<string> ColumnNames, SqlContext Context);

/// <summary>
/// The tables, views and functions a SQL session knows. Tables and views live in databases of in-memory catalogs
/// (Flink's <c>GenericInMemoryCatalog</c>): <c>default_catalog.default_database</c> at first; a name of one part is
/// looked up in the current catalog and database (<c>USE</c>), two parts are <c>database.object</c>, three
/// <c>catalog.database.object</c>. Names compare case-insensitively.
/// </summary>
public sealed class SqlCatalog
{
    public const string DefaultCatalog = "default_catalog";
    public const string DefaultDatabase = "default_database";

    private readonly Dictionary<string, TableDef> tables = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ViewDef> views = new(StringComparer.OrdinalIgnoreCase);

    // catalog name -> its databases (each catalog has its default database, as Flink's in-memory catalog).
    private readonly Dictionary<string, SortedSet<string>> catalogs = new(StringComparer.OrdinalIgnoreCase)
    {
        [DefaultCatalog] = new(StringComparer.OrdinalIgnoreCase) { DefaultDatabase },
    };

    public string CurrentCatalog { get; private set; } = DefaultCatalog;

    public string CurrentDatabase { get; private set; } = DefaultDatabase;

    /// <summary>Every table of every database.</summary>
    public IReadOnlyCollection<TableDef> Tables => tables.Values;

    /// <summary>Every view of every database.</summary>
    public IReadOnlyCollection<ViewDef> Views => views.Values;

    public UserFunctions Functions { get; } = new();

    /// <summary>The session's SET options so far: job parameters of user functions and the async-scalar options.</summary>
    public Func<IReadOnlyDictionary<string, string>> JobOptions { get; set; } = () => new Dictionary<string, string>();

    /// <summary>The geolocation built-ins with the session's <c>geo.*</c> options (the session sets its own).</summary>
    public Functions.GeoSqlFunctions Geo { get; set; } = new(() => new Dictionary<string, string>(), Environment.GetEnvironmentVariable);

    // ---- catalogs and databases ----------------------------------------------------------------------------------

    public IEnumerable<string> CatalogNames => catalogs.Keys.Order(StringComparer.Ordinal);

    public bool CatalogExists(string name) => catalogs.ContainsKey(name);

    public IEnumerable<string> DatabaseNames(string catalog) =>
        catalogs.TryGetValue(catalog, out var dbs) ? dbs.Order(StringComparer.Ordinal) : [];

    public bool DatabaseExists(string catalog, string database) => catalogs.TryGetValue(catalog, out var dbs) && dbs.Contains(database);

    /// <summary>Adds an in-memory catalog with its <c>default</c> database (the default of Flink's in-memory catalog); false if it exists.</summary>
    public bool AddCatalog(string name, string defaultDatabase = "default")
    {
        if (catalogs.ContainsKey(name)) return false;
        catalogs[name] = new(StringComparer.OrdinalIgnoreCase) { defaultDatabase };
        return true;
    }

    public bool DropCatalog(string name)
    {
        if (!catalogs.Remove(name)) return false;
        foreach (var key in databaseProperties.Keys.Where(k => SameCatalog(k, name)).ToList()) databaseProperties.Remove(key);
        foreach (var key in tables.Keys.Where(k => SameCatalog(k, name)).ToList()) tables.Remove(key);
        foreach (var key in views.Keys.Where(k => SameCatalog(k, name)).ToList()) views.Remove(key);
        return true;
    }

    public bool AddDatabase(string catalog, string name) => catalogs[catalog].Add(name);

    // Database properties (CREATE DATABASE ... WITH, ALTER DATABASE ... SET), by catalog and database.
    private readonly Dictionary<string, Dictionary<string, string>> databaseProperties = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyDictionary<string, string> DatabaseProperties(string catalog, string database) =>
        databaseProperties.TryGetValue(Prefix(catalog, database), out var p) ? p : new Dictionary<string, string>();

    public void SetDatabaseProperty(string catalog, string database, string key, string value)
    {
        string k = Prefix(catalog, database);
        if (!databaseProperties.TryGetValue(k, out var p)) databaseProperties[k] = p = new(StringComparer.Ordinal);
        p[key] = value;
    }

    /// <summary>Whether the database holds any table or view (DROP DATABASE without CASCADE refuses then).</summary>
    public bool DatabaseHasObjects(string catalog, string database) =>
        tables.Keys.Concat(views.Keys).Any(k => k.StartsWith(Prefix(catalog, database), StringComparison.OrdinalIgnoreCase));

    public bool DropDatabase(string catalog, string database)
    {
        if (!catalogs.TryGetValue(catalog, out var dbs) || !dbs.Remove(database)) return false;
        string prefix = Prefix(catalog, database);
        databaseProperties.Remove(prefix);
        foreach (var key in tables.Keys.Where(k => k.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).ToList()) tables.Remove(key);
        foreach (var key in views.Keys.Where(k => k.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).ToList()) views.Remove(key);
        return true;
    }

    public void UseCatalog(string name)
    {
        CurrentCatalog = catalogs.Keys.First(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
        // Flink switches to the catalog's default database.
        string defaultDatabase = CurrentCatalog == DefaultCatalog ? DefaultDatabase : "default";
        var dbs = catalogs[CurrentCatalog];
        CurrentDatabase = dbs.Contains(defaultDatabase) ? dbs.First(d => string.Equals(d, defaultDatabase, StringComparison.OrdinalIgnoreCase)) : dbs.Min ?? defaultDatabase;
    }

    public void UseDatabase(string catalog, string database)
    {
        CurrentCatalog = catalogs.Keys.First(k => string.Equals(k, catalog, StringComparison.OrdinalIgnoreCase));
        CurrentDatabase = catalogs[CurrentCatalog].First(d => string.Equals(d, database, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The catalog, database and object a name of one, two or three parts means (null for more parts).</summary>
    public (string Catalog, string Database, string Name)? Resolve(IReadOnlyList<string> parts) => parts.Count switch
    {
        1 => (CurrentCatalog, CurrentDatabase, parts[0]),
        2 => (CurrentCatalog, parts[0], parts[1]),
        3 => (parts[0], parts[1], parts[2]),
        _ => null,
    };

    private static string Prefix(string catalog, string database) => catalog + "\u0001" + database + "\u0001";

    private static bool SameCatalog(string key, string catalog) => key.StartsWith(catalog + "\u0001", StringComparison.OrdinalIgnoreCase);

    private string Key(IReadOnlyList<string> parts) =>
        Resolve(parts) is { } r ? Prefix(r.Catalog, r.Database) + r.Name : "\u0002" + string.Join('.', parts);

    private string Key(TableDef table) => Prefix(table.CatalogName, table.DatabaseName) + table.Name;

    // ---- tables and views --------------------------------------------------------------------------------------

    public bool TryGetTable(string name, out TableDef table) => tables.TryGetValue(Key([name]), out table!);

    public bool TryGetTable(IReadOnlyList<string> parts, out TableDef table) => tables.TryGetValue(Key(parts), out table!);

    public bool TryGetView(string name, out ViewDef view) => views.TryGetValue(Key([name]), out view!);

    public bool TryGetView(IReadOnlyList<string> parts, out ViewDef view) => views.TryGetValue(Key(parts), out view!);

    public bool Exists(string name) => Exists([name]);

    public bool Exists(IReadOnlyList<string> parts) => tables.ContainsKey(Key(parts)) || views.ContainsKey(Key(parts));

    /// <summary>Adds a table to the database named by its <see cref="TableDef.CatalogName"/> and <see cref="TableDef.DatabaseName"/>.</summary>
    public void AddTable(TableDef table, bool replace)
    {
        string key = Key(table);
        if (!replace && (tables.ContainsKey(key) || views.ContainsKey(key))) throw new InvalidOperationException($"table '{table.Name}' already exists");
        views.Remove(key);
        tables[key] = table;
    }

    /// <summary>Adds a view under a name of one to three parts.</summary>
    public void AddView(IReadOnlyList<string> parts, ViewDef view)
    {
        string key = Key(parts);
        if (tables.ContainsKey(key) || views.ContainsKey(key)) throw new InvalidOperationException($"a table or view '{view.Name}' already exists");
        views[key] = view;
    }

    public void AddView(ViewDef view) => AddView([view.Name], view);

    public bool DropTable(string name) => tables.Remove(Key([name]));

    public bool DropTable(IReadOnlyList<string> parts) => tables.Remove(Key(parts));

    public bool DropView(string name) => views.Remove(Key([name]));

    public bool DropView(IReadOnlyList<string> parts) => views.Remove(Key(parts));

    /// <summary>The tables of one database.</summary>
    public IEnumerable<TableDef> TablesOf(string catalog, string database) =>
        tables.Where(kv => kv.Key.StartsWith(Prefix(catalog, database), StringComparison.OrdinalIgnoreCase)).Select(kv => kv.Value);

    /// <summary>The views of one database.</summary>
    public IEnumerable<ViewDef> ViewsOf(string catalog, string database) =>
        views.Where(kv => kv.Key.StartsWith(Prefix(catalog, database), StringComparison.OrdinalIgnoreCase)).Select(kv => kv.Value);

    /// <summary>The names of the tables and views of the current database (for suggestions).</summary>
    public IEnumerable<string> AllNames =>
        TablesOf(CurrentCatalog, CurrentDatabase).Select(t => t.Name).Concat(ViewsOf(CurrentCatalog, CurrentDatabase).Select(v => v.Name));
}
