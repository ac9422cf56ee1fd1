using Eddy.Runtime;

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

    // Public so that the record serializer can rebuild it (a join's inputs travel through repartition topics).
    public JoinInput(TLeft left, TRight right, bool isLeft)
    {
        Left = left;
        Right = right;
        IsLeft = isLeft;
    }

    public static JoinInput<TLeft, TRight> OfLeft(TLeft left) => new(left, default!, true);

    public static JoinInput<TLeft, TRight> OfRight(TRight right) => new(default!, right, false);

    public override string ToString() => IsLeft ? $"L:{Left}" : $"R:{Right}";
}

/// <summary>
/// The serializers of a join's keyed state, resolved when the operator opens with checkpointing, so that a row type
/// that cannot be serialized fails the job at start, naming the operator.
/// </summary>
internal sealed class JoinStateSerializers<TKey, TLeft, TRight>(
    StateSerializer<TKey> key, StateSerializer<TLeft> left, StateSerializer<TRight> right)
{
    public StateSerializer<TKey> Key { get; } = key;

    public StateSerializer<TLeft> Left { get; } = left;

    public StateSerializer<TRight> Right { get; } = right;

    public static JoinStateSerializers<TKey, TLeft, TRight> Resolve(string operatorName)
    {
        try
        {
            return new(StateSerializers.For<TKey>(), StateSerializers.For<TLeft>(), StateSerializers.For<TRight>());
        }
        catch (StateSerializationException e)
        {
            throw new StateSerializationException($"operator '{operatorName}': {e.Message}");
        }
    }
}
