namespace Eddy;

/// <summary>The change a record carries in a changelog stream, as Flink's RowKind.</summary>
public enum RowKind : byte
{
    Insert = 0,
    UpdateBefore = 1,
    UpdateAfter = 2,
    Delete = 3,
}

public static class RowKindExtensions
{
    public static string ShortString(this RowKind kind) => kind switch
    {
        RowKind.Insert => "+I",
        RowKind.UpdateBefore => "-U",
        RowKind.UpdateAfter => "+U",
        RowKind.Delete => "-D",
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };

    /// <summary>True for kinds that add a row to the result (+I, +U).</summary>
    public static bool IsAccumulate(this RowKind kind) => kind is RowKind.Insert or RowKind.UpdateAfter;
}
