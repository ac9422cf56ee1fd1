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

    public required IReadOnlyDictionary<string, string> Options { get; init; }

    /// <summary>The statement that declared it, for error positions.</summary>
    public required CreateTable Declaration { get; init; }

    public SqlContext Context { get; init; } = new("", null);

    public string Connector => Options.TryGetValue("connector", out var c) ? c : "";

    /// <summary>All columns a query can read (physical, metadata, computed).</summary>
    public Schema Schema => new(Columns.Select(c => new Column(c.Name, c.Type)).ToArray());

    /// <summary>The columns the connector produces (physical then metadata) — what a source decodes.</summary>
    public Schema PhysicalSchema => new(Columns.Where(c => c.IsPhysical).Select(c => new Column(c.Name, c.Type)).ToArray());

    /// <summary>The columns a sink receives (not computed, not virtual metadata).</summary>
    public Schema SinkSchema => new(Columns.Where(c => c.Computed is null && !c.IsVirtual).Select(c => new Column(c.Name, c.Type)).ToArray());
}

public sealed record ViewDef(string Name, QueryExpr Query, IReadOnlyList<string> ColumnNames, SqlContext Context);

/// <summary>The tables, views and functions a SQL session knows, by case-insensitive name.</summary>
public sealed class SqlCatalog
{
    private readonly Dictionary<string, TableDef> tables = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, ViewDef> views = new(StringComparer.OrdinalIgnoreCase);

    public IReadOnlyCollection<TableDef> Tables => tables.Values;

    public IReadOnlyCollection<ViewDef> Views => views.Values;

    public UserFunctions Functions { get; } = new();

    /// <summary>The geolocation built-ins with the session's <c>geo.*</c> options (the session sets its own).</summary>
    public Functions.GeoSqlFunctions Geo { get; set; } = new(() => new Dictionary<string, string>(), Environment.GetEnvironmentVariable);

    public bool TryGetTable(string name, out TableDef table) => tables.TryGetValue(name, out table!);

    public bool TryGetView(string name, out ViewDef view) => views.TryGetValue(name, out view!);

    public bool Exists(string name) => tables.ContainsKey(name) || views.ContainsKey(name);

    public void AddTable(TableDef table, bool replace)
    {
        if (!replace && Exists(table.Name)) throw new InvalidOperationException($"table '{table.Name}' already exists");
        views.Remove(table.Name);
        tables[table.Name] = table;
    }

    public void AddView(ViewDef view)
    {
        if (Exists(view.Name)) throw new InvalidOperationException($"a table or view '{view.Name}' already exists");
        views[view.Name] = view;
    }

    public bool DropTable(string name) => tables.Remove(name);

    public bool DropView(string name) => views.Remove(name);

    public IEnumerable<string> AllNames => tables.Keys.Concat(views.Keys);
}
