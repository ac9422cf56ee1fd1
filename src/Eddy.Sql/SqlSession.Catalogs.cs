using Eddy.Sql.Catalog;
using Eddy.Sql.Parsing;

namespace Eddy.Sql;

// Catalogs and databases (Flink's in-memory catalog), USE, SHOW and DESCRIBE, printed as Flink's SQL client does.
public sealed partial class SqlSession
{
    private void CreateCatalogFrom(CreateCatalog create, SqlContext context)
    {
        var type = create.Options.FirstOrDefault(o => o.Key == "type");
        if (type is null) throw SqlErrors.At(create, "CREATE CATALOG needs the option 'type' (Eddy has 'generic_in_memory')", context);
        if (type.Value != "generic_in_memory")
            throw SqlErrors.At(type, $"catalog type '{type.Value}' is not supported by Eddy; it has 'generic_in_memory' (Flink's in-memory catalog)", context);
        if (create.Options.FirstOrDefault(o => o.Key != "type") is { } other)
            throw SqlErrors.At(other, $"the in-memory catalog takes no option '{other.Key}'", context);
        if (!Catalog.AddCatalog(create.Name.Value) && !create.IfNotExists)
            throw SqlErrors.At(create.Name, $"catalog '{create.Name.Value}' already exists", context);
    }

    private void DropCatalogFrom(DropCatalog drop, SqlContext context)
    {
        string name = drop.Name.Value;
        if (!Catalog.CatalogExists(name))
        {
            if (drop.IfExists) return;
            throw SqlErrors.At(drop.Name, $"catalog '{name}' does not exist" + SqlErrors.Suggest(name, Catalog.CatalogNames), context);
        }
        if (string.Equals(name, Catalog.CurrentCatalog, StringComparison.OrdinalIgnoreCase))
            throw SqlErrors.At(drop.Name, $"cannot drop catalog '{name}': it is the current catalog", context);
        Catalog.DropCatalog(name);
    }

    /// <summary>The catalog and database a name of one part (a database) or two (catalog.database) means; the catalog must exist.</summary>
    private (string Catalog, string Database) DatabaseName(ObjectName name, SqlContext context)
    {
        if (name.Parts.Count > 2) throw SqlErrors.At(name, $"a database name has at most two parts (catalog.database): '{name}'", context);
        string catalog = name.Parts.Count == 2 ? name.Parts[0].Value : Catalog.CurrentCatalog;
        if (!Catalog.CatalogExists(catalog))
            throw SqlErrors.At(name, $"catalog '{catalog}' does not exist" + SqlErrors.Suggest(catalog, Catalog.CatalogNames), context);
        return (catalog, name.Last.Value);
    }

    private void CreateDatabaseFrom(CreateDatabase create, SqlContext context)
    {
        var (catalog, database) = DatabaseName(create.Name, context);
        if (!Catalog.AddDatabase(catalog, database))
        {
            if (create.IfNotExists) return;
            throw SqlErrors.At(create.Name, $"database '{database}' already exists in catalog '{catalog}'", context);
        }
        foreach (var o in create.Options) Catalog.SetDatabaseProperty(catalog, database, o.Key, Substitute(o.Value, o, context));
    }

    private void DropDatabaseFrom(DropDatabase drop, SqlContext context)
    {
        var (catalog, database) = DatabaseName(drop.Name, context);
        if (!Catalog.DatabaseExists(catalog, database))
        {
            if (drop.IfExists) return;
            throw SqlErrors.At(drop.Name, $"database '{database}' does not exist in catalog '{catalog}'"
                + SqlErrors.Suggest(database, Catalog.DatabaseNames(catalog)), context);
        }
        if (string.Equals(catalog, Catalog.CurrentCatalog, StringComparison.OrdinalIgnoreCase)
            && string.Equals(database, Catalog.CurrentDatabase, StringComparison.OrdinalIgnoreCase))
            throw SqlErrors.At(drop.Name, $"cannot drop database '{database}': it is the current database", context);
        if (!drop.Cascade && Catalog.DatabaseHasObjects(catalog, database))
            throw SqlErrors.At(drop.Name, $"database '{database}' in catalog '{catalog}' is not empty (DROP DATABASE ... CASCADE drops its tables and views)", context);
        Catalog.DropDatabase(catalog, database);
    }

    private void UseFrom(Use use, SqlContext context)
    {
        if (use.Catalog)
        {
            string name = use.Name.Last.Value;
            if (use.Name.Parts.Count > 1 || !Catalog.CatalogExists(name))
                throw SqlErrors.At(use.Name, $"catalog '{use.Name}' does not exist" + SqlErrors.Suggest(name, Catalog.CatalogNames), context);
            Catalog.UseCatalog(name);
            return;
        }
        var (catalog, database) = DatabaseName(use.Name, context);
        if (!Catalog.DatabaseExists(catalog, database))
        {
            throw SqlErrors.At(use.Name, $"database '{database}' does not exist in catalog '{catalog}'"
                + SqlErrors.Suggest(database, Catalog.DatabaseNames(catalog)), context);
        }
        Catalog.UseDatabase(catalog, database);
    }

    /// <summary>The catalog, database and object a table name means; its catalog and database must exist.</summary>
    internal (string Catalog, string Database, string Name) ObjectNameOf(ObjectName name, SqlContext context)
    {
        var parts = name.Parts.Select(p => p.Value).ToList();
        var resolved = Catalog.Resolve(parts) ?? throw SqlErrors.At(name, $"a name has at most three parts (catalog.database.object): '{name}'", context);
        if (!Catalog.CatalogExists(resolved.Catalog))
            throw SqlErrors.At(name, $"catalog '{resolved.Catalog}' does not exist" + SqlErrors.Suggest(resolved.Catalog, Catalog.CatalogNames), context);
        if (!Catalog.DatabaseExists(resolved.Catalog, resolved.Database))
        {
            throw SqlErrors.At(name, $"database '{resolved.Database}' does not exist in catalog '{resolved.Catalog}'"
                + SqlErrors.Suggest(resolved.Database, Catalog.DatabaseNames(resolved.Catalog)), context);
        }
        return resolved;
    }

    private static IReadOnlyList<string> Parts(ObjectName name) => name.Parts.Select(p => p.Value).ToList();

    private void ShowObjects(Show show, SqlContext context)
    {
        switch (show.Kind)
        {
            case ShowKind.Tables or ShowKind.Views:
            {
                var (catalog, database) = show.Name is null ? (Catalog.CurrentCatalog, Catalog.CurrentDatabase) : DatabaseName(show.Name, context);
                if (!Catalog.DatabaseExists(catalog, database))
                    throw SqlErrors.At(show.Name!, $"database '{database}' does not exist in catalog '{catalog}'", context);
                var views = Catalog.ViewsOf(catalog, database).Select(v => v.Name);
                // Flink's SHOW TABLES lists views too.
                var names = show.Kind == ShowKind.Tables ? Catalog.TablesOf(catalog, database).Select(t => t.Name).Concat(views) : views;
                Tableau.Print(Output, [show.Kind == ShowKind.Tables ? "table name" : "view name"], names.Where(n => ShowFilter.Matches(show.Like, n)).Order(StringComparer.Ordinal).Select(n => new[] { n }));
                return;
            }
            case ShowKind.Functions or ShowKind.UserFunctions:
            {
                if (show.Name is not null)
                    throw SqlErrors.At(show.Name, "SHOW FUNCTIONS FROM a database is not supported by Eddy: its functions belong to the session, not to a database", context);
                var user = Catalog.Functions.Names;
                var names = show.Kind == ShowKind.UserFunctions ? user : Functions.Builtin.BuiltinFunctions.AllNames.Concat(user);
                Tableau.Print(Output, ["function name"], names.Distinct(StringComparer.OrdinalIgnoreCase).Where(n => ShowFilter.Matches(show.Like, n))
                    .Order(StringComparer.Ordinal).Select(n => new[] { n }));
                return;
            }
            case ShowKind.Modules:
                Tableau.Print(Output, ["module name"], [[CoreModule]]);
                return;
            case ShowKind.FullModules:
                Tableau.Print(Output, ["module name", "used"], [[CoreModule, "true"]]);
                return;
            case ShowKind.Jars:
                Tableau.Print(Output, ["jars"], UserCode.Jars.Select(j => new[] { j.Path }));
                return;
            case ShowKind.Catalogs:
                Tableau.Print(Output, ["catalog name"], Catalog.CatalogNames.Select(n => new[] { n }));
                return;
            case ShowKind.Databases:
                Tableau.Print(Output, ["database name"], Catalog.DatabaseNames(Catalog.CurrentCatalog).Select(n => new[] { n }));
                return;
            case ShowKind.CurrentCatalog:
                Tableau.Print(Output, ["current catalog name"], [[Catalog.CurrentCatalog]]);
                return;
            case ShowKind.CurrentDatabase:
                Tableau.Print(Output, ["current database name"], [[Catalog.CurrentDatabase]]);
                return;
            case ShowKind.Columns:
                DescribeTable(show.Name!, context, show.Like);
                return;
            case ShowKind.CreateTable:
            {
                var table = TableNamed(show.Name!, context);
                Output.WriteLine(ShowCreateTable(table));
                return;
            }
            case ShowKind.CreateView:
            {
                ObjectNameOf(show.Name!, context);
                if (!Catalog.TryGetView(Parts(show.Name!), out var view))
                    throw SqlErrors.At(show.Name!, $"unknown view '{show.Name}'" + SqlErrors.Suggest(show.Name!.Last.Value, Catalog.Views.Select(v => v.Name)), context);
                var (catalog, database, name) = ObjectNameOf(show.Name!, context);
                // Flink always lists the view's columns; the query is printed as declared (Flink prints its expanded form).
                var columns = view.ColumnNames.Count > 0 ? view.ColumnNames
                    : Binder(view.Context).BindQuery(view.Query).Item1.Schema.Columns.Select(c => c.Name).ToList();
                Output.WriteLine($"CREATE VIEW `{catalog}`.`{database}`.`{name}`({string.Join(", ", columns.Select(c => $"`{c}`"))}) as\n{view.Query.ToSql()}");
                return;
            }
            default:
                throw SqlErrors.At(show, $"SHOW {show.Kind.ToString().ToUpperInvariant()} is not supported by Eddy (a SQL session has no job registry)", context);
        }
    }

    private TableDef TableNamed(ObjectName name, SqlContext context)
    {
        ObjectNameOf(name, context);
        if (!Catalog.TryGetTable(Parts(name), out var table))
        {
            string reason = Catalog.TryGetView(Parts(name), out _) ? $"'{name}' is a view, not a table" : $"unknown table '{name}'";
            throw SqlErrors.At(name, reason + SqlErrors.Suggest(name.Last.Value, Catalog.AllNames), context);
        }
        return table;
    }

    /// <summary>The DDL of a table as Flink's SHOW CREATE TABLE prints it: quoted, fully qualified, options in their declared order.</summary>
    private static string ShowCreateTable(TableDef table)
    {
        var lines = new List<string>();
        foreach (var c in table.Columns)
        {
            string line = c.Computed is not null ? $"  `{c.Name}` AS {SqlPrinter.PrintQuoted(c.Computed)}"
                : c.MetadataKey is not null ? $"  `{c.Name}` {c.Type} METADATA{(c.MetadataKey != c.Name ? $" FROM '{c.MetadataKey}'" : "")}{(c.IsVirtual ? " VIRTUAL" : "")}"
                : $"  `{c.Name}` {c.Type}";
            lines.Add(line);
        }
        if (table.Watermark is { } wm) lines.Add($"  WATERMARK FOR `{wm.Column}` AS {SqlPrinter.PrintQuoted(wm.Expression)}");
        if (table.PrimaryKey.Count > 0)
            lines.Add($"  CONSTRAINT `PK_{string.Join("_", table.PrimaryKey)}` PRIMARY KEY ({string.Join(", ", table.PrimaryKey.Select(k => $"`{k}`"))}) NOT ENFORCED");
        var options = table.Declaration.Options.Select(o => o.Key).Where(table.Options.ContainsKey)
            .Concat(table.Options.Keys.Where(k => table.Declaration.Options.All(o => o.Key != k)))
            .Select(k => $"  '{k}' = '{table.Options[k].Replace("'", "''", StringComparison.Ordinal)}'");
        return $"CREATE TABLE `{table.CatalogName}`.`{table.DatabaseName}`.`{table.Name}` (\n{string.Join(",\n", lines)}\n) WITH (\n{string.Join(",\n", options)}\n)";
    }

    /// <summary>DESCRIBE and SHOW COLUMNS: Flink's columns name, type, null, key, extras, watermark.</summary>
    private void DescribeTable(ObjectName name, SqlContext context, ShowLike? like = null)
    {
        var table = TableNamed(name, context);
        string? CommentOf(string column) => table.Declaration.Columns
            .FirstOrDefault(d => string.Equals(d.Name.Value, column, StringComparison.OrdinalIgnoreCase))?.Comment;
        bool comments = table.Columns.Any(c => CommentOf(c.Name) is not null);
        var rows = new List<string?[]>();
        int? proctime = null;
        for (int i = 0; i < table.Columns.Count; i++)
        {
            if (table.Columns[i].Computed is FunctionCall { UpperName: "PROCTIME", Arguments.Count: 0 }) proctime = i;
        }
        for (int i = 0; i < table.Columns.Count; i++)
        {
            var c = table.Columns[i];
            if (!ShowFilter.Matches(like, c.Name)) continue;
            bool key = table.PrimaryKey.Contains(c.Name, StringComparer.OrdinalIgnoreCase);
            bool rowtime = table.Watermark is { } w && string.Equals(w.Column, c.Name, StringComparison.OrdinalIgnoreCase);
            var type = c.Type with { Nullable = true };
            string typeText = type.ToString() + (rowtime ? " *ROWTIME*" : i == proctime ? " *PROCTIME*" : "");
            string extras = c.Computed is not null ? $"AS {SqlPrinter.PrintQuoted(c.Computed)}"
                : c.MetadataKey is not null ? $"METADATA{(c.MetadataKey != c.Name ? $" FROM '{c.MetadataKey}'" : "")}{(c.IsVirtual ? " VIRTUAL" : "")}" : "";
            string watermark = rowtime ? SqlPrinter.PrintQuoted(table.Watermark!.Value.Expression) : "";
            string keyText = key ? $"PRI({string.Join(", ", table.PrimaryKey)})" : "";
            string?[] row = [c.Name, typeText, c.Type.Nullable && !key && i != proctime ? "TRUE" : "FALSE", keyText, extras, watermark];
            rows.Add(comments ? [.. row, CommentOf(c.Name) ?? ""] : row);
        }
        // Flink adds the comment column when a column has a comment.
        Tableau.Print(Output, comments ? ["name", "type", "null", "key", "extras", "watermark", "comment"] : ["name", "type", "null", "key", "extras", "watermark"], rows);
    }
}

/// <summary>The <c>[NOT] LIKE</c> / <c>ILIKE</c> of SHOW statements: MySQL-style patterns, as Flink's (<c>%</c>, <c>_</c>, <c>\</c> escapes).</summary>
public static class ShowFilter
{
    public static bool Matches(ShowLike? like, string name)
    {
        if (like is null) return true;
        var pattern = new System.Text.StringBuilder("^");
        for (int i = 0; i < like.Pattern.Length; i++)
        {
            char c = like.Pattern[i];
            if (c == '\\' && i + 1 < like.Pattern.Length)
            {
                pattern.Append(System.Text.RegularExpressions.Regex.Escape(like.Pattern[++i].ToString()));
                continue;
            }
            pattern.Append(c switch
            {
                '%' => ".*",
                '_' => ".",
                _ => System.Text.RegularExpressions.Regex.Escape(c.ToString()),
            });
        }
        pattern.Append('$');
        var options = System.Text.RegularExpressions.RegexOptions.Singleline | System.Text.RegularExpressions.RegexOptions.CultureInvariant;
        if (like.CaseInsensitive) options |= System.Text.RegularExpressions.RegexOptions.IgnoreCase;
        return System.Text.RegularExpressions.Regex.IsMatch(name, pattern.ToString(), options) != like.Not;
    }
}

/// <summary>Flink's SQL-client "tableau" layout: a boxed table, cells right-aligned, then "N rows in set" ("Empty set").</summary>
public static class Tableau
{
    public const string Null = "<NULL>";

    public static void Print(TextWriter output, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var cells = rows.Select(r => r.Select(v => v ?? Null).ToArray()).ToList();
        if (cells.Count == 0)
        {
            output.WriteLine("Empty set");
            return;
        }
        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(r => r[i].Length))).ToArray();
        string border = "+" + string.Join("+", widths.Select(w => new string('-', w + 2))) + "+";
        void Line(IReadOnlyList<string> values) =>
            output.WriteLine("| " + string.Join(" | ", values.Select((v, i) => v.PadLeft(widths[i]))) + " |");
        output.WriteLine(border);
        Line(header);
        output.WriteLine(border);
        foreach (var r in cells) Line(r);
        output.WriteLine(border);
        output.WriteLine(cells.Count == 1 ? "1 row in set" : $"{cells.Count} rows in set");
    }
}
