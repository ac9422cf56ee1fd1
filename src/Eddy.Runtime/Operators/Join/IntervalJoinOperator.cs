using System.Runtime.CompilerServices;
using Eddy.Runtime;

namespace Eddy.Joins;

/// <summary>
/// Flink SQL's interval (time-bounded) join, <c>TimeIntervalJoin</c> with its event-time and processing-time variants:
/// rows of one key join when <c>l.time BETWEEN r.time + lowerBound AND r.time + upperBound</c> (bounds inclusive) and
/// the residual condition holds. Each side caches its rows per key until the other side's time (the watermark, or
/// the clock) passes the row's window; then an outer side's rows that never joined are emitted null-padded. Rows
/// whose window has already passed on arrival join nothing and are not cached (an outer one is emitted padded at
/// once), as Flink. Inputs are append-only. In event time the output watermark is held back by
/// <c>max(-lowerBound, upperBound)</c>, as Flink's <c>KeyedCoProcessOperatorWithWatermarkDelay</c>; a joined row
/// carries the later of the two times, a padded row its own.
/// </summary>
public sealed class IntervalJoinOperator<TKey, TLeft, TRight, TOut> : TimedJoinOperator<TKey, TLeft, TRight, TOut>
    where TKey : notnull
{
    private const long NoTimer = long.MinValue;

    private readonly Func<TLeft, long>? leftTime;
    private readonly Func<TRight, long>? rightTime;
    private readonly bool leftOuter;
    private readonly bool rightOuter;
    private readonly bool eventTime;
    private readonly bool negativeWindow;
    private readonly long leftRelativeSize;
    private readonly long rightRelativeSize;
    private readonly long minCleanUpInterval;
    private readonly long watermarkDelay;

    private readonly Dictionary<TKey, KeyRows> keys = [];
    private readonly Stack<KeyRows> pool = new();
    private long lastEmittedWatermark = EventTime.MinWatermark;

    // As Flink's TimeIntervalJoin: points up to which each cache was cleaned, per subtask and not checkpointed.
    private long leftExpirationTime;
    private long rightExpirationTime;
    private long operatorTime;

    internal struct Row<T>
    {
        public long Time;
        public T Value;
        public bool Emitted;
    }

    private sealed class KeyRows
    {
        public Row<TLeft>[] Left = new Row<TLeft>[4];
        public int LeftCount;
        public Row<TRight>[] Right = new Row<TRight>[4];
        public int RightCount;
        /// <summary>The cleanup timer of the left cache (Flink's right timer state), or <see cref="NoTimer"/>.</summary>
        public long LeftCleanup = NoTimer;
        public long RightCleanup = NoTimer;

        public bool IsEmpty => LeftCount == 0 && RightCount == 0 && LeftCleanup == NoTimer && RightCleanup == NoTimer;
    }

    /// <param name="lowerBound">ms: <c>l.time &gt;= r.time + lowerBound</c> (for <c>BETWEEN r.time - a</c>, pass -a).</param>
    /// <param name="upperBound">ms: <c>l.time &lt;= r.time + upperBound</c>.</param>
    /// <param name="eventTime">Event time (the rows' times and the watermark) or processing time (the clock at arrival).</param>
    /// <param name="leftTime">The left row's time attribute; the record's event timestamp when null.</param>
    /// <param name="minCleanUpInterval">Flink's <c>table.exec.interval-join.min-cleanup-interval</c>.</param>
    public IntervalJoinOperator(Func<TLeft, TKey> leftKey, Func<TRight, TKey> rightKey, JoinType joinType,
        long lowerBound, long upperBound, bool eventTime,
        Func<TLeft, TRight, bool>? residual, JoinCombiner<TLeft, TRight, TOut> combine,
        Func<TLeft, long>? leftTime = null, Func<TRight, long>? rightTime = null, TimeSpan? minCleanUpInterval = null)
        : base(leftKey, rightKey, residual, combine)
    {
        this.leftTime = leftTime;
        this.rightTime = rightTime;
        this.eventTime = eventTime;
        leftOuter = joinType.IsLeftOuter();
        rightOuter = joinType.IsRightOuter();
        // Flink's planner turns an empty interval into a filter (inner side) or a padding map (outer side).
        negativeWindow = upperBound < lowerBound;
        leftRelativeSize = -lowerBound;
        rightRelativeSize = upperBound;
        this.minCleanUpInterval = Math.Max(0, minCleanUpInterval is { } m ? EventTime.Millis(m) : 0);
        watermarkDelay = eventTime && !negativeWindow ? Math.Max(leftRelativeSize, rightRelativeSize) : 0;
    }

    /// <summary>Rows cached per side, over all keys.</summary>
    public (int Left, int Right) HeldRows
    {
        get
        {
            int l = 0, r = 0;
            foreach (var k in keys.Values)
            {
                l += k.LeftCount;
                r += k.RightCount;
            }
            return (l, r);
        }
    }

    protected override bool ForwardsWatermarks => watermarkDelay == 0;

    public override void OnBatch(Batch<JoinInput<TLeft, TRight>> batch)
    {
        var values = batch.Values;
        var times = batch.Timestamps;
        var o = output!;
        for (int i = 0; i < batch.Count; i++)
        {
            var kind = batch.KindAt(i);
            if (kind != RowKind.Insert)
                throw new InvalidOperationException($"operator '{Context.OperatorName}': an interval join takes append-only inputs, "
                    + $"but a {kind.ShortString()} record arrived (Flink's planner refuses updating inputs of an interval join)");
            ref readonly var v = ref values[i];
            long ts = times[i];
            if (negativeWindow)
            {
                o.CurrentTimestamp = ts;
                if (v.IsLeft && leftOuter) o.Collect(combine(v.Left, true, default!, false), ts);
                else if (!v.IsLeft && rightOuter) o.Collect(combine(default!, false, v.Right, true), ts);
                continue;
            }
            UpdateOperatorTime();
            if (v.IsLeft)
            {
                long time = eventTime ? leftTime?.Invoke(v.Left) ?? RowTime(ts) : operatorTime;
                var key = leftKey(v.Left);
                var rows = RowsOf(key);
                ProcessLeft(key, rows, v.Left, time);
                Release(key, rows);
            }
            else
            {
                long time = eventTime ? rightTime?.Invoke(v.Right) ?? RowTime(ts) : operatorTime;
                var key = rightKey(v.Right);
                var rows = RowsOf(key);
                ProcessRight(key, rows, v.Right, time);
                Release(key, rows);
            }
        }
        BatchPool<JoinInput<TLeft, TRight>>.Return(batch);
    }

    private long RowTime(long timestamp) => timestamp != EventTime.None ? timestamp : throw new InvalidOperationException(
        $"operator '{Context.OperatorName}': a record has no event-time timestamp: assign timestamps and watermarks before an event-time interval join");

    private void UpdateOperatorTime()
    {
        if (eventTime) operatorTime = CurrentWatermark > 0 ? CurrentWatermark : 0;
        else operatorTime = Context.ProcessingTimers.Now;
    }

    private KeyRows RowsOf(TKey key)
    {
        if (!keys.TryGetValue(key, out var rows))
        {
            rows = pool.Count > 0 ? pool.Pop() : new KeyRows();
            keys.Add(key, rows);
        }
        return rows;
    }

    private void Release(TKey key, KeyRows rows)
    {
        if (!rows.IsEmpty) return;
        keys.Remove(key);
        pool.Push(rows);
    }

    private long CalExpirationTime(long time, long relativeSize) =>
        time < long.MaxValue ? time - relativeSize - 1 : long.MaxValue;

    private void ProcessLeft(TKey key, KeyRows rows, TLeft left, long time)
    {
        long lower = time - rightRelativeSize;
        long upper = time + leftRelativeSize;
        bool emitted = false;
        if (rightExpirationTime < upper)
        {
            rightExpirationTime = CalExpirationTime(operatorTime, rightRelativeSize);
            var right = rows.Right;
            int kept = 0;
            for (int j = 0; j < rows.RightCount; j++)
            {
                ref var r = ref right[j];
                if (r.Time >= lower && r.Time <= upper && Accepts(left, r.Value))
                {
                    Emit(combine(left, true, r.Value, true), Math.Max(time, r.Time));
                    emitted = true;
                    r.Emitted = true;
                }
                if (r.Time <= rightExpirationTime)
                {
                    if (rightOuter && !r.Emitted) EmitRightPadded(r.Value, r.Time);
                    continue;
                }
                if (kept != j) right[kept] = r;
                kept++;
            }
            Truncate(right, kept, ref rows.RightCount);
        }
        if (operatorTime < upper)
        {
            Append(ref rows.Left, ref rows.LeftCount, left, time, emitted);
            if (rows.LeftCleanup == NoTimer) RegisterCleanUpTimer(key, rows, time, leftRow: true);
        }
        else if (!emitted && leftOuter) EmitLeftPadded(left, time);
    }

    private void ProcessRight(TKey key, KeyRows rows, TRight right, long time)
    {
        long lower = time - leftRelativeSize;
        long upper = time + rightRelativeSize;
        bool emitted = false;
        if (leftExpirationTime < upper)
        {
            leftExpirationTime = CalExpirationTime(operatorTime, leftRelativeSize);
            var left = rows.Left;
            int kept = 0;
            for (int j = 0; j < rows.LeftCount; j++)
            {
                ref var l = ref left[j];
                if (l.Time >= lower && l.Time <= upper && Accepts(l.Value, right))
                {
                    Emit(combine(l.Value, true, right, true), Math.Max(time, l.Time));
                    emitted = true;
                    l.Emitted = true;
                }
                if (l.Time <= leftExpirationTime)
                {
                    if (leftOuter && !l.Emitted) EmitLeftPadded(l.Value, l.Time);
                    continue;
                }
                if (kept != j) left[kept] = l;
                kept++;
            }
            Truncate(left, kept, ref rows.LeftCount);
        }
        if (operatorTime < upper)
        {
            Append(ref rows.Right, ref rows.RightCount, right, time, emitted);
            if (rows.RightCleanup == NoTimer) RegisterCleanUpTimer(key, rows, time, leftRow: false);
        }
        else if (!emitted && rightOuter) EmitRightPadded(right, time);
    }

    private static void Append<T>(ref Row<T>[] rows, ref int count, T value, long time, bool emitted)
    {
        if (count == rows.Length) Array.Resize(ref rows, count * 2);
        ref var r = ref rows[count++];
        r.Time = time;
        r.Value = value;
        r.Emitted = emitted;
    }

    private static void Truncate<T>(Row<T>[] rows, int kept, ref int count)
    {
        if (kept < count && RuntimeHelpers.IsReferenceOrContainsReferences<T>()) Array.Clear(rows, kept, count - kept);
        count = kept;
    }

    private void Emit(TOut row, long time) => output!.Collect(row, eventTime ? time : EventTime.None);

    private void EmitLeftPadded(TLeft left, long time) => Emit(combine(left, true, default!, false), time);

    private void EmitRightPadded(TRight right, long time) => Emit(combine(default!, false, right, true), time);

    private void RegisterCleanUpTimer(TKey key, KeyRows rows, long rowTime, bool leftRow)
    {
        long cleanUpTime = rowTime + (leftRow ? leftRelativeSize : rightRelativeSize) + minCleanUpInterval + 1;
        if (eventTime) timers!.RegisterEventTime(key, cleanUpTime);
        else timers!.RegisterProcessingTime(key, cleanUpTime);
        if (leftRow) rows.LeftCleanup = cleanUpTime;
        else rows.RightCleanup = cleanUpTime;
    }

    private protected override void OnTimer(TKey key, long time, TimeDomain domain)
    {
        if (!keys.TryGetValue(key, out var rows)) return;
        UpdateOperatorTime();
        if (rows.RightCleanup != NoTimer && time == rows.RightCleanup)
        {
            rightExpirationTime = CalExpirationTime(operatorTime, rightRelativeSize);
            long earliest = RemoveExpired(rows.Right, ref rows.RightCount, rightExpirationTime, rightOuter, isLeft: false);
            if (earliest > 0) RegisterCleanUpTimer(key, rows, earliest, leftRow: false);
            else
            {
                rows.RightCleanup = NoTimer;
                Truncate(rows.Right, 0, ref rows.RightCount);
            }
        }
        if (rows.LeftCleanup != NoTimer && time == rows.LeftCleanup)
        {
            leftExpirationTime = CalExpirationTime(operatorTime, leftRelativeSize);
            long earliest = RemoveExpired(rows.Left, ref rows.LeftCount, leftExpirationTime, leftOuter, isLeft: true);
            if (earliest > 0) RegisterCleanUpTimer(key, rows, earliest, leftRow: true);
            else
            {
                rows.LeftCleanup = NoTimer;
                Truncate(rows.Left, 0, ref rows.LeftCount);
            }
        }
        Release(key, rows);
    }

    /// <summary>
    /// Drops the rows at or before <paramref name="expiration"/> (padded when outer and never joined) and returns the
    /// earliest time left, or -1. As Flink, a cache whose earliest remaining time is not positive is cleared whole.
    /// </summary>
    private long RemoveExpired<T>(Row<T>[] rows, ref int count, long expiration, bool outer, bool isLeft)
    {
        long earliest = -1;
        int kept = 0;
        for (int j = 0; j < count; j++)
        {
            ref var r = ref rows[j];
            if (r.Time <= expiration)
            {
                if (outer && !r.Emitted)
                {
                    var value = r.Value;
                    if (isLeft) EmitLeftPadded(Unsafe.As<T, TLeft>(ref value), r.Time);
                    else EmitRightPadded(Unsafe.As<T, TRight>(ref value), r.Time);
                }
                continue;
            }
            if (r.Time < earliest || earliest < 0) earliest = r.Time;
            if (kept != j) rows[kept] = r;
            kept++;
        }
        Truncate(rows, kept, ref count);
        return earliest;
    }

    protected override void ProcessWatermark(long watermark)
    {
        base.ProcessWatermark(watermark);
        if (ForwardsWatermarks || watermark == EventTime.MaxWatermark) return;
        if (watermark < EventTime.MinWatermark + watermarkDelay) return;
        long delayed = watermark - watermarkDelay;
        if (delayed <= lastEmittedWatermark) return;
        lastEmittedWatermark = delayed;
        EmitWatermark(delayed);
    }

    private const byte KeySection = 1;

    /// <summary>A section per key: the key, both cleanup times, then each side's rows (time, value, joined flag).</summary>
    public override void SnapshotState(long checkpointId, OperatorStateWriter writer)
    {
        ResolveSerializers();
        var sections = new KeyGroupSectionWriter(writer, Context.MaxParallelism);
        foreach (var (key, rows) in keys)
        {
            var w = sections.Section(KeyGroups.ForKey(key, sections.MaxParallelism), KeySection);
            serializers!.Key.Write(w, key);
            w.Write(rows.LeftCleanup);
            w.Write(rows.RightCleanup);
            WriteRows(w, rows.Left, rows.LeftCount, serializers!.Left);
            WriteRows(w, rows.Right, rows.RightCount, serializers!.Right);
        }
        sections.Complete();
        WriteOperatorState(writer, lastEmittedWatermark);
    }

    private static void WriteRows<T>(BinaryWriter w, Row<T>[] rows, int count, StateSerializer<T> values)
    {
        w.Write(count);
        for (int i = 0; i < count; i++)
        {
            w.Write(rows[i].Time);
            values.Write(w, rows[i].Value);
            w.Write(rows[i].Emitted);
        }
    }

    public override void RestoreState(OperatorStateReader reader)
    {
        ResolveSerializers();
        if (RestoreOperatorState(reader, long.MaxValue, Math.Min) is { } emitted) lastEmittedWatermark = emitted;
        KeyGroupSections.Read(reader, (_, tag, r) =>
        {
            if (tag != KeySection) throw new InvalidDataException($"operator '{Context.OperatorName}': unknown state section {tag}");
            var key = serializers!.Key.Read(r);
            var rows = RowsOf(key);
            rows.LeftCleanup = r.ReadInt64();
            rows.RightCleanup = r.ReadInt64();
            ReadRows(r, ref rows.Left, ref rows.LeftCount, serializers!.Left);
            ReadRows(r, ref rows.Right, ref rows.RightCount, serializers!.Right);
            foreach (long t in (ReadOnlySpan<long>)[rows.LeftCleanup, rows.RightCleanup])
            {
                if (t == NoTimer) continue;
                if (eventTime) timers!.RegisterEventTime(key, t);
                else timers!.RegisterProcessingTime(key, t);
            }
        });
    }

    private static void ReadRows<T>(BinaryReader r, ref Row<T>[] rows, ref int count, StateSerializer<T> values)
    {
        int n = r.ReadInt32();
        for (int i = 0; i < n; i++)
        {
            long time = r.ReadInt64();
            var value = values.Read(r);
            Append(ref rows, ref count, value, time, r.ReadBoolean());
        }
    }
}
