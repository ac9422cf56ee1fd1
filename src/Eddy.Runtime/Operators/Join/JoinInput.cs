namespace Eddy.Joins;

/// <summary>Which rows of a join survive without a partner (padded with the missing side), as SQL's join types.</summary>
public enum JoinType : byte
{
    Inner,
    Left,
    Right,
    Full,
}

public static class JoinTypes
{
    /// <summary>Whether left rows without a match are emitted, padded.</summary>
    public static bool IsLeftOuter(this JoinType type) => type is JoinType.Left or JoinType.Full;

    /// <summary>Whether right rows without a match are emitted, padded.</summary>
    public static bool IsRightOuter(this JoinType type) => type is JoinType.Right or JoinType.Full;
}

/// <summary>
/// Builds one output row of a join. <paramref name="hasLeft"/> or <paramref name="hasRight"/> is false for the padded
/// side of an outer join's unmatched row; that side's value is then <c>default</c>.
/// </summary>
public delegate TOut JoinCombiner<in TLeft, in TRight, out TOut>(TLeft left, bool hasLeft, TRight right, bool hasRight);

/// <summary>
/// One record of either input of a two-input join on the one-input runtime: both inputs are mapped into this type,
/// unioned and keyed by the join key, so that one keyed operator sees both sides (see the folder's README).
/// </summary>
public readonly struct JoinInput<TLeft, TRight>
{
    public readonly TLeft Left;
    public readonly TRight Right;
    public readonly bool IsLeft;

    private JoinInput(TLeft left, TRight right, bool isLeft)
    {
        Left = left;
        Right = right;
        IsLeft = isLeft;
    }

    public static JoinInput<TLeft, TRight> OfLeft(TLeft left) => new(left, default!, true);

    public static JoinInput<TLeft, TRight> OfRight(TRight right) => new(default!, right, false);

    public override string ToString() => IsLeft ? $"L:{Left}" : $"R:{Right}";
}
