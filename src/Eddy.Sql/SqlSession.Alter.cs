using Eddy.Sql.Catalog;
using Eddy.Sql.Parsing;

namespace Eddy.Sql;

// ALTER TABLE / VIEW / DATABASE / FUNCTION (Flink's "ALTER Statements") and the module statements.
public sealed partial class SqlSession
{
    /// <summary>
    /// Applies an ALTER TABLE to the table's declaration and declares the table again from it, so that the altered
    /// table is checked exactly as a CREATE TABLE is (computed columns, watermark, primary key, connector options).
    /// The new declaration is printed and parsed on its own, so that later errors about the table point into a text
    /// that holds it; an error while declaring it again is reported at the ALTER statement.
    /// </summary>
    private void AlterTableFrom(AlterTable alter, SqlContext context)
    {
        ObjectNameOf(alter.Name, context);
        if (!Catalog.TryGetTable(Parts(alter.Name), out var table))
        {
            if (alter.IfExists && !Catalog.TryGetView(Parts(alter.Name), out _)) return;
            TableNamed(alter.Name, context);
        }
        var declared = table.Declaration;
        var columns = declared.Columns.ToList();
        var watermark = declared.Watermark;
        var primaryKey = declared.PrimaryKey;
        var options = declared.Options.Select(o => (o.Key, o.Value)).ToList();
        string newName = table.Name;
        int IndexOf(string column) => columns.FindIndex(c => string.Equals(c.Name.Value, column, StringComparison.OrdinalIgnoreCase));
        SqlParseException NoColumn(Identifier column, string what) => SqlErrors.At(column,
            $"{what} a column '{column.Value}' which does not exist in table '{table.Name}'" + SqlErrors.Suggest(column.Value, columns.Select(c => c.Name.Value)), context);

        switch (alter.Operation)
        {
            case AlterTableRename rename:
            {
                var (catalog, database, name) = ObjectNameOf(rename.NewName, context);
                if (!string.Equals(catalog, table.CatalogName, StringComparison.OrdinalIgnoreCase)
                    || !string.Equals(database, table.DatabaseName, StringComparison.OrdinalIgnoreCase))
                {
                    throw SqlErrors.At(rename.NewName, $"ALTER TABLE RENAME TO keeps the table in its database '{table.CatalogName}.{table.DatabaseName}' (as Flink's catalogs)", context);
                }
                if (Catalog.Exists([catalog, database, name]))
                    throw SqlErrors.At(rename.NewName, $"a table or view '{name}' already exists in '{catalog}.{database}'", context);
                newName = name;
                break;
            }
            case AlterTableRenameColumn rename:
            {
                int i = IndexOf(rename.Column.Value);
                if (i < 0) throw NoColumn(rename.Column, "RENAME names");
                if (IndexOf(rename.NewName.Value) >= 0)
                    throw SqlErrors.At(rename.NewName, $"table '{table.Name}' already has a column '{rename.NewName.Value}'", context);
                string old = columns[i].Name.Value;
                if (watermark is not null && string.Equals(watermark.Column.Value, old, StringComparison.OrdinalIgnoreCase))
                    throw SqlErrors.At(rename.Column, $"column '{old}' is referenced by the watermark (Flink refuses to rename it; drop the watermark first)", context);
                columns[i] = columns[i] with { Name = rename.NewName };
                if (primaryKey is not null)
                {
                    primaryKey = primaryKey with
                    {
                        Columns = primaryKey.Columns.Select(k => string.Equals(k.Value, old, StringComparison.OrdinalIgnoreCase) ? rename.NewName : k).ToList(),
                    };
                }
                break;
            }
            case AlterTableSet set:
                foreach (var o in set.Options)
                {
                    int i = options.FindIndex(x => x.Key == o.Key);
                    if (i >= 0) options[i] = (o.Key, o.Value);
                    else options.Add((o.Key, o.Value));
                }
                break;
            case AlterTableReset reset:
                if (reset.Keys.Count == 0) throw SqlErrors.At(reset, "ALTER TABLE RESET needs at least one option key", context);
                foreach (var k in reset.Keys)
                {
                    if (k.Key == "connector") throw SqlErrors.At(k, "ALTER TABLE RESET does not support changing 'connector' (as Flink)", context);
                    options.RemoveAll(x => x.Key == k.Key);
                }
                break;
            case AlterTableSchema schema:
                foreach (var c in schema.Columns)
                {
                    int existing = IndexOf(c.Column.Name.Value);
                    if (!schema.Modify && existing >= 0)
                        throw SqlErrors.At(c.Column.Name, $"table '{table.Name}' already has a column '{columns[existing].Name.Value}'", context);
                    if (schema.Modify && existing < 0) throw NoColumn(c.Column.Name, "MODIFY names");
                    int position = existing >= 0 ? existing : columns.Count;
                    if (existing >= 0) columns.RemoveAt(existing);
                    if (c.First)
                    {
                        position = 0;
                    }
                    else if (c.After is { } after)
                    {
                        int a = IndexOf(after.Value);
                        if (a < 0) throw NoColumn(after, "AFTER names");
                        position = a + 1;
                    }
                    else if (existing < 0)
                    {
                        position = columns.Count;
                    }
                    columns.Insert(Math.Min(position, columns.Count), c.Column);
                }
                if (schema.PrimaryKey is { } key)
                {
                    if (!schema.Modify && primaryKey is not null)
                        throw SqlErrors.At(key, $"table '{table.Name}' already has a primary key (DROP PRIMARY KEY first, or MODIFY it)", context);
                    if (schema.Modify && primaryKey is null)
                        throw SqlErrors.At(key, $"table '{table.Name}' has no primary key to modify (ADD one)", context);
                    primaryKey = key;
                }
                if (schema.Watermark is { } wm)
                {
                    if (!schema.Modify && watermark is not null)
                        throw SqlErrors.At(wm, $"table '{table.Name}' already has a watermark (DROP WATERMARK first, or MODIFY it)", context);
                    if (schema.Modify && watermark is null)
                        throw SqlErrors.At(wm, $"table '{table.Name}' has no watermark to modify (ADD one)", context);
                    watermark = wm;
                }
                break;
            case AlterTableDrop drop:
                if (drop.PrimaryKey || drop.Constraint is not null)
                {
                    if (primaryKey is null) throw SqlErrors.At(alter.Operation, $"table '{table.Name}' has no primary key", context);
                    if (drop.Constraint is { } constraint)
                    {
                        string name = primaryKey.ConstraintName?.Value ?? "PK_" + string.Join("_", primaryKey.Columns.Select(k => k.Value));
                        if (!string.Equals(name, constraint.Value, StringComparison.OrdinalIgnoreCase))
                            throw SqlErrors.At(constraint, $"table '{table.Name}' has no constraint '{constraint.Value}' (its primary key is '{name}')", context);
                    }
                    primaryKey = null;
                }
                else if (drop.Watermark)
                {
                    if (watermark is null) throw SqlErrors.At(alter.Operation, $"table '{table.Name}' has no watermark", context);
                    watermark = null;
                }
                else
                {
                    foreach (var c in drop.Columns)
                    {
                        int i = IndexOf(c.Value);
                        if (i < 0) throw NoColumn(c, "DROP names");
                        string name = columns[i].Name.Value;
                        if (primaryKey is not null && primaryKey.Columns.Any(k => string.Equals(k.Value, name, StringComparison.OrdinalIgnoreCase)))
                            throw SqlErrors.At(c, $"column '{name}' is in the primary key (drop the primary key first)", context);
                        if (watermark is not null && string.Equals(watermark.Column.Value, name, StringComparison.OrdinalIgnoreCase))
                            throw SqlErrors.At(c, $"column '{name}' is the watermark's rowtime column (drop the watermark first)", context);
                        columns.RemoveAt(i);
                    }
                    if (columns.Count == 0) throw SqlErrors.At(alter.Operation, $"ALTER TABLE would drop every column of '{table.Name}'", context);
                }
                break;
        }

        var qualified = new ObjectName(new NodeList<Identifier>([new(table.CatalogName), new(table.DatabaseName), new(newName)]));
        var rebuilt = declared with
        {
            Name = qualified,
            Columns = columns,
            Watermark = watermark,
            PrimaryKey = primaryKey,
            Options = options.Select(o => new TableOption(o.Key, o.Value)).ToList(),
            Like = null,
            AsQuery = null,
            IfNotExists = false,
            OrReplace = true,
        };
        string ddl = rebuilt.ToSql();
        var ddlContext = new SqlContext(ddl, $"{context.FileName ?? "sql"} (table '{newName}' as altered)");
        var reparsed = SqlParser.ParseStatement(ddl, ddlContext.FileName) as CreateTable
            ?? throw new InvalidOperationException("an altered table printed as something else than CREATE TABLE");
        try
        {
            CreateTableFrom(reparsed, ddlContext);
        }
        catch (SqlParseException e)
        {
            // The previous definition stays: CreateTableFrom puts it back when the declaration fails after adding it.
            throw SqlErrors.At(alter, $"the altered table '{newName}' is not valid: {e.Reason}", context);
        }
        if (!string.Equals(newName, table.Name, StringComparison.Ordinal)) Catalog.DropTable([table.CatalogName, table.DatabaseName, table.Name]);
    }

    private void AlterViewFrom(AlterView alter, SqlContext context)
    {
        var (catalog, database, name) = ObjectNameOf(alter.Name, context);
        if (!Catalog.TryGetView(Parts(alter.Name), out var view))
        {
            string reason = Catalog.TryGetTable(Parts(alter.Name), out _) ? $"'{alter.Name}' is a table, not a view" : $"unknown view '{alter.Name}'";
            throw SqlErrors.At(alter.Name, reason + SqlErrors.Suggest(alter.Name.Last.Value, Catalog.AllNames), context);
        }
        if (alter.NewName is { } newName)
        {
            var (newCatalog, newDatabase, newView) = ObjectNameOf(newName, context);
            if (!string.Equals(catalog, newCatalog, StringComparison.OrdinalIgnoreCase) || !string.Equals(database, newDatabase, StringComparison.OrdinalIgnoreCase))
                throw SqlErrors.At(newName, $"ALTER VIEW RENAME TO keeps the view in its database '{catalog}.{database}'", context);
            if (Catalog.Exists([newCatalog, newDatabase, newView]))
                throw SqlErrors.At(newName, $"a table or view '{newView}' already exists in '{catalog}.{database}'", context);
            Catalog.DropView([catalog, database, name]);
            Catalog.AddView([catalog, database, newView], view with { Name = newView });
            return;
        }
        // Bind now so that a broken query fails here, as CREATE VIEW does; the new query defines the columns.
        Binder(context).BindQuery(alter.Query!);
        Catalog.DropView([catalog, database, name]);
        Catalog.AddView([catalog, database, name], new ViewDef(view.Name, alter.Query!, [], context));
    }

    private void AlterDatabaseFrom(AlterDatabase alter, SqlContext context)
    {
        var (catalog, database) = DatabaseName(alter.Name, context);
        if (!Catalog.DatabaseExists(catalog, database))
        {
            throw SqlErrors.At(alter.Name, $"database '{database}' does not exist in catalog '{catalog}'"
                + SqlErrors.Suggest(database, Catalog.DatabaseNames(catalog)), context);
        }
        foreach (var o in alter.Options) Catalog.SetDatabaseProperty(catalog, database, o.Key, Substitute(o.Value, o, context));
    }

    private void AlterFunctionFrom(AlterFunction alter, SqlContext context)
    {
        string name = alter.Name.Last.Value;
        if (!Catalog.Functions.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
        {
            if (alter.IfExists) return;
            throw SqlErrors.At(alter.Name, $"function '{name}' does not exist" + SqlErrors.Suggest(name, Catalog.Functions.Names), context);
        }
        if (alter.Language is not null and not "JAVA" and not "SCALA" and not "CSHARP" and not "DOTNET")
            throw SqlErrors.At(alter, $"LANGUAGE {alter.Language} is not supported by Eddy (functions are C# classes)", context);
        var type = UserCode.FindType(alter.ClassName)
            ?? throw SqlErrors.At(alter, $"class '{alter.ClassName}' was not found in the loaded assemblies", context);
        try
        {
            Catalog.Functions.RegisterClass(name, type);
        }
        catch (ArgumentException e)
        {
            throw SqlErrors.At(alter, e.Message, context);
        }
        // REMOVE JAR refuses a jar a function comes from: the altered function now comes from this class's.
        if (UserCode.JarOf(type) is { } jar) functionJars[name] = jar.Path;
        else functionJars.Remove(name);
    }

    // ---- modules: Eddy has one, Flink's 'core' (the built-in functions) ---------------------------------------

    private const string CoreModule = "core";

    private void LoadModuleFrom(LoadModule load, SqlContext context)
    {
        if (string.Equals(load.Name.Value, CoreModule, StringComparison.Ordinal))
            throw SqlErrors.At(load.Name, "a module with name 'core' already exists (Flink's message: it is loaded from the start)", context);
        throw SqlErrors.At(load.Name, $"module '{load.Name.Value}' is not available in Eddy: it has the 'core' module (Flink's built-in functions) only", context);
    }

    private void UnloadModuleFrom(UnloadModule unload, SqlContext context)
    {
        if (string.Equals(unload.Name.Value, CoreModule, StringComparison.Ordinal))
            throw SqlErrors.At(unload.Name, "UNLOAD MODULE core is not supported by Eddy: its built-in functions cannot be unloaded", context);
        throw SqlErrors.At(unload.Name, $"no module with name '{unload.Name.Value}' exists (Eddy has 'core')", context);
    }

    private static void UseModulesFrom(UseModules use, SqlContext context)
    {
        foreach (var name in use.Names)
        {
            if (!string.Equals(name.Value, CoreModule, StringComparison.Ordinal))
                throw SqlErrors.At(name, $"module '{name.Value}' is not loaded (Eddy has 'core')", context);
        }
        if (use.Names.Count > 1) throw SqlErrors.At(use.Names[1], "module 'core' appears more than once", context);
    }

    /// <summary>Why a statement of Flink's grammar that Eddy reads only to refuse it is refused.</summary>
    private static string UnsupportedReason(string construct) => construct switch
    {
        "TRUNCATE TABLE" => "TRUNCATE TABLE is not supported by Eddy: Flink runs it in batch mode on connectors that can truncate (SupportsTruncate), and none of Eddy's can",
        "ANALYZE TABLE" => "ANALYZE TABLE is not supported by Eddy: it keeps no table statistics",
        "CALL" => "CALL is not supported by Eddy: its catalogs have no stored procedures",
        "DELETE" => "DELETE is not supported by Eddy: Flink runs it in batch mode on connectors with row-level deletes, and none of Eddy's has them",
        "UPDATE" => "UPDATE is not supported by Eddy: Flink runs it in batch mode on connectors with row-level updates, and none of Eddy's has them",
        "STOP JOB" => "STOP JOB is not supported by Eddy: a SQL session has no job registry (stop a job from the dashboard)",
        "SHOW PARTITIONS" => "SHOW PARTITIONS is not supported by Eddy: it has no partitioned tables (PARTITIONED BY is refused)",
        "SHOW PROCEDURES" => "SHOW PROCEDURES is not supported by Eddy: its catalogs have no stored procedures",
        _ => $"{construct} is not supported by Eddy",
    };
}
