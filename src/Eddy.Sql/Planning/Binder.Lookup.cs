using Eddy.Sql.Catalog;
using Eddy.Sql.Codegen;
using Eddy.Sql.Connectors;
using Eddy.Sql.Parsing;
using Eddy.Sql.Plan;
using Eddy.Sql.Plan.LookupJoin;

namespace Eddy.Sql.Planning;

public sealed partial class Binder
{
    /// <summary>Whether <paramref name="named"/> is a catalog table whose connector looks rows up and cannot be scanned.</summary>
    private bool IsLookupTable(NamedTableRef named)
    {
        if (named.Name.Parts.Count == 1 && ctes.ContainsKey(named.Name.Last.Value)) return false;
        if (!catalog.TryGetTable(PartsOf(named.Name), out var table)) return false;
        try
        {
            return connectors.Find(table) is ILookupTableConnector { IsScannable: false };
        }
        catch (ConnectorOptionException)
        {
            return false;
        }
    }

    /// <summary>
    /// <c>probe [LEFT] JOIN t FOR SYSTEM_TIME AS OF probe.proc_time [AS c] ON c.k = probe.x [AND ...]</c>: Flink's
    /// lookup join. The time must be the probe side's processing-time attribute; the ON clause needs at least one
    /// equality between a column of t and a value of the probe side (or a constant); the rest of it is a condition on
    /// each joined row.
    /// </summary>
    private (LogicalPlan, Scope, WindowedInput?) BindLookupJoin(JoinRef join, NamedTableRef right)
    {
        if (join.Kind is not (JoinKind.Inner or JoinKind.Left))
            throw Error(join, $"a lookup join (FOR SYSTEM_TIME AS OF) is an INNER or LEFT join, not {join.Kind.ToString().ToUpperInvariant()}");
        if (join.Using.Count > 0) throw Error(join.Using[0], "a lookup join takes ON with equalities, not USING");
        var (left, leftScope, windowed) = BindFrom(join.Left);
        if (windowed is not null) throw Error(join.Left, "a window table function cannot be the probe side of a lookup join");

        var asOf = Bind(right.SystemTimeAsOf!, leftScope);
        // AS OF the probe side's rowtime: an event-time temporal join against a versioned table.
        if (asOf is InputRef rowtime && left.Rowtime == rowtime.Index && !IsLookupTable(right)) return BindTemporalJoin(join, right, left, leftScope, rowtime.Index);
        if (asOf is not InputRef time || left.Proctime != time.Index)
        {
            bool eventTime = asOf is InputRef r && left.Rowtime == r.Index;
            throw Error(right.SystemTimeAsOf!, (eventTime
                    ? $"'{right.SystemTimeAsOf!.ToSql()}' is an event-time attribute, and '{right.Name}' is a lookup table: a join AS OF event time is a temporal join on a versioned table (PRIMARY KEY and WATERMARK); "
                    : $"'{right.SystemTimeAsOf!.ToSql()}' is not a processing-time attribute; ")
                + "a lookup join needs the probe table's processing time: declare a column 'proc_time AS PROCTIME()' in it and write FOR SYSTEM_TIME AS OF <alias>.proc_time");
        }

        string name = right.Name.Last.Value;
        if (right.Name.Parts.Count == 1 && ctes.ContainsKey(name) || catalog.TryGetView(PartsOf(right.Name), out _))
            throw Error(right.Name, $"'{name}' is a view or WITH query; a lookup join reads a table whose connector can look rows up (jdbc, postgres)");
        if (!catalog.TryGetTable(PartsOf(right.Name), out var table))
            throw Error(right.Name, $"unknown table '{right.Name}'" + SqlErrors.Suggest(name, catalog.AllNames));
        if (right.Hints.Count > 0) throw Error(right.Hints[0], "table hints are not supported by Eddy yet");
        ITableConnector connector;
        try
        {
            connector = connectors.Find(table);
        }
        catch (ConnectorOptionException e)
        {
            throw Error(right.Name, e.Message);
        }
        if (connector is not ILookupTableConnector)
        {
            var able = connectors.All.OfType<ILookupTableConnector>().Select(c => c.Name).Order().ToList();
            throw Error(right.Name, $"table '{name}' (connector '{table.Connector}') cannot be a lookup table: its connector does not look rows up by key"
                + (able.Count > 0 ? $"; connectors that do: {string.Join(", ", able)}" : "; no connector that does is loaded (jdbc and postgres come with Eddy.Connectors.Postgres)"));
        }
        if (table.Columns.FirstOrDefault(c => !c.IsPhysical) is { } notPhysical)
            throw Error(right.Name, $"lookup table '{name}' has the computed or metadata column '{notPhysical.Name}'; a lookup table has physical columns only");

        var lookupColumns = table.PhysicalSchema;
        if (right.ColumnAliases.Count > 0)
        {
            if (right.ColumnAliases.Count != lookupColumns.Count)
                throw Error(right, $"{right.ColumnAliases.Count} column names given for {lookupColumns.Count} columns");
            lookupColumns = new Schema(lookupColumns.Columns.Select((c, i) => c with { Name = right.ColumnAliases[i].Value }).ToArray());
        }
        bool leftOuter = join.Kind == JoinKind.Left;
        int n = left.Schema.Count;
        string alias = right.Alias?.Value ?? name;
        // The lookup columns as the joined row holds them: nullable after a LEFT join.
        var joinedLookup = lookupColumns.Columns.Select(c => leftOuter ? c with { Type = c.Type with { Nullable = true } } : c).ToList();
        var scope = new Scope(leftScope.Columns.Concat(joinedLookup.Select((c, i) => new ScopeColumn(alias, c.Name, c.Type, n + i))).ToList());
        // Names in the output row must differ (the scope keeps the written ones, qualified): a clash gets a suffix.
        var used = new HashSet<string>(left.Schema.Columns.Select(c => c.Name), StringComparer.OrdinalIgnoreCase);
        var output = new Schema(left.Schema.Columns.Concat(joinedLookup.Select(c =>
        {
            string unique = c.Name;
            for (int k = 0; !used.Add(unique); k++) unique = $"{c.Name}{k}";
            return c with { Name = unique };
        })).ToArray());

        if (join.Condition is null) throw Error(join, "a lookup join needs ON with an equality on a column of the lookup table");
        var condition = RequireBoolean(Bind(join.Condition, scope), join.Condition);
        var keys = new List<(int Column, BoundExpr Value)>();
        var rest = new List<BoundExpr>();
        foreach (var conjunct in Conjuncts(condition))
        {
            if (AsKey(conjunct, n, lookupColumns) is { } key && keys.All(k => k.Column != key.Column)) keys.Add(key);
            else rest.Add(conjunct);
        }
        if (keys.Count == 0)
        {
            throw Error(join.Condition, $"a lookup join needs an equality between a column of '{name}' and a value of the probe side "
                + $"(e.g. ON o.id = {alias}.{lookupColumns[0].Name}); the rows of '{name}' are looked up by it");
        }
        foreach (var (column, _) in keys)
        {
            var type = lookupColumns[column].Type;
            if (type.Kind is TypeKind.Array or TypeKind.Map or TypeKind.Row)
                throw Error(join.Condition, $"the lookup key column '{lookupColumns[column].Name}' is {type}; lookup keys are scalar");
        }
        BoundExpr? residual = rest.Count == 0 ? null : rest.Aggregate((a, b) => new Binary(BinaryOp.And, a, b, DataType.Boolean));
        var plan = new LookupJoinPlan(left, table, lookupColumns, keys, residual, leftOuter, output);
        return (plan, scope, null);
    }

    private static List<BoundExpr> Conjuncts(BoundExpr e) => Conjunction.Terms(e);

    /// <summary>
    /// <c>lookup.col = probe value</c> (either way round) as a lookup key: the value reads only probe columns
    /// (indexes below <paramref name="probeColumns"/>) or none (a constant), and is cast to the column's type.
    /// </summary>
    private static (int Column, BoundExpr Value)? AsKey(BoundExpr conjunct, int probeColumns, Schema lookupColumns)
    {
        if (conjunct is not Binary { Op: BinaryOp.Equal } eq) return null;
        foreach (var (a, b) in new[] { (eq.Left, eq.Right), (eq.Right, eq.Left) })
        {
            // The binder may have widened the column to the other side's type: look through that cast.
            var column = a is Cast { Try: false } c ? c.Operand : a;
            if (column is not InputRef r || r.Index < probeColumns) continue;
            var refs = ExpressionCompiler.ReferencedColumns(probeColumns + lookupColumns.Count, [b], null);
            // (An expression kind the finder does not know marks every column: then it is not a key either.)
            if (refs.Skip(probeColumns).Any(x => x)) continue;
            int index = r.Index - probeColumns;
            var type = lookupColumns[index].Type with { Nullable = true };
            var value = b.Type.Kind == type.Kind ? b : new Cast(b, type, Try: false);
            return (index, value);
        }
        return null;
    }
}
