using Eddy.Sql.Codegen;
using Eddy.Sql.Planning;
using LinqExpr = System.Linq.Expressions.Expression;

namespace Eddy.Sql.Translation;

/// <summary>Key types and key selectors for the keyed operators (aggregations, lookup joins, keyed sinks).</summary>
internal static class KeyCodegen
{
    public static Type KeyType(IReadOnlyList<BoundExpr> keys)
    {
        var types = keys.Select(KeyFieldType).ToArray();
        return types.Length switch
        {
            0 => typeof(ValueTuple),
            // One NOT NULL key hashes as its plain type, with no tuple around it (as a typed job's KeyBy(e => e.Key)).
            1 when IsPlainKey(keys) => types[0],
            > 7 => throw new NotSupportedException("Eddy groups by at most 7 keys"),
            _ => Type.GetType($"System.ValueTuple`{types.Length}")!.MakeGenericType(types),
        };
    }

    /// <summary>NOT NULL keys hash and compare as their plain CLR type; nullable ones as their nullable representation.</summary>
    public static Type KeyFieldType(BoundExpr key) => key.Type.Nullable ? ExpressionCompiler.ValueType(key.Type) : key.Type.ClrType;

    /// <summary>A single NOT NULL key is its own key type (never null: dictionaries accept it).</summary>
    public static bool IsPlainKey(IReadOnlyList<BoundExpr> keys) => keys.Count == 1 && !keys[0].Type.Nullable;

    public static Func<TIn, TKey> KeySelector<TIn, TKey>(IReadOnlyList<BoundExpr> keys)
    {
        // A NOT NULL column as the key: an emitted field getter, which the operators' JIT can inline.
        if (IsPlainKey(keys) && keys[0] is InputRef keyColumn && RowTypes.FieldOf(typeof(TIn), keyColumn.Index).FieldType == typeof(TKey))
            return RowTypes.FieldGetter<TIn, TKey>(keyColumn.Index);
        var row = LinqExpr.Parameter(typeof(TIn), "row");
        LinqExpr body = keys.Count == 0
            ? LinqExpr.Default(typeof(TKey))
            : IsPlainKey(keys) ? ExpressionCompiler.CompileRaw(keys[0], row) is var raw && raw.Type == typeof(TKey) ? raw : LinqExpr.Convert(raw, typeof(TKey))
            : LinqExpr.New(typeof(TKey).GetConstructors()[0], keys.Select(k =>
            {
                var value = ExpressionCompiler.CompileRaw(k, row);
                var type = KeyFieldType(k);
                return value.Type == type ? value : LinqExpr.Convert(value, type);
            }));
        return LinqExpr.Lambda<Func<TIn, TKey>>(body, row).Compile();
    }
}
