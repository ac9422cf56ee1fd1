using Eddy.Joins;

namespace Eddy;

/// <summary>
/// Two-input joins on the one-input runtime: each side is tagged into <see cref="JoinInput{TLeft, TRight}"/>, the two
/// are unioned and keyed by the join key, and one keyed operator joins them (see src/Eddy.Runtime/Operators/Join).
/// </summary>
public static class JoinStreams
{
    /// <summary>
    /// Flink SQL's regular equi-join (<c>a JOIN b ON a.k = b.k AND residual</c>): inner, left, right or full outer, on
    /// append or changelog inputs, emitting Flink's changelog. <paramref name="stateTtl"/> is <c>table.exec.state.ttl</c>;
    /// <paramref name="rightStateTtl"/>, when given, makes it the left side's and sets the right's (Flink's <c>STATE_TTL</c> hint).
    /// </summary>
    public static DataStream<TOut> Join<TLeft, TRight, TKey, TOut>(this DataStream<TLeft> left, DataStream<TRight> right,
        Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, JoinType joinType, Func<TLeft, TRight, bool>? residual,
        JoinCombiner<TLeft, TRight, TOut> combine, TimeSpan? stateTtl = null, TimeSpan? rightStateTtl = null, string name = "Join")
        where TKey : notnull where TLeft : notnull where TRight : notnull =>
        Tagged(left, right, leftKey, rightKey).Transform(name,
            () => new StreamingJoinOperator<TKey, TLeft, TRight, TOut>(leftKey, rightKey, joinType, residual, combine, stateTtl, rightStateTtl));

    /// <summary>
    /// Flink SQL's semi join (<paramref name="anti"/> false: the left rows that have a right row of their key passing
    /// <paramref name="residual"/>, as <c>IN</c>/<c>EXISTS</c> subqueries) or anti join (true: those without, as
    /// <c>NOT IN</c>/<c>NOT EXISTS</c>), on append or changelog inputs, emitting Flink's changelog; with
    /// <paramref name="stateTtl"/> (Flink's <c>table.exec.state.ttl</c>) records not written for that long count as absent.
    /// </summary>
    public static DataStream<TLeft> SemiAntiJoin<TLeft, TRight, TKey>(this DataStream<TLeft> left, DataStream<TRight> right,
        Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, bool anti, Func<TLeft, TRight, bool>? residual,
        TimeSpan? stateTtl = null, string name = "SemiAntiJoin")
        where TKey : notnull where TLeft : notnull where TRight : notnull =>
        Tagged(left, right, leftKey, rightKey).Transform(name,
            () => new SemiAntiJoinOperator<TKey, TLeft, TRight>(leftKey, rightKey, anti, residual, stateTtl));

    /// <summary>
    /// Flink SQL's interval join: <c>l.time BETWEEN r.time + lowerBound AND r.time + upperBound</c> on equal keys
    /// (for <c>BETWEEN r.time - INTERVAL a AND r.time + INTERVAL b</c> pass -a and b), in event time (the records'
    /// timestamps, or <paramref name="leftTime"/>/<paramref name="rightTime"/>, against the watermark) or processing time.
    /// </summary>
    public static DataStream<TOut> IntervalJoin<TLeft, TRight, TKey, TOut>(this DataStream<TLeft> left, DataStream<TRight> right,
        Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, JoinType joinType, TimeSpan lowerBound, TimeSpan upperBound,
        Func<TLeft, TRight, bool>? residual, JoinCombiner<TLeft, TRight, TOut> combine, bool eventTime = true,
        Func<TLeft, long>? leftTime = null, Func<TRight, long>? rightTime = null, TimeSpan? minCleanUpInterval = null,
        string name = "IntervalJoin")
        where TKey : notnull
    {
        long lower = EventTime.Millis(lowerBound);
        long upper = EventTime.Millis(upperBound);
        return Tagged(left, right, leftKey, rightKey).Transform(name,
            () => new IntervalJoinOperator<TKey, TLeft, TRight, TOut>(leftKey, rightKey, joinType, lower, upper, eventTime,
                residual, combine, leftTime, rightTime, minCleanUpInterval));
    }

    /// <summary>
    /// Flink SQL's window join: rows of equal keys and the same window (<paramref name="leftWindowEnd"/>,
    /// <paramref name="rightWindowEnd"/>: the window end each row belongs to) are joined when the watermark passes the
    /// window's end; rows of a window already fired are dropped as late. Semi/anti joins emit the left row.
    /// </summary>
    public static DataStream<TOut> WindowJoin<TLeft, TRight, TKey, TOut>(this DataStream<TLeft> left, DataStream<TRight> right,
        Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, Func<TLeft, long> leftWindowEnd, Func<TRight, long> rightWindowEnd,
        WindowJoinType joinType, Func<TLeft, TRight, bool>? residual, JoinCombiner<TLeft, TRight, TOut> combine, string name = "WindowJoin")
        where TKey : notnull =>
        Tagged(left, right, leftKey, rightKey).Transform(name,
            () => new WindowJoinOperator<TKey, TLeft, TRight, TOut>(leftKey, rightKey, leftWindowEnd, rightWindowEnd, joinType, residual, combine));

    /// <summary>
    /// Flink SQL's event-time temporal join: each left row joins the version of the right row with its key valid at the
    /// left row's time (<paramref name="leftTime"/>; the right rows are versions at <paramref name="rightTime"/>, a
    /// <c>-D</c> ends the key), emitted when the watermark passes the left row (see <see cref="TemporalJoinOperator{TKey, TLeft, TRight, TOut}"/>).
    /// </summary>
    public static DataStream<TOut> TemporalJoin<TLeft, TRight, TKey, TOut>(this DataStream<TLeft> left, DataStream<TRight> right,
        Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, Func<TLeft, long> leftTime, Func<TRight, long> rightTime, bool leftOuter,
        Func<TLeft, TRight, bool>? residual, JoinCombiner<TLeft, TRight, TOut> combine, string name = "TemporalJoin")
        where TKey : notnull =>
        Tagged(left, right, leftKey, rightKey).Transform(name,
            () => new TemporalJoinOperator<TKey, TLeft, TRight, TOut>(leftKey, rightKey, leftTime, rightTime, leftOuter, residual, combine));

    /// <summary>Both sides as one stream of tagged records, keyed by the join key.</summary>
    public static KeyedStream<JoinInput<TLeft, TRight>, TKey> Tagged<TLeft, TRight, TKey>(DataStream<TLeft> left, DataStream<TRight> right,
        Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey) where TKey : notnull
    {
        var l = left.Map(JoinInput<TLeft, TRight>.OfLeft, "JoinLeftInput");
        var r = right.Map(JoinInput<TLeft, TRight>.OfRight, "JoinRightInput");
        return l.Union(r).KeyBy(v => v.IsLeft ? leftKey(v.Left) : rightKey(v.Right));
    }
}
