using Eddy.Sql.Catalog;
using Eddy.Sql.Parsing;

namespace Eddy.Sql;

// CREATE TABLE ... LIKE (Flink's merging of a source table's definition) and CREATE TABLE ... AS SELECT.
public sealed partial class SqlSession
{
    /// <summary>
    /// The statement with the LIKE source's columns, watermark, primary key and options merged in, as Flink's
    /// <c>MergeTableLikeUtil</c>: the source's columns come first; with no LIKE options the strategy is INCLUDING ALL
    /// with OVERWRITING OPTIONS; options given later override earlier ones (ALL sets every feature).
    /// </summary>
    private CreateTable MergeLike(CreateTable create, TableLike like, SqlContext context)
    {
        var source = TableNamed(like.Source, context);
        var strategies = new Dictionary<LikeFeature, LikeStrategy>
        {
            [LikeFeature.Constraints] = LikeStrategy.Including,
            [LikeFeature.Generated] = LikeStrategy.Including,
            [LikeFeature.Metadata] = LikeStrategy.Including,
            [LikeFeature.Options] = LikeStrategy.Overwriting,
            [LikeFeature.Watermarks] = LikeStrategy.Including,
            [LikeFeature.Partitions] = LikeStrategy.Including,
        };
        foreach (var o in like.Options)
        {
            if (o.Feature == LikeFeature.All)
                foreach (var f in strategies.Keys.ToList()) strategies[f] = o.Strategy;
            else strategies[o.Feature] = o.Strategy;
        }
        var declared = source.Declaration;
        var columns = new List<TableColumn>();
        foreach (var c in declared.Columns)
        {
            bool keep = c switch
            {
                ComputedColumn => strategies[LikeFeature.Generated] != LikeStrategy.Excluding,
                MetadataColumn => strategies[LikeFeature.Metadata] != LikeStrategy.Excluding,
                _ => true,
            };
            if (keep) columns.Add(c);
        }
        foreach (var c in create.Columns)
        {
            if (columns.Any(s => string.Equals(s.Name.Value, c.Name.Value, StringComparison.OrdinalIgnoreCase)))
            {
                throw SqlErrors.At(c.Name, $"column '{c.Name.Value}' is already defined by the LIKE table '{source.Name}'"
                    + " (Eddy does not replace columns of the LIKE table)", context);
            }
            columns.Add(c);
        }
        var watermark = create.Watermark;
        if (declared.Watermark is { } sourceWatermark && strategies[LikeFeature.Watermarks] != LikeStrategy.Excluding)
        {
            if (watermark is not null && strategies[LikeFeature.Watermarks] == LikeStrategy.Including)
                throw SqlErrors.At(watermark, $"the LIKE table '{source.Name}' already has a watermark (OVERWRITING WATERMARKS replaces it)", context);
            watermark ??= sourceWatermark;
        }
        var primaryKey = create.PrimaryKey;
        if (declared.PrimaryKey is { } sourceKey && strategies[LikeFeature.Constraints] == LikeStrategy.Including)
        {
            if (primaryKey is not null)
                throw SqlErrors.At(primaryKey, $"the LIKE table '{source.Name}' already has a primary key (EXCLUDING CONSTRAINTS drops it)", context);
            primaryKey = sourceKey;
        }
        var options = new List<TableOption>();
        if (strategies[LikeFeature.Options] != LikeStrategy.Excluding)
        {
            foreach (var o in declared.Options)
            {
                var mine = create.Options.FirstOrDefault(m => m.Key == o.Key);
                if (mine is not null && strategies[LikeFeature.Options] == LikeStrategy.Including)
                    throw SqlErrors.At(mine, $"option '{o.Key}' is already set by the LIKE table '{source.Name}' (OVERWRITING OPTIONS replaces it)", context);
                if (mine is null) options.Add(o);
            }
        }
        options.AddRange(create.Options);
        return create with
        {
            Columns = columns,
            Watermark = watermark,
            PrimaryKey = primaryKey,
            Options = options,
            Like = null,
        };
    }

    /// <summary>
    /// <c>CREATE TABLE t WITH (...) AS query</c>: a table whose physical columns are the query's, and a job that
    /// inserts the query into it (as Flink's CTAS). The table is dropped again if the INSERT does not plan.
    /// </summary>
    private SqlJob? CreateTableAsSelect(CreateTable create, SqlContext context, string? fileName)
    {
        var query = create.AsQuery!;
        if (create.Columns.Count > 0 || create.Watermark is not null || create.PrimaryKey is not null || create.Like is not null)
            throw SqlErrors.At(create, "CREATE TABLE ... AS SELECT with declared columns, a watermark, a primary key or LIKE is not supported by Eddy; declare the table and INSERT INTO it", context);
        if (create.Temporary) throw SqlErrors.At(create, "CREATE TEMPORARY TABLE ... AS SELECT is not supported by Flink", context);
        if (create.IfNotExists && Catalog.Exists(Parts(create.Name))) return null;
        if (create.ReplaceOnly && !Catalog.TryGetTable(Parts(create.Name), out _))
        {
            throw SqlErrors.At(create.Name, $"the table '{create.Name}' to be replaced does not exist; use CREATE TABLE AS SELECT or CREATE OR REPLACE TABLE AS SELECT (Flink's message)", context);
        }
        var (plan, _) = Binder(context).BindQuery(query);
        var columns = plan.Schema.Columns.Select(c => (TableColumn)new PhysicalColumn(new Identifier(c.Name) { Span = query.Span }, new TypeSpec(c.Type) { Span = query.Span }) { Span = query.Span }).ToList();
        var table = create with { Columns = columns, AsQuery = null, IfNotExists = false };
        bool existed = Catalog.TryGetTable(Parts(create.Name), out var previous);
        CreateTableFrom(table, context);
        try
        {
            var insert = new Insert(create.Name, NodeList<SqlHint>.Empty, NodeList<PartitionValue>.Empty, NodeList<Identifier>.Empty, query) { Span = create.Span };
            return MakeJob([insert], context, fileName);
        }
        catch
        {
            Catalog.DropTable(Parts(create.Name));
            if (existed) Catalog.AddTable(previous!, replace: true);
            throw;
        }
    }
}
