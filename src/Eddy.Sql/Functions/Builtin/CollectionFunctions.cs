using System.Reflection;
using Binder = Eddy.Sql.Planning.Binder;
using Eddy.Sql.Planning;

namespace Eddy.Sql.Functions.Builtin;

/// <summary>
/// Flink's collection functions and the ARRAY[...] / MAP[...] constructors. An ARRAY is an <c>object?[]</c>, a MAP a
/// <c>Dictionary&lt;object, object?&gt;</c>; elements compare with <see cref="object.Equals(object?, object?)"/>.
/// </summary>
public static class CollectionFunctions
{
    private static MethodInfo M(Delegate d) => d.Method;

    private static BuiltinFunction F(string name, BuiltinBinder bind) => new(name, FunctionGroup.Collection, bind);

    private static DataType ElementOf(BuiltinCall c, int i) => c.Array(i).Type.Element!;

    /// <summary>The needle cast to the array's element type (Flink casts it implicitly).</summary>
    private static BoundExpr Needle(BuiltinCall c, int array, int needle)
    {
        var element = ElementOf(c, array);
        var n = c.Args[needle];
        if (n.Type.Kind != TypeKind.Null && TypeRules.Common(element, n.Type) is null)
            throw c.FailAt(needle, $"{c.Name}: {n.Type} cannot be compared with the array's {element}");
        return Binder.CastIfNeeded(n, element);
    }

    /// <summary>Two arrays of one common element type.</summary>
    private static DataType CommonArray(BuiltinCall c, int from = 0)
    {
        var type = c.Array(from).Type;
        for (int i = from + 1; i < c.Count; i++)
        {
            var other = c.Array(i).Type;
            if (other.Element!.Kind != type.Element!.Kind) throw c.FailAt(i, $"{c.Name} mixes {type} and {other}");
        }
        return type;
    }

    internal static IEnumerable<BuiltinFunction> All() =>
    [
        F("CARDINALITY", c =>
        {
            c.Arity(1, 1);
            var method = c.TypeOf(0).Kind switch
            {
                TypeKind.Map => nameof(Functions.SqlFunctions.MapCardinality),
                TypeKind.Array => nameof(Functions.SqlFunctions.Cardinality),
                _ => throw c.Fail($"CARDINALITY takes an ARRAY or a MAP, not {c.TypeOf(0)}"),
            };
            return new Planning.Call(c.Name, typeof(Functions.SqlFunctions).GetMethod(method)!, [c.Args[0]], DataType.Int);
        }),
        F("ELEMENT", c => { c.Arity(1, 1); return c.Call(M(Element), ElementOf(c, 0), c.Array(0)); }),
        F("ARRAY_APPEND", c => { c.Arity(2, 2); return c.Call(M(ArrayAppend), c.TypeOf(0), c.Array(0), Needle(c, 0, 1)); }),
        F("ARRAY_PREPEND", c => { c.Arity(2, 2); return c.Call(M(ArrayPrepend), c.TypeOf(0), c.Array(0), Needle(c, 0, 1)); }),
        F("ARRAY_CONTAINS", c => { c.Arity(2, 2); return c.Call(M(ArrayContains), DataType.Boolean, c.Array(0), Needle(c, 0, 1)); }),
        F("ARRAY_POSITION", c => { c.Arity(2, 2); return c.Call(M(ArrayPosition), DataType.Int, c.Array(0), Needle(c, 0, 1)); }),
        F("ARRAY_REMOVE", c => { c.Arity(2, 2); return c.Call(M(ArrayRemove), c.TypeOf(0), c.Array(0), Needle(c, 0, 1)); }),
        F("ARRAY_DISTINCT", c => { c.Arity(1, 1); return c.Call(M(ArrayDistinct), c.TypeOf(0), c.Array(0)); }),
        F("ARRAY_REVERSE", c => { c.Arity(1, 1); return c.Call(M(ArrayReverse), c.TypeOf(0), c.Array(0)); }),
        F("ARRAY_SLICE", c =>
        {
            c.Arity(2, 3);
            return c.Call(M(ArraySlice), c.TypeOf(0), c.Array(0), c.Integer(1), c.Count == 3 ? c.Integer(2) : new Literal(int.MaxValue, DataType.Int));
        }),
        F("ARRAY_UNION", c => { c.Arity(2, 2); return c.Call(M(ArrayUnion), CommonArray(c), c.Array(0), c.Array(1)); }),
        F("ARRAY_CONCAT", c =>
        {
            c.Arity(1, int.MaxValue);
            return c.Call(M(ArrayConcat), CommonArray(c), Enumerable.Range(0, c.Count).Select(c.Array).ToArray());
        }),
        F("ARRAY_EXCEPT", c => { c.Arity(2, 2); return c.Call(M(ArrayExcept), CommonArray(c), c.Array(0), c.Array(1)); }),
        F("ARRAY_INTERSECT", c => { c.Arity(2, 2); return c.Call(M(ArrayIntersect), CommonArray(c), c.Array(0), c.Array(1)); }),
        F("ARRAY_MAX", c => { c.Arity(1, 1); return c.Call(M(ArrayMax), Comparable(c), c.Array(0)); }),
        F("ARRAY_MIN", c => { c.Arity(1, 1); return c.Call(M(ArrayMin), Comparable(c), c.Array(0)); }),
        F("ARRAY_JOIN", c =>
        {
            c.Arity(2, 3);
            if (!TypeRules.IsString(ElementOf(c, 0))) throw c.FailAt(0, $"ARRAY_JOIN takes an array of strings, got {c.TypeOf(0)}");
            return c.Call(M(ArrayJoin), DataType.String, c.Array(0), c.String(1), c.Count == 3 ? c.String(2) : new Literal(null, DataType.String),
                new Literal(c.Count == 3, DataType.Boolean));
        }),
        F("MAP_KEYS", c => { c.Arity(1, 1); return c.Call(M(MapKeys), DataType.ArrayOf(c.Map(0).Type.Element!), c.Map(0)); }),
        F("MAP_VALUES", c => { c.Arity(1, 1); return c.Call(M(MapValues), DataType.ArrayOf(c.Map(0).Type.Value!), c.Map(0)); }),
        F("MAP_UNION", c =>
        {
            c.Arity(1, int.MaxValue);
            var type = c.Map(0).Type;
            for (int i = 1; i < c.Count; i++)
                if (c.Map(i).Type is var t && (t.Element!.Kind != type.Element!.Kind || t.Value!.Kind != type.Value!.Kind))
                    throw c.FailAt(i, $"MAP_UNION mixes {type} and {t}");
            return c.Call(M(MapUnion), type, Enumerable.Range(0, c.Count).Select(c.Map).ToArray());
        }),
        F("MAP_FROM_ARRAYS", c =>
        {
            c.Arity(2, 2);
            return c.Call(M(MapFromArrays), DataType.MapOf(ElementOf(c, 0), ElementOf(c, 1)), c.Array(0), c.Array(1));
        }),
        F("ARRAY_SORT", c =>
        {
            c.Arity(1, 3);
            Comparable(c);
            var ascending = c.Count >= 2 ? c.Boolean(1) : new Literal(true, DataType.Boolean);
            // ARRAY_SORT(a, asc) puts NULLs first exactly when it sorts ascending.
            var nullsFirst = c.Count == 3 ? c.Boolean(2) : ascending;
            return c.Call(M(ArraySort), c.TypeOf(0), c.Array(0), ascending, nullsFirst);
        }),
        F("MAP_ENTRIES", c =>
        {
            c.Arity(1, 1);
            var map = c.Map(0).Type;
            var entry = DataType.RowOf(new Column("key", map.Element!), new Column("value", map.Value!)).NotNull();
            return c.Call(M(MapEntries), DataType.ArrayOf(entry), c.Map(0));
        }),
        F("SPLIT", c => { c.Arity(2, 2); return c.Call(M(Split), DataType.ArrayOf(DataType.String), c.String(0), c.String(1)); }),
    ];

    private static DataType Comparable(BuiltinCall c)
    {
        var element = ElementOf(c, 0);
        if (element.Kind is TypeKind.Array or TypeKind.Map or TypeKind.Row or TypeKind.Binary)
            throw c.FailAt(0, $"{c.Name} of {c.TypeOf(0)} is not supported");
        return element;
    }

    private static int Compare(object a, object b) =>
        a is string x && b is string y ? CompareCodePoints(x, y) : Comparer<object>.Default.Compare(a, b);

    /// <summary>Strings in code point order, which is the order of their UTF-8 bytes that Flink compares.</summary>
    private static int CompareCodePoints(string x, string y)
    {
        int n = Math.Min(x.Length, y.Length);
        for (int i = 0; i < n; i++)
        {
            char a = x[i], b = y[i];
            if (a == b) continue;
            // A surrogate (U+D800..U+DFFF) starts a code point above U+FFFF: it sorts after U+E000..U+FFFF.
            bool sa = char.IsSurrogate(a), sb = char.IsSurrogate(b);
            if (sa != sb) return sa ? 1 : -1;
            return a - b;
        }
        return x.Length - y.Length;
    }

    /// <summary>ELEMENT: the sole element, NULL for an empty array, an error for more than one (as Flink).</summary>
    public static object? Element(object?[]? array) => array is null or { Length: 0 } ? null
        : array.Length == 1 ? array[0] : throw new InvalidOperationException("ELEMENT: the array has more than one element");

    public static object?[]? ArrayAppend(object?[]? array, object? element) => array is null ? null : [.. array, element];

    public static object?[]? ArrayPrepend(object?[]? array, object? element) => array is null ? null : [element, .. array];

    public static bool? ArrayContains(object?[]? array, object? element) => array is null ? null : array.Any(e => Equals(e, element));

    public static int? ArrayPosition(object?[]? array, object? element)
    {
        if (array is null || element is null) return null;
        return Array.FindIndex(array, e => Equals(e, element)) + 1;
    }

    public static object?[]? ArrayRemove(object?[]? array, object? element) => array?.Where(e => !Equals(e, element)).ToArray();

    public static object?[]? ArrayDistinct(object?[]? array) => array?.Distinct().ToArray();

    public static object?[]? ArrayReverse(object?[]? array) => array?.Reverse().ToArray();

    /// <summary>ARRAY_SLICE: 1-based inclusive offsets, 0 is the start, negatives count from the end.</summary>
    public static object?[]? ArraySlice(object?[]? array, int? start, int? end)
    {
        if (array is null || start is not { } s || end is not { } e) return null;
        int n = array.Length;
        if (n == 0) return [];
        long from = s == 0 ? 1 : s < 0 ? n + s + 1L : s;
        long to = e == int.MaxValue ? n : e < 0 ? n + e + 1L : e;
        from = Math.Max(from, 1);
        to = Math.Min(to, n);
        if (from > to) return [];
        return array[(int)(from - 1)..(int)to];
    }

    public static object?[]? ArrayUnion(object?[]? a, object?[]? b) => a is null || b is null ? null : a.Concat(b).Distinct().ToArray();

    public static object?[]? ArrayConcat(params object?[]?[] arrays) =>
        arrays.Any(a => a is null) ? null : arrays.SelectMany(a => a!).ToArray();

    public static object?[]? ArrayExcept(object?[]? a, object?[]? b) =>
        a is null || b is null ? null : a.Distinct().Where(x => !b.Any(y => Equals(x, y))).ToArray();

    public static object?[]? ArrayIntersect(object?[]? a, object?[]? b) =>
        a is null || b is null ? null : a.Distinct().Where(x => b.Any(y => Equals(x, y))).ToArray();

    public static object? ArrayMax(object?[]? array) => Extreme(array, 1);

    public static object? ArrayMin(object?[]? array) => Extreme(array, -1);

    private static object? Extreme(object?[]? array, int sign)
    {
        if (array is null) return null;
        object? best = null;
        foreach (var v in array)
            if (v is not null && (best is null || Compare(v, best) * sign > 0)) best = v;
        return best;
    }

    public static string? ArrayJoin(object?[]? array, string? delimiter, string? nullReplacement, bool hasReplacement)
    {
        if (array is null || delimiter is null || (hasReplacement && nullReplacement is null)) return null;
        var parts = hasReplacement ? array.Select(e => (string?)e ?? nullReplacement) : array.Where(e => e is not null).Select(e => (string?)e);
        return string.Join(delimiter, parts);
    }

    /// <summary>
    /// Flink's ARRAY_SORT: a stable sort (Java's Arrays.sort of objects) with NULLs first or last; NULL when an argument
    /// is NULL. Flink compares doubles with primitive comparisons, which leave NaN unordered: Eddy fails on NaN rather
    /// than guess that order.
    /// </summary>
    public static object?[]? ArraySort(object?[]? array, bool? ascending, bool? nullsFirst)
    {
        if (array is null || ascending is not { } asc || nullsFirst is not { } first) return null;
        if (array.Any(e => e is double.NaN or float.NaN)) throw new ArgumentException("ARRAY_SORT of an array holding NaN is not supported");
        var nulls = array.Where(e => e is null);
        var values = array.Where(e => e is not null).Select(e => e!);
        var sorted = asc ? values.OrderBy(e => e, ElementOrder) : values.OrderByDescending(e => e, ElementOrder);
        return first ? [.. nulls, .. sorted] : [.. sorted, .. nulls];
    }

    private static readonly Comparer<object> ElementOrder = Comparer<object>.Create(Compare);

    /// <summary>Flink's MAP_ENTRIES: the map's entries as ROW(key, value), in the map's order.</summary>
    public static object?[]? MapEntries(Dictionary<object, object?>? map) =>
        map?.Select(e => (object?)Row.Of(e.Key, e.Value)).ToArray();

    public static object?[]? MapKeys(Dictionary<object, object?>? map) => map?.Keys.ToArray<object?>();

    public static object?[]? MapValues(Dictionary<object, object?>? map) => map?.Values.ToArray();

    public static Dictionary<object, object?>? MapUnion(params Dictionary<object, object?>?[] maps)
    {
        if (maps.Any(m => m is null)) return null;
        var result = new Dictionary<object, object?>();
        foreach (var m in maps)
            foreach (var (k, v) in m!) result[k] = v;
        return result;
    }

    public static Dictionary<object, object?>? MapFromArrays(object?[]? keys, object?[]? values)
    {
        if (keys is null || values is null) return null;
        if (keys.Length != values.Length) throw new InvalidOperationException("MAP_FROM_ARRAYS: the key and value arrays differ in length");
        var map = new Dictionary<object, object?>();
        for (int i = 0; i < keys.Length; i++)
            map[keys[i] ?? throw new InvalidOperationException("MAP_FROM_ARRAYS: a NULL key")] = values[i];
        return map;
    }

    /// <summary>SPLIT(s, delimiter): an empty delimiter splits every character; empty parts are kept.</summary>
    public static object?[]? Split(string? s, string? delimiter)
    {
        if (s is null || delimiter is null) return null;
        if (delimiter.Length == 0) return s.Select(ch => (object?)ch.ToString()).ToArray();
        return s.Split(delimiter).Select(p => (object?)p).ToArray();
    }

    /// <summary>ARRAY[a, b, ...].</summary>
    public static object?[] MakeArray(params object?[] elements) => elements;

    /// <summary>MAP[k1, v1, k2, v2, ...]: a later duplicate key wins.</summary>
    public static Dictionary<object, object?> MakeMap(params object?[] keysAndValues)
    {
        var map = new Dictionary<object, object?>();
        for (int i = 0; i < keysAndValues.Length; i += 2)
            map[keysAndValues[i] ?? throw new InvalidOperationException("MAP[...]: a NULL key")] = keysAndValues[i + 1];
        return map;
    }
}
