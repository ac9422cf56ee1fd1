namespace Eddy.Sql.Plan.Correlate;

/// <summary>
/// <c>UNNEST</c> as the table functions a <see cref="CorrelatePlan"/> calls per row, as Flink's <c>UnnestRowsFunction</c>
/// and <c>UnnestRowsWithOrdinalityFunction</c>: one row per array element (in order) or map entry, with its 1-based
/// position for <c>WITH ORDINALITY</c>. A NULL array or map gives no rows. Elements stay boxed (Eddy's ARRAY and MAP
/// values hold objects); the correlate's row builder unboxes them into the columns.
/// </summary>
public static class UnnestFunctions
{
    public static IEnumerable<ValueTuple<object?>> Array(object?[]? array)
    {
        if (array is null) yield break;
        foreach (var e in array) yield return new ValueTuple<object?>(e);
    }

    public static IEnumerable<(object? Element, int Ordinality)> ArrayWithOrdinality(object?[]? array)
    {
        if (array is null) yield break;
        for (int i = 0; i < array.Length; i++) yield return (array[i], i + 1);
    }

    public static IEnumerable<(object Key, object? Value)> Map(Dictionary<object, object?>? map)
    {
        if (map is null) yield break;
        foreach (var (k, v) in map) yield return (k, v);
    }

    public static IEnumerable<(object Key, object? Value, int Ordinality)> MapWithOrdinality(Dictionary<object, object?>? map)
    {
        if (map is null) yield break;
        int i = 0;
        foreach (var (k, v) in map) yield return (k, v, ++i);
    }
}
