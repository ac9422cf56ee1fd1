using Eddy.Runtime;

namespace Eddy.Sql.Plan.Over;

/// <summary>
/// One key's OVER state: the accumulator of its window, the rows a bounded window may still retract (from
/// <see cref="Head"/> on, with their times for RANGE), and the last event time processed.
/// </summary>
public sealed class OverKeyState<TIn, TAcc>
{
    public TAcc Accumulator { get; set; } = default!;

    public List<TIn> Rows { get; set; } = [];

    public List<long> Times { get; set; } = [];

    public int Head { get; set; }

    /// <summary>
    /// The last event time processed (Flink's lastTriggeringTsState). Starts at 0 as Flink's bounded functions read a
    /// missing value: rows at or before the epoch are late for a bounded window whose key has no state.
    /// </summary>
    public long LastTriggered { get; set; }

    /// <summary>
    /// Bounded RANGE on event time: the cleanup timers registered and not yet fired, ascending (Flink registers one
    /// at rowtime + 1.5 × range + 1 and never deletes the earlier ones). The last is Flink's cleanupTsState; an
    /// earlier one firing only moves <see cref="LastTriggered"/> to its time.
    /// </summary>
    public List<long> CleanupTimes { get; set; } = [];

    /// <summary>Event time: rows waiting for the watermark, sorted by time (ties in arrival order), from <see cref="PendingHead"/> on.</summary>
    public List<TIn> Pending { get; set; } = [];

    public List<long> PendingTimes { get; set; } = [];

    public int PendingHead { get; set; }

    /// <summary>
    /// With a state TTL: the processing time of this key's registered cleanup timer (Flink's cleanupTimeState), or
    /// <see cref="long.MinValue"/> when none is registered.
    /// </summary>
    public long CleanupTime { get; set; } = long.MinValue;
}

/// <summary>
/// OVER aggregation on a keyed stream, as Flink's over functions. On event time, rows wait per key (by timestamp)
/// until the watermark passes their time, then are processed in timestamp order: RANGE processes the rows of one
/// timestamp together (peers get the same values), ROWS one after the other in arrival order. Late rows are dropped,
/// as in Flink: for unbounded windows those not after the watermark (RowTimeRange/RowsUnboundedPrecedingFunction),
/// for bounded ones those not after the last timestamp the key processed (RowTimeRange/RowsBoundedPrecedingFunction),
/// which is 0 for a key without state (Flink reads a missing lastTriggeringTs as 0). A bounded RANGE window on event
/// time also keeps Flink's cleanup timers (<see cref="OverKeyState{TIn,TAcc}.CleanupTimes"/>): its one event-time timer
/// is at the earlier of its first waiting row and first cleanup time, and the timers fire in time order as Flink's.
/// One timer per key, at its earliest waiting time, rather than Flink's timer per timestamp: no allocation per row.
/// On processing time, ROWS and unbounded RANGE windows process each row on arrival. A bounded RANGE window on processing
/// time works as Flink's ProcTimeRangeBoundedPrecedingFunction: a row waits until the millisecond of processing time it
/// arrived in has passed (a timer at that time + 1), then the rows of that millisecond are processed together (peers
/// get the same values) after the rows more than the range before it were retracted; rows still waiting when a
/// bounded input ends are processed then. Bounded windows retract the rows that leave them and keep only the rows
/// still inside; unbounded windows keep only the accumulator.
/// <para>With a state TTL (<c>table.exec.state.ttl</c>, <paramref name="stateTtlMs"/>) each window does what Flink's
/// function for it does:</para>
/// <list type="bullet">
/// <item>Unbounded on processing time (ProcTimeUnboundedPrecedingFunction): the accumulator is state with TTL, written
/// by every row: a key's accumulator written at t is gone from t + TTL on, and its next row starts from nothing.</item>
/// <item>ROWS bounded on processing time, and ROWS or RANGE unbounded on event time (Flink's
/// KeyedProcessFunctionWithCleanupState): a processing-time cleanup timer per key. Every row (late ones too) and every
/// event-time firing for the key asks for state to be kept until now + TTL: when the registered timer is earlier, it is
/// replaced by one at now + 1.5 × TTL (integer milliseconds, TTL * 3 / 2). When it fires the key's state (accumulator,
/// kept rows, last processed time) is cleared, unless rows still wait for the watermark: then a new timer is set at
/// now + 1.5 × TTL. On unbounded event time the key's event-time timer is then Flink's (at the watermark + 1, again
/// while rows wait), since each of its firings counts as an access. A TTL of 1 ms or less cleans nothing, as in
/// Flink.</item>
/// <item>RANGE bounded windows (ProcTime/RowTimeRangeBoundedPrecedingFunction) take no TTL in Flink: their state holds
/// only the rows inside the range.</item>
/// </list>
/// </summary>
public sealed class OverAggregateFunction<TIn, TKey, TAcc, TOut>(
    Func<TIn, TAcc, TAcc> add,
    Func<TIn, TAcc, TAcc>? retract,
    Func<TIn, TAcc, TOut> result,
    bool eventTime,
    bool rows,
    long? preceding,
    long stateTtlMs = 0) : KeyedProcessFunction<TKey, TIn, TOut> where TKey : notnull
{
    private ValueState<TKey, OverKeyState<TIn, TAcc>>? state;
    private readonly List<TIn> single = [default!];

    /// <summary>Unbounded on processing time: the accumulator expires as Flink's state TTL (set in <see cref="Open"/>).</summary>
    private StateRetention<TKey> retention = new(0);

    /// <summary>Flink's cleanup timers (minRetentionTime > 1): ROWS bounded, and unbounded on event time.</summary>
    private bool cleanupTimers;

    /// <summary>Flink's maxRetentionTime: TTL * 3 / 2.</summary>
    private long MaxRetentionMs => stateTtlMs * 3 / 2;

    /// <summary>Unbounded on event time with cleanup timers: the event-time timer at the watermark + 1, as Flink's.</summary>
    private bool FlinkWatermarkTimers => cleanupTimers && eventTime && preceding is null;

    /// <summary>Rows dropped for being late (Flink's numLateRecordsDropped).</summary>
    public long LateRecordsDropped { get; private set; }

    public override void Open(KeyedContext<TKey> context)
    {
        state = context.GetValueState<OverKeyState<TIn, TAcc>>("over");
        retention = new StateRetention<TKey>(!eventTime && preceding is null ? stateTtlMs : 0);
        retention.Open(context);
        cleanupTimers = stateTtlMs > 1 && (rows || preceding is null) && (eventTime || preceding is not null);
    }

    /// <summary>A bounded RANGE window on processing time: rows wait for their millisecond to pass.</summary>
    private bool ProcessingTimeRange => !eventTime && !rows && preceding is not null;

    public override void ProcessElement(TIn value, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (retention.Expired(context))
        {
            state!.Clear();
            retention.Cleared();
        }
        var current = state!.Value;
        bool created = current is null;
        if (current is null) state.Value = current = new OverKeyState<TIn, TAcc>();
        if (cleanupTimers) RegisterCleanupTimer(current, context);
        if (ProcessingTimeRange)
        {
            var waiting = current.PendingTimes;
            long now = context.CurrentProcessingTime;
            if (current.PendingHead < waiting.Count) now = Math.Max(now, waiting[^1]);
            if (current.PendingHead == waiting.Count || waiting[^1] != now) context.RegisterProcessingTimeTimer(now + 1);
            current.Pending.Add(value);
            waiting.Add(now);
            return;
        }
        if (!eventTime)
        {
            single[0] = value;
            Process(single, 0, 1, context.Timestamp, current, output);
            single[0] = default!;
            retention.Written(context);
            return;
        }
        long ts = context.Timestamp;
        bool late = preceding is null ? ts <= context.CurrentWatermark : ts <= current.LastTriggered;
        if (late)
        {
            LateRecordsDropped++;
            // A late row leaves no state behind unless it registered a cleanup timer (as Flink's does).
            if (created && !cleanupTimers) state.Clear();
            return;
        }
        var times = current.PendingTimes;
        int head = current.PendingHead;
        if (EventTimeRange)
        {
            long before = NextRangeTimer(current);
            RegisterRangeCleanup(current, ts);
            AddWaiting(current, value, ts);
            long after = NextRangeTimer(current);
            if (after != before)
            {
                if (before != long.MaxValue) context.DeleteEventTimeTimer(before);
                context.RegisterEventTimeTimer(after);
            }
            return;
        }
        if (FlinkWatermarkTimers)
        {
            long watermark = context.CurrentWatermark;
            context.RegisterEventTimeTimer(watermark < 0 ? 0 : watermark + 1);
        }
        else if (head == times.Count) context.RegisterEventTimeTimer(ts);
        else if (ts < times[head])
        {
            context.DeleteEventTimeTimer(times[head]);
            context.RegisterEventTimeTimer(ts);
        }
        AddWaiting(current, value, ts);
    }

    private static void AddWaiting(OverKeyState<TIn, TAcc> current, TIn value, long ts)
    {
        var times = current.PendingTimes;
        int head = current.PendingHead;
        if (times.Count == head || times[^1] <= ts)
        {
            current.Pending.Add(value);
            times.Add(ts);
            return;
        }
        // Out of order: after every waiting row with the same time or earlier (ties keep arrival order).
        int lo = head, hi = times.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (times[mid] <= ts) lo = mid + 1;
            else hi = mid;
        }
        current.Pending.Insert(lo, value);
        times.Insert(lo, ts);
    }

    public override void OnTimer(long timestamp, KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (retention.Enabled)
        {
            // Unbounded on processing time has no timer but the retention's.
            if (retention.OnTimer(context)) state!.Clear();
            return;
        }
        var current = state!.Value;
        if (current is null) return;
        if (cleanupTimers && context.TimeDomain == TimeDomain.ProcessingTime)
        {
            // Flink's cleanup timer: the state goes unless rows still wait for the watermark.
            if (current.PendingHead == current.PendingTimes.Count) state.Clear();
            else
            {
                current.CleanupTime = long.MinValue;
                RegisterCleanupTimer(current, context);
            }
            return;
        }
        if (EventTimeRange)
        {
            FireRange(current, Math.Max(context.CurrentWatermark, timestamp), context, output);
            return;
        }
        // Processing time: the rows of the milliseconds before the timer's (Flink's timer at arrival + 1).
        bool processingTime = ProcessingTimeRange;
        ProcessWaiting(current, processingTime ? timestamp - 1 : Math.Max(context.CurrentWatermark, timestamp), processingTime, context, output);
        if (cleanupTimers) RegisterCleanupTimer(current, context);
    }

    /// <summary>A bounded RANGE window on event time (Flink's RowTimeRangeBoundedPrecedingFunction).</summary>
    private bool EventTimeRange => eventTime && !rows && preceding is not null;

    /// <summary>The key's one event-time timer: its earliest waiting row or cleanup time (MaxValue when none).</summary>
    private static long NextRangeTimer(OverKeyState<TIn, TAcc> current)
    {
        long next = current.PendingHead < current.PendingTimes.Count ? current.PendingTimes[current.PendingHead] : long.MaxValue;
        return current.CleanupTimes.Count > 0 ? Math.Min(next, current.CleanupTimes[0]) : next;
    }

    /// <summary>
    /// Flink's registerCleanupTimer for a row kept at <paramref name="rowtime"/>: when the cleanup time is unset or
    /// before rowtime + range + 1, a new cleanup timer at rowtime + (long)(range × 1.5) + 1 (the older ones stay).
    /// </summary>
    private void RegisterRangeCleanup(OverKeyState<TIn, TAcc> current, long rowtime)
    {
        long range = preceding!.Value;
        var cleanups = current.CleanupTimes;
        if (cleanups.Count > 0 && cleanups[^1] >= rowtime + range + 1) return;
        cleanups.Add(rowtime + (long)(range * 1.5) + 1);
    }

    /// <summary>
    /// Fires, in time order, the key's row and cleanup timers up to <paramref name="upTo"/> as Flink's onTimer: the
    /// current cleanup time clears the key's state (rows, accumulator, last processed time); every other firing sets
    /// the last processed time to its own time, after processing the rows of that time if any.
    /// </summary>
    private void FireRange(OverKeyState<TIn, TAcc> current, long upTo, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var cleanups = current.CleanupTimes;
        while (true)
        {
            long next = NextRangeTimer(current);
            if (next > upTo) break;
            if (cleanups.Count > 0 && cleanups[0] == next)
            {
                cleanups.RemoveAt(0);
                // No row can wait then: every kept row moved the cleanup time past its own time + range.
                if (cleanups.Count == 0)
                {
                    state!.Clear();
                    return;
                }
            }
            var times = current.PendingTimes;
            if (current.PendingHead < times.Count && times[current.PendingHead] == next) ProcessWaiting(current, next, false, context, output);
            else current.LastTriggered = next;
        }
        long timer = NextRangeTimer(current);
        if (timer != long.MaxValue) context.RegisterEventTimeTimer(timer);
    }

    /// <summary>
    /// Flink's CleanupState.registerProcessingCleanupTimer: keeps the key's state at least until now + TTL, moving its
    /// one cleanup timer to now + 1.5 × TTL when the registered one is earlier.
    /// </summary>
    private void RegisterCleanupTimer(OverKeyState<TIn, TAcc> current, KeyedContext<TKey> context)
    {
        long now = context.CurrentProcessingTime;
        long registered = current.CleanupTime;
        if (registered != long.MinValue && now + stateTtlMs <= registered) return;
        long cleanupTime = now + MaxRetentionMs;
        context.RegisterProcessingTimeTimer(cleanupTime);
        if (registered != long.MinValue && registered != cleanupTime) context.DeleteProcessingTimeTimer(registered);
        current.CleanupTime = cleanupTime;
    }

    public override void OnEndOfInput(KeyedContext<TKey> context, Collector<TOut> output)
    {
        if (!ProcessingTimeRange) return;
        context.ForEachKey(state!, _ => ProcessWaiting(state!.Value!, long.MaxValue, processingTime: true, context, output));
    }

    /// <summary>Processes the waiting rows up to <paramref name="upTo"/>, one time at a time.</summary>
    private void ProcessWaiting(OverKeyState<TIn, TAcc> current, long upTo, bool processingTime, KeyedContext<TKey> context, Collector<TOut> output)
    {
        var times = current.PendingTimes;
        int head = current.PendingHead;
        long watermark = upTo;
        if (head == times.Count) return;
        if (times[head] > watermark)
        {
            // Flink's timer at the watermark + 1 fires at every watermark while rows wait, each firing an access.
            if (FlinkWatermarkTimers) context.RegisterEventTimeTimer(context.CurrentWatermark + 1);
            return;
        }
        while (head < times.Count && times[head] <= watermark)
        {
            long time = times[head];
            int end = head + 1;
            while (end < times.Count && times[end] == time) end++;
            // Rows processed on processing time carry no event time.
            output.CurrentTimestamp = processingTime ? EventTime.None : time;
            Process(current.Pending, head, end, time, current, output);
            current.LastTriggered = time;
            for (int i = head; i < end; i++) current.Pending[i] = default!;
            head = end;
        }
        if (head == times.Count)
        {
            current.Pending.Clear();
            times.Clear();
            head = 0;
        }
        else
        {
            // On processing time every waiting millisecond has its timer already.
            if (FlinkWatermarkTimers) context.RegisterEventTimeTimer(context.CurrentWatermark + 1);
            else if (!processingTime && !EventTimeRange) context.RegisterEventTimeTimer(times[head]);
            if (head > 64 && head * 2 > times.Count)
            {
                current.Pending.RemoveRange(0, head);
                times.RemoveRange(0, head);
                head = 0;
            }
        }
        current.PendingHead = head;
    }

    private void Process(List<TIn> arrived, int start, int end, long time, OverKeyState<TIn, TAcc> key, Collector<TOut> output)
    {
        var acc = key.Accumulator;
        if (rows)
        {
            for (int i = start; i < end; i++)
            {
                var row = arrived[i];
                acc = add(row, acc);
                if (preceding is { } n)
                {
                    key.Rows.Add(row);
                    if (key.Rows.Count - key.Head > n + 1)
                    {
                        acc = retract!(key.Rows[key.Head], acc);
                        key.Rows[key.Head++] = default!;
                    }
                }
                output.Collect(result(row, acc));
            }
        }
        else
        {
            for (int i = start; i < end; i++)
            {
                var row = arrived[i];
                acc = add(row, acc);
                if (preceding is not null)
                {
                    key.Rows.Add(row);
                    key.Times.Add(time);
                }
            }
            if (preceding is { } range)
            {
                // A row at exactly time - range is still inside the window (Flink retracts rows before that).
                long limit = time - range;
                while (key.Times[key.Head] < limit)
                {
                    acc = retract!(key.Rows[key.Head], acc);
                    key.Rows[key.Head++] = default!;
                }
            }
            for (int i = start; i < end; i++) output.Collect(result(arrived[i], acc));
        }
        key.Accumulator = acc;
        if (key.Head > 64 && key.Head * 2 > key.Rows.Count)
        {
            key.Rows.RemoveRange(0, key.Head);
            if (key.Times.Count > 0) key.Times.RemoveRange(0, key.Head);
            key.Head = 0;
        }
    }
}
