namespace Eddy.Sql.Plan.Correlate;

/// <summary>The table function of INTERSECT ALL and EXCEPT ALL in batch mode, as Flink's <c>ReplicateRows</c>.</summary>
public static class SetOperationFunctions
{
    /// <summary>One row per unit of <paramref name="count"/> (none for NULL or a count below one), numbered from 1.</summary>
    public static IEnumerable<ValueTuple<int>> ReplicateRows(long? count)
    {
        if (count is not { } n) yield break;
        for (int i = 1; i <= n; i++) yield return new ValueTuple<int>(i);
    }
}
