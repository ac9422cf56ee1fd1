using Eddy.Runtime;
using Eddy.Sql.Codegen;
using Eddy.Sql.Connectors;
using Eddy.Sql.Planning;
using Eddy.Sql.Translation;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Plan.LookupJoin;

/// <summary>A lookup join: key selection, joined rows and the ON condition compiled for a <see cref="LookupJoinOperator{TIn, TKey, TLookup, TOut}"/>.</summary>
internal static class LookupJoinTranslator
{
    public static object Translate(LookupJoinPlan plan, JobTranslator job)
    {
        var keys = plan.Keys.Select(k => k.Value).ToList();
        var types = new[] { RowTypes.For(plan.Input.Schema), KeyCodegen.KeyType(keys), RowTypes.For(plan.LookupColumns), RowTypes.For(plan.Schema) };
        return TypedStep.Make<IStep>(typeof(Step<,,,>), types).Translate(job.Translate(plan.Input), plan, job);
    }

    private interface IStep
    {
        object Translate(object input, LookupJoinPlan plan, JobTranslator job);
    }

    private sealed class Step<TIn, TKey, TLookup, TOut> : IStep where TKey : notnull
    {
        public object Translate(object input, LookupJoinPlan plan, JobTranslator job) =>
            TranslateLookupJoin<TIn, TKey, TLookup, TOut>((DataStream<TIn>)input, plan, job);
    }

    private static DataStream<TOut> TranslateLookupJoin<TIn, TKey, TLookup, TOut>(DataStream<TIn> input, LookupJoinPlan plan, JobTranslator job) where TKey : notnull
    {
        var connector = (ILookupTableConnector)job.Registry.Find(plan.Table);
        var source = connector.CreateLookup(plan.Table, plan.Table.PhysicalSchema, plan.Keys.Select(k => k.Column).ToList(), job.Connectors);
        if (source.Cache.Full && !source.CanLoadAll)
            throw new ConnectorOptionException(plan.Table.Name, "lookup.cache", $"FULL needs a lookup table that can be read whole, which '{plan.Table.Connector}' cannot here");
        var keys = plan.Keys.Select(k => k.Value).ToList();
        var fromRow = RowTypes.FromRow<TLookup>(plan.LookupColumns);
        var functions = new LookupJoinFunctions<TIn, TKey, TLookup, TOut>(
            KeyCodegen.KeySelector<TIn, TKey>(keys),
            KeyHasNull<TKey>(keys),
            KeyValues<TKey>(keys),
            values => fromRow(new Row(RowKind.Insert, values)),
            (Func<TIn, TLookup, TOut>)JoinedRow<TIn, TLookup, TOut>(plan.Input.Schema.Count, plan.LookupColumns.Count, withLookup: true),
            plan.LeftOuter ? (Func<TIn, TOut>)JoinedRow<TIn, TLookup, TOut>(plan.Input.Schema.Count, plan.LookupColumns.Count, withLookup: false) : null,
            plan.Condition is null ? null : Condition<TOut>(plan.Condition))
        {
            LookupKey = source.Cache.Full ? KeyCodegen.KeySelector<TLookup, TKey>(LookupSideKeys(plan)) : null,
            LookupKeyHasNull = source.Cache.Full ? LookupKeyHasNull<TLookup>(plan.Keys.Select(k => k.Column)) : null,
        };
        var counters = job.LookupCounters;
        return input.Transform($"LookupJoin({plan.Table.Name})", () => new LookupJoinOperator<TIn, TKey, TLookup, TOut>(functions, source, counters));
    }

    /// <summary>The key columns of a looked-up row, typed as the probe side's key values (the same key struct).</summary>
    private static List<BoundExpr> LookupSideKeys(LookupJoinPlan plan) => plan.Keys.Select(k =>
    {
        var column = plan.LookupColumns[k.Column];
        BoundExpr read = new InputRef(k.Column, column.Name, column.Type);
        return read.Type == k.Value.Type ? read : new Cast(read, k.Value.Type, Try: false);
    }).ToList();

    /// <summary>Whether a looked-up row holds a NULL in a key column; null when no key column can.</summary>
    private static Func<TLookup, bool>? LookupKeyHasNull<TLookup>(IEnumerable<int> columns)
    {
        var row = LinqExpr.Parameter(typeof(TLookup), "row");
        LinqExpr any = LinqExpr.Constant(false);
        foreach (int c in columns)
        {
            var field = LinqExpr.Field(row, RowTypes.FieldOf(typeof(TLookup), c));
            if (field.Type.IsValueType && Nullable.GetUnderlyingType(field.Type) is null) continue;
            any = LinqExpr.OrElse(any, LinqExpr.Equal(field, LinqExpr.Constant(null, field.Type)));
        }
        return any is System.Linq.Expressions.ConstantExpression ? null : LinqExpr.Lambda<Func<TLookup, bool>>(any, row).Compile();
    }

    /// <summary>Whether a key holds a NULL: a nullable key is a tuple of nullable fields; a NOT NULL single key never does.</summary>
    private static Func<TKey, bool>? KeyHasNull<TKey>(IReadOnlyList<BoundExpr> keys)
    {
        if (KeyCodegen.IsPlainKey(keys)) return null;
        var key = LinqExpr.Parameter(typeof(TKey), "key");
        LinqExpr any = LinqExpr.Constant(false);
        for (int k = 0; k < keys.Count; k++)
        {
            var field = LinqExpr.Field(key, $"Item{k + 1}");
            if (field.Type.IsValueType && Nullable.GetUnderlyingType(field.Type) is null) continue;
            any = LinqExpr.OrElse(any, LinqExpr.Equal(field, LinqExpr.Constant(null, field.Type)));
        }
        return any is System.Linq.Expressions.ConstantExpression ? null : LinqExpr.Lambda<Func<TKey, bool>>(any, key).Compile();
    }

    /// <summary>The key's values, boxed, for the fetcher (only for keys not in the cache).</summary>
    private static Func<TKey, object?[]> KeyValues<TKey>(IReadOnlyList<BoundExpr> keys)
    {
        var key = LinqExpr.Parameter(typeof(TKey), "key");
        var items = KeyCodegen.IsPlainKey(keys)
            ? [LinqExpr.Convert(key, typeof(object))]
            : Enumerable.Range(0, keys.Count).Select(k => (LinqExpr)LinqExpr.Convert(LinqExpr.Field(key, $"Item{k + 1}"), typeof(object))).ToArray();
        return LinqExpr.Lambda<Func<TKey, object?[]>>(LinqExpr.NewArrayInit(typeof(object), items), key).Compile();
    }

    /// <summary><c>(row, looked) => new TOut { probe columns..., lookup columns... }</c>, or the probe row padded with NULLs.</summary>
    private static Delegate JoinedRow<TIn, TLookup, TOut>(int probeColumns, int lookupColumns, bool withLookup)
    {
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        var looked = LinqExpr.Parameter(typeof(TLookup), "looked");
        var result = LinqExpr.Variable(typeof(TOut), "result");
        var body = new List<LinqExpr> { LinqExpr.Assign(result, LinqExpr.Default(typeof(TOut))) };
        void Copy(LinqExpr from, Type fromType, int fromColumn, int toColumn)
        {
            var target = RowTypes.FieldOf(typeof(TOut), toColumn);
            LinqExpr value = LinqExpr.Field(from, RowTypes.FieldOf(fromType, fromColumn));
            body.Add(LinqExpr.Assign(LinqExpr.Field(result, target), value.Type == target.FieldType ? value : LinqExpr.Convert(value, target.FieldType)));
        }
        for (int i = 0; i < probeColumns; i++) Copy(row, typeof(TIn), i, i);
        if (withLookup)
            for (int i = 0; i < lookupColumns; i++) Copy(looked, typeof(TLookup), i, probeColumns + i);
        body.Add(result);
        var block = LinqExpr.Block([result], body);
        return withLookup
            ? LinqExpr.Lambda<Func<TIn, TLookup, TOut>>(block, row, looked).Compile()
            : LinqExpr.Lambda<Func<TIn, TOut>>(block, row).Compile();
    }

    private static Func<TOut, bool> Condition<TOut>(BoundExpr condition)
    {
        var compiled = ExpressionCompiler.CompileScalar<TOut, bool?>(condition, "ON");
        return row => compiled(row) == true;
    }
}
