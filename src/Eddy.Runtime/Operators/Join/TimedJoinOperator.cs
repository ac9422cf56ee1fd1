using System.Runtime.CompilerServices;
using Eddy.Runtime;

namespace Eddy.Joins;

/// <summary>
/// What the joins that hold rows per key until a timer fires share (<see cref="IntervalJoinOperator{TKey, TLeft, TRight, TOut}"/>,
/// <see cref="TemporalJoinOperator{TKey, TLeft, TRight, TOut}"/>, <see cref="WindowJoinOperator{TKey, TLeft, TRight, TOut}"/>):
/// the keys and the residual condition of both sides, the output row, per-key timers and the serializers of their
/// state. The rows, the timers' meaning and the changelog are each operator's own.
/// </summary>
public abstract class TimedJoinOperator<TKey, TLeft, TRight, TOut> : StreamOperator<JoinInput<TLeft, TRight>, TOut>
    where TKey : notnull
{
    /// <summary>The version of the operator state these joins write (the watermark and one figure of each operator's own).</summary>
    private const byte StateVersion = 1;

    private protected readonly Func<TLeft, TKey> leftKey;
    private protected readonly Func<TRight, TKey> rightKey;
    private protected readonly Func<TLeft, TRight, bool>? residual;
    private protected readonly JoinCombiner<TLeft, TRight, TOut> combine;
    private protected KeyedTimers<TKey>? timers;
    private protected Collector<TOut>? output;
    private protected JoinStateSerializers<TKey, TLeft, TRight>? serializers;

    private protected TimedJoinOperator(Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, Func<TLeft, TRight, bool>? residual,
        JoinCombiner<TLeft, TRight, TOut> combine)
    {
        this.leftKey = leftKey;
        this.rightKey = rightKey;
        this.residual = residual;
        this.combine = combine;
    }

    public sealed override bool HasState => true;

    public sealed override void Open()
    {
        output = Out;
        timers = new KeyedTimers<TKey>(Context.ProcessingTimers, OnTimer);
        if (Context.CheckpointingEnabled) ResolveSerializers();
    }

    private protected abstract void OnTimer(TKey key, long time, TimeDomain domain);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private protected bool Accepts(TLeft left, TRight right) => residual is null || residual(left, right);

    protected override void ProcessWatermark(long watermark) => timers!.AdvanceWatermark(watermark);

    private protected void ResolveSerializers() => serializers ??= JoinStateSerializers<TKey, TLeft, TRight>.Resolve(Context.OperatorName);

    /// <summary>The operator state: its version, the current watermark and <paramref name="figure"/>, the operator's own.</summary>
    private protected void WriteOperatorState(OperatorStateWriter writer, long figure)
    {
        OperatorStateFormat.WriteVersion(writer.OperatorState, StateVersion);
        writer.OperatorState.Write(CurrentWatermark);
        writer.OperatorState.Write(figure);
    }

    /// <summary>
    /// Restores the smallest watermark of the subtasks' operator states and returns their figures folded by
    /// <paramref name="fold"/> from <paramref name="seed"/>, or null when there is no operator state.
    /// </summary>
    private protected long? RestoreOperatorState(OperatorStateReader reader, long seed, Func<long, long, long> fold)
    {
        long watermark = long.MaxValue;
        long figure = seed;
        foreach (var r in reader.OperatorStates)
        {
            OperatorStateFormat.CheckVersion(r, StateVersion, Context.OperatorName);
            watermark = Math.Min(watermark, r.ReadInt64());
            figure = fold(figure, r.ReadInt64());
        }
        if (reader.OperatorStates.Count == 0) return null;
        RestoreCurrentWatermark(watermark);
        return figure;
    }
}
