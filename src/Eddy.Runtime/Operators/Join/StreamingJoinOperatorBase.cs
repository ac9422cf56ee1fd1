using Eddy.Runtime;

namespace Eddy.Joins;

/// <summary>
/// What the unbounded joins share, as Flink's AbstractStreamingJoinOperator (<see cref="StreamingJoinOperator{TKey, TLeft, TRight, TOut}"/>,
/// <see cref="SemiAntiJoinOperator{TKey, TLeft, TRight}"/>): the keys and the residual condition of both sides, and both
/// sides' records per key as multisets (<see cref="JoinSides{TKey, TLeft, TRight}"/>) with their state TTL and checkpoints.
/// How a record joins and what it emits is each operator's own.
/// </summary>
public abstract class StreamingJoinOperatorBase<TKey, TLeft, TRight, TOut> : StreamOperator<JoinInput<TLeft, TRight>, TOut>
    where TKey : notnull where TLeft : notnull where TRight : notnull
{
    private protected const int None = JoinRecordStore<TLeft>.None;

    private protected readonly Func<TLeft, TKey> leftKey;
    private protected readonly Func<TRight, TKey> rightKey;
    private protected readonly Func<TLeft, TRight, bool>? residual;
    private protected readonly JoinSides<TKey, TLeft, TRight> state;
    private protected readonly Dictionary<TKey, JoinKeyLists> keys;
    private protected readonly JoinRecordStore<TLeft> left;
    private protected readonly JoinRecordStore<TRight> right;
    private protected Collector<TOut>? output;

    private protected StreamingJoinOperatorBase(Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, Func<TLeft, TRight, bool>? residual,
        TimeSpan? leftStateTtl, TimeSpan? rightStateTtl)
    {
        this.leftKey = leftKey;
        this.rightKey = rightKey;
        this.residual = residual;
        state = new JoinSides<TKey, TLeft, TRight>(leftStateTtl, rightStateTtl);
        (keys, left, right) = (state.Keys, state.Left, state.Right);
    }

    /// <summary>Keys holding records.</summary>
    public int KeyCount => keys.Count;

    /// <summary>Distinct records held per side.</summary>
    public (int Left, int Right) HeldRecords => (left.Count, right.Count);

    public sealed override bool HasState => true;

    public sealed override void Open()
    {
        output = Out;
        if (Context.CheckpointingEnabled) state.ResolveSerializers(Context.OperatorName);
    }

    /// <summary>A section per key: the key, then each side's records with count, associations and write time.</summary>
    public sealed override void SnapshotState(long checkpointId, OperatorStateWriter writer) =>
        state.Snapshot(writer, Context.MaxParallelism, Context.OperatorName);

    public sealed override void RestoreState(OperatorStateReader reader)
    {
        state.Restore(reader, Context.OperatorName);
        state.ScheduleSweep(Context.ProcessingTimers);
    }
}
